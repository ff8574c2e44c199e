"""Kafka pass, checked against domain-rules §2 (topic names, partitions, replication, retention, consumer groups)."""

from __future__ import annotations

import pytest

from inline_specs import compile_spec, make_spec, orders_source
from streamc.passes.kafka import partitions_for

ACK = "acknowledge realtime"
CDC_SINK = "sink events to bus {\n  sources orders\n  consumer inventory for stock_reservation\n}\n"


def topics(text):
    return {t.name: t for t in compile_spec(text).spec.plan.topics}


@pytest.mark.parametrize("peak, size, partitions", [
    ("18/min", "1MB", 3),  # 0.3 MB/s -> 10 x 0.3 = 3
    ("19/min", "1MB", 4),  # 0.3167 MB/s -> 3.17 -> 4
    ("1/s", "1KB", 3),  # 0.001 MB/s -> 1 -> clamped up to 3
    ("10/s", "1MB", 100),  # 10 MB/s -> 100
    ("11/s", "1MB", 100),  # 110 -> clamped down to 100
    ("2000/s", "2KB", 40),  # 3.906 MB/s (1 MB = 2^20 B) -> 39.06 -> 40
])
def test_rule2_partitions_are_10_per_peak_mb_per_second_clamped_3_to_100(peak, size, partitions):
    text = make_spec(CDC_SINK, latency="< 10s", extra=ACK, source=orders_source(peak=peak, size=size))
    assert topics(text)["shop.orders.changes"].partitions == partitions


def test_rule2_partitions_function_boundaries():
    mib = 2**20
    assert partitions_for(None, 1024) == (3, None)
    assert partitions_for(0.3, mib)[0] == 3
    assert partitions_for(10.0, mib)[0] == 100
    assert partitions_for(10.1, mib)[0] == 100


def test_rule2_topic_names_are_domain_entity_event():
    text = make_spec(CDC_SINK, latency="< 10s", extra=ACK)
    ts = topics(text)
    assert set(ts) == {"shop.orders.changes", "shop.events.dlq"}
    cdc = ts["shop.orders.changes"]
    assert (cdc.purpose, cdc.node, cdc.key, cdc.cleanup_policy) == ("cdc", "source:orders", ("id",), "delete")
    assert ts["shop.events.dlq"].purpose == "dlq" and ts["shop.events.dlq"].partitions == 3


@pytest.mark.parametrize("envs, expected", [
    ("env dev { db.schema \"x\" }\nenv staging { db.schema \"x\" }\nenv prod { db.schema \"x\" }\n",
     {"dev": 1, "staging": 2, "prod": 3}),
    ("env dev { kafka.replication 2 }\nenv prod { db.schema \"x\" }\n", {"dev": 2, "prod": 3}),  # override wins
    ("env prod { bus.replication 5 }\n", {"prod": 5}),  # override through the kafka connection's name
    ("env qa2 { db.schema \"x\" }\n", {"qa2": 3}),  # an unknown env name is treated like production
    ("", {"default": 3}),
])
def test_rule2_replication_per_environment(envs, expected):
    text = make_spec(CDC_SINK + envs, latency="< 10s", extra=ACK)
    for t in topics(text).values():
        assert t.replication == expected


@pytest.mark.parametrize("replay, days", [(None, 7), ("3d", 7), ("7d", 7), ("14d", 14)])
def test_rule2_retention_7_days_or_the_replay_requirement_if_longer(replay, days):
    extra = ACK + (f"\n  replay {replay}" if replay else "")
    t = topics(make_spec(CDC_SINK, latency="< 10s", extra=extra))["shop.orders.changes"]
    assert t.retention.seconds == days * 86400 and t.cleanup_policy == "delete"


def test_rule2_compacted_changelog_topics_are_kept_forever():
    body = ("model stg_orders from orders { select id, store_id, amount, created_at }\n"
            "metric totals from stg_orders {\n  measure sum(amount) as revenue\n  by store_id\n}\n"
            "sink out to bus { metrics totals }\n")
    t = topics(make_spec(body, latency="< 10s", extra=ACK))["shop.totals.aggregated"]
    assert (t.retention, t.cleanup_policy, t.key) == (None, "compact", ("store_id",))


def test_rule2_windowed_metric_topic_is_an_append_log_keyed_by_dimensions_and_window():
    body = ("model stg_orders from orders { select id, store_id, amount, created_at }\n"
            "metric rev from stg_orders {\n  measure sum(amount) as revenue\n  by store_id\n  window tumbling 1m\n}\n"
            "sink live to cache { metrics rev }\n")
    spec = compile_spec(make_spec(body, latency="< 1m", extra=ACK)).spec
    t = next(t for t in spec.plan.topics if t.purpose == "metric")
    assert (t.name, t.key, t.cleanup_policy) == ("shop.rev.aggregated", ("store_id", "window_start"), "delete")
    group = next(g for g in spec.plan.consumer_groups)  # the plain consumer writing Redis
    assert group.name == "p-live" and group.topics == ("shop.rev.aggregated",)


def test_rule2_consumer_groups_are_service_purpose_and_bounded_by_partitions():
    text = make_spec(CDC_SINK, latency="< 10s", extra=ACK, source=orders_source(peak="2000/s", size="2KB"))
    groups = compile_spec(text).spec.plan.consumer_groups
    assert [(g.name, g.topics, g.max_consumers) for g in groups] == [
        ("inventory-stock-reservation", ("shop.orders.changes",), 40)]


def test_rule2_batch_pipeline_without_kafka_has_no_topics():
    body = ("model stg_orders from orders { select id, store_id, amount, created_at }\n"
            "sink marts to wh { models stg_orders }\n")
    spec = compile_spec(make_spec(body, source=orders_source(capture="incremental(updated_at)"))).spec
    assert spec.plan.topics == () and spec.plan.consumer_groups == ()


def test_rule2_decisions_cite_section_2():
    spec = compile_spec(make_spec(CDC_SINK, latency="< 10s", extra=ACK)).spec
    ds = [d for d in spec.decisions if d.pass_name == "kafka"]
    assert {d.topic for d in ds} == {"replication", "name", "partitions", "retention", "consumer group"}
    assert all(d.why.rule.startswith("domain-rules §2") for d in ds)
    part = next(d for d in ds if d.topic == "partitions" and d.subject == "topic:shop.orders.changes")
    assert "2^20" in part.why.reason  # states which megabyte
