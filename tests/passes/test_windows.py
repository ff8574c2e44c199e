"""Windows pass, checked against domain-rules §2 (windowed aggregations declare event time and lateness)."""

from __future__ import annotations

import pytest

from inline_specs import compile_spec, make_spec, orders_source

ACK = "acknowledge realtime"


def watermark(stg_select: str, lateness: str | None):
    body = (f"model stg_orders from orders {{ select {stg_select} }}\n"
            "metric rev from stg_orders {\n  measure sum(amount) as revenue\n  by store_id\n  window tumbling 1m\n}\n"
            "sink live to cache { metrics rev }\n")
    spec = compile_spec(make_spec(body, latency="< 1m", extra=ACK, source=orders_source(lateness=lateness))).spec
    (w,) = spec.plan.watermarks
    return w


@pytest.mark.parametrize("lateness, seconds", [("30s", 30), ("2m", 120), (None, 0)])
def test_rule2_watermark_is_event_time_minus_allowed_lateness(lateness, seconds):
    w = watermark("id, store_id, amount, created_at", lateness)
    assert (w.metric, w.source, w.event_time, w.input_column) == ("rev", "orders", "created_at", "created_at")
    assert w.lateness.seconds == seconds  # no lateness declared: 0s, stated in the reason
    if lateness is None:
        assert "no lateness declared" in w.why.reason


def test_rule2_event_time_is_traced_through_a_rename():
    w = watermark("id, store_id, amount, created_at as ordered_at", "1m")
    assert (w.event_time, w.input_column) == ("created_at", "ordered_at")
    assert "stg_orders.ordered_at <- orders.created_at" in w.why.reason


def test_rule2_unwindowed_metrics_have_no_watermark():
    body = ("model stg_orders from orders { select id, store_id, amount, created_at }\n"
            "metric totals from stg_orders {\n  measure sum(amount) as revenue\n  by store_id\n}\n"
            "sink out to bus { metrics totals }\n")
    assert compile_spec(make_spec(body, latency="< 1m", extra=ACK)).spec.plan.watermarks == ()
