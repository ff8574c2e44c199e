"""Unit tests of the Flink backend: what it reads from the plan, what it refuses, and its SQL building blocks."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from streamc.backend_api import Registry, UsageError, parse_options
from streamc.compiler import compile_files
from streamc.ir import ColumnType, Duration, Engine, PiiPlan, PiiStrategy, SinkInputPlan, SinkPlan, Span, Why
from streamc.backends.flink import FlinkBackend, FlinkOptions
from streamc import cdc_wire
from streamc.backends.flink.cdc import CONVERSIONS, NATIVE, wire_column
from streamc.backends.flink.dialect import ident
from streamc.backends.flink.schema import FType, aggregate, arithmetic, from_column_type
from streamc.backends.flink.statements import config_duration, interval

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flink_cases import REFERENCE_SPECS, cases  # noqa: E402

CASES = cases()
WHY = Why(rule="test", reason="test")
WHERE = Span(file="t.stream", line=1, column=1, end_line=1, end_column=2)


def emit(spec, test: bool = False) -> dict[str, str]:
    backend = FlinkBackend()
    diags = backend.check(spec, FlinkOptions(test_connectors=test))
    assert diags == [], [d.message for d in diags]
    return backend.emit(spec, FlinkOptions(test_connectors=test))


def only(files: dict[str, str]) -> str:
    assert len(files) == 1, list(files)
    return next(iter(files.values()))


def problems(spec) -> list[str]:
    return [f"{d.code} {d.message} | {d.hint}" for d in FlinkBackend().check(spec, FlinkOptions())]


def with_plan(spec, **changes):
    return spec.model_copy(update={"plan": spec.plan.model_copy(update=changes)})


# ------------------------------------------------------------------ registration and options

def test_registered_under_its_name():
    registry = Registry()
    assert "flink" in registry.names()
    assert isinstance(registry.get("flink"), FlinkBackend)


def test_test_connectors_option_parses_and_unknown_options_fail():
    backend = FlinkBackend()
    assert parse_options(backend, {"test_connectors": "true"}).test_connectors is True
    with pytest.raises(UsageError):
        parse_options(backend, {"test_connector": "true"})


# ------------------------------------------------------------------ which specs get a job

@pytest.mark.parametrize("name", ["customer_marts", "daily_file_drop", "payments_api_sync"])
def test_batch_specs_emit_nothing_and_do_not_error(name):
    assert CASES[name].plan.mode.mode.value == "batch"
    assert emit(CASES[name]) == {}


def test_streaming_without_flink_engine_emits_nothing():
    spec = CASES["orders_cdc_kafka"]  # Debezium topics are the sink: no processing hop
    assert Engine.flink not in spec.plan.mode.hot_engines.values()
    assert emit(spec) == {}


def test_without_a_plan_nothing_is_decided_so_nothing_is_emitted():
    spec = compile_files([p for p in REFERENCE_SPECS if p.stem == "orders_analytics"], run_passes=False).spec
    assert spec.plan.mode is None
    assert emit(spec) == {}


# ------------------------------------------------------------------ read from the plan, never re-decided

def test_orders_analytics_follows_the_plan():
    spec = CASES["orders_analytics"]
    plan = spec.plan
    text = only(emit(spec))
    cdc_topic = next(t for t in plan.topics if t.purpose == "cdc" and t.node == "source:orders")
    metric_topic = next(t for t in plan.topics if t.purpose == "metric")
    mark = plan.watermarks[0]
    assert f"SET 'execution.checkpointing.interval' = '{config_duration(plan.reliability.checkpoint_interval)}'" in text
    assert "SET 'execution.checkpointing.mode' = 'AT_LEAST_ONCE'" in text
    assert f"'topic' = '{cdc_topic.name}'" in text and "'format' = 'debezium-json'" in text
    rowtime = f"{mark.event_time}__typed"  # the wire string, converted (streamc.cdc_wire)
    assert f"WATERMARK FOR {rowtime} AS {rowtime} - {interval(mark.lateness)}" in text
    assert f"{mark.event_time} STRING NOT NULL" in text and f"{rowtime} AS {mark.event_time}" in text
    assert "TABLE(\n    TUMBLE(TABLE stg_orders, DESCRIPTOR(created_at), INTERVAL '1' MINUTE)\n)" in text
    assert "'connector' = 'upsert-kafka'" in text and f"'topic' = '{metric_topic.name}'" in text
    assert f"PRIMARY KEY ({', '.join(metric_topic.key)}) NOT ENFORCED" in text
    assert "PRIMARY KEY (id) NOT ENFORCED" in text  # the CDC source's key, for the changelog


def test_cdc_source_reads_the_debezium_wire_forms():
    """Each wire form of streamc.cdc_wire is read natively or as STRING converted to the contract's type; the
    source view renames the converted columns back, so the models see the contract's names and types."""
    assert set(NATIVE) | set(CONVERSIONS) == set(cdc_wire.FORMS)
    text = only(emit(CASES["orders_analytics"]))
    table = re.search(r"CREATE TEMPORARY TABLE orders__changes \(\n(.*?)\n\) WITH", text, re.S).group(1)
    assert "    total_amount DECIMAL(10, 2) NOT NULL," in table  # a decimal string: parsed exactly
    assert "    created_at__typed AS CAST(REPLACE(REPLACE(created_at, 'T', ' '), 'Z', '') AS TIMESTAMP(3))," in table
    view = re.search(r"CREATE TEMPORARY VIEW orders AS\n(.*?);", text, re.S).group(1)
    assert "created_at__typed AS created_at,\n    updated_at__typed AS updated_at\nFROM orders__changes" in view
    assert text.index("CREATE TEMPORARY VIEW orders AS") < text.index("CREATE TEMPORARY VIEW stg_orders AS")
    def read(type_name: str):
        t = ColumnType(span=WHERE, name=type_name)
        return wire_column("c", t, from_column_type(t))

    for type_name, sql_type in {"date": "DATE", "time": "TIME(0)", "timestamp": "TIMESTAMP(3)"}.items():
        col = read(type_name)
        assert col.physical == "STRING" and col.typed == "c__typed" and col.conversion.endswith(f"AS {sql_type})")
    for type_name, sql_type in {"timestamptz": "TIMESTAMP_LTZ(3)", "numeric": "DECIMAL(38, 18)", "bytes": "BYTES",
                                "json": "STRING", "bigint": "BIGINT", "boolean": "BOOLEAN"}.items():
        assert (read(type_name).physical, read(type_name).conversion) == (sql_type, None)  # parsed natively


def test_non_cdc_sources_keep_their_declared_types():
    text = only(emit(CASES["clickstream"]))
    assert "__typed" not in text and "__changes" not in text and "viewed_at TIMESTAMP(3)" in text


def test_cdc_source_unwrapped_to_rows_is_refused():
    spec = CASES["orders_analytics"]
    captures = tuple(c.model_copy(update={"envelope": "rows"}) for c in spec.plan.captures)
    assert any("capture plan unwraps its change events to rows" in p for p in problems(with_plan(spec,
                                                                                                   captures=captures)))


def test_changed_plan_changes_the_script():
    spec = CASES["orders_analytics"]
    plan = spec.plan
    rel = plan.reliability.model_copy(update={"checkpoint_interval": Duration(seconds=10, text="10s")})
    marks = tuple(w.model_copy(update={"lateness": Duration(seconds=150, text="150s")}) for w in plan.watermarks)
    text = only(emit(with_plan(spec, reliability=rel, watermarks=marks)))
    assert "SET 'execution.checkpointing.interval' = '10 s'" in text
    assert "created_at__typed - INTERVAL '150' SECOND(3)" in text


def test_missing_checkpoint_interval_is_a_marked_gap_not_a_default():
    spec = CASES["orders_analytics"]
    rel = spec.plan.reliability.model_copy(update={"checkpoint_interval": None})
    text = only(emit(with_plan(spec, reliability=rel)))
    assert "SET 'execution.checkpointing.interval'" not in text
    assert "-- GAP: the plan records no checkpoint interval" in text


def test_no_environment_value_is_a_literal():
    for name in ("orders_analytics", "clickstream_flink_sinks", "orders_mirror_flink_sinks"):
        text = only(emit(CASES[name]))
        for key in ("properties.bootstrap.servers", "url", "username", "password", "avro-confluent.url"):
            for value in re.findall(rf"'{re.escape(key)}' = '([^']*)'", text):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+\}", value), (name, key, value)
        assert "s3://${LAKE_BUCKET}/" in text or "s3://" not in text
        # the header lists exactly the placeholders the script uses, for envsubst
        used = sorted(set(re.findall(r"\$\{([A-Z0-9_]+)\}", text.split("\n\n", 1)[1])))
        assert "envsubst '" + " ".join("${" + n + "}" for n in used) + "'" in text


def test_test_connectors_swap_every_external_table_for_files():
    for name in ("orders_analytics", "clickstream_flink_sinks", "orders_mirror_flink_sinks"):
        text = only(emit(CASES[name], test=True))
        assert set(re.findall(r"'connector' = '([^']*)'", text)) == {"filesystem"}
        assert set(re.findall(r"\$\{([A-Z0-9_]+)\}", text)) == {"WORKDIR"}
        assert "ON CONFLICT" not in text  # filesystem sinks are not upsert sinks; Flink 2.3 refuses the clause


def test_flink_sinks_variant():
    text = only(emit(CASES["clickstream_flink_sinks"]))
    assert "SET 'execution.checkpointing.mode' = 'EXACTLY_ONCE'" in text
    assert "'sink.delivery-guarantee' = 'exactly-once'" in text
    assert "'sink.transactional-id-prefix' = 'clickstream.page_views.sessions'" in text
    assert "SET 'table.exec.state.ttl' = '7 d'" in text
    assert "ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY viewed_at) AS streamc_row_num" in text
    assert "WHERE streamc_row_num = 1" in text
    assert text.count("EXECUTE STATEMENT SET\nBEGIN\n") == 1 and text.rstrip().endswith("END;")
    assert "SESSION(TABLE stg_page_views PARTITION BY user_id, DESCRIPTOR(viewed_at), INTERVAL '30' MINUTE)" in text
    assert "HOP(TABLE stg_page_views, DESCRIPTOR(viewed_at), INTERVAL '5' MINUTE, INTERVAL '10' MINUTE)" in text
    assert "CUMULATE(TABLE stg_page_views, DESCRIPTOR(viewed_at), INTERVAL '1' HOUR, INTERVAL '1' DAY)" in text
    assert "SHA256(CAST(email AS STRING)) AS email" in text  # pii(hash), applied where the PII plan says
    assert "'connector' = 'jdbc'" in text and "'table-name' = '${APP_DB_SCHEMA}.views_per_page'" in text
    assert ") PARTITIONED BY (viewed_at_day) WITH (" in text
    assert "COUNT(*) AS `views`" in text  # VIEWS is reserved in Flink 2.3


def test_changelog_into_upsert_sink_gets_on_conflict_and_windows_do_not():
    mirror = only(emit(CASES["orders_mirror_flink_sinks"]))
    assert mirror.rstrip().endswith("FROM stg_order_status\nON CONFLICT DO DEDUPLICATE;")
    assert "ON CONFLICT" not in only(emit(CASES["orders_analytics"]))  # window results are inserts only


def test_emit_is_deterministic():
    for spec in CASES.values():
        assert FlinkBackend().emit(spec, FlinkOptions()) == FlinkBackend().emit(spec, FlinkOptions())


# ------------------------------------------------------------------ what it refuses (E120), never silently drops

def test_redis_sink_on_flink_without_a_hand_off_topic_is_refused():
    spec = CASES["orders_analytics"]
    plan = spec.plan
    mode = plan.mode.model_copy(update={"hot_engines": dict(plan.mode.hot_engines) | {"sink:live_revenue": Engine.flink}})
    sinks = tuple(p.model_copy(update={"engine": Engine.flink, "inputs": tuple(
        i.model_copy(update={"topic": None}) for i in p.inputs)}) if p.sink == "live_revenue" else p
        for p in plan.sinks)
    topics = tuple(t for t in plan.topics if t.purpose != "metric")
    found = problems(with_plan(spec, mode=mode, sinks=sinks, topics=topics))
    assert any(p.startswith("E120") and "Redis" in p and "hand-off topic" in p for p in found), found


def test_redis_sink_on_flink_with_its_topic_upserts_into_it():
    spec = CASES["orders_analytics"]
    plan = spec.plan
    mode = plan.mode.model_copy(update={"hot_engines": dict(plan.mode.hot_engines) | {"sink:live_revenue": Engine.flink}})
    sinks = tuple(p.model_copy(update={"engine": Engine.flink}) if p.sink == "live_revenue" else p for p in plan.sinks)
    text = only(emit(with_plan(spec, mode=mode, sinks=sinks)))
    assert "Flink has no Redis connector" in text and "'connector' = 'upsert-kafka'" in text
    assert "with a TTL of 1h per key" in text


def test_windowed_metric_without_watermark_is_refused():
    found = problems(with_plan(CASES["orders_analytics"], watermarks=()))
    assert any("revenue_per_minute" in p and "watermark" in p for p in found), found


def test_warehouse_without_flink_connector_is_refused():
    spec = CASES["orders_analytics"]
    plan = spec.plan
    mode = plan.mode.model_copy(update={"hot_engines": dict(plan.mode.hot_engines) | {
        "sink:warehouse_marts": Engine.flink, "model:fct_orders": Engine.flink, "model:stg_customers": Engine.flink}})
    sinks = tuple(p.model_copy(update={"engine": Engine.flink}) if p.sink == "warehouse_marts" else p
                  for p in plan.sinks)
    found = problems(with_plan(spec, mode=mode, sinks=sinks))
    assert any("warehouse_marts" in p and "snowflake" in p for p in found), found


def test_pii_reaching_a_flink_sink_untreated_is_refused():
    spec = CASES["clickstream_flink_sinks"]
    pii = tuple(p.model_copy(update={"applied_in": "some_batch_model"}) for p in spec.plan.pii)
    found = problems(with_plan(spec, pii=pii))
    assert any("PII column page_views.email" in p and "untreated" in p for p in found), found


def test_encryption_on_the_hot_path_is_refused():
    spec = CASES["clickstream_flink_sinks"]
    pii = (PiiPlan(source="page_views", column="email", strategy=PiiStrategy.encrypt, applied_in="stg_page_views",
                   why=WHY),)
    found = problems(with_plan(spec, pii=pii))
    assert any("encrypt" in p for p in found), found


def test_pii_applied_at_capture_is_not_applied_again():
    spec = CASES["clickstream_flink_sinks"]
    pii = tuple(p.model_copy(update={"applied_in": "capture"}) for p in spec.plan.pii)
    assert "SHA256" not in only(emit(with_plan(spec, pii=pii)))


def test_dedup_without_event_id_is_refused():
    spec = CASES["clickstream_flink_sinks"]
    sinks = tuple(p.model_copy(update={"key": (), "inputs": tuple(i.model_copy(update={"key": ()}) for i in p.inputs)})
                  if p.sink == "clean_views" else p for p in spec.plan.sinks)
    found = problems(with_plan(spec, sinks=sinks))
    assert any("dedup_event_id without the event id" in p for p in found), found


def test_overwrite_partition_on_the_hot_path_is_refused():
    spec = CASES["clickstream_flink_sinks"]
    sinks = tuple(SinkPlan(sink="raw_views", strategy="overwrite_partition", engine=Engine.flink, why=WHY,
                           inputs=(SinkInputPlan(node="model:stg_page_views", strategy="overwrite_partition",
                                                 why=WHY),)) if p.sink == "raw_views" else p
                  for p in spec.plan.sinks)
    found = problems(with_plan(spec, sinks=sinks))
    assert any("raw_views" in p and "overwrite_partition" in p for p in found), found


# ------------------------------------------------------------------ building blocks

@pytest.mark.parametrize("seconds,text", [(1, "INTERVAL '1' SECOND"), (30, "INTERVAL '30' SECOND"),
                                          (60, "INTERVAL '1' MINUTE"), (90, "INTERVAL '90' SECOND"),
                                          (150, "INTERVAL '150' SECOND(3)"), (7200, "INTERVAL '2' HOUR"),
                                          (86400, "INTERVAL '1' DAY"), (0.5, "INTERVAL '0.5' SECOND")])
def test_interval(seconds, text):
    assert interval(Duration(seconds=seconds, text="x")) == text


@pytest.mark.parametrize("seconds,text", [(30, "30 s"), (60, "1 min"), (604800, "7 d"), (0.25, "250 ms")])
def test_config_duration(seconds, text):
    assert config_duration(Duration(seconds=seconds, text="x")) == text


def test_identifiers_quote_reserved_words_only():
    assert ident("order_id") == "order_id"
    assert ident("views") == "`views`" and ident("value") == "`value`" and ident("timestamp") == "`timestamp`"
    assert ident("Mixed") == "`Mixed`" and ident("we`ird") == "`we``ird`"


def test_flink_type_rules():
    dec = FType("decimal", 10, 2)
    assert aggregate("sum", dec).sql == "DECIMAL(38, 2)"
    assert aggregate("avg", dec).sql == "DECIMAL(38, 6)"
    assert aggregate("count", None).sql == "BIGINT"
    assert aggregate("max", FType("int")).sql == "INT"
    assert arithmetic("*", FType("int"), dec).sql == "DECIMAL(21, 2)"
    assert arithmetic("+", dec, dec).sql == "DECIMAL(11, 2)"
    assert arithmetic("/", dec, FType("int")).sql == "DECIMAL(21, 13)"
    assert arithmetic("*", FType("double"), dec).sql == "DOUBLE"
