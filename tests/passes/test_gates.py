"""Gates pass, checked against domain-rules §5 (three boundaries, priority, strictness) and §9 (schema drift)."""

from __future__ import annotations

import pytest

from inline_specs import compile_spec, make_spec, orders_source
from streamc.ir import CheckKind

STG = "model stg_orders from orders { select id, store_id, amount, created_at }\n"
MART = 'model fct_orders {\n  grain id\n  sql """select id, store_id, amount, created_at from stg_orders"""\n}\n'
AGG = ('model fct_store_totals {\n  grain store_id\n  sql """select store_id, sum(amount) as revenue from stg_orders '
       'group by store_id"""\n}\n')


def gates(body, expect="expect orders { unique id }", **kw):
    return compile_spec(make_spec(body, expect=expect, **kw)).spec.plan.gates


def find(gs, kind, target, origin=None):
    return [g for g in gs if g.check.kind == kind and g.check.target == target and (origin is None or g.origin == origin)]


@pytest.mark.parametrize("check, boundary, priority", [
    ("unique id", "transform", 1),
    ("not_null store_id", "transform", 2),
    ("freshness 1h by created_at", "sink", 3),  # on a sunk model: the sink boundary
    ("row_count > 0", "sink", 4),
    ("warn row_count >= 0.8 * avg_7d", "sink", 4),
    ("reconcile count with orders within 1%", "sink", 4),
    ("range amount 0 .. 100", "transform", 5),
    ('accepted_values store_id in ("1", "2")', "transform", 5),
    ('sql no_negative """select * from fct_orders where amount < 0"""', "sink", 5),
], ids=lambda x: x if isinstance(x, str) and len(x) < 30 else None)
def test_rule5_boundary_and_priority(check, boundary, priority):
    gs = gates(STG + MART + "sink marts to wh { models fct_orders }\n", expect=f"expect fct_orders {{ {check} }}")
    spec_gates = [g for g in gs if g.origin == "spec" and g.check.target == "fct_orders"]
    assert len(spec_gates) == 1
    g = spec_gates[0]
    assert (g.boundary, g.priority) == (boundary, priority)
    assert g.check.severity.value == ("warn" if check.startswith("warn") else "error")  # severity from the spec


def test_rule5_gates_are_ordered_by_priority():
    gs = gates(STG + MART + "sink marts to wh { models fct_orders }\n")
    assert [g.priority for g in gs] == sorted(g.priority for g in gs)


def test_rule5_defaults_cover_source_keys_schema_and_freshness():
    src = orders_source().replace("  volume", "  freshness < 5m\n  volume")
    gs = gates(STG, expect="expect stg_orders { range amount 0 .. }", source=src)
    assert find(gs, CheckKind.unique, "orders", "default")[0].check.columns == ("id",)
    assert find(gs, CheckKind.not_null, "orders", "default")[0].check.columns == ("id",)
    assert len(find(gs, CheckKind.schema, "orders", "default")) == 1  # rules §9: schema drift on every source
    (fresh,) = find(gs, CheckKind.freshness, "orders", "default")
    assert fresh.check.max_age.seconds == 300 and fresh.check.columns == ("created_at",)
    assert all(g.boundary == "source" for g in gs if g.check.target == "orders")


def test_rule5_spec_checks_are_not_duplicated_by_defaults():
    gs = gates(STG, expect="expect orders { unique id\n not_null id, store_id }")
    assert len(find(gs, CheckKind.unique, "orders")) == 1
    not_null = find(gs, CheckKind.not_null, "orders")
    assert not [g for g in not_null if "id" in g.check.columns and g.origin == "default"]  # the spec covers the key
    assert not [g for g in not_null if g.check.columns == ("store_id",)]  # ... and the contract's store_id


def test_rule5_contract_constraints_become_source_gates():
    gs = gates(STG)
    assert {g.check.columns for g in find(gs, CheckKind.not_null, "orders", "spec")} == {
        ("store_id",), ("amount",), ("created_at",), ("updated_at",)}


@pytest.mark.parametrize("model, kind", [
    ("fct_orders", CheckKind.reconcile),  # a row-for-row copy of orders: counts must match
    ("fct_store_totals", CheckKind.volume_anomaly),  # aggregated: an anomaly check stands in
])
def test_rule5_every_sink_input_gets_a_sink_gate(model, kind):
    gs = gates(STG + MART + AGG + f"sink marts to wh {{ models {model} }}\n")
    (g,) = [g for g in gs if g.check.target == model and g.boundary == "sink"]
    assert (g.check.kind, g.origin, g.check.severity.value) == (kind, "default", "warn")
    if kind == CheckKind.reconcile:
        assert (g.check.against, g.check.tolerance.value) == ("orders", 1.0)


def test_rule5_grain_defaults_on_models():
    gs = gates(STG + MART)
    assert find(gs, CheckKind.unique, "fct_orders", "default")[0].boundary == "transform"


def test_rule5_decisions_cite_section_5():
    spec = compile_spec(make_spec(STG)).spec
    ds = [d for d in spec.decisions if d.pass_name == "gates"]
    assert ds and all(d.why.rule.startswith("domain-rules §5") for d in ds)
