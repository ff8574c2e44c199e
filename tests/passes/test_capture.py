"""Capture pass, checked against domain-rules §6 (CDC patterns, slot / publication, snapshot, replica identity)."""

from __future__ import annotations

import pytest

from inline_specs import compile_spec, make_spec, orders_source

ACK = "acknowledge realtime"
STG = "model stg_orders from orders { select id, store_id, amount, created_at }\n"


def capture(text, source="orders"):
    return next(c for c in compile_spec(text).spec.plan.captures if c.source == source)


def test_rule6_postgres_log_cdc_names_slot_and_publication_after_the_pipeline():
    c = capture(make_spec("sink events to bus { sources orders }\n", latency="< 10s", extra=ACK))
    assert (c.method, c.slot_name, c.publication_name) == ("log_cdc", "streamc_p", "streamc_p_pub")
    assert c.snapshot_mode == "initial"  # chosen explicitly
    assert c.topic_prefix == "shop"
    assert c.heartbeat_ms == 10_000


def test_rule6_slot_names_are_sanitized_and_at_most_63_characters():
    from streamc.passes.capture import pg_name

    assert pg_name("streamc_Orders-Analytics.v2") == "streamc_orders_analytics_v2"
    assert len(pg_name("streamc_" + "x" * 80)) == 63


def test_rule6_heartbeat_is_never_longer_than_the_latency_target():
    c = capture(make_spec("sink events to bus { sources orders }\n", latency="< 5s", extra=ACK))
    assert c.heartbeat_ms == 5_000


@pytest.mark.parametrize("body, identity", [
    ("sink events to bus { sources orders }\n", "full"),  # services get full before/after images
    (STG + "metric rev from stg_orders {\n  measure sum(amount) as revenue\n  by store_id\n  window tumbling 1m\n}\n"
     "sink live to cache { metrics rev }\n", "full"),  # a Flink aggregate retracts old values
    (STG + "sink marts to wh { models stg_orders }\n", "default"),
], ids=["kafka-consumers", "stream-aggregate", "plain-load"])
def test_rule6_replica_identity_full_when_full_before_images_are_needed(body, identity):
    c = capture(make_spec(body, latency="< 1m", extra=ACK))
    assert c.replica_identity == identity


def test_rule6_pii_drop_columns_are_never_captured():
    src = orders_source().replace("amount      numeric(10,2)  not null", "amount  numeric(10,2)  not null  pii(drop)")
    c = capture(make_spec("sink events to bus { sources orders }\n", latency="< 10s",
                          extra="acknowledge realtime, pii", source=src))
    assert c.excluded_columns == ("amount",)
    assert "amount" not in c.captured_columns and "id" in c.captured_columns


@pytest.mark.parametrize("capture_text, method, column", [
    ("incremental(updated_at)", "timestamp_incremental", "updated_at"),
    ("full", "full", None),
])
def test_rule6_timestamp_and_full_captures(capture_text, method, column):
    body = STG + "sink marts to wh { models stg_orders }\n"
    c = capture(make_spec(body, source=orders_source(capture=capture_text)))
    assert (c.method, c.incremental_column, c.slot_name) == (method, column, None)
    assert c.raw_load == "extract"


def test_rule6_hybrid_cdc_source_lands_raw_from_its_topic():
    body = (STG + "metric rev from stg_orders {\n  measure sum(amount) as revenue\n  by store_id\n  window tumbling 1m\n}\n"
            "sink live to cache { metrics rev }\n" + "sink marts to wh { models stg_orders }\n")
    assert capture(make_spec(body, latency="< 1m", extra=ACK)).raw_load == "from_topic"


def test_rule6_files_and_apis():
    text = make_spec("", source="").replace("connection cache redis", 'connection cache redis\nconnection lake s3 { bucket "b" }\nconnection api http') + """
source drops from lake {
  path "raw/{date}/x.parquet"
  format parquet
  arrives daily by 06:00 UTC
  columns {
    id bigint not null
  }
}
source pulls from api {
  endpoint GET "/items"
  incremental updated_at
  every 15m
  columns {
    id bigint primary key
    updated_at timestamp not null
  }
}
"""
    text = text.replace("expect orders { unique id }", "expect drops { not_null id }")
    caps = {c.source: c for c in compile_spec(text).spec.plan.captures}
    assert caps["drops"].method == "file_arrival"
    assert (caps["pulls"].method, caps["pulls"].incremental_column) == ("api_incremental", "updated_at")


def test_rule6_decisions_cite_section_6():
    spec = compile_spec(make_spec("sink events to bus { sources orders }\n", latency="< 10s", extra=ACK)).spec
    ds = [d for d in spec.decisions if d.pass_name == "capture" and d.topic == "capture"]
    assert ds and all(d.why.rule.startswith("domain-rules §6") for d in ds)
