"""Idempotency pass: how every sink (and every node it receives) is written so a re-run or redelivery changes nothing (rules §3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostics
from ..ir import CaptureMode, ConnectionKind, Duration, Engine, Fact, Partition, Sink, SinkInputPlan, SinkPlan, Spec
from .graph import Lineage, node_id
from .kafka import dlq_topic
from .record import Recorder, fact, why

DEDUP_TTL = Duration(seconds=7 * 86400, text="7d")  # rules §3: dedupe on event_id within a window, default 7 days
WINDOW_KEY = "window_start"


@dataclass
class Choice:
    strategy: str | None  # None: no idempotent way (E108 reported)
    key: tuple[str, ...] = ()
    partition: Partition | None = None
    ttl: Duration | None = None
    reason: str = ""
    facts: list[Fact] = field(default_factory=list)
    hint: str = ""  # for E108


def idempotency_pass(spec: Spec, diags: Diagnostics) -> Spec:
    rec = Recorder("idempotency", diags)
    lin = Lineage(spec)
    plans = []
    for k in spec.sinks:
        p = _sink(spec, lin, rec, k)
        if p is not None:
            plans.append(p)
    return rec.finish(spec, sinks=tuple(plans))


def _sink(spec: Spec, lin: Lineage, rec: Recorder, k: Sink) -> SinkPlan | None:
    nid = node_id("sink", k.name)
    mode = spec.plan.mode
    hot = mode is not None and nid in mode.streaming_nodes
    engine = (mode.hot_engines.get(nid) if hot else mode.engines.get(nid)) if mode else None
    engine = engine or Engine.orchestrator
    topics_by_node = {t.node: t for t in spec.plan.topics if t.purpose != "dlq"}
    dlq = next((t.name for t in spec.plan.topics if t.purpose == "dlq" and t.node == nid), None)
    if hot and dlq is None:
        dlq = dlq_topic(spec, k.name)

    inputs: list[SinkInputPlan] = []
    failed = False
    for name in k.inputs:
        in_id = lin.id_of(name)
        c = _choose(spec, lin, k, name, hot, engine)
        if c.strategy is None:
            failed = True
            what = f"{c.reason} ({in_id})" if len(k.inputs) > 1 else c.reason
            rec.error("E108", k.input_spans.get(name, k.span), sink=k.name, reason=what, hint=c.hint)
            continue
        topic = topics_by_node.get(in_id).name if (in_id in topics_by_node and lin.kind(k.connection) in (
            ConnectionKind.kafka, ConnectionKind.redis)) else None
        w = why("idempotency", c.reason, *c.facts)
        inputs.append(SinkInputPlan(node=in_id, strategy=c.strategy, key=c.key, partition=c.partition,
                                    dedup_ttl=c.ttl, topic=topic, why=w))
        if len(k.inputs) > 1:
            rec.decide(nid, f"idempotency of {in_id}", _label(c.strategy, c.key), w)
    if failed or not inputs:
        return None

    strategies = {i.strategy for i in inputs}
    keys = {i.key for i in inputs}
    partitions = {i.partition for i in inputs}
    strategy = inputs[0].strategy
    key = inputs[0].key if len(keys) == 1 else ()
    partition = k.partition or (inputs[0].partition if len(partitions) == 1 else None)
    ttl = DEDUP_TTL if any(i.dedup_ttl for i in inputs) else None
    if len(inputs) == 1:
        w = inputs[0].why
    else:
        each = "; ".join(f"{i.node}: {_label(i.strategy, i.key)}" for i in inputs)
        lead = ("every input the same way" if len(strategies) == 1 and len(keys) == 1
                else "each input its own way (see `inputs`)")
        facts = []
        for i in inputs:
            facts += [f for f in i.why.facts if f not in facts]
        w = why("idempotency", f"{len(inputs)} inputs, {lead}: {each}", *facts)
    rec.decide(nid, "idempotency", _label(strategy, key) + (" (per input)" if len(strategies) > 1 else ""), w)
    if hot:
        rec.decide(nid, "dead letter", dlq, why("dead_letter", "a streaming sink parks the records it rejects (with "
                                                "the error) on its own dead-letter topic instead of dropping them or "
                                                "stopping", fact(f"sink {k.name} is on the streaming path", k.span)))
    topics = tuple(dict.fromkeys(i.topic for i in inputs if i.topic)) if lin.kind(k.connection) == ConnectionKind.kafka \
        else ()
    return SinkPlan(sink=k.name, strategy=strategy, key=key, partition=partition, dedup_ttl=ttl, engine=engine,
                    dead_letter_topic=dlq if hot else None, why=w, inputs=tuple(inputs), topics=topics)


def _label(strategy: str, key: tuple[str, ...]) -> str:
    return strategy + (f" on {', '.join(key)}" if key else "")


def _key(spec: Spec, k: Sink, name: str) -> tuple[tuple[str, ...], list[Fact], str]:
    """The key a sink input is written by: the sink's key, else the model grain, else the source primary key."""
    if k.key:
        return k.key, [fact(f"sink {k.name}: key {', '.join(k.key)}", k.span)], "the sink's key"
    m = spec.model(name)
    if m is not None:
        if m.grain:
            return m.grain, [fact(f"model {name}: grain {', '.join(m.grain)}", m.span)], "the model's grain"
        inherited = _inherited_key(spec, m)
        if inherited is not None:
            src, key = inherited
            return key, [fact(f"model {name}: no grain, copies {src.name} row for row", m.span),
                         fact(f"source {src.name}: primary key {', '.join(src.primary_key)}", src.span)], (
                f"the primary key of {src.name}, which {name} copies row for row")
        return (), [fact(f"model {name}: no grain", m.span)], "the model's grain"
    s = spec.source(name)
    if s is not None:
        pk = s.primary_key
        return pk, ([fact(f"source {name}: primary key {', '.join(pk)}", s.span)] if pk else
                    [fact(f"source {name}: no primary key", s.span)]), "the source's primary key"
    mt = spec.metric(name)
    if mt is not None:
        key = mt.dimensions + ((WINDOW_KEY,) if mt.window else ())
        return key, [fact(f"metric {name} by {', '.join(mt.dimensions) or '(no dimension)'}"
                          + (f", window {mt.window.kind} {mt.window.size.text}" if mt.window else ""), mt.span)], (
            "the metric's dimensions" + (" and window" if mt.window else ""))
    return (), [], "nothing"


def _inherited_key(spec: Spec, m) -> tuple | None:
    """A grain-less model that copies one source row for row (no join, no aggregation) keeps its primary key."""
    lin = Lineage(spec)
    node, seen = m, set()
    while node is not None and node.name not in seen:
        seen.add(node.name)
        joins, agg = lin.model_shape(node)
        if joins or agg or len(node.depends_on) != 1:
            return None
        dep = node.depends_on[0]
        src = spec.source(dep)
        if src is not None:
            break
        node = spec.model(dep)
    else:
        return None
    if src is None or not src.primary_key:
        return None
    out = []
    for pk in src.primary_key:
        col = next((c.name for c in m.columns if (t := lin.trace_to_source(m.name, c.name)) is not None
                    and t[0].name == src.name and t[1].name == pk), None)
        if col is None:
            return None
        out.append(col)
    return src, tuple(out)


def _from_kafka(spec: Spec, lin: Lineage, name: str) -> bool:
    """Every source upstream arrives through Kafka (log CDC or a topic)."""
    srcs = lin.upstream_sources(lin.id_of(name))
    caps = {c.source: c.method for c in spec.plan.captures}
    return bool(srcs) and all(caps.get(s.name) in ("log_cdc", "topic") for s in srcs)


def _choose(spec: Spec, lin: Lineage, k: Sink, name: str, hot: bool, engine: Engine) -> Choice:
    conn = spec.connection(k.connection)
    ckind = conn.kind if conn else None
    key, kfacts, key_from = _key(spec, k, name)
    sink_fact = fact(f"sink {k.name} to {k.connection} ({ckind.value if ckind else '?'})", k.connection_span or k.span)
    facts = [sink_fact] + kfacts
    m = spec.model(name)
    partition = k.partition or (m.partition if m else None)
    if k.mode is not None:
        facts.append(fact(f"mode {k.mode}", k.span))
        return _explicit(spec, lin, k, name, hot, engine, key, key_from, partition, facts)

    if ckind == ConnectionKind.kafka:
        return _to_kafka(spec, lin, k, name, hot, engine, key, key_from, facts)
    if ckind == ConnectionKind.redis:
        if key:
            ttl = f", each key expiring after the sink's ttl {k.ttl.text}" if k.ttl else ""
            if k.ttl:
                facts.append(fact(f"ttl {k.ttl.text}", k.span))
            return Choice("upsert", key, reason=f"Redis SET on {', '.join(key)} ({key_from}): writing a result again "
                          f"overwrites the same key with the same value{ttl}", facts=facts)
        return _fail(spec, k, name, "Redis stores values by key and nothing gives a key",
                     "add `key col` to the sink", facts)
    if conn is not None and conn.is_warehouse:
        return _to_warehouse(spec, lin, k, name, key, key_from, partition, facts)
    # files (object storage) and anything else
    if partition is not None:
        return Choice("overwrite_partition", (), partition, reason="each run rewrites the objects of its partition",
                      facts=facts)
    return Choice("replace", reason="each run rewrites the whole object", facts=facts)


def _explicit(spec, lin, k, name, hot, engine, key, key_from, partition, facts) -> Choice:
    mode = k.mode
    kafka_sink = lin.kind(k.connection) == ConnectionKind.kafka
    if mode in ("upsert", "merge"):
        if not key:
            return _fail(spec, k, name, f"mode {mode} needs a key, and {name} has none",
                         _key_hint(spec, name), facts)
        how = "MERGE" if mode == "merge" else "upsert"
        return Choice(mode, key, reason=f"the spec asks for mode {mode}: {how} on {', '.join(key)} ({key_from}), so a "
                      "re-run rewrites the same rows", facts=facts)
    if mode == "overwrite_partition":
        if hot:
            return _fail(spec, k, name, "a stream has no run whose partitions it could overwrite",
                         "use `mode upsert` with a key for a streaming sink", facts)
        if partition is None:
            return _fail(spec, k, name, "mode overwrite_partition, but neither the sink nor the model is partitioned",
                         "add `partition by day(col)` to the sink", facts)
        facts.append(fact(f"partition by {partition.granularity or ''}({partition.column})", partition.span))
        return Choice("overwrite_partition", (), partition, reason=(
            f"the spec asks for mode overwrite_partition: each run replaces its {partition.granularity or ''} "
            f"partition of {partition.column} (insert-overwrite / WRITE_TRUNCATE), so a re-run replaces, never "
            "appends"), facts=facts)
    if mode == "exactly_once":
        if not kafka_sink or not _from_kafka(spec, lin, name) or engine != Engine.flink:
            return _fail(spec, k, name, "exactly-once transactions need Kafka at both ends and a stream processor "
                         "(Flink) in between", "use `mode upsert` with a key, or leave `mode` out", facts)
        return Choice("exactly_once", key, reason=("the spec asks for exactly_once: Kafka in, Flink, Kafka out, with "
                      "Kafka transactions committed on each checkpoint (readers use read_committed)"), facts=facts)
    # append
    if key:
        if kafka_sink:
            return Choice("append_only_log", key, reason=(
                f"mode append to Kafka: an append-only log keyed by {', '.join(key)} ({key_from}); a redelivered "
                "record carries the same key, so readers applying records by key stay correct"), facts=facts)
        return Choice("merge", key, reason=(
            f"mode append: rows are only inserted; MERGE on {', '.join(key)} ({key_from}) inserts the keys not yet "
            "present, so a re-run adds nothing twice"), facts=facts)
    if hot and _from_kafka(spec, lin, name):
        return Choice("dedup_event_id", (), ttl=DEDUP_TTL, reason=(
            "mode append without a key on a stream: deduplicated on the envelope's event_id within 7 days (the "
            "default window), so a redelivered event is written once"), facts=facts + [fact("dedup ttl 7d", None)])
    return _fail(spec, k, name, "mode append with no key: a re-run or a redelivery appends the same rows again",
                 _key_hint(spec, name) + ", or partition it and use `mode overwrite_partition`", facts)


def _to_kafka(spec, lin, k, name, hot, engine, key, key_from, facts) -> Choice:
    src = spec.source(name)
    if src is not None:
        cap = next((c for c in spec.plan.captures if c.source == name), None)
        if cap is not None and cap.method == "log_cdc":
            if key:
                return Choice("append_only_log", key, reason=(
                    f"the change log of {name}, keyed by its primary key {', '.join(key)}: a change redelivered after "
                    "a connector restart has the same key and source position (LSN), so consumers applying changes "
                    "by key converge, and can drop a repeat by (key, LSN); not compacted, because the services need "
                    "every change, not only the latest row"), facts=facts)
            return Choice("dedup_event_id", (), ttl=DEDUP_TTL, reason=(
                f"{name} has no primary key: consumers dedupe on the envelope's event_id (the source position) "
                "within 7 days"), facts=facts)
    mt = spec.metric(name)
    if mt is not None:
        return Choice("upsert", key, reason=(
            f"keyed by {', '.join(key) or 'nothing'} ({key_from}): a result written again replaces the same key with "
            "the same value" + ("; a window's result is final once its watermark passes" if mt.window else "")),
            facts=facts)
    if key:
        return Choice("upsert", key, reason=(
            f"a keyed topic ({key_from}: {', '.join(key)}), compacted: a row written again replaces itself"),
            facts=facts)
    if hot and engine == Engine.flink and _from_kafka(spec, lin, name):
        return Choice("exactly_once", (), reason=(
            "no key to dedupe on, and Kafka is at both ends with Flink in between: Kafka transactions committed on "
            "each checkpoint make every record visible once to read_committed readers"), facts=facts)
    if hot:
        return Choice("dedup_event_id", (), ttl=DEDUP_TTL, reason=(
            "a stream without a natural key: readers dedupe on the envelope's event_id within 7 days (the default)"),
            facts=facts + [fact("dedup ttl 7d", None)])
    return _fail(spec, k, name, "a scheduled publish of keyless rows repeats them on every re-run",
                 _key_hint(spec, name), facts)


def _to_warehouse(spec, lin, k, name, key, key_from, partition, facts) -> Choice:
    m = spec.model(name)
    if m is not None:
        mp = next((p for p in spec.plan.models if p.model == name), None)
        if mp is None:
            return _fail(spec, k, name, "the model has no layering plan", "this is a streamc bug", facts)
        facts.append(fact(f"model {name}: materialized {mp.materialization}"
                          + (f" ({mp.incremental_strategy})" if mp.incremental_strategy else ""), m.span))
        if mp.materialization == "snapshot":
            return Choice("merge", mp.unique_key, reason=(
                f"a dbt snapshot merges on {', '.join(mp.unique_key)}: a re-run with unchanged rows adds no version"),
                facts=facts)
        if mp.materialization == "incremental":
            if mp.incremental_strategy == "insert_overwrite" or (
                    mp.incremental_strategy == "delete+insert" and partition is not None
                    and mp.unique_key == (partition.column,)):
                facts.append(fact(f"partition by {partition.granularity or ''}({partition.column})", partition.span))
                return Choice("overwrite_partition", (), partition, reason=(
                    "a partitioned batch load: each run replaces the partitions it produces, so a re-run replaces, "
                    "never appends"), facts=facts)
            if mp.unique_key:
                strategy = "merge" if mp.incremental_strategy == "merge" else "upsert"
                return Choice(strategy, mp.unique_key, reason=(
                    f"{'MERGE' if strategy == 'merge' else 'delete+insert (an upsert)'} on "
                    f"{', '.join(mp.unique_key)} ({key_from}): a re-run rewrites the same rows"), facts=facts)
            return _fail(spec, k, name, "an incremental model with neither a grain nor a partition appends its rows "
                         "again on a re-run", _key_hint(spec, name), facts)
        return Choice("replace", (), reason=(
            f"materialized as a {mp.materialization}: each run rebuilds it whole, so a re-run gives the same table"),
            facts=facts)
    if key:
        return Choice("merge", key, reason=f"MERGE on {', '.join(key)} ({key_from}): a re-run rewrites the same rows",
                      facts=facts)
    if partition is not None:
        return Choice("overwrite_partition", (), partition, reason="each run replaces its partition", facts=facts)
    src = spec.source(name)
    if src is not None and (src.capture is None or src.capture.mode == CaptureMode.full):
        return Choice("replace", (), reason="a full extract replaces the whole table each run", facts=facts)
    return _fail(spec, k, name, f"{name} has no key and no partition", _key_hint(spec, name), facts)


def _key_hint(spec: Spec, name: str) -> str:
    if spec.model(name) is not None:
        return f"add `grain col` to model {name} or `key col` to the sink"
    if spec.source(name) is not None:
        return f"mark a `primary key` column on source {name} or add `key col` to the sink"
    return "add `key col` to the sink"


def _fail(spec: Spec, k: Sink, name: str, reason: str, hint: str, facts) -> Choice:
    """No idempotent way to write this input: the sink pass reports E108."""
    return Choice(None, reason=reason, facts=facts, hint=hint)
