"""Specs the Flink backend tests compile: the five reference specs, two synthetic ones, and variants whose plan puts
their sinks on Flink itself (JDBC upsert, exactly-once Kafka, event-id dedup, files, a changelog into an upsert)."""

from __future__ import annotations

from pathlib import Path

from streamc.compiler import compile_files
from streamc.ir import (Duration, Engine, SinkInputPlan, SinkPlan, Spec, Why)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
REFERENCE_SPECS = sorted((ROOT / "specs").glob("*.stream"))
CLICKSTREAM = HERE / "specs" / "clickstream.stream"
MIRROR = HERE / "specs" / "orders_mirror.stream"


def compile_spec(path: Path) -> Spec:
    result = compile_files([path])
    errors = [f"{d.code} {d.message}" for d in result.diagnostics if d.severity == "error"]
    assert result.spec is not None and not errors, errors
    return result.spec


def flink_sinks_variant(spec: Spec) -> Spec:
    """The clickstream plan, changed the way a plan with Flink-engine sinks looks (the passes currently hand every
    hot sink to plain consumers): each kind of Flink sink and idempotency strategy appears once."""
    why = Why(rule="test variant", reason="exercise the Flink sinks")
    plan = spec.plan
    mode = plan.mode
    flink_sinks = {"page_stats", "sessions", "clean_views", "raw_views", "last_views"}
    hot_engines = dict(mode.hot_engines)
    for s in flink_sinks:
        hot_engines[f"sink:{s}"] = Engine.flink
    streaming = tuple(dict.fromkeys(mode.streaming_nodes + ("sink:raw_views", "sink:last_views")))
    week = Duration(seconds=7 * 86400, text="7d")
    raw = spec.sink("raw_views")

    def one(sink: str, node: str, strategy: str, key=(), topic=None, ttl=None, partition=None, dlq=None):
        return SinkPlan(sink=sink, strategy=strategy, key=key, engine=Engine.flink, why=why, dedup_ttl=ttl,
                        partition=partition, dead_letter_topic=dlq,
                        inputs=(SinkInputPlan(node=node, strategy=strategy, key=key, topic=topic, dedup_ttl=ttl,
                                              partition=partition, why=why),),
                        topics=(topic,) if topic else ())

    sinks = [p for p in plan.sinks if p.sink not in flink_sinks] + [
        one("page_stats", "metric:views_per_page", "upsert", ("page", "window_start"), dlq="web.page_stats.dlq"),
        one("sessions", "metric:user_sessions", "exactly_once", topic="web.sessions.closed"),
        one("clean_views", "model:stg_page_views", "dedup_event_id", ("event_id",), topic="web.clean_views.events",
            ttl=week),
        one("raw_views", "model:stg_page_views", "append_only_log", partition=raw.partition),
        one("last_views", "model:stg_page_views", "upsert", ("event_id",)),
    ]
    # the sinks now write their own topics: the hand-off topics the consumers used are gone
    topics = tuple(t for t in plan.topics if t.node not in ("metric:user_sessions", "model:stg_page_views"))
    new_mode = mode.model_copy(update={"hot_engines": hot_engines, "streaming_nodes": streaming})
    return spec.model_copy(update={"plan": plan.model_copy(update={"mode": new_mode, "sinks": tuple(sinks),
                                                                   "topics": topics})})


def mirror_variant(spec: Spec) -> Spec:
    """orders_mirror with the model and its sink on Flink (the passes choose plain consumers at 50/s): a changelog
    (CDC) into a JDBC upsert sink, which Flink 2.3 plans only with an ON CONFLICT clause."""
    why = Why(rule="test variant", reason="a CDC changelog into an upsert sink")
    plan = spec.plan
    mode = plan.mode
    hot = dict(mode.hot_engines) | {"model:stg_order_status": Engine.flink, "sink:serving_orders": Engine.flink}
    key = ("order_id",)
    sink = SinkPlan(sink="serving_orders", strategy="upsert", key=key, engine=Engine.flink, why=why,
                    inputs=(SinkInputPlan(node="model:stg_order_status", strategy="upsert", key=key, why=why),))
    sinks = tuple(p for p in plan.sinks if p.sink != "serving_orders") + (sink,)
    new_mode = mode.model_copy(update={"hot_engines": hot})
    # a stream processor now reads the change topic: the capture keeps the Debezium envelope (as the capture pass
    # decides when Flink reads a source)
    captures = tuple(c.model_copy(update={"envelope": "debezium"}) if c.source == "orders" else c
                     for c in plan.captures)
    return spec.model_copy(update={"plan": plan.model_copy(update={"mode": new_mode, "sinks": sinks,
                                                                   "captures": captures})})


def cases() -> dict[str, Spec]:
    """name -> compiled spec, for every spec the Flink tests cover."""
    out = {p.stem: compile_spec(p) for p in REFERENCE_SPECS}
    click = compile_spec(CLICKSTREAM)
    out["clickstream"] = click
    out["clickstream_flink_sinks"] = flink_sinks_variant(click)
    mirror = compile_spec(MIRROR)
    out["orders_mirror"] = mirror
    out["orders_mirror_flink_sinks"] = mirror_variant(mirror)
    return out
