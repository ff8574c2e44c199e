"""Capture pass: how every source is read: log CDC (slot, publication, snapshot, replica identity), incremental, files, topics (rules §6)."""

from __future__ import annotations

import re

from ..diagnostics import Diagnostics
from ..ir import CaptureMode, CapturePlan, ConnectionKind, Engine, PiiStrategy, Source, Spec
from .graph import Lineage, node_id
from .record import Recorder, fact, why

DB_KINDS = (ConnectionKind.postgres, ConnectionKind.mysql, ConnectionKind.sqlserver)
SNAPSHOT_MODE = "initial"
HEARTBEAT_MS = 10_000
MAX_PG_NAME = 63  # PostgreSQL identifiers (slot and publication names) are at most 63 bytes


def pg_name(text: str) -> str:
    """A replication slot / publication name: lower-case [a-z0-9_], at most 63 characters."""
    name = re.sub(r"[^a-z0-9_]", "_", text.lower())
    return name[:MAX_PG_NAME]


def topic_prefix(spec: Spec) -> str:
    return spec.pipeline.domain or spec.pipeline.name


def capture_pass(spec: Spec, diags: Diagnostics) -> Spec:
    rec = Recorder("capture", diags)
    lin = Lineage(spec)
    cdc_connections = sorted({s.connection for s in spec.sources if _method(spec, s) == "log_cdc"})
    plans = [_plan(spec, lin, rec, s, cdc_connections) for s in spec.sources]
    return rec.finish(spec, captures=tuple(plans))


def _method(spec: Spec, s: Source) -> str:
    conn = spec.connection(s.connection)
    kind = conn.kind if conn else None
    if kind == ConnectionKind.kafka:
        return "topic"
    if kind in (ConnectionKind.s3, ConnectionKind.gcs):
        return "file_arrival"
    if kind == ConnectionKind.http:
        return "api_incremental" if s.capture and s.capture.mode == CaptureMode.incremental else "full"
    if s.capture is None:
        return "full"
    return {CaptureMode.cdc: "log_cdc", CaptureMode.incremental: "timestamp_incremental",
            CaptureMode.full: "full"}[s.capture.mode]


def _plan(spec: Spec, lin: Lineage, rec: Recorder, s: Source, cdc_connections: list[str]) -> CapturePlan:
    nid = node_id("source", s.name)
    conn = spec.connection(s.connection)
    method = _method(spec, s)
    dropped = tuple(c.name for c in s.columns if c.pii is not None and c.pii.strategy == PiiStrategy.drop)
    captured = tuple(c.name for c in s.columns if c.name not in dropped)
    cap_span = s.capture.span if s.capture else s.span
    facts = [fact(f"source {s.name} from {s.connection} ({conn.kind.value if conn else '?'})",
                  s.connection_span or s.span)]
    if s.capture:
        facts.append(fact(f"capture {s.capture.mode.value}" + (f"({s.capture.column})" if s.capture.column else ""),
                          cap_span))
    fields: dict = {}
    if method == "log_cdc":
        kind = conn.kind
        reason = {ConnectionKind.postgres: "log-based CDC with Debezium over pgoutput",
                  ConnectionKind.mysql: "log-based CDC with Debezium over the binlog (ROW format)",
                  ConnectionKind.sqlserver: "log-based CDC with Debezium over SQL Server's CDC tables"}[kind]
        parts = [reason]
        if kind == ConnectionKind.postgres:
            base = f"streamc_{spec.pipeline.name}"
            if len(cdc_connections) > 1:  # one connector (slot) per database connection
                base += f"_{s.connection}"
            fields["slot_name"] = pg_name(base)
            fields["publication_name"] = pg_name(base[: MAX_PG_NAME - 4] + "_pub")
            parts.append(f"slot {fields['slot_name']} and publication {fields['publication_name']} named after the "
                         "pipeline (sanitized to [a-z0-9_], at most 63 characters)")
        fields["snapshot_mode"] = SNAPSHOT_MODE
        parts.append("snapshot mode `initial`: a consistent snapshot of the existing rows, then streaming from the "
                     "snapshot's log position, so the handoff loses no change")
        full, why_full = _needs_full_rows(spec, lin, s)
        fields["replica_identity"] = "full" if full else "default"
        parts.append(why_full)
        lat = spec.pipeline.latency
        hb = HEARTBEAT_MS if lat is None else int(min(HEARTBEAT_MS, lat.seconds * 1000))
        fields["heartbeat_ms"] = hb
        parts.append(f"heartbeat every {hb:,} ms (10 s, or the latency target when shorter) keeps the slot's "
                     "confirmed position moving while the captured tables are quiet, so WAL does not pile up")
        fields["topic_prefix"] = topic_prefix(spec)
        parts.append(f"topic prefix {fields['topic_prefix']} (the pipeline's domain)")
        if spec.pipeline.domain:
            facts.append(fact(f"domain {spec.pipeline.domain}", spec.pipeline.span))
        if spec.pipeline.latency:
            facts.append(fact(f"latency < {spec.pipeline.latency.text}", spec.pipeline.latency_span))
        reason = "; ".join(parts)
    elif method == "timestamp_incremental":
        fields["incremental_column"] = s.capture.column
        reason = (f"timestamp-based capture on {s.capture.column}: each run reads rows changed since the last "
                  "high-water mark (minutes-to-hours latency, fine for a scheduled load)")
    elif method == "api_incremental":
        fields["incremental_column"] = s.capture.column
        every = f" every {s.every.text}" if s.every else ""
        reason = (f"API pulls{every} of records changed since the last {s.capture.column} cursor"
                  + (f", paginated by {s.api.pagination}" if s.api and s.api.pagination else "")
                  + (f", rate limited to {s.api.rate_limit.text}" if s.api and s.api.rate_limit else "")
                  + (f"; the first run loads {s.api.initial_load.text} of history" if s.api and s.api.initial_load
                     else ""))
        if s.every:
            facts.append(fact(f"every {s.every.text}", s.span))
    elif method == "file_arrival":
        loc = s.location.value if s.location else "?"
        reason = f"a file per period at {loc}" + (
            f", expected by {s.arrival.by} {s.arrival.timezone}" if s.arrival else "") + (
            f" (waits up to {s.arrival.timeout.text})" if s.arrival and s.arrival.timeout else "") + (
            "; each run loads the file of its period")
        if s.arrival:
            facts.append(fact(f"arrives daily by {s.arrival.by} {s.arrival.timezone}", s.arrival.span))
    elif method == "topic":
        loc = s.location.value if s.location else s.name
        reason = f"an existing Kafka topic ({loc}) is read as it is"
    else:
        reason = ("`capture full`: every run reads the whole table" if s.capture else
                  "no capture given: every run reads the whole source (write `capture incremental(col)` or "
                  "`capture cdc` for less load)")
        if not s.capture:
            facts.append(fact("capture full", None))
    if dropped:
        reason += f"; {', '.join(dropped)} {'is' if len(dropped) == 1 else 'are'} pii(drop): never captured"
        facts += [fact(f"{s.name}.{c}: pii(drop)", s.column(c).pii.span) for c in dropped]
    w = why("cdc", reason, *facts)
    choice = method + (f" (slot {fields['slot_name']})" if fields.get("slot_name") else "")
    rec.decide(nid, "capture", choice, w)
    fields["raw_load"] = _raw_load(spec, lin, rec, s, method)
    if method == "log_cdc":
        fields["envelope"] = _envelope(spec, lin, rec, s)
    return CapturePlan(source=s.name, method=method, captured_columns=captured, excluded_columns=dropped, why=w,
                       **fields)


def _envelope(spec: Spec, lin: Lineage, rec: Recorder, s: Source) -> str:
    """Change envelope for a stream processor reading the changelog; unwrapped rows for plain consumers."""
    nid = node_id("source", s.name)
    plan = spec.plan.mode
    readers = sorted(n for n in lin.descendants(nid)
                     if plan is not None and Engine.flink in (plan.hot_engines.get(n), plan.engines.get(n)))
    if readers:
        choice = "debezium"
        reason = (f"{', '.join(readers)} run{'s' if len(readers) == 1 else ''} on Flink, which reads the change "
                  "topic as a changelog (debezium-json): updates and deletes need the before/after envelope")
    else:
        choice = "rows"
        reason = ("only plain consumers read the change topic: unwrap the envelope to rows (the operation and a "
                  "deleted flag stay as fields), which is what services and sink connectors want")
    rec.decide(nid, "change envelope", choice, why("cdc", reason, fact(f"source {s.name}: capture cdc",
                                                                        s.capture.span if s.capture else s.span)))
    return choice


def _raw_load(spec: Spec, lin: Lineage, rec: Recorder, s: Source, method: str) -> str | None:
    """How the raw copy of a source reaches the warehouse when the batch path reads it (raw data is always kept)."""
    nid = node_id("source", s.name)
    plan = spec.plan.mode
    if plan is None or nid not in plan.batch_nodes:
        return None
    house = lin.warehouse_of(nid)
    if house is None:
        return None
    f = [fact(f"source {s.name} feeds the batch path", s.span), fact(f"warehouse {house.name} ({house.kind.value})",
                                                                     house.span)]
    if method in ("log_cdc", "topic"):
        how = "from_topic"
        reason = (f"the batch path reads {s.name} from the warehouse: a Kafka -> {house.kind.value} sink connector "
                  "loads its topic into the raw schema, unwrapping the change envelope to rows (keeping the operation "
                  "and source position), so the raw history is kept and the source is read once")
    else:
        how = "extract"
        reason = f"the orchestrator extracts {s.name} and loads it as it is into the raw schema of {house.name}"
    rec.decide(nid, "raw load", how, why("raw_kept", reason, *f))
    return how


def _needs_full_rows(spec: Spec, lin: Lineage, s: Source) -> tuple[bool, str]:
    """REPLICA IDENTITY FULL when an update's before-image or a delete's full row is needed downstream."""
    nid = node_id("source", s.name)
    plan = spec.plan.mode
    hot = set(plan.streaming_nodes) if plan else set()
    hot_engines = plan.hot_engines if plan else {}
    kafka_sinks = [k for k in lin.sinks_of(s.name) if lin.kind(k.connection) == ConnectionKind.kafka]
    if kafka_sinks:
        return True, (f"replica identity FULL: sink {kafka_sinks[0].name} hands the change events to other services, "
                      "which get complete before and after images of updates and deletes")
    stateful = sorted(d for d in lin.descendants(nid) if d in hot and hot_engines.get(d) == Engine.flink
                      and _stateful(spec, lin, d))
    if stateful:
        return True, (f"replica identity FULL: {', '.join(stateful)} {'keeps' if len(stateful) == 1 else 'keep'} "
                      "state over the stream in Flink, which retracts an updated or "
                      "deleted row's old values from its result and needs their before-image")
    scd = [m.name for m in spec.models if m.history is not None and nid in lin.ancestors(node_id("model", m.name))]
    if scd:
        return True, f"replica identity FULL: {', '.join(scd)} keeps history and needs full rows of deletes"
    return False, ("replica identity DEFAULT: consumers need only the new row and the key of deleted rows, which the "
                   "default identity carries")


def _stateful(spec: Spec, lin: Lineage, nid: str) -> bool:
    kind, name = nid.split(":", 1)
    if kind == "metric":
        return True
    m = spec.model(name) if kind == "model" else None
    if m is None:
        return False
    joins, agg = lin.model_shape(m)
    return bool(joins or agg)
