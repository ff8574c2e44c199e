"""Mode pass, checked against domain-rules §1 (mode selection, engines, explicit mode, ask-first conditions)."""

from __future__ import annotations

import pytest

from inline_specs import compile_spec, decision, make_spec, orders_source
from streamc.ir import Engine, Mode

STG = "model stg_orders from orders { select id, store_id, amount, created_at }\n"
KAFKA_SINK = STG + "sink out to bus { models stg_orders }\n"
METRIC = STG + "metric rev from stg_orders {\n  measure sum(amount) as revenue\n  by store_id\n  window tumbling 1m\n}\n"
REDIS_SINK = METRIC + "sink live to cache { metrics rev  ttl 1h }\n"
MART = 'model fct_orders {\n  grain id\n  sql """select id, store_id, amount, created_at from stg_orders"""\n}\n'
WAREHOUSE_SINK = "sink marts to wh { models fct_orders }\n"
ACK = "acknowledge realtime"


def warnings(result, code):
    return [d for d in result.diagnostics if d.code == code]


@pytest.mark.parametrize("latency, mode", [
    ("< 59s", Mode.streaming),
    ("< 60s", Mode.streaming),  # `latency < 1m` is the rule's own case: sub-minute
    ("< 1m", Mode.streaming),
    ("< 61s", Mode.batch),  # allows 60.5 s: a minute or more is acceptable -> batch
    ("< 2m", Mode.batch),
    ("< 24h", Mode.batch),
    (None, Mode.batch),  # no latency: daily/weekly reporting defaults to batch
], ids=str)
def test_rule1_latency_under_a_minute_is_a_streaming_candidate(latency, mode):
    spec = compile_spec(make_spec(KAFKA_SINK, latency=latency, extra=ACK)).spec
    assert spec.plan.mode.mode == mode


@pytest.mark.parametrize("body, mode", [
    (REDIS_SINK + MART + WAREHOUSE_SINK, Mode.hybrid),  # real-time output + warehouse history
    (KAFKA_SINK + MART + WAREHOUSE_SINK, Mode.hybrid),
    (REDIS_SINK, Mode.streaming),  # only real-time outputs
    (STG + MART + WAREHOUSE_SINK, Mode.streaming),  # sub-minute but only warehouse outputs: the stream feeds them
], ids=["redis+warehouse", "kafka+warehouse", "redis-only", "warehouse-only"])
def test_rule1_realtime_outputs_plus_warehouse_is_hybrid(body, mode):
    spec = compile_spec(make_spec(body, latency="< 1m", extra=ACK)).spec
    assert spec.plan.mode.mode == mode


def test_rule1_hybrid_splits_hot_and_cold_paths():
    spec = compile_spec(make_spec(REDIS_SINK + MART + WAREHOUSE_SINK, latency="< 1m", extra=ACK)).spec
    plan = spec.plan.mode
    assert set(plan.streaming_nodes) == {"source:orders", "model:stg_orders", "metric:rev", "sink:live"}
    assert set(plan.batch_nodes) == {"source:orders", "model:stg_orders", "model:fct_orders", "sink:marts"}
    # a node on both paths: its cold engine in `engines`, its hot engine in `hot_engines`
    assert plan.engines["model:stg_orders"] == Engine.warehouse_sql
    assert plan.hot_engines["model:stg_orders"] == Engine.flink  # fused into the metric's Flink job
    assert plan.engines["metric:rev"] == Engine.flink
    assert plan.engines["source:orders"] == Engine.debezium
    assert plan.engines["sink:marts"] == Engine.warehouse_sql
    assert plan.engines["sink:live"] == Engine.kafka_consumer  # no maintained Flink Redis connector
    assert set(plan.engines) == set(plan.streaming_nodes) | set(plan.batch_nodes)


@pytest.mark.parametrize("peak, engine", [
    ("9999/s", Engine.kafka_consumer),
    ("10000/s", Engine.kafka_consumer),  # rule: > 10,000 events/s -> Flink; exactly 10,000 is not more
    ("10001/s", Engine.flink),
    ("50000/s", Engine.flink),
])
def test_rule1_peak_over_10000_per_second_needs_flink(peak, engine):
    text = make_spec(KAFKA_SINK, latency="< 10s", extra=ACK, source=orders_source(peak=peak, size="100B"))
    spec = compile_spec(text).spec
    assert spec.plan.mode.mode == Mode.streaming
    assert spec.plan.mode.engines["model:stg_orders"] == engine


def test_rule1_windows_and_aggregations_need_a_stream_processor_even_at_low_volume():
    text = make_spec(REDIS_SINK, latency="< 1m", extra=ACK, source=orders_source(peak="10/s"))
    spec = compile_spec(text).spec
    assert spec.plan.mode.engines["metric:rev"] == Engine.flink


def test_rule1_batch_engines():
    spec = compile_spec(make_spec(STG + MART + WAREHOUSE_SINK, latency="< 6h",
                                  source=orders_source(capture="incremental(updated_at)"))).spec
    e = spec.plan.mode.engines
    assert spec.plan.mode.mode == Mode.batch
    assert e["source:orders"] == Engine.orchestrator
    assert e["model:fct_orders"] == Engine.warehouse_sql
    assert e["sink:marts"] == Engine.warehouse_sql
    assert spec.plan.mode.streaming_nodes == ()


@pytest.mark.parametrize("explicit, derived, warned", [
    ("batch", Mode.hybrid, True),
    ("streaming", Mode.hybrid, True),
    ("hybrid", Mode.hybrid, False),
])
def test_rule1_explicit_mode_wins_with_W201_when_it_contradicts(explicit, derived, warned):
    text = make_spec(REDIS_SINK + MART + WAREHOUSE_SINK, latency="< 1m", extra=f"{ACK}\n  mode {explicit}")
    r = compile_spec(text)
    assert r.spec.plan.mode.mode == Mode(explicit)
    w = warnings(r, "W201")
    assert bool(w) == warned
    if warned:
        assert w[0].span.line == 8  # the `mode` line of the pipeline block
        assert derived.value in w[0].message
        assert any(x.code == "W201" for x in r.spec.warnings)


def test_rule1_explicit_batch_puts_every_node_on_the_cold_path():
    text = make_spec(REDIS_SINK, latency="< 1m", extra=f"{ACK}\n  mode batch")
    plan = compile_spec(text).spec.plan.mode
    assert plan.streaming_nodes == ()
    assert "metric:rev" in plan.batch_nodes


@pytest.mark.parametrize("case, body, latency, extra, source, ack", [
    ("latency<1m", KAFKA_SINK, "< 1m", "", None, "realtime"),
    ("pii", STG + MART + WAREHOUSE_SINK, "< 1h", "", orders_source().replace(
        "store_id    bigint         not null", 'store_id    bigint  not null\n    email  text  pii(hash)'), "pii"),
    # 1 TB/day: 1,048,576 events/day x 1MB (2^20 B) = 2^40 B exactly is not more than 1 TB; one more event is
    ("volume>1TB", STG + MART + WAREHOUSE_SINK, "< 1h", "", orders_source(volume="1048577/day", size="1MB"),
     "large_volume"),
], ids=lambda x: x if isinstance(x, str) and len(x) < 12 else None)
def test_rule1_ask_first_conditions_warn_W202_unless_acknowledged(case, body, latency, extra, source, ack):
    text = make_spec(body, latency=latency, source=source)
    r = compile_spec(text)
    w = warnings(r, "W202")
    assert len(w) == 1 and f"acknowledge {ack}" in w[0].hint
    acked = compile_spec(make_spec(body, latency=latency, source=source, extra=f"acknowledge {ack}"))
    assert not warnings(acked, "W202")
    d = decision(acked.spec, "pipeline", f"ask first: {ack}")
    assert d.choice == "acknowledged"


def test_rule1_volume_of_exactly_1tb_per_day_is_not_more_than_1tb():
    text = make_spec(STG + MART + WAREHOUSE_SINK, source=orders_source(volume="1048576/day", size="1MB"))
    assert not warnings(compile_spec(text), "W202")


def test_rule1_cross_region_connections_warn_W202():
    text = make_spec(STG + MART + WAREHOUSE_SINK).replace(
        'connection wh    snowflake { database "analytics" }',
        'connection wh    snowflake { database "analytics"  region "eu-west-1" }').replace(
        'database "shop"', 'database "shop"  region "us-east-1"')
    w = warnings(compile_spec(text), "W202")
    assert len(w) == 1 and "cross-region" in w[0].message
    same = text.replace('"us-east-1"', '"eu-west-1"')
    assert not warnings(compile_spec(same), "W202")


def test_rule1_every_decision_cites_section_1_and_its_facts_have_spans():
    spec = compile_spec(make_spec(REDIS_SINK + MART + WAREHOUSE_SINK, latency="< 1m", extra=ACK)).spec
    mode = [d for d in spec.decisions if d.pass_name == "mode"]
    assert mode and all(d.why.rule.startswith("domain-rules §1") for d in mode)
    top = decision(spec, "pipeline", "mode")
    latency = next(f for f in top.why.facts if f.text.startswith("latency"))
    assert latency.text == "latency < 1m" and latency.span is not None and latency.span.line == 5


def test_rule1_latency_inclusive_bound_of_exactly_a_minute_is_batch():
    """§1: latency < 1 minute -> streaming. `latency <= 1m` allows exactly one minute, so it is not under a minute."""
    from streamc.compiler import compile_text

    base = ('pipeline p {{ owner "x" latency {bound} acknowledge realtime }}\nconnection db postgres\n'
            'connection events kafka\nsource s from db {{\n  table public.s\n  capture cdc\n  columns {{\n'
            '    id bigint primary key\n  }}\n}}\nsink out to events {{ sources s }}\nexpect s {{ unique id }}\n')
    strict = compile_text(base.format(bound="< 1m"), "a.stream").spec
    inclusive = compile_text(base.format(bound="<= 1m"), "b.stream").spec
    assert strict.plan.mode.mode.value == "streaming"
    assert inclusive.plan.mode.mode.value == "batch"


def test_rule1_a_model_no_sink_reads_runs_on_the_cold_path_with_its_inputs():
    """§1 hybrid: a model that feeds no sink is built in the warehouse (cold path); the models it reads must be
    built there too, even when they also feed the hot path."""
    from streamc.compiler import compile_text

    text = ('pipeline p { owner "x" latency < 1m schedule daily at 06:00 UTC acknowledge realtime }\n'
            'connection db postgres\nconnection wh snowflake\nconnection cache redis\n'
            'source s from db {\n  table public.s\n  capture cdc\n  volume 1000/day peak 10/s avg_size 1KB\n'
            '  columns {\n    id bigint primary key\n    amount numeric not null\n'
            '    created_at timestamp not null event_time\n  }\n}\n'
            'model stg_s from s { select id, amount, created_at }\n'
            'model int_s { sql """select id, amount from stg_s""" }\n'
            'model fct_s { grain id\n sql """select id, amount from s""" }\n'
            'metric m from stg_s {\n  measure sum(amount) as total\n  window tumbling 1m\n}\n'
            'sink live to cache { metrics m }\nsink marts to wh { models fct_s }\nexpect s { unique id }\n')
    spec = compile_text(text, "h.stream").spec
    plan = spec.plan.mode
    assert plan.mode.value == "hybrid"
    assert "model:int_s" in plan.batch_nodes
    assert "model:stg_s" in plan.batch_nodes and "model:stg_s" in plan.streaming_nodes
