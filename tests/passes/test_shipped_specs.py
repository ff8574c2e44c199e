"""The five shipped specs' key decisions, hand-checked against domain-rules.md (the numbers are worked out in comments)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamc.compiler import compile_files
from streamc.ir import Engine, Mode

SPECS = Path(__file__).resolve().parents[2] / "specs"


@pytest.fixture(scope="module")
def specs():
    out = {}
    for name in ("orders_analytics", "orders_cdc_kafka", "customer_marts", "daily_file_drop", "payments_api_sync"):
        r = compile_files([SPECS / f"{name}.stream"])
        assert r.ok, [d.message for d in r.diagnostics if d.severity == "error"]
        out[name] = r.spec
    return out


def sink(spec, name):
    return next(s for s in spec.plan.sinks if s.sink == name)


def model(spec, name):
    return next(m for m in spec.plan.models if m.model == name)


def topic(spec, name):
    return next(t for t in spec.plan.topics if t.name == name)


def test_orders_analytics_is_hybrid_with_a_flink_hot_path(specs):
    s = specs["orders_analytics"]
    m = s.plan.mode
    assert m.mode == Mode.hybrid  # §1: latency < 1m, a Redis windowed metric and Snowflake marts
    assert m.hot_engines["metric:revenue_per_minute"] == Engine.flink  # a window keeps state
    assert m.engines["model:fct_orders"] == Engine.warehouse_sql
    assert "source:customers" not in m.streaming_nodes


def test_orders_analytics_kafka_and_sinks(specs):
    s = specs["orders_analytics"]
    cdc = topic(s, "ecommerce.orders.changes")
    # §2: 100/s x 1KB = 0.098 MB/s -> ceil(0.98) = 1 -> at least 3; replication from the env overrides
    assert (cdc.partitions, cdc.replication, cdc.retention.seconds) == (3, {"dev": 1, "prod": 3}, 7 * 86400)
    live = sink(s, "live_revenue")
    assert (live.strategy, live.key, live.dead_letter_topic) == (
        "upsert", ("store_id", "window_start"), "ecommerce.live_revenue.dlq")
    marts = sink(s, "warehouse_marts")
    assert (marts.strategy, marts.key, marts.dead_letter_topic) == ("merge", ("order_id",), None)
    fct = model(s, "fct_orders")  # §7: 52,000 rows/day >= 10,000 -> incremental; Snowflake merges
    assert (fct.materialization, fct.unique_key, fct.incremental_strategy) == ("incremental", ("order_id",), "merge")
    cap = next(c for c in s.plan.captures if c.source == "orders")
    assert (cap.slot_name, cap.replica_identity, cap.raw_load) == ("streamc_orders_analytics", "full", "from_topic")


def test_orders_analytics_reliability_windows_and_pii(specs):
    s = specs["orders_analytics"]
    r = s.plan.reliability
    assert (r.availability, r.max_downtime_per_month, r.watch_p99_latency) == ("99.9%", "43.8 min", True)
    assert r.freshness_check_every.seconds == 150  # source freshness 5m / 2
    assert r.stale_alert_after.seconds == 36 * 3600  # daily x 1.5
    assert r.hot_stale_alert_after.seconds == 90  # latency 1m x 1.5
    assert r.checkpoint_interval.seconds == 30  # min(1m / 2, 1m)
    (w,) = s.plan.watermarks
    assert (w.source, w.event_time, w.lateness.seconds) == ("orders", "created_at", 60)
    where = {(p.source, p.column): (p.strategy.value, p.applied_in) for p in s.plan.pii}
    assert where == {("orders", "email"): ("hash", "stg_orders"), ("customers", "email"): ("mask", "stg_customers"),
                     ("customers", "first_name"): ("drop", "capture")}


def test_orders_cdc_is_streaming_with_sized_topics(specs):
    s = specs["orders_cdc_kafka"]
    assert s.plan.mode.mode == Mode.streaming  # latency < 10s, one Kafka sink
    # 2000/s x 2KB = 3.906 MB/s -> 40; 6000/s x 512B = 2.930 MB/s -> 30; replay 14d > 7d
    assert topic(s, "ecommerce.orders.changes").partitions == 40
    assert topic(s, "ecommerce.order_items.changes").partitions == 30
    assert all(t.retention.seconds == 14 * 86400 for t in s.plan.topics)
    assert all(t.replication == {"dev": 1, "staging": 2, "prod": 3} for t in s.plan.topics)
    groups = {g.name: g.max_consumers for g in s.plan.consumer_groups}
    assert groups == {"inventory-stock-reservation": 40, "fulfillment-shipping": 40, "analytics-order-metrics": 40}
    ev = sink(s, "order_events")
    assert (ev.strategy, ev.key, ev.engine) == ("append_only_log", ("id",), Engine.debezium)
    assert ev.topics == ("ecommerce.orders.changes", "ecommerce.order_items.changes")
    cap = next(c for c in s.plan.captures if c.source == "orders")
    assert cap.excluded_columns == ("internal_notes",) and cap.heartbeat_ms == 10_000
    assert s.plan.reliability.checkpoint_interval.seconds == 5


def test_customer_marts_is_batch_with_a_snapshot(specs):
    s = specs["customer_marts"]
    assert s.plan.mode.mode == Mode.batch
    assert model(s, "dim_customers").materialization == "snapshot"
    fct = model(s, "fct_customer_transactions")
    assert (fct.materialization, fct.incremental_strategy) == ("incremental", "delete+insert")  # Postgres
    assert model(s, "int_customer_orders").materialization == "table"
    marts = sink(s, "marts")
    assert [(i.node, i.strategy, i.key) for i in marts.inputs] == [
        ("model:dim_customers", "merge", ("customer_id",)),
        ("model:fct_customer_transactions", "upsert", ("order_id",))]
    assert s.plan.reliability.freshness_check_every.seconds == 12 * 3600  # latency 24h / 2


def test_daily_file_drop_overwrites_its_partition(specs):
    s = specs["daily_file_drop"]
    assert s.plan.mode.mode == Mode.batch
    fct = model(s, "fct_partner_orders_daily")
    assert (fct.materialization, fct.incremental_strategy) == ("incremental", "insert_overwrite")
    p = sink(s, "partner_marts")
    assert p.strategy == "overwrite_partition" and p.partition.column == "order_date"
    assert next(c for c in s.plan.captures).method == "file_arrival"


def test_payments_sync_merges_into_duckdb(specs):
    s = specs["payments_api_sync"]
    assert s.plan.mode.mode == Mode.batch
    assert model(s, "fct_transactions").incremental_strategy == "merge"
    assert (sink(s, "finance").strategy, sink(s, "finance").key) == ("merge", ("transaction_id",))
    r = s.plan.reliability
    assert (r.freshness_check_every.seconds, r.stale_alert_after.seconds) == (900, 1350)  # 30m / 2; 15m x 1.5
    assert (next(c for c in s.plan.captures).method, r.availability) == ("api_incremental", "99.5%")


def test_every_decision_of_every_shipped_spec_cites_a_rule(specs):
    for s in specs.values():
        assert s.decisions
        for d in s.decisions:
            assert d.why.rule.startswith("domain-rules §"), d
            assert d.why.reason
