"""Idempotency pass, checked against domain-rules §3 (and §2: a dead-letter path for every streaming sink)."""

from __future__ import annotations

import pytest

from inline_specs import compile_spec, make_spec, orders_source

STG = "model stg_orders from orders { select id, store_id, amount, created_at }\n"
METRIC = STG + "metric rev from stg_orders {\n  measure sum(amount) as revenue\n  by store_id\n  window tumbling 1m\n}\n"
ACK = "acknowledge realtime"


def mart(props: str = "grain id", name: str = "fct_orders") -> str:
    return f'model {name} {{\n  {props}\n  sql """select id, store_id, amount, created_at from stg_orders"""\n}}\n'


def sink_plan(spec, name: str):
    return next(p for p in spec.plan.sinks if p.sink == name)


def e108(result):
    return [d for d in result.diagnostics if d.code == "E108"]


@pytest.mark.parametrize("sink, strategy, key", [
    ("sink marts to wh { models fct_orders }", "merge", ("id",)),  # grain -> MERGE on it
    ("sink marts to wh { models fct_orders  key store_id, id  mode upsert }", "upsert", ("store_id", "id")),  # sink key
    ("sink marts to wh { models fct_orders  mode merge }", "merge", ("id",)),
])
def test_rule3_sink_with_a_key_or_grain_upserts_on_it(sink, strategy, key):
    spec = compile_spec(make_spec(STG + mart() + sink + "\n")).spec
    p = sink_plan(spec, "marts")
    assert (p.strategy, p.key) == (strategy, key)
    assert p.dead_letter_topic is None  # a batch sink has no dead-letter topic


def test_rule3_partitioned_batch_load_overwrites_the_partition():
    body = STG + mart("grain id\n  partition by day(created_at)") + (
        "sink marts to wh { models fct_orders  partition by day(created_at)  mode overwrite_partition }\n")
    p = sink_plan(compile_spec(make_spec(body)).spec, "marts")
    assert p.strategy == "overwrite_partition"
    assert p.partition is not None and (p.partition.column, p.partition.granularity) == ("created_at", "day")


def test_rule3_small_keyless_table_is_replaced_whole():
    body = STG + mart("cluster by store_id") + "sink marts to wh { models fct_orders }\n"
    p = sink_plan(compile_spec(make_spec(body, source=orders_source(volume="10/day"))).spec, "marts")
    assert p.strategy == "replace"


@pytest.mark.parametrize("sink, reason", [
    ("sink marts to wh { models fct_orders  mode append }", "mode append with no key"),
    ("sink marts to wh { models fct_orders  mode upsert }", "needs a key"),
    ("sink marts to wh { models fct_orders  mode overwrite_partition }", "partitioned"),
    ("sink marts to wh { models fct_orders  mode exactly_once }", "exactly-once"),
    ("sink marts to cache { models fct_orders }", "Redis"),
], ids=["append", "upsert", "overwrite", "exactly_once", "redis"])
def test_rule3_a_sink_with_no_idempotent_way_is_E108(sink, reason):
    # fct_orders has no grain and aggregates nothing, but reads through a join: no key can be inherited
    body = (STG + 'model fct_orders {\n  sql """select o.id, o.amount from stg_orders o join stg_orders p '
            'on o.id = p.id"""\n}\n' + sink + "\n")
    text = make_spec(body)
    r = compile_spec(text, allow_errors=True)
    errs = e108(r)
    assert len(errs) == 1, r.diagnostics
    assert reason in errs[0].message and errs[0].hint
    assert errs[0].span.line == text[: text.index("sink marts")].count("\n") + 1  # points at the sink's input
    assert r.spec is None  # an error stops the build


def test_rule3_a_grainless_copy_of_a_source_keeps_the_source_primary_key():
    body = STG + "sink marts to wh { models stg_orders }\n"
    p = sink_plan(compile_spec(make_spec(body)).spec, "marts")
    assert p.strategy == "replace"  # a staging view is rebuilt whole
    kafka = compile_spec(make_spec(STG + "sink out to bus { models stg_orders }\n")).spec
    assert (sink_plan(kafka, "out").strategy, sink_plan(kafka, "out").key) == ("upsert", ("id",))


def test_rule3_redis_sink_of_a_metric_upserts_on_dimensions_and_window_with_its_ttl():
    text = make_spec(METRIC + "sink live to cache { metrics rev  ttl 1h }\n", latency="< 1m", extra=ACK)
    p = sink_plan(compile_spec(text).spec, "live")
    assert (p.strategy, p.key) == ("upsert", ("store_id", "window_start"))
    assert "ttl 1h" in p.why.reason
    assert p.dead_letter_topic == "shop.live.dlq"  # rules §2: every streaming sink gets a dead-letter path


def test_rule3_kafka_sink_of_cdc_sources_is_a_change_log_keyed_by_primary_key():
    text = make_spec("sink events to bus { sources orders }\n", latency="< 10s", extra=ACK)
    spec = compile_spec(text).spec
    p = sink_plan(spec, "events")
    assert (p.strategy, p.key) == ("append_only_log", ("id",))
    assert p.topics == ("shop.orders.changes",)
    assert p.inputs[0].topic == "shop.orders.changes"
    assert p.dead_letter_topic == "shop.events.dlq"
    assert any(t.name == p.dead_letter_topic and t.purpose == "dlq" for t in spec.plan.topics)


def test_rule3_stream_without_a_natural_key_dedupes_on_event_id_for_7_days():
    keyless = orders_source().replace("bigint         primary key", "bigint")
    text = make_spec("sink events to bus { sources orders }\n", latency="< 10s", extra=ACK, source=keyless,
                     expect="expect orders { not_null id }")
    p = sink_plan(compile_spec(text).spec, "events")
    assert p.strategy == "dedup_event_id"
    assert p.dedup_ttl is not None and p.dedup_ttl.seconds == 7 * 86400


def test_rule3_exactly_once_only_kafka_to_kafka_through_flink():
    agg = STG + ('model stg_pairs {\n  sql """select o.store_id, o.amount from stg_orders o join stg_orders p '
                 'on o.id = p.id"""\n}\n')
    ok = compile_spec(make_spec(agg + "sink out to bus { models stg_pairs  mode exactly_once }\n",
                                latency="< 10s", extra=ACK)).spec
    assert sink_plan(ok, "out").strategy == "exactly_once"
    # the same keyless output without asking: Kafka at both ends with Flink -> exactly-once, reason stated
    auto = compile_spec(make_spec(agg + "sink out to bus { models stg_pairs }\n", latency="< 10s", extra=ACK)).spec
    p = sink_plan(auto, "out")
    assert p.strategy == "exactly_once" and "transactions" in p.why.reason


def test_rule3_multi_input_sink_plans_each_input():
    body = STG + mart() + mart("grain id\n  history scd2 by created_at", "dim_orders") + (
        "sink marts to wh { models fct_orders, dim_orders }\n")
    p = sink_plan(compile_spec(make_spec(body)).spec, "marts")
    assert [(i.node, i.strategy, i.key) for i in p.inputs] == [
        ("model:fct_orders", "merge", ("id",)), ("model:dim_orders", "merge", ("id",))]
    assert p.key == ("id",)


def test_rule3_decisions_cite_section_3():
    spec = compile_spec(make_spec(STG + mart() + "sink marts to wh { models fct_orders }\n")).spec
    ds = [d for d in spec.decisions if d.pass_name == "idempotency"]
    assert ds and all(d.why.rule.startswith("domain-rules §3") for d in ds)
