"""Mode pass: BATCH / STREAMING / HYBRID, the engine of every node, and the "ask first" warnings (rules §1)."""

from __future__ import annotations

import networkx as nx

from ..diagnostics import Diagnostics
from ..ir import Acknowledgement, CaptureMode, ConnectionKind, Engine, Mode, ModePlan, Sink, Spec
from .graph import Lineage, fmt_bytes, fmt_rate, node_id
from .record import Recorder, fact, why

REALTIME_LIMIT_S = 60.0  # rules §1: latency < 1 minute -> streaming candidate
FLINK_PEAK = 10_000.0  # rules §1: peak > 10,000 events/s -> Kafka + Flink
ASK_VOLUME_BYTES_PER_DAY = 2**40  # rules §1 ask first: volume > 1 TB/day (streamc sizes are binary: 1TB = 2^40 B)
DB_KINDS = (ConnectionKind.postgres, ConnectionKind.mysql, ConnectionKind.sqlserver)


def realtime_required(spec: Spec) -> bool:
    """Is the latency requirement under a minute (rules §1)?

    `latency < X` excludes X: `latency < 1m` demands under a minute (streaming), `latency < 61s` allows 60.5 s
    (batch). `latency <= X` allows X itself: `latency <= 1m` allows exactly a minute (batch).
    """
    lat = spec.pipeline.latency
    if lat is None:
        return False
    if spec.pipeline.latency_inclusive:
        return lat.seconds < REALTIME_LIMIT_S
    return lat.seconds <= REALTIME_LIMIT_S


def realtime_sink(spec: Spec, sink: Sink) -> bool:
    """A real-time output: Kafka or Redis, or a windowed metric."""
    conn = spec.connection(sink.connection)
    if conn is not None and conn.kind in (ConnectionKind.kafka, ConnectionKind.redis):
        return True
    return any((m := spec.metric(n)) is not None and m.window is not None for n in sink.metrics)


def mode_pass(spec: Spec, diags: Diagnostics) -> Spec:
    rec = Recorder("mode", diags)
    lin = Lineage(spec)
    p = spec.pipeline
    rt = realtime_required(spec)
    hot_sinks = [s for s in spec.sinks if realtime_sink(spec, s)]
    cold_sinks = [s for s in spec.sinks if not realtime_sink(spec, s)]

    facts = []
    if p.latency is not None:
        facts.append(fact(f"latency {'<=' if p.latency_inclusive else '<'} {p.latency.text}", p.latency_span))
    else:
        facts.append(fact("no latency given: treated as a batch requirement"))
    for s in hot_sinks:
        facts.append(fact(f"sink {s.name}: real-time output ({_sink_kind(spec, s)})", s.span))
    for s in cold_sinks:
        facts.append(fact(f"sink {s.name}: {_sink_kind(spec, s)} output", s.span))

    if not rt:
        derived = Mode.batch
        reason = (f"the latency target allows 1 minute or more ({_lat(spec)}): batch, orchestrated on the schedule"
                  if p.latency else "no latency target: batch, orchestrated on the schedule")
    elif hot_sinks and cold_sinks:
        derived = Mode.hybrid
        reason = ("latency under a minute with both real-time outputs and warehouse outputs: a stream hot path "
                  "for the real-time outputs and a batch (dbt) cold path for the warehouse history")
    else:
        derived = Mode.streaming
        reason = ("latency under a minute: every output is fed by the stream" if spec.sinks
                  else "latency under a minute: streaming")

    mode = derived
    if p.mode is not None:
        facts.append(fact(f"mode {p.mode.value}", p.mode_span))
        mode = p.mode
        if p.mode != derived:
            rec.warn("W201", p.mode_span or p.span, chosen=p.mode.value, derived=derived.value, reason=reason)
            reason = f"the spec sets mode {p.mode.value} explicitly, which wins (the rules give {derived.value}: {reason})"
        else:
            reason = f"the spec sets mode {p.mode.value}, which agrees with the rules: {reason}"

    hot, cold = _paths(spec, lin, mode, hot_sinks, cold_sinks)
    engines, hot_engines, engine_whys = _engines(spec, lin, hot, cold)

    plan_why = rec.decide("pipeline", "mode", mode.value, why("mode", reason, *facts))
    for nid in lin.ids():
        w = engine_whys[nid]
        choice = engines[nid].value
        if nid in hot and nid in cold and hot_engines[nid] != engines[nid]:
            choice = f"{hot_engines[nid].value} (hot path), {engines[nid].value} (cold path)"
        rec.decide(nid, "engine", choice, w)

    _ask_first(spec, rec, rt)

    ids = lin.ids()
    plan = ModePlan(
        mode=mode,
        engines={n: engines[n] for n in sorted(engines)},
        hot_engines={n: hot_engines[n] for n in sorted(hot_engines)},
        streaming_nodes=tuple(n for n in ids if n in hot),
        batch_nodes=tuple(n for n in ids if n in cold),
        why=plan_why,
    )
    return rec.finish(spec, mode=plan)


def _lat(spec: Spec) -> str:
    return f"latency < {spec.pipeline.latency.text}" if spec.pipeline.latency else "no latency"


def _sink_kind(spec: Spec, s: Sink) -> str:
    conn = spec.connection(s.connection)
    kind = conn.kind.value if conn else "unknown"
    if conn is not None and conn.is_warehouse:
        kind = f"{kind} warehouse"
    windowed = [n for n in s.metrics if (m := spec.metric(n)) is not None and m.window is not None]
    if windowed:
        kind += f", windowed metric {', '.join(windowed)}"
    return kind


def _paths(spec: Spec, lin: Lineage, mode: Mode, hot_sinks: list[Sink], cold_sinks: list[Sink]):
    ids = lin.ids()
    if mode == Mode.batch:
        return set(), set(ids)
    if mode == Mode.streaming:
        return set(ids), set()
    hot: set[str] = set()
    cold: set[str] = set()
    for s in hot_sinks:
        nid = node_id("sink", s.name)
        hot |= {nid} | lin.ancestors(nid)
    for s in cold_sinks:
        nid = node_id("sink", s.name)
        cold |= {nid} | lin.ancestors(nid)
    dangling = [nid for nid in ids if nid not in hot and nid not in cold]
    for nid in dangling:  # nodes no sink reads (checked only) stay with the durable cold path, inputs included
        cold |= {nid} | lin.ancestors(nid)
    return hot, cold


def _engines(spec: Spec, lin: Lineage, hot: set[str], cold: set[str]):
    engines: dict[str, Engine] = {}
    hot_engines: dict[str, Engine] = {}
    whys = {}
    # hot path, downstream first: a computing node feeding a Flink node runs inside that Flink job
    hot_reason: dict[str, str] = {}
    hot_facts: dict[str, list] = {}
    topo = list(nx.topological_sort(lin.g))
    order = ([n for n in reversed(topo) if n in hot and not n.startswith("sink:")]  # downstream first (fusion)
             + [n for n in topo if n in hot and n.startswith("sink:")])  # sinks once their inputs are known
    for nid in order:
        kind, name = nid.split(":", 1)
        e, r, f = _hot_engine(spec, lin, kind, name, nid, hot_engines, hot)
        hot_engines[nid] = e
        hot_reason[nid] = r
        hot_facts[nid] = f
    for nid in lin.ids():
        kind, name = nid.split(":", 1)
        if nid in cold:
            e, r, f = _cold_engine(spec, lin, kind, name)
            engines[nid] = e
            if nid in hot:
                if hot_engines[nid] == e:
                    r = f"on both paths: {r}"
                else:
                    r = f"hot path: {hot_reason[nid]}; cold path: {r}"
                f = hot_facts[nid] + [x for x in f if x not in hot_facts[nid]]
        else:
            engines[nid] = hot_engines[nid]
            r, f = hot_reason[nid], hot_facts[nid]
        whys[nid] = why("mode", r, *f)
    return engines, hot_engines, whys


def _is_cdc(spec: Spec, name: str) -> bool:
    s = spec.source(name)
    conn = spec.connection(s.connection) if s else None
    return bool(s and s.capture and s.capture.mode == CaptureMode.cdc and conn and conn.kind in DB_KINDS)


def _hot_engine(spec: Spec, lin: Lineage, kind: str, name: str, nid: str, done: dict, hot: set[str]):
    peak = lin.input_peak(nid)
    peak_facts = [fact(lin.peak(s)[1], s.span) for s in lin.upstream_sources(nid)]
    fused = sorted(d for d in lin.descendants(nid) if d in hot and not d.startswith("sink:")
                   and done.get(d) == Engine.flink)
    if kind == "source":
        s = spec.source(name)
        if _is_cdc(spec, name):
            return Engine.debezium, "log-based capture (Debezium) publishes the changes to Kafka", [
                fact(f"source {name}: capture cdc", s.capture.span)]
        conn = spec.connection(s.connection)
        if conn is not None and conn.kind == ConnectionKind.kafka:
            e = Engine.flink if fused else Engine.kafka_consumer
            return e, f"a Kafka topic read by the {'Flink job' if fused else 'consumers'} downstream", peak_facts
        return Engine.orchestrator, ("not a log or a topic: extracted on a schedule by the orchestrator, so its "
                                     "freshness is bounded by the extract interval"), peak_facts
    if kind in ("model", "metric"):
        reasons = []
        f = list(peak_facts)
        if kind == "metric":
            m = spec.metric(name)
            reasons.append("an aggregation keeps state per group" + (" and per window" if m.window else ""))
            f.append(fact(f"metric {name}: {', '.join(x.expression.lower() for x in m.measures)}"
                          + (f", window {m.window.kind} {m.window.size.text}" if m.window else ""), m.span))
        else:
            m = spec.model(name)
            joins, agg = lin.model_shape(m)
            if joins:
                reasons.append(f"{joins} join(s) keep state on both sides")
            if agg:
                reasons.append("an aggregation keeps state per group")
            if joins or agg:
                f.append(fact(f"model {name}: {joins} join(s), {'aggregates' if agg else 'no aggregation'}", m.span))
        if peak is not None and peak > FLINK_PEAK:
            reasons.append(f"peak {fmt_rate(peak)} > 10,000/s needs a stream processor")
        if fused:
            reasons.append(f"it feeds {', '.join(fused)} and runs inside the same Flink job")
        if reasons:
            return Engine.flink, "Flink: " + "; ".join(reasons), f
        rate = f"peak {fmt_rate(peak)} <= 10,000/s" if peak is not None else "no volume given"
        return Engine.kafka_consumer, f"stateless and {rate}: plain Kafka consumers are enough", f
    # sink
    s = spec.sink(name)
    conn = spec.connection(s.connection)
    inputs = [lin.id_of(n) for n in s.inputs]
    f = [fact(f"sink {name} to {s.connection} ({conn.kind.value if conn else '?'})", s.connection_span or s.span)]
    f += peak_facts
    if conn is not None and conn.kind == ConnectionKind.redis:
        return Engine.kafka_consumer, ("Flink has no maintained Redis connector: the result goes to a Kafka topic and "
                                       "a plain consumer writes it to Redis"), f
    if conn is not None and conn.kind == ConnectionKind.kafka and s.inputs and all(
            i.startswith("source:") and _is_cdc(spec, i.split(":", 1)[1]) for i in inputs):
        rate = f"peak {fmt_rate(peak)}" if peak is not None else "no volume given"
        return Engine.debezium, (f"the change topics Debezium writes are the sink ({rate}); the services read them "
                                 "as plain consumers, no processing hop in between"), f
    if any(done.get(i) == Engine.flink for i in inputs if i):
        return Engine.flink, "its inputs are computed in Flink, which writes the sink directly", f
    return Engine.kafka_consumer, "plain consumers move the records to the sink", f


def _cold_engine(spec: Spec, lin: Lineage, kind: str, name: str):
    if kind == "source":
        s = spec.source(name)
        if _is_cdc(spec, name):
            return Engine.debezium, "log-based capture (Debezium); the changes land as raw data for the batch path", [
                fact(f"source {name}: capture cdc", s.capture.span)]
        how = s.capture.mode.value if s.capture else ("file arrival" if s.arrival else "extract")
        return Engine.orchestrator, f"extracted and loaded on the schedule by the orchestrator ({how})", [
            fact(f"source {name}: capture {how}", s.capture.span if s.capture else s.span)]
    if kind == "model":
        m = spec.model(name)
        joins, agg = lin.model_shape(m)
        shape = ("complex analytics (joins / aggregation): warehouse SQL, orchestrated" if joins or agg
                 else "simple SQL in the warehouse, orchestrated")
        return Engine.warehouse_sql, shape, [fact(f"model {name}: {joins} join(s), "
                                                  f"{'aggregates' if agg else 'no aggregation'}", m.span)]
    if kind == "metric":
        m = spec.metric(name)
        return Engine.warehouse_sql, "aggregated in the warehouse on the schedule", [fact(f"metric {name}", m.span)]
    s = spec.sink(name)
    conn = spec.connection(s.connection)
    if conn is not None and conn.is_warehouse:
        return Engine.warehouse_sql, "the sink is the warehouse the models are built in (dbt)", [
            fact(f"sink {name} to {s.connection} ({conn.kind.value} warehouse)", s.connection_span or s.span)]
    return Engine.orchestrator, "a scheduled task writes the sink", [
        fact(f"sink {name} to {s.connection}", s.connection_span or s.span)]


def _ask_first(spec: Spec, rec: Recorder, rt: bool) -> None:
    p = spec.pipeline
    # volume > 1 TB/day
    total, parts, unknown = 0.0, [], []
    for s in spec.sources:
        if s.volume is not None and s.avg_size is not None:
            b = s.volume.per_second * 86400 * s.avg_size.bytes
            total += b
            parts.append(s)
        elif s.volume is not None:
            unknown.append(s.name)
    if total > ASK_VOLUME_BYTES_PER_DAY:
        where = max(parts, key=lambda s: s.volume.per_second * s.avg_size.bytes)
        _ask(rec, p, Acknowledgement.large_volume, where.span,
             f"volume {fmt_bytes(total)}/day > 1TB/day (volume x avg_size, summed over sources)")
    # latency < 1 minute
    if rt:
        _ask(rec, p, Acknowledgement.realtime, p.latency_span or p.span,
             f"latency < {p.latency.text} is under a minute (streaming infrastructure, on-call)")
    # PII present
    pii = [(s, c) for s in spec.sources for c in s.columns if c.pii is not None]
    if pii:
        s, c = pii[0]
        names = ", ".join(f"{x.name}.{y.name}" for x, y in pii)
        _ask(rec, p, Acknowledgement.pii, c.pii.span, f"PII present ({names})")
    # cross-region
    regions: dict[str, list] = {}
    for c in spec.connections:
        v = c.setting("region")
        if v is not None:
            regions.setdefault(v.text, []).append((c, v))
    if len(regions) > 1:
        first = sorted(regions)[1]
        c, v = regions[first][0]
        listing = "; ".join(f"{r}: {', '.join(x.name for x, _ in regions[r])}" for r in sorted(regions))
        _ask(rec, p, Acknowledgement.cross_region, v.span, f"cross-region transfer ({listing})")


def _ask(rec: Recorder, p, ack: Acknowledgement, span, condition: str) -> None:
    acked, ack_span = set(p.acknowledged), p.span
    if ack in acked:
        rec.decide("pipeline", f"ask first: {ack.value}", "acknowledged",
                   why("ask_first", f"{condition}; the spec acknowledges it",
                       fact(f"acknowledge {ack.value} (pipeline block)", ack_span), fact(condition, span)))
        return
    rec.warn("W202", span, condition=condition, ack=ack.value)
    rec.decide("pipeline", f"ask first: {ack.value}", "not acknowledged (W202)",
               why("ask_first", f"{condition}: to confirm with the owners, then `acknowledge {ack.value}`",
                   fact(condition, span)))
