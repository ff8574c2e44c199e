"""Which Flink jobs a compiled spec needs: nodes, Kafka reads and writes, as recorded by the plan; never re-decided."""

from __future__ import annotations

from dataclasses import dataclass, field

from streamc import cdc_wire
from streamc.backend_api import Unsupported as Problem
from streamc.ir import (CaptureMode, ConnectionKind, Duration, Engine, Mode, Partition, PiiStrategy, SinkInputPlan,
                        SinkPlan, Span, Spec, TopicPlan)

JDBC_KINDS = {ConnectionKind.postgres: "postgresql", ConnectionKind.mysql: "mysql",
              ConnectionKind.sqlserver: "sqlserver"}
FILE_KINDS = {ConnectionKind.s3: "s3", ConnectionKind.gcs: "gs"}
SOURCE_FORMATS = {None: "json", "json": "json", "jsonl": "json", "avro": "avro-confluent", "csv": "csv"}




@dataclass(frozen=True)
class SourceRead:
    source: str
    topic: str
    format: str  # debezium-json | json | avro-confluent | csv
    cdc: bool
    kafka: str  # the spec connection (or "kafka") whose environment variables locate the cluster
    group_id: str | None  # from the plan's consumer groups; None when the plan names none unambiguously
    watermark: tuple[str, Duration] | None = None  # (event-time column, allowed lateness)


@dataclass(frozen=True)
class Output:
    """One INSERT target: a spec sink's input, or a topic the plan gives a streaming node."""

    table: str  # table name in the script
    node: str  # the node whose rows are written
    connector: str  # upsert-kafka | kafka | jdbc | filesystem
    connection: str  # spec connection name (prefix of its environment variables)
    strategy: str  # the SinkPlan strategy (or upsert / append_only_log for a keyed / unkeyed topic)
    sink: str | None = None
    sink_kind: str | None = None  # the spec connection kind of the sink (redis, kafka, postgres, ...)
    topic: str | None = None
    key: tuple[str, ...] = ()  # primary key of the sink table (upsert)
    dedup_key: tuple[str, ...] = ()
    dedup_ttl: Duration | None = None
    jdbc: str | None = None  # postgresql | mysql | sqlserver
    scheme: str | None = None  # s3 | gs
    partition: Partition | None = None
    dead_letter_topic: str | None = None
    ttl: Duration | None = None
    span: Span | None = None
    readers: tuple[str, ...] = ()  # who reads a topic output downstream (sinks and their consumer groups)

    @property
    def upsert(self) -> bool:
        return bool(self.key)

    @property
    def exactly_once(self) -> bool:
        return self.strategy == "exactly_once"


@dataclass
class Job:
    name: str
    sources: list[SourceRead] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # in dependency order
    metrics: list[str] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    pii: dict[tuple[str, str], PiiStrategy] = field(default_factory=dict)  # (model, column) -> strategy applied


def ids(kind: str, name: str) -> tuple[str, str]:
    """The two spellings of a node id the plan may use: `kind:name` (streamc.analysis.node_id) or the bare name."""
    return f"{kind}:{name}", name


class JobPlanner:
    """Reads ir.plan and groups the Flink-engine nodes into jobs (connected components: one job per
    independent stage, one shared scan per source); collects what cannot be expressed as Problems."""

    def __init__(self, ir: Spec):
        self.ir = ir
        self.plan = ir.plan
        self.problems: list[Problem] = []
        self.jobs: list[Job] = []
        self.dropped = self._dropped_columns()
        mode = self.plan.mode
        if mode is None or mode.mode == Mode.batch:
            return  # no streaming side (or the passes have not decided yet): nothing for Flink
        self.streaming = set(mode.streaming_nodes)
        outputs = self._outputs()
        self._group(outputs)

    # ------------------------------------------------------------------ plan lookups
    def engine(self, kind: str, name: str) -> Engine | None:
        """The node's engine on the hot path when it is on it (a node on both paths has two engines)."""
        mode = self.plan.mode
        if mode is None:
            return None
        for engines in (mode.hot_engines, mode.engines):
            for key in ids(kind, name):
                if key in engines:
                    return engines[key]
        return None

    def sink_plan(self, sink: str) -> SinkPlan | None:
        return next((p for p in self.plan.sinks if p.sink == sink), None)

    def on_streaming_path(self, kind: str, name: str) -> bool:
        return any(i in self.streaming for i in ids(kind, name))

    def topics_for(self, kind: str, name: str, purposes: tuple[str, ...]) -> list[TopicPlan]:
        keys = ids(kind, name)
        return sorted((t for t in self.plan.topics if t.node in keys and t.purpose in purposes), key=lambda t: t.name)

    def _dropped_columns(self) -> dict[str, frozenset[str]]:
        out: dict[str, frozenset[str]] = {}
        for src in self.ir.sources:
            gone = {c.name for c in src.columns if c.pii is not None and c.pii.strategy == PiiStrategy.drop}
            capture = next((c for c in self.plan.captures if c.source == src.name), None)
            if capture is not None:
                gone |= set(capture.excluded_columns)
            out[src.name] = frozenset(gone)
        return out

    def kafka_connection(self, span: Span | None, about: str) -> str:
        kafkas = sorted(c.name for c in self.ir.connections if c.kind == ConnectionKind.kafka)
        if len(kafkas) > 1:
            self.problems.append(Problem(span, f"{about}: the spec has several Kafka connections "
                                               f"({', '.join(kafkas)}) and the plan does not say which carries it",
                                         "keep one Kafka connection per pipeline"))
        return kafkas[0] if kafkas else "kafka"

    # ------------------------------------------------------------------ what the Flink jobs write
    def _outputs(self) -> list[Output]:
        ir = self.ir
        outputs: list[Output] = []
        for sink in ir.sinks:
            plan = self.sink_plan(sink.name)
            engine = plan.engine if plan is not None else self.engine("sink", sink.name)
            if engine != Engine.flink:
                continue
            if plan is None:
                self.problems.append(Problem(sink.span, f"sink '{sink.name}' on the Flink path without an "
                                                        "idempotency decision in the plan",
                                             "the idempotency pass must record a SinkPlan for it"))
                continue
            for node in sink.inputs:
                table = sink.name if len(sink.inputs) == 1 else f"{sink.name}__{node}"
                out = self._sink_output(sink, plan, node, table)
                if out is not None:
                    outputs.append(out)
        written = {o.topic for o in outputs if o.topic}
        # streaming models/metrics the plan gives a topic of their own (e.g. a metric a plain consumer delivers)
        for kind, names in (("model", [m.name for m in ir.models]), ("metric", [m.name for m in ir.metrics])):
            for name in names:
                if self.engine(kind, name) != Engine.flink:
                    continue
                topics = [t for t in self.topics_for(kind, name, ("metric", "sink", "events")) if t.name not in written]
                for t in topics:
                    kafka = self.kafka_connection(self._span(name), f"topic '{t.name}'")
                    outputs.append(Output(table=f"{name}_topic" if len(topics) == 1 else t.name.replace(".", "_"),
                                          node=name, connector="upsert-kafka" if t.key else "kafka",
                                          connection=kafka, strategy="upsert" if t.key else "append_only_log",
                                          topic=t.name, key=t.key, span=self._span(name),
                                          readers=self._readers(t.name)))
                    written.add(t.name)
        fed = set().union(*(self._upstream(o.node) for o in outputs)) if outputs else set()
        for kind, names in (("model", [m.name for m in ir.models]), ("metric", [m.name for m in ir.metrics])):
            for name in names:
                if self.engine(kind, name) == Engine.flink and name not in fed:
                    self.problems.append(Problem(self._span(name), f"{kind} '{name}' runs on Flink but nothing "
                                                                   "in the plan writes its rows anywhere",
                                                 "give it a streaming sink, or a topic in the plan"))
        return sorted(outputs, key=lambda o: o.table)

    def _readers(self, topic: str) -> tuple[str, ...]:
        out = []
        for plan in self.plan.sinks:
            if topic in plan.topics or any(i.topic == topic for i in plan.inputs):
                sink = self.ir.sink(plan.sink)
                conn = self.ir.connection(sink.connection) if sink else None
                kind = f" ({conn.kind.value})" if conn else ""
                if conn is not None and conn.kind == ConnectionKind.redis:
                    ttl = f", TTL {sink.ttl.text} per key" if sink.ttl else ""
                    kind = f" (redis, which Flink has no connector for{ttl})"
                out.append(f"sink {plan.sink}{kind}, written by {plan.engine.value}")
        out += [f"consumer group {g.name}" for g in self.plan.consumer_groups if topic in g.topics]
        return tuple(sorted(out))

    def _span(self, name: str) -> Span | None:
        node = self.ir.source(name) or self.ir.model(name) or self.ir.metric(name) or self.ir.sink(name)
        return node.span if node is not None else None

    def grain(self, node: str) -> tuple[str, ...]:
        ir = self.ir
        if (m := ir.metric(node)) is not None:
            return (("window_start", "window_end") if m.window else ()) + m.dimensions
        if (model := ir.model(node)) is not None:
            return model.grain
        if (src := ir.source(node)) is not None:
            return src.primary_key
        return ()

    def input_plan(self, plan: SinkPlan, node: str) -> SinkInputPlan | None:
        keys = ids(self.ir.kind_of(node) or "model", node)
        return next((i for i in plan.inputs if i.node in keys), None)

    def _sink_output(self, sink, plan: SinkPlan, node: str, table: str) -> Output | None:
        conn = self.ir.connection(sink.connection)
        span = sink.input_spans.get(node, sink.span)
        if conn is None:
            return None  # analysis already reported the unknown connection
        per_input = self.input_plan(plan, node)
        strategy = per_input.strategy if per_input else plan.strategy
        planned_key = per_input.key if per_input else plan.key
        key = planned_key or sink.key or self.grain(node)
        dedup_ttl = per_input.dedup_ttl if per_input else plan.dedup_ttl
        planned_topic = per_input.topic if per_input else None
        common = dict(table=table, node=node, connection=conn.name, strategy=strategy, sink=sink.name,
                      sink_kind=conn.kind.value, dead_letter_topic=plan.dead_letter_topic, ttl=sink.ttl, span=span,
                      partition=plan.partition or sink.partition)
        if strategy in ("overwrite_partition", "replace"):
            self.problems.append(Problem(span, f"sink '{sink.name}': {strategy} in a streaming job",
                                         "rewriting whole partitions or tables is a batch load; the plan should "
                                         "put this sink on the batch path"))
            return None
        dedup = strategy == "dedup_event_id"
        if dedup and not planned_key:
            self.problems.append(Problem(span, f"sink '{sink.name}': dedup_event_id without the event id column",
                                         "the idempotency pass must record the event id column as the SinkPlan key"))
            return None
        if dedup:
            common.update(dedup_key=planned_key, dedup_ttl=dedup_ttl)
        upsert = strategy in ("upsert", "merge")
        if upsert and not key:
            self.problems.append(Problem(span, f"sink '{sink.name}': an upsert without a key",
                                         "declare the grain or key of what it receives"))
            return None
        if conn.kind in (ConnectionKind.kafka, ConnectionKind.redis):
            topic = planned_topic or self._sink_topic(sink.name, node, conn.kind == ConnectionKind.redis)
            if topic is None:
                if conn.kind == ConnectionKind.redis:
                    self.problems.append(Problem(
                        span, f"sink '{sink.name}' to Redis (Flink has no Redis connector)",
                        "the plan must give the sink a Kafka hand-off topic (TopicPlan purpose 'sink'); the "
                        "Flink job upserts into it and a Redis writer (e.g. the Redis Kafka Connect sink) applies it"))
                else:
                    self.problems.append(Problem(span, f"sink '{sink.name}': no Kafka topic in the plan for '{node}'",
                                                 "the topics pass must record the topic this sink writes"))
                return None
            kafka = conn.name if conn.kind == ConnectionKind.kafka else self.kafka_connection(span, f"topic '{topic}'")
            keyed = upsert or conn.kind == ConnectionKind.redis
            if conn.kind == ConnectionKind.redis and not key:
                self.problems.append(Problem(span, f"sink '{sink.name}': Redis needs a key per row",
                                             "declare the grain or key of what it receives"))
                return None
            common.update(connection=kafka)
            return Output(**common, connector="upsert-kafka" if keyed else "kafka", topic=topic,
                          key=key if keyed else ())
        if conn.kind in JDBC_KINDS:
            if strategy == "exactly_once" and not key:
                self.problems.append(Problem(span, f"sink '{sink.name}': exactly-once into a database table",
                                             "Flink SQL's JDBC sink is idempotent only as an upsert on a key"))
                return None
            pk = key if (upsert or strategy == "exactly_once") else planned_key if dedup else ()
            return Output(**common, connector="jdbc", key=pk, jdbc=JDBC_KINDS[conn.kind])
        if conn.kind in FILE_KINDS:
            if upsert:
                self.problems.append(Problem(span, f"sink '{sink.name}': upserts into files",
                                             "the filesystem sink only appends; write to a table format or a "
                                             "database, or let the plan choose an append strategy"))
                return None
            return Output(**common, connector="filesystem", scheme=FILE_KINDS[conn.kind])
        self.problems.append(Problem(span, f"sink '{sink.name}' to {conn.kind.value} (no Flink SQL connector)",
                                     "route it through the batch path (warehouse load) or a Kafka topic and the "
                                     "vendor's Kafka connector"))
        return None

    def _sink_topic(self, sink: str, node: str, handoff: bool) -> str | None:
        found = self.topics_for("sink", sink, ("sink", "metric", "events"))
        if not found:
            kind = self.ir.kind_of(node) or "model"
            found = self.topics_for(kind, node, ("sink", "metric") if handoff else ("sink", "metric", "events"))
        return found[0].name if found else None

    # ------------------------------------------------------------------ grouping into jobs
    def _upstream(self, node: str) -> set[str]:
        ir = self.ir
        seen: set[str] = set()
        stack = [node]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            if (m := ir.model(n)) is not None:
                stack.extend(m.depends_on)
            elif (mt := ir.metric(n)) is not None:
                stack.append(mt.from_)
        return seen

    def _group(self, outputs: list[Output]) -> None:
        ir = self.ir
        members: list[tuple[Output, set[str]]] = []
        for out in outputs:
            nodes = self._upstream(out.node)
            bad = False
            for n in sorted(nodes):
                kind = ir.kind_of(n)
                if kind in ("model", "metric"):
                    engine = self.engine(kind, n)
                    if engine not in (None, Engine.flink) and not self.on_streaming_path(kind, n):
                        self.problems.append(Problem(self._span(n), f"{kind} '{n}' is on the batch path "
                                                                    f"({engine.value}) but feeds Flink output "
                                                                    f"'{out.table}'",
                                                     "the mode pass must put it on the streaming path too"))
                        bad = True
            if not bad:
                members.append((out, nodes))
        # union-find over shared nodes (a source read once per job)
        parent = list(range(len(members)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                if members[i][1] & members[j][1]:
                    parent[find(j)] = find(i)
        groups: dict[int, list[int]] = {}
        for i in range(len(members)):
            groups.setdefault(find(i), []).append(i)
        for idx in groups.values():
            outs = [members[i][0] for i in idx]
            nodes = set().union(*(members[i][1] for i in idx))
            job = Job(name="", outputs=sorted(outs, key=lambda o: o.table))
            self._fill(job, nodes)
            # one output: named after it; several: after the sources the job reads once for all of them
            names = sorted({o.sink or o.node for o in outs})
            job.name = names[0] if len(names) == 1 else "__".join(r.source for r in job.sources) or "__".join(names)
            self.jobs.append(job)
        self.jobs.sort(key=lambda j: j.name)

    def _fill(self, job: Job, nodes: set[str]) -> None:
        ir = self.ir
        for name in sorted(n for n in nodes if ir.source(n) is not None):
            read = self._source_read(name)
            if read is not None:
                job.sources.append(read)
        models = {n for n in nodes if ir.model(n) is not None}
        job.models = topological(models, lambda n: ir.model(n).depends_on)
        job.metrics = sorted(n for n in nodes if ir.metric(n) is not None)

    def _source_read(self, name: str) -> SourceRead | None:
        ir = self.ir
        src = ir.source(name)
        conn = ir.connection(src.connection)
        capture = next((c for c in self.plan.captures if c.source == name), None)
        topics = self.topics_for("source", name, ("cdc", "events"))
        cdc = (capture is not None and capture.method == "log_cdc") or any(t.purpose == "cdc" for t in topics) or (
            src.capture is not None and src.capture.mode == CaptureMode.cdc)
        topic = next((t.name for t in topics if (t.purpose == "cdc") == cdc), topics[0].name if topics else None)
        if topic is None and conn is not None and conn.kind == ConnectionKind.kafka and src.location is not None \
                and src.location.kind == "topic":
            topic = src.location.value
        if topic is None:
            self.problems.append(Problem(src.span, f"source '{name}' feeds a Flink job but has no Kafka topic",
                                         "the plan must record the topic it is captured to (captures/topics passes)"))
            return None
        if cdc:
            fmt = "debezium-json"
            if capture is not None and capture.envelope not in (None, cdc_wire.CHANGELOG_ENVELOPE):
                self.problems.append(Problem(
                    src.span, f"source '{name}': the capture plan unwraps its change events to {capture.envelope} "
                              "(envelope for plain consumers), which Flink cannot read as a changelog",
                    "the capture pass must keep the Debezium envelope for a source a Flink job reads"))
                return None
        else:
            fmt = SOURCE_FORMATS.get(src.format)
            if fmt is None:
                self.problems.append(Problem(src.span, f"source '{name}': format '{src.format}' on a Kafka topic",
                                             "Flink reads json, avro (Confluent registry) or csv from Kafka"))
                return None
        if conn is not None and conn.kind == ConnectionKind.kafka:
            kafka = conn.name
        else:
            kafka = self.kafka_connection(src.span, f"topic '{topic}'")
        groups = sorted(g.name for g in self.plan.consumer_groups if topic in g.topics)
        return SourceRead(source=name, topic=topic, format=fmt, cdc=cdc, kafka=kafka,
                          group_id=groups[0] if len(groups) == 1 else None, watermark=self._watermark(name))

    def _watermark(self, source: str) -> tuple[str, Duration] | None:
        marks = [w for w in self.plan.watermarks if w.source == source]
        if not marks:
            return None
        columns = {w.event_time for w in marks}
        if len(columns) > 1:
            self.problems.append(Problem(self.ir.source(source).span,
                                         f"source '{source}': watermarks on several columns ({', '.join(sorted(columns))})",
                                         "a Flink table has one event-time attribute; use one event_time column"))
        widest = max(marks, key=lambda w: (w.lateness.seconds, w.event_time))
        return widest.event_time, widest.lateness


def topological(names: set[str], deps) -> list[str]:
    """Dependency order over `names` (dependencies outside the set ignored); ties broken by name."""
    order: list[str] = []
    done: set[str] = set()

    def visit(n: str) -> None:
        if n in done:
            return
        done.add(n)
        for d in sorted(deps(n)):
            if d in names:
                visit(d)
        order.append(n)

    for n in sorted(names):
        visit(n)
    return order
