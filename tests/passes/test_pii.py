"""PII pass, checked against domain-rules §9 (an explicit strategy, applied where the data is first read)."""

from __future__ import annotations

from inline_specs import compile_spec, make_spec, orders_source


def with_pii(strategy: str) -> str:
    return orders_source().replace("store_id    bigint         not null",
                                   f"store_id    bigint         not null\n    email  text  pii({strategy})")


def pii_plans(body: str, strategy: str, latency="< 1h"):
    return compile_spec(make_spec(body, extra="acknowledge pii", source=with_pii(strategy), latency=latency)).spec.plan.pii


def test_rule9_drop_is_applied_at_capture():
    (p,) = pii_plans("model stg_orders from orders { select id, email }\n", "drop")
    assert (p.column, p.strategy.value, p.applied_in) == ("email", "drop", "capture")


def test_rule9_hash_is_applied_in_the_first_model_reading_the_source():
    body = ("model stg_orders from orders { select id, email }\n"
            'model fct_orders {\n  grain id\n  sql """select id, email from stg_orders"""\n}\n')
    (p,) = pii_plans(body, "hash")
    assert (p.applied_in, p.strategy.value) == ("stg_orders", "hash")


def test_rule9_every_model_reading_the_source_directly_applies_it():
    body = ("model stg_orders from orders { select id, email }\n"
            "model stg_order_emails from orders { select email }\n")
    assert sorted(p.applied_in for p in pii_plans(body, "mask")) == ["stg_order_emails", "stg_orders"]


def test_rule9_keep_carries_its_reason():
    (p,) = pii_plans("model stg_orders from orders { select id, email }\n", 'keep "needed for receipts"')
    assert (p.strategy.value, p.reason) == ("keep", "needed for receipts")
    assert "needed for receipts" in p.why.reason


def test_rule9_a_source_sunk_without_models_applies_it_at_capture():
    (p,) = compile_spec(make_spec("sink events to bus { sources orders }\n", latency="< 10s",
                                  extra="acknowledge realtime, pii", source=with_pii("hash"))).spec.plan.pii
    assert p.applied_in == "capture"
