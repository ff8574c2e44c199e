"""Layering pass, checked against domain-rules §7 (layers and names, large or growing tables, SCD2, medallion)."""

from __future__ import annotations

import pytest

from inline_specs import compile_spec, make_spec, orders_source

STG = "model stg_orders from orders { select id, store_id, amount, created_at }\n"


def mart(name: str = "fct_orders", props: str = "grain id") -> str:
    return f'model {name} {{\n  {props}\n  sql """select id, store_id, amount, created_at from stg_orders"""\n}}\n'


def plan_of(spec, model: str):
    return next(p for p in spec.plan.models if p.model == model)


def w203(result):
    return [d for d in result.diagnostics if d.code == "W203"]


@pytest.mark.parametrize("name, layer, materialization", [
    ("fct_orders", "mart", "incremental"),
    ("dim_orders", "mart", "incremental"),
    ("rpt_orders", "mart", "incremental"),
    ("int_orders", "intermediate", "table"),
    ("gold_orders", "mart", "incremental"),  # medallion layout accepted
    ("silver_orders", "intermediate", "table"),
])
def test_rule7_name_prefix_gives_the_layer(name, layer, materialization):
    sink = f"sink marts to wh {{ models {name} }}\n" if layer == "mart" else ""
    r = compile_spec(make_spec(STG + mart(name) + sink))
    p = plan_of(r.spec, name)
    assert (p.layer, p.materialization) == (layer, materialization)
    assert not w203(r)
    assert plan_of(r.spec, "stg_orders").layer == "staging"
    assert plan_of(r.spec, "stg_orders").materialization == "view"


def test_rule7_bronze_prefix_is_staging():
    r = compile_spec(make_spec("model bronze_orders from orders { select id, amount }\n"))
    assert (plan_of(r.spec, "bronze_orders").layer, plan_of(r.spec, "bronze_orders").materialization) == (
        "staging", "view")


@pytest.mark.parametrize("body, model, layer", [
    ("model orders_clean from orders { select id, amount }\n", "orders_clean", "staging"),  # reads only a source
    (STG + mart("order_totals") + "sink marts to wh { models order_totals }\n", "order_totals", "mart"),  # sunk
    (STG + mart("order_totals"), "order_totals", "intermediate"),  # reads a model, not sunk
    (STG + mart("OrderTotals"), "OrderTotals", "intermediate"),  # not snake_case
], ids=["source-only", "sunk", "reads-models", "camel-case"])
def test_rule7_W203_when_a_name_fits_no_convention_then_the_layer_is_inferred(body, model, layer):
    r = compile_spec(make_spec(body))
    assert plan_of(r.spec, model).layer == layer
    w = w203(r)
    assert len(w) == 1 and model in w[0].message and layer in w[0].message
    assert "layer" in w[0].hint
    assert any(x.code == "W203" for x in r.spec.warnings)


@pytest.mark.parametrize("layer_word, layer", [("mart", "mart"), ("gold", "mart"), ("staging", "staging")])
def test_rule7_explicit_layer_wins_without_W203(layer_word, layer):
    r = compile_spec(make_spec(STG + mart("order_totals", f"grain id\n  layer {layer_word}")))
    assert plan_of(r.spec, "order_totals").layer == layer
    assert not w203(r)


@pytest.mark.parametrize("volume, materialization", [
    ("9999/day", "table"),  # below the growing threshold (10,000 rows/day)
    ("10000/day", "incremental"),
    ("1/s", "incremental"),  # 86,400/day
])
def test_rule7_large_or_growing_marts_are_incremental_on_their_grain(volume, materialization):
    text = make_spec(STG + mart() + "sink marts to wh { models fct_orders }\n", source=orders_source(volume=volume))
    p = plan_of(compile_spec(text).spec, "fct_orders")
    assert p.materialization == materialization
    if materialization == "incremental":
        assert p.unique_key == ("id",)
        assert p.incremental_strategy == "merge"  # snowflake
    else:
        assert p.unique_key == () and p.incremental_strategy is None


def test_rule7_growing_mart_without_grain_stays_a_table():
    text = make_spec(STG + mart(props="cluster by store_id") + "sink marts to wh { models fct_orders }\n")
    assert plan_of(compile_spec(text).spec, "fct_orders").materialization == "table"


def test_rule7_scd2_history_is_a_snapshot_on_the_grain():
    text = make_spec(STG + mart("dim_orders", "grain id\n  history scd2 by created_at")
                     + "sink marts to wh { models dim_orders }\n")
    p = plan_of(compile_spec(text).spec, "dim_orders")
    assert (p.materialization, p.unique_key, p.incremental_strategy) == ("snapshot", ("id",), None)


def test_rule7_explicit_materialized_wins():
    text = make_spec(STG + mart(props="grain id\n  materialized table") + "sink marts to wh { models fct_orders }\n")
    p = plan_of(compile_spec(text).spec, "fct_orders")
    assert p.materialization == "table"


WAREHOUSES = {
    "snowflake": 'connection wh    snowflake { database "analytics" }',
    "bigquery": 'connection wh    bigquery { project "p"  dataset "d" }',
    "postgres": 'connection wh    postgres as warehouse { database "dwh" }',
    "duckdb": 'connection wh    duckdb { database "dwh" }',
}


@pytest.mark.parametrize("warehouse, strategy", [
    ("snowflake", "merge"),
    ("bigquery", "merge"),
    ("postgres", "delete+insert"),  # dbt-postgres' merge needs PostgreSQL >= 15
    ("duckdb", "merge"),
])
def test_rule7_incremental_strategy_per_warehouse(warehouse, strategy):
    text = make_spec(STG + mart() + "sink marts to wh { models fct_orders }\n").replace(
        WAREHOUSES["snowflake"], WAREHOUSES[warehouse])
    assert plan_of(compile_spec(text).spec, "fct_orders").incremental_strategy == strategy


@pytest.mark.parametrize("warehouse, strategy, key", [
    ("bigquery", "insert_overwrite", ()),
    ("snowflake", "delete+insert", ("created_at",)),
])
def test_rule7_partition_overwrite_sinks_make_the_mart_incremental_by_partition(warehouse, strategy, key):
    body = (STG + mart(props="grain id\n  partition by day(created_at)")
            + "sink marts to wh { models fct_orders  partition by day(created_at)  mode overwrite_partition }\n")
    text = make_spec(body).replace(WAREHOUSES["snowflake"], WAREHOUSES[warehouse])
    p = plan_of(compile_spec(text).spec, "fct_orders")
    assert (p.materialization, p.incremental_strategy, p.unique_key) == ("incremental", strategy, key)


def test_rule7_merge_sink_asks_for_merge():
    text = make_spec(STG + mart() + "sink marts to wh { models fct_orders  mode merge }\n",
                     source=orders_source(volume="10/day")).replace(WAREHOUSES["snowflake"], WAREHOUSES["postgres"])
    p = plan_of(compile_spec(text).spec, "fct_orders")
    assert (p.materialization, p.incremental_strategy) == ("incremental", "merge")


def test_rule7_decisions_cite_section_7():
    spec = compile_spec(make_spec(STG + mart() + "sink marts to wh { models fct_orders }\n")).spec
    ds = [d for d in spec.decisions if d.pass_name == "layering"]
    assert {d.topic for d in ds} <= {"layer", "materialization", "incremental filter"}
    assert {"layer", "materialization"} <= {d.topic for d in ds}
    assert all(d.why.rule.startswith("domain-rules §7") for d in ds)


def test_rule7_incremental_models_filter_on_the_change_cursor_not_the_event_time():
    """§7 large or growing tables: an incremental run must pick up updated rows, so it filters on the column
    carrying the source's change cursor (updated_at) when the model selects it, else on the event time."""
    from pathlib import Path

    from streamc.compiler import compile_files

    root = Path(__file__).resolve().parents[2]
    spec = compile_files([root / "specs" / "orders_analytics.stream"]).spec
    plan = next(p for p in spec.plan.models if p.model == "fct_orders")
    assert plan.materialization == "incremental" and plan.incremental_column == "updated_at"
    text = (root / "specs" / "orders_analytics.stream").read_text()
    without = text.replace("o.created_at, o.updated_at", "o.created_at")
    from streamc.compiler import compile_text

    spec2 = compile_text(without, "orders_analytics.stream").spec
    plan2 = next(p for p in spec2.plan.models if p.model == "fct_orders")
    assert plan2.incremental_column == "created_at"  # falls back to the event time, and says why
    d = next(d for d in spec2.decisions if d.subject == "model:fct_orders" and d.topic == "incremental filter")
    assert "updates to old rows are not picked up" in d.why.reason
