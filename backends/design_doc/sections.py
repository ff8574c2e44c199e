"""The design document's sections, each built from the IR and the passes' decisions (no fixed prose per spec)."""

from __future__ import annotations

from collections.abc import Iterable

from streamc.ir import CheckKind, Decision, GatePlan, Source, Spec

from .commands import Procedures

BOUNDARY_TITLE = {"source": "Source boundary", "transform": "Transform boundary", "sink": "Sink boundary"}


def cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") if text not in (None, "") else "-"


def code(text: str) -> str:
    return f"`{text}`" if text else "-"


def table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    head = list(header)
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out + [""]


class Doc:
    """Lookups over the compiled spec the sections share."""

    def __init__(self, ir: Spec):
        self.ir = ir
        self.plan = ir.plan
        self._by_subject: dict[str, list[Decision]] = {}  # one pass over the decisions, not one per lookup
        for d in ir.decisions:
            self._by_subject.setdefault(d.subject, []).append(d)

    def decisions(self, subject: str | None = None, topic: str | None = None,
                  pass_name: str | None = None) -> list[Decision]:
        pool = self.ir.decisions if subject is None else self._by_subject.get(subject, [])
        return [d for d in pool if (topic is None or d.topic == topic)
                and (pass_name is None or d.pass_name == pass_name)]

    def reason(self, subject: str, topic: str) -> str:
        found = self.decisions(subject, topic)
        return found[0].why.reason if found else ""

    def facts(self, d: Decision) -> str:
        return "; ".join(f.text + (f" ({f.span.file}:{f.span.line})" if f.span else " (default)")
                         for f in d.why.facts)


# ------------------------------------------------------------------ 1. mode


def mode_section(doc: Doc) -> list[str]:
    ir, plan = doc.ir, doc.plan
    out = ["## 1. Mode and why", ""]
    if plan.mode is None:
        return out + ["GAP: the mode pass has not planned this pipeline (ir.plan.mode is empty).", ""]
    m = plan.mode
    out.append(f"**{m.mode.value.upper()}**, by {m.why.rule}: {m.why.reason}.")
    out.append("")
    out += [f"- {f.text}" + (f" ({f.span.file}:{f.span.line})" if f.span else " (default)") for f in m.why.facts]
    out.append("")
    rows = []
    for nid, engine in m.engines.items():
        hot = m.hot_engines.get(nid)
        paths = [p for p, members in (("hot", m.streaming_nodes), ("cold", m.batch_nodes)) if nid in members]
        rows.append((code(nid), hot.value if hot else "-", engine.value if nid in m.batch_nodes or not hot else "-",
                     " + ".join(paths) or "-", doc.reason(nid, "engine")))
    out += table(("node", "hot-path engine", "batch engine", "path", "why"), rows)
    asks = [d for d in doc.decisions("pipeline") if d.topic.startswith("ask first")]
    if asks:
        out.append("Confirmed with the owners (`acknowledge`):")
        out += [f"- {d.topic.removeprefix('ask first: ')}: {d.why.reason}" for d in asks]
        out.append("")
    if ir.warnings:
        out.append("Open warnings:")
        out += [f"- {w.code}: {w.message}" for w in ir.warnings]
        out.append("")
    return out


# ------------------------------------------------------------------ 2. flow


def _depths(ir: Spec, node: str, depth: dict[str, int]) -> int:
    """Longest distance of `node` from a source (sources are 0), recorded for it and everything upstream."""
    if node in depth:
        return depth[node]
    m = ir.model(node)
    met = ir.metric(node)
    deps = list(m.depends_on) if m else ([met.from_] if met else [])
    level = 1 + max((_depths(ir, d, depth) for d in deps if ir.kind_of(d)), default=-1)
    depth[node] = level
    return level


def flow_section(doc: Doc) -> list[str]:
    ir, plan = doc.ir, doc.plan
    out = ["## 2. Source -> transform -> sink", ""]
    engines = plan.mode.engines if plan.mode else {}
    hot = plan.mode.hot_engines if plan.mode else {}
    sinks = {s.sink: s for s in plan.sinks}

    def label(n: str) -> str:
        kind = ir.kind_of(n)
        nid = f"{kind}:{n}"
        e = [x.value for x in dict.fromkeys(filter(None, (hot.get(nid), engines.get(nid))))]
        return f"`{n}` ({kind}{', ' + ' / '.join(e) if e else ''})"

    for k in ir.sinks:
        depth: dict[str, int] = {}
        for n in k.inputs:
            _depths(ir, n, depth)
        stages: dict[int, list[str]] = {}
        for n, level in depth.items():
            stages.setdefault(level, []).append(n)
        order = {n: i for i, n in enumerate([*[s.name for s in ir.sources], *[m.name for m in ir.models],
                                             *[m.name for m in ir.metrics]])}
        chain = [", ".join(label(n) for n in sorted(stages[lvl], key=lambda n: order.get(n, 0)))
                 for lvl in sorted(stages)]
        conn = ir.connection(k.connection)
        sp = sinks.get(k.name)
        strategy = f", {sp.strategy}" if sp else ""
        out.append(f"- **{k.name}** to {k.connection} ({conn.kind.value if conn else '?'}{strategy}): "
                   + " -> ".join(chain) + f" -> `{k.name}`")
        for c in k.consumers:
            out.append(f"  - read by {c.service} for {c.purpose}")
    out.append("")
    caps = [(c, d) for c in plan.captures for d in doc.decisions(f"source:{c.source}", "capture")]
    if caps:
        out.append("Capture per source:")
        out.append("")
        out += table(("source", "method", "raw copy", "why"),
                     [(code(c.source), c.method, c.raw_load or "none", d.why.reason) for c, d in caps])
    if plan.topics:
        out.append("Kafka topics:")
        out.append("")
        out += table(("topic", "purpose", "partitions", "replication", "retention", "key", "why partitions"),
                     [(code(t.name), t.purpose, t.partitions,
                       ", ".join(f"{e} {f}" for e, f in t.replication.items()),
                       t.retention.text if t.retention else "forever (compacted)", ", ".join(t.key) or "-",
                       doc.reason(f"topic:{t.name}", "partitions")) for t in plan.topics])
    if plan.consumer_groups:
        out += table(("consumer group", "topics", "at most", "why"),
                     [(code(g.name), ", ".join(g.topics), f"{g.max_consumers} consumers", g.why.reason)
                      for g in plan.consumer_groups])
    return out


# ------------------------------------------------------------------ 3. contracts


def _volume(s: Source) -> str:
    parts = [f"{s.volume.text}" if s.volume else "", f"peak {s.peak.text}" if s.peak else "",
             f"avg {s.avg_size.text}" if s.avg_size else ""]
    return ", ".join(p for p in parts if p) or "not stated"


def contracts_section(doc: Doc) -> list[str]:
    ir = doc.ir
    out = ["## 3. Data contracts", ""]
    pii = {(p.source, p.column): p for p in doc.plan.pii}
    caps = {c.source: c for c in doc.plan.captures}
    for s in ir.sources:
        conn = ir.connection(s.connection)
        where = f"{s.location.kind} `{s.location.value}`" if s.location else "no location"
        out.append(f"### `{s.name}`: {where} on {s.connection} ({conn.kind.value if conn else '?'})")
        out.append("")
        facts = [f"key: {', '.join(s.primary_key) or 'none declared'}", f"volume: {_volume(s)}"]
        if s.freshness:
            facts.append(f"freshness: within {s.freshness.text}")
        if s.retention:
            facts.append(f"retention: {s.retention.text}")
        if s.arrival:
            facts.append(f"arrives by {s.arrival.by} {s.arrival.timezone}"
                         + (f" (waits {s.arrival.timeout.text})" if s.arrival.timeout else ""))
        if s.capture:
            facts.append(f"capture: {s.capture.mode.value}" + (f"({s.capture.column})" if s.capture.column else ""))
        if s.api:
            api = s.api
            facts.append("API: " + ", ".join(p for p in (f"auth {api.auth}" if api.auth else "",
                                                         f"{api.pagination} pagination" if api.pagination else "",
                                                         f"rate limit {api.rate_limit.text}" if api.rate_limit else "",
                                                         f"initial load {api.initial_load.text}"
                                                         if api.initial_load else "") if p))
        cap = caps.get(s.name)
        if cap and cap.excluded_columns:
            facts.append(f"never captured: {', '.join(cap.excluded_columns)}")
        out += [f"- {f}" for f in facts] + [""]
        rows = []
        for c in s.columns:
            rules = []
            if c.primary_key:
                rules.append("primary key")
            if c.not_null:
                rules.append("not null")
            if c.unique:
                rules.append("unique")
            values = c.accepted_values or c.type.values
            if values:
                rules.append("in (" + ", ".join(values) + ")")
            if c.references:
                rules.append(f"references {c.references.node}.{c.references.column}")
            rules += [f"check {ch.text}" if ch.text.startswith("(") else f"check ({ch.text})" for ch in c.checks]
            if c.event_time:
                rules.append("event time" + (f", lateness {c.lateness.text}" if c.lateness else ""))
            p = pii.get((s.name, c.name))
            rows.append((code(c.name), c.type.sql() if c.type.name != "enum" else "enum", "; ".join(rules),
                         f"{p.strategy.value} ({p.applied_in})" if p else (c.pii.strategy.value if c.pii else "")))
        out += table(("column", "type", "contract", "PII"), rows)
    return out


# ------------------------------------------------------------------ 4. gates


def _gate_text(g: GatePlan) -> str:
    c = g.check
    cols = ", ".join(c.columns)
    match c.kind:
        case CheckKind.range:
            lo = "" if c.min is None else _num(c.min)
            hi = "" if c.max is None else _num(c.max)
            return f"range {cols} {lo}..{hi}"
        case CheckKind.accepted_values:
            return f"{cols} in ({', '.join(c.values)})"
        case CheckKind.regex:
            return f"{cols} matches `{c.pattern}`"
        case CheckKind.relationships:
            return f"{cols} -> {c.reference.node}.{c.reference.column}" if c.reference else cols
        case CheckKind.freshness:
            return f"freshness {c.max_age.text if c.max_age else '?'}" + (f" by {cols}" if cols else "")
        case CheckKind.row_count:
            return f"row count {c.comparison} {_num(c.threshold)}"
        case CheckKind.volume_anomaly:
            return f"row count {c.comparison} {_num(c.threshold)} x {c.baseline}"
        case CheckKind.reconcile:
            return f"{c.measure} within {c.tolerance.text if c.tolerance else '0%'} of {c.against}"
        case CheckKind.custom_sql:
            return f"sql `{c.name}`"
        case CheckKind.schema:
            return "columns match the contract (drift detection)"
    return f"{c.kind.value} {cols}"


def _num(v: float | None) -> str:
    if v is None:
        return "?"
    return str(int(v)) if float(v).is_integer() else repr(v)


def gates_section(doc: Doc) -> list[str]:
    out = ["## 4. Quality gates per boundary", ""]
    gates = doc.plan.gates
    if not gates:
        return out + ["GAP: ir.plan.gates is empty.", ""]
    for boundary in ("source", "transform", "sink"):
        mine = [g for g in gates if g.boundary == boundary]
        if not mine:
            continue
        warn = sum(g.check.severity.value == "warn" for g in mine)
        defaults = sum(g.origin == "default" for g in mine)
        out.append(f"### {BOUNDARY_TITLE[boundary]}: {len(mine)} gate(s), {warn} warn-only, {defaults} added by "
                   f"default")
        out.append("")
        out += table(("priority", "node", "check", "kind", "on failure", "origin"),
                     [(g.priority, code(g.check.target), _gate_text(g), g.check.kind.value,
                       "stop the run" if g.check.severity.value == "error" else "warn", g.origin) for g in mine])
    return out


# ------------------------------------------------------------------ 5. idempotency


def idempotency_section(doc: Doc) -> list[str]:
    out = ["## 5. Idempotency per sink", ""]
    rows = []
    for sp in doc.plan.sinks:
        for ip in sp.inputs or ():
            rows.append((code(sp.sink), code(ip.node), ip.strategy, ", ".join(ip.key) or "-",
                         f"{ip.partition.granularity or ''}({ip.partition.column})" if ip.partition else "-",
                         ip.dedup_ttl.text if ip.dedup_ttl else "-", ip.topic or "-", ip.why.reason))
        if sp.dead_letter_topic:
            rows.append((code(sp.sink), "rejected records", "dead letter", "-", "-", "-", sp.dead_letter_topic,
                         doc.reason(f"sink:{sp.sink}", "dead letter")))
    if not rows:
        return out + ["GAP: ir.plan.sinks is empty.", ""]
    return out + table(("sink", "input", "strategy", "key", "partition", "dedup TTL", "topic", "why"), rows)


# ------------------------------------------------------------------ 6. lineage


def lineage_section(doc: Doc, diagram: str | None, note: str) -> list[str]:
    ir = doc.ir
    out = ["## 6. Lineage", ""]
    if diagram:
        out += ["```mermaid", diagram.rstrip("\n"), "```", ""]
    else:
        out += [note, ""]
    plans = {p.model: p for p in doc.plan.models}
    rows = []
    for m in ir.models:
        p = plans.get(m.name)
        how = (f"{p.materialization}" + (f" ({p.incremental_strategy} on {', '.join(p.unique_key)})"
                                        if p.incremental_strategy else "")) if p else "-"
        rows.append((code(m.name), ", ".join(m.depends_on), p.layer if p else "-", how,
                     doc.reason(f"model:{m.name}", "materialization")))
    for m in ir.metrics:
        wm = next((w for w in doc.plan.watermarks if w.metric == m.name), None)
        window = f"{m.window.kind} {m.window.size.text}" if m.window else "no window"
        rows.append((code(m.name), m.from_, "metric", window + (f", watermark {wm.event_time} - {wm.lateness.text}"
                                                                if wm else ""), wm.why.reason if wm else ""))
    if rows:
        out += table(("node", "reads", "layer", "materialization / window", "why"), rows)
    return out


# ------------------------------------------------------------------ 7. SLA


def sla_section(doc: Doc) -> list[str]:
    ir = doc.ir
    rel = doc.plan.reliability
    out = ["## 7. SLA, freshness and alerts", ""]
    if rel is None:
        return out + ["GAP: ir.plan.reliability is empty.", ""]
    p = ir.pipeline
    target = f"latency < {p.latency.text}" if p.latency else "no latency target"
    schedule = _schedule(ir)
    out.append(f"Tier **{rel.tier.value}**: availability {rel.availability}, at most {rel.max_downtime_per_month} "
               f"down per month; {target}; {schedule}.")
    out.append("")
    rows = [(d.topic, d.choice, d.why.reason) for d in doc.decisions("pipeline", pass_name="reliability")]
    out += table(("setting", "value", "why"), rows)
    return out


def _schedule(ir: Spec) -> str:
    s = ir.pipeline.schedule
    if s is None:
        return "no schedule (continuous)"
    match s.kind:
        case "daily":
            return f"runs daily at {s.time} {s.timezone}"
        case "hourly":
            return "runs hourly"
        case "weekly":
            return f"runs weekly on {s.weekday} at {s.time} {s.timezone}"
        case "every":
            return f"runs every {s.every.text if s.every else '?'}"
        case "cron":
            return f"runs on cron `{s.cron}` ({s.timezone})"
    return "runs continuously"


# ------------------------------------------------------------------ 8. PII


def pii_section(doc: Doc) -> list[str]:
    out = ["## 8. PII handling", ""]
    if not doc.plan.pii:
        cols = [f"{s.name}.{c.name}" for s in doc.ir.sources for c in s.columns if c.pii]
        return out + ([f"GAP: columns marked pii ({', '.join(cols)}) but ir.plan.pii is empty.", ""] if cols else
                      ["No column of any source contract is marked pii.", ""])
    ack = any(a.value == "pii" for a in doc.ir.pipeline.acknowledged)
    names = ", ".join(f"{p.source}.{p.column}" for p in doc.plan.pii)
    out.append(f"{len(doc.plan.pii)} PII column(s) ({names}); " + ("acknowledged in the pipeline block." if ack else
                                                                    "not acknowledged in the pipeline block."))
    out.append("")
    out += table(("column", "strategy", "applied in", "reason", "why"),
                 [(code(f"{p.source}.{p.column}"), p.strategy.value, p.applied_in, p.reason or "-", p.why.reason)
                  for p in doc.plan.pii])
    return out


# ------------------------------------------------------------------ 9. schema evolution


def evolution_section(doc: Doc) -> list[str]:
    ir = doc.ir
    out = ["## 9. Schema evolution policy", ""]
    schema_gates = {g.check.target for g in doc.plan.gates if g.check.kind == CheckKind.schema}
    rows = []
    caps = {c.source: c for c in doc.plan.captures}
    for s in ir.sources:
        cap = caps.get(s.name)
        drift = "schema gate before every load" if s.name in schema_gates else "GAP: no schema gate"
        keys = ", ".join(s.primary_key) or "none"
        carried = ""
        if cap is not None and cap.method == "log_cdc":
            carried = f"change events carry the new columns (replica identity {cap.replica_identity or 'default'})"
        elif cap is not None and cap.raw_load == "extract":
            carried = "the raw table is re-created with the new columns on reprocess"
        rows.append((code(s.name), drift, keys, carried or "-"))
    gated = ", ".join(s.name for s in ir.sources if s.name in schema_gates)
    out.append(f"Drift detection per source: a column that appears, disappears or changes type in {gated} fails its "
               "schema gate before the load." if schema_gates else "Drift detection per source:")
    out.append("")
    out += table(("source", "drift detection", "key (changing it is breaking)", "how a change arrives"), rows)
    schema = next((b for b in doc.plan.backfill if b.change == "schema_change"), None)
    if schema is not None:
        window = schema.replay_window.text if schema.replay_window else "unbounded (raw data is kept)"
        names = ", ".join(f"`{x.name}`" for x in ir.sources)
        out.append(f"A change to the contract of {names} is classified by `streamc diff OLD.stream NEW.stream` "
                   f"(exit 1 when breaking: dropped or renamed columns, narrowed types or values, a new not-null or a "
                   f"changed key); once applied, it is a `schema_change`, planned as `{schema.strategy}` with replay "
                   f"window {window}: {schema.why.reason}.")
        out.append("")
    return out


# ------------------------------------------------------------------ 10. backfill


def backfill_section(doc: Doc, proc: Procedures) -> list[str]:
    out = ["## 10. Backfill and rollback", ""]
    if not doc.plan.backfill:
        return out + ["GAP: ir.plan.backfill is empty: no scenario is planned.", ""]
    out += table(("change", "strategy", "replay window", "why"),
                 [(b.change, b.strategy, b.replay_window.text if b.replay_window else "unbounded", b.why.reason)
                  for b in doc.plan.backfill])
    out += proc.lines()
    return out


# ------------------------------------------------------------------ 11. ownership


def ownership_section(doc: Doc, channels: tuple[str, str]) -> list[str]:
    ir = doc.ir
    p = ir.pipeline
    out = ["## 11. Ownership", ""]
    rows = [("owner", p.owner or "GAP: no owner in the pipeline block"), ("domain", p.domain or "-"),
            ("tier", p.tier.value), ("alerts", f"{channels[0]} (warnings), {channels[1]} (paging)")]
    consumers = [f"{c.service} ({c.purpose}) on sink {k.name}" for k in ir.sinks for c in k.consumers]
    if consumers:
        rows.append(("downstream consumers", "; ".join(consumers)))
    envs = [f"{e.name} ({', '.join(sorted({f'{o.target}.{o.key}' for o in e.overrides})) or 'no overrides'})"
            for e in ir.environments]
    rows.append(("environments", "; ".join(envs) or "one, no overrides"))
    rows.append(("spec", ", ".join(ir.files)))
    out += table(("", ""), rows)
    return out
