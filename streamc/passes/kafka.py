"""Kafka pass: every topic the design needs (name, partitions, replication, retention) and consumer groups (rules §2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostics
from ..ir import ConnectionKind, ConsumerGroupPlan, Duration, Engine, Fact, Sink, Source, Spec, TopicPlan
from .graph import MIB, Lineage, ceil, fmt_bytes, fmt_rate, node_id
from .record import Recorder, fact, why

MIN_PARTITIONS, MAX_PARTITIONS = 3, 100
PARTITIONS_PER_MIB_S = 10
DEFAULT_AVG_SIZE = 1024  # bytes, when a source gives no avg_size
DEFAULT_RETENTION_S = 7 * 86400
REPLICATION_BY_ENV = (  # rules §2: production 3, staging 2, development 1
    (("prod", "production", "prd", "live"), 3),
    (("staging", "stage", "stg", "preprod", "uat", "qa"), 2),
    (("dev", "development", "local", "test", "sandbox", "ci"), 1),
)
UNKNOWN_ENV_REPLICATION = 3  # an environment the rules do not name is treated like production (no data loss)


def topic_base(spec: Spec) -> str:
    return spec.pipeline.domain or spec.pipeline.name


def cdc_topic(spec: Spec, source: str) -> str:
    """`{domain}.{entity}.changes`: one topic per table keeps each key's creates, updates and deletes in order."""
    return f"{topic_base(spec)}.{source}.changes"


def metric_topic(spec: Spec, metric: str) -> str:
    return f"{topic_base(spec)}.{metric}.aggregated"


def rows_topic(spec: Spec, node: str) -> str:
    return f"{topic_base(spec)}.{node}.rows"


def dlq_topic(spec: Spec, sink: str) -> str:
    return f"{topic_base(spec)}.{sink}.dlq"


def group_name(service: str, purpose: str) -> str:
    return f"{service}-{purpose}".replace("_", "-")


def partitions_for(peak_per_s: float | None, avg_bytes: float) -> tuple[int, float | None]:
    """ceil(10 x peak MiB/s), clamped to 3..100; also returns the MiB/s."""
    if peak_per_s is None:
        return MIN_PARTITIONS, None
    mib_s = peak_per_s * avg_bytes / MIB
    return max(MIN_PARTITIONS, min(MAX_PARTITIONS, ceil(PARTITIONS_PER_MIB_S * mib_s))), mib_s


@dataclass
class Draft:
    name: str
    purpose: str
    node: str
    key: tuple[str, ...]
    compact: bool
    peak: float | None
    avg_bytes: float
    name_reason: str
    facts: list[Fact] = field(default_factory=list)
    owned: bool = True
    name_facts: list[Fact] = field(default_factory=list)
    fixed_partitions: tuple[int, str] | None = None  # (count, reason) when throughput does not drive it


def kafka_pass(spec: Spec, diags: Diagnostics) -> Spec:
    rec = Recorder("kafka", diags)
    lin = Lineage(spec)
    plan = spec.plan.mode
    hot = set(plan.streaming_nodes) if plan else set()
    captures = {c.source: c for c in spec.plan.captures}

    drafts: dict[str, Draft] = {}

    def add(d: Draft) -> None:
        drafts.setdefault(d.name, d)

    # CDC topics, one per captured table
    for s in spec.sources:
        cap = captures.get(s.name)
        if cap is not None and cap.method == "log_cdc":
            peak, avg, f = _source_rate(s)
            add(Draft(cdc_topic(spec, s.name), "cdc", node_id("source", s.name), s.primary_key, False, peak, avg,
                      "`{domain}.{entity}.{event}` with event `changes`: one topic per table carries its "
                      "creates, updates and deletes (event_type in the envelope), so each key's changes stay in "
                      "order", f, name_facts=_name_facts(spec, s.name, s.span)))
        elif cap is not None and cap.method == "topic":
            peak, avg, f = _source_rate(s)
            add(Draft(s.location.value if s.location else s.name, "events", node_id("source", s.name),
                      s.primary_key, False, peak, avg, "the source's own topic: it exists already and is read as it is",
                      f, owned=False))
    # metric topics for metrics computed on the stream, or sent to Kafka
    kafka_metric_inputs = {n for k in spec.sinks if lin.kind(k.connection) == ConnectionKind.kafka for n in k.metrics}
    for m in spec.metrics:
        nid = node_id("metric", m.name)
        if nid in hot or m.name in kafka_metric_inputs:
            peak, avg, f = _node_rate(lin, nid)
            f.append(fact(f"metric {m.name} by {', '.join(m.dimensions) or '(no dimension)'}"
                          + (f", window {m.window.kind} {m.window.size.text}" if m.window else ""), m.span))
            key = m.dimensions + (("window_start",) if m.window else ())
            reason = (f"`{{domain}}.{{metric}}.aggregated`: the metric's results, keyed by {', '.join(key) or 'nothing'}"
                      + ("; a window's result is final once its watermark passes, so the topic is an append log"
                         if m.window else "; an unwindowed aggregate updates its value per key: a compacted changelog"))
            add(Draft(metric_topic(spec, m.name), "metric", nid, key, m.window is None, peak, avg, reason, f,
                      name_facts=_name_facts(spec, m.name, m.span)))
    # sink topics for what a Kafka sink receives that has no topic yet
    for k in spec.sinks:
        if lin.kind(k.connection) != ConnectionKind.kafka:
            continue
        for n in k.models + k.sources:
            nid = lin.id_of(n)
            cap = captures.get(n)
            if cap is not None and cap.method in ("log_cdc", "topic"):
                continue
            peak, avg, f = _node_rate(lin, nid)
            model = spec.model(n)
            key = model.grain if model else (spec.source(n).primary_key if spec.source(n) else ())
            add(Draft(rows_topic(spec, n), "sink", nid, key, bool(key), peak, avg,
                      f"`{{domain}}.{{entity}}.rows`: the rows of {n} for sink {k.name}"
                      + ("; keyed, so a compacted changelog holds each key's latest row" if key else ""),
                      f + [fact(f"sink {k.name} to {k.connection} (kafka)", k.span)],
                      name_facts=_name_facts(spec, n, k.span)))
    # a dead-letter topic per streaming sink
    for k in spec.sinks:
        if node_id("sink", k.name) in hot:
            add(Draft(dlq_topic(spec, k.name), "dlq", node_id("sink", k.name), (), False, None, DEFAULT_AVG_SIZE,
                      f"`{{domain}}.{{sink}}.dlq`: records sink {k.name} rejects are parked here with the error, "
                      "never dropped", [fact(f"sink {k.name} is on the streaming path", k.span)],
                      name_facts=_name_facts(spec, k.name, k.span),
                      fixed_partitions=(MIN_PARTITIONS, "rejected records are a trickle: the floor of 3 applies")))

    replication, rep_why = _replication(spec)
    if drafts:
        rec.decide("kafka", "replication", ", ".join(f"{e} {n}" for e, n in replication.items()), rep_why)
    topics = [_topic(spec, rec, d, replication, rep_why) for d in sorted(drafts.values(), key=lambda d: d.name)]
    groups = _groups(spec, lin, rec, topics)
    return rec.finish(spec, topics=tuple(topics), consumer_groups=tuple(groups))


def _name_facts(spec: Spec, entity: str, span) -> list[Fact]:
    p = spec.pipeline
    base = fact(f"domain {p.domain}", p.span) if p.domain else fact(f"no domain: pipeline name {p.name}", p.span)
    return [base, fact(f"entity {entity}", span)]


def _source_rate(s: Source) -> tuple[float | None, float, list[Fact]]:
    peak, text = Lineage.peak(s)
    f = [fact(text, s.span)]
    if s.avg_size is not None:
        f.append(fact(f"source {s.name}: avg_size {s.avg_size.text}", s.span))
        return peak, s.avg_size.bytes, f
    f.append(fact(f"source {s.name}: no avg_size given, 1KB assumed", None))
    return peak, DEFAULT_AVG_SIZE, f


def _node_rate(lin: Lineage, nid: str) -> tuple[float | None, float, list[Fact]]:
    """Summed peak of the sources upstream and their rate-weighted average size (an upper bound for derived data)."""
    peaks, sizes, facts = [], [], []
    for s in lin.upstream_sources(nid):
        p, a, f = _source_rate(s)
        facts += f
        if p is not None:
            peaks.append(p)
            sizes.append(a * p)
    if not peaks:
        return None, DEFAULT_AVG_SIZE, facts
    total = sum(peaks)
    return total, (sum(sizes) / total if total else DEFAULT_AVG_SIZE), facts


def _replication(spec: Spec):
    out: dict[str, int] = {}
    facts, notes = [], []
    kafka_names = {"kafka"} | {c.name for c in spec.connections if c.kind == ConnectionKind.kafka}
    envs = sorted(spec.environments, key=lambda e: e.name)
    for env in envs:
        override = next((o for o in env.overrides if o.target in kafka_names and o.key == "replication"
                         and o.value.number is not None), None)
        if override is not None:
            out[env.name] = int(override.value.number)
            facts.append(fact(f"env {env.name}: {override.target}.replication {override.value.text}", override.span))
            continue
        n = next((n for names, n in REPLICATION_BY_ENV if env.name.lower() in names), None)
        if n is None:
            n = UNKNOWN_ENV_REPLICATION
            notes.append(f"{env.name} is not a name the rules know: treated like production")
        out[env.name] = n
        facts.append(fact(f"env {env.name}", env.span))
    if not envs:
        out["default"] = 3
        notes.append("the spec names no environment: production's factor for the one setting")
    reason = ("production 3, staging 2, development 1, per environment; an env's `kafka.replication` overrides it"
              + ("; " + "; ".join(notes) if notes else ""))
    return out, why("replication", reason, *facts)


def _retention(spec: Spec, d: Draft) -> tuple[Duration | None, str, list[Fact]]:
    if d.compact:
        return None, "compacted (a changelog of the latest value per key): kept forever, cleanup compact", []
    replay = spec.pipeline.replay
    if replay is not None and replay.seconds > DEFAULT_RETENTION_S:
        return replay, f"the replay requirement {replay.text} is longer than the 7-day default: kept {replay.text}", [
            fact(f"replay {replay.text}", spec.pipeline.span)]
    note = f" (replay {replay.text} fits in it)" if replay is not None else ""
    return Duration(seconds=DEFAULT_RETENTION_S, text="7d"), f"7 days, the default{note}", (
        [fact(f"replay {replay.text}", spec.pipeline.span)] if replay else [fact("no replay requirement given", None)])


def _topic(spec: Spec, rec: Recorder, d: Draft, replication: dict[str, int], rep_why) -> TopicPlan:
    subject = f"topic:{d.name}"
    rec.decide(subject, "name", f"{d.name} ({d.purpose}{', exists already' if not d.owned else ''})",
               why("topic_name", d.name_reason, *(d.name_facts or d.facts[-1:])))
    if d.fixed_partitions is not None:
        partitions, p_reason = d.fixed_partitions
        p_facts = d.facts
    else:
        partitions, mib = partitions_for(d.peak, d.avg_bytes)
        p_facts = d.facts
        if mib is None:
            p_reason = "no volume given upstream: the floor of 3 partitions"
        else:
            raw = PARTITIONS_PER_MIB_S * mib
            clamp = (" -> at least 3" if raw <= MIN_PARTITIONS else " -> at most 100" if raw > MAX_PARTITIONS
                     else "")
            p_reason = (f"peak {fmt_rate(d.peak)} x {fmt_bytes(d.avg_bytes)} = {mib:.3f} MB/s (1 MB = 2^20 bytes, "
                        f"like streamc sizes); ceil(10 x {mib:.3f}) = {ceil(raw)}{clamp}")
    p_why = why("partitions", p_reason, *p_facts)
    rec.decide(subject, "partitions", str(partitions), p_why)
    retention, r_reason, r_facts = _retention(spec, d)
    r_why = why("retention", r_reason, *r_facts)
    rec.decide(subject, "retention", "forever (compact)" if retention is None else f"{retention.text} (delete)", r_why)
    combined = why("topic_name", f"{d.name_reason}. Partitions: {p_reason}. Retention: {r_reason}.",
                   *_dedupe(d.facts + r_facts + list(rep_why.facts)))
    return TopicPlan(name=d.name, purpose=d.purpose, node=d.node, partitions=partitions, replication=replication,
                     retention=retention, cleanup_policy="compact" if d.compact else "delete", key=d.key,
                     why=combined, owned=d.owned)


def _dedupe(facts: list[Fact]) -> list[Fact]:
    out: list[Fact] = []
    for f in facts:
        if f not in out:
            out.append(f)
    return out


def _groups(spec: Spec, lin: Lineage, rec: Recorder, topics: list[TopicPlan]) -> list[ConsumerGroupPlan]:
    by_node: dict[str, list[TopicPlan]] = {}
    for t in topics:
        by_node.setdefault(t.node, []).append(t)
    plan = spec.plan.mode
    groups: dict[str, ConsumerGroupPlan] = {}
    for k in spec.sinks:
        read = _sink_topics(spec, k, by_node)
        if not read:
            continue
        most = max(t.partitions for t in read)
        names = tuple(t.name for t in read)
        for c in k.consumers:
            name = group_name(c.service, c.purpose)
            w = why("consumer_group", f"`{{service}}-{{purpose}}` (underscores -> hyphens); at most {most} consumers, "
                    f"the partitions of its largest topic: more would sit idle",
                    fact(f"consumer {c.service} for {c.purpose}", c.span))
            rec.decide(f"group:{name}", "consumer group", f"{name} (max {most} consumers)", w)
            groups.setdefault(name, ConsumerGroupPlan(name=name, topics=names, max_consumers=most, why=w))
        engine = plan.hot_engines.get(node_id("sink", k.name)) if plan else None
        if engine == Engine.kafka_consumer and lin.kind(k.connection) != ConnectionKind.kafka:
            name = group_name(spec.pipeline.name, k.name)
            w = why("consumer_group", f"`{{service}}-{{purpose}}` with the pipeline as service and the sink as purpose: "
                    f"the plain consumer that writes sink {k.name}; at most {most} consumers",
                    fact(f"sink {k.name} to {k.connection}", k.span))
            rec.decide(f"group:{name}", "consumer group", f"{name} (max {most} consumers)", w)
            groups.setdefault(name, ConsumerGroupPlan(name=name, topics=names, max_consumers=most, why=w))
    return [groups[n] for n in sorted(groups)]


def _sink_topics(spec: Spec, k: Sink, by_node: dict[str, list[TopicPlan]]) -> list[TopicPlan]:
    """The topics a sink's records travel on (not its dead-letter topic)."""
    out = []
    for n in k.inputs:
        kind = spec.kind_of(n)
        for t in by_node.get(node_id(kind, n), []) if kind else []:
            if t.purpose != "dlq":
                out.append(t)
    return out

