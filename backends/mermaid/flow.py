"""Build the data-flow diagram of a compiled pipeline from the IR and its plan (paths, engines, captures, topics)."""

from __future__ import annotations

from streamc.ir import ConnectionKind, Engine, Mode, Spec, TopicPlan

from . import wording as w
from .syntax import DEdge, DGroup, Diagram, DNode, EdgeStyle, IdAllocator, Shape

CLASS_DEFS: dict[str, str] = {
    "db": "fill:#e8f0fe,stroke:#1a73e8,color:#0b2a5b",
    "warehouse": "fill:#e6f4ea,stroke:#188038,color:#0d3b1e",
    "queue": "fill:#fef7e0,stroke:#e37400,color:#4a2800",
    "connector": "fill:#f3e8fd,stroke:#8430ce,color:#2e0854",
    "stream": "fill:#fce8e6,stroke:#c5221f,color:#4a0c0a",
    "model": "fill:#e6f4ea,stroke:#34a853,color:#0d3b1e",
    "metric": "fill:#e0f7fa,stroke:#00838f,color:#00363a",
    "raw": "fill:#f1f3f4,stroke:#5f6368,stroke-dasharray:4 3,color:#202124",
    "cache": "fill:#fde7f3,stroke:#c2185b,color:#4a0726",
    "api": "fill:#fff3e0,stroke:#ef6c00,color:#4a2000",
    "files": "fill:#efebe9,stroke:#6d4c41,color:#2b1d17",
    "consumer": "fill:#ffffff,stroke:#5f6368,color:#202124",
    "note": "fill:#fffde7,stroke:#f9a825,color:#3e2c00",
    "hotpath": "fill:#fff8f6,stroke:#c5221f,stroke-width:2px",
    "coldpath": "fill:#f6fbf7,stroke:#188038,stroke-width:2px",
    "kafkasink": "fill:#fffbf0,stroke:#e37400,stroke-dasharray:4 3",
}

DATABASES = (ConnectionKind.postgres, ConnectionKind.mysql, ConnectionKind.sqlserver)


def store_shape(kind: ConnectionKind | None, is_warehouse: bool, sink: bool) -> tuple[Shape, str]:
    """Shape and style of a source or sink, by the kind of its connection."""
    if kind is None:
        return "rect", "db"
    if is_warehouse:
        return "cyl", "warehouse"
    if kind in DATABASES:
        return "cyl", "db"
    if kind == ConnectionKind.kafka:
        return "h-cyl", "queue"
    if kind == ConnectionKind.redis:
        return "lin-cyl", "cache"
    if kind in (ConnectionKind.s3, ConnectionKind.gcs):
        return "docs", "files"
    if kind == ConnectionKind.http:
        return ("lean-l" if sink else "lean-r"), "api"
    return "rect", "db"


def group_name(service: str, purpose: str) -> str:
    """How the kafka pass names a consumer group (`{service}-{purpose}`, underscores as hyphens), to find it again."""
    return f"{service}-{purpose}".replace("_", "-")


class FlowBuilder:
    """One pass over the IR: sources (and their capture), models, metrics, topics, sinks, consumers."""

    def __init__(self, ir: Spec):
        self.ir = ir
        plan = ir.plan
        self.mode = plan.mode
        self.hybrid = self.mode is not None and self.mode.mode == Mode.hybrid
        self.streaming = self.mode is not None and self.mode.mode == Mode.streaming
        self.hot = set(self.mode.streaming_nodes) if self.mode else set()
        self.cold = set(self.mode.batch_nodes) if self.mode else set()
        self.captures = {c.source: c for c in plan.captures}
        self.topics = {t.name: t for t in plan.topics}
        self.topics_of: dict[str, list[TopicPlan]] = {}
        for t in plan.topics:
            self.topics_of.setdefault(t.node, []).append(t)
        self.sink_plans = {s.sink: s for s in plan.sinks}
        self.model_plans = {m.model: m for m in plan.models}
        self.watermarks = {m.metric: m for m in plan.watermarks}
        self.groups_by_name = {g.name: g for g in plan.consumer_groups}
        warehouses = [c for c in ir.connections if c.is_warehouse]
        self.warehouse = warehouses[0] if len(warehouses) == 1 else None

        self.ids = IdAllocator()
        self.d = Diagram(class_defs=dict(CLASS_DEFS))
        self.drawn: dict[tuple[str, str | None], str] = {}  # (ir node id, path) -> diagram id
        self.topic_ids: dict[str, str] = {}  # topic name -> diagram id
        self.connectors: dict[str, str] = {}  # connection name -> Debezium connector id
        self.feeds: dict[tuple[str, str | None], tuple[str, tuple[str, ...], EdgeStyle]] = {}
        self.path_groups: dict[str, str] = {}

    # ------------------------------------------------------------------ placement

    def paths(self, nid: str) -> tuple[str | None, ...]:
        """The copies of a node: one per path in hybrid mode (hot, cold), else one."""
        if not self.hybrid:
            return (None,)
        out = tuple(p for p, members in (("hot", self.hot), ("cold", self.cold)) if nid in members)
        return out or (None,)

    def placement(self, nid: str) -> str | None:
        """Where a node drawn once sits: its path's subgraph, or outside when it serves both paths."""
        ps = self.paths(nid)
        return ps[0] if len(ps) == 1 else None

    def group_of(self, path: str | None) -> str | None:
        if path is None:
            return None
        if path not in self.path_groups:
            gid = self.ids.get(("path", path), "sg", path)
            self.path_groups[path] = gid
            css = "hotpath" if path == "hot" else "coldpath"
            self.d.groups.append(DGroup(gid, w.path_title(path, self.ir.pipeline, self.ir.plan), css=css))
        return self.path_groups[path]

    def engine(self, nid: str, path: str | None) -> Engine | None:
        if self.mode is None:
            return None
        if path == "hot" or (path is None and (self.streaming or nid in self.hot and nid not in self.cold)):
            return self.mode.hot_engines.get(nid) or self.mode.engines.get(nid)
        return self.mode.engines.get(nid)

    def style(self, path: str | None) -> EdgeStyle:
        if path == "hot" or (path is None and self.streaming):
            return "thick"
        return "solid"

    def drawn_in(self, nid: str, path: str | None) -> str | None:
        """The copy of `nid` that a node on `path` reads: the same path's copy, else the shared one, else any."""
        for key in ((nid, path), (nid, None), (nid, "hot"), (nid, "cold")):
            if key in self.drawn:
                return self.drawn[key]
        return None

    def add_node(self, key: tuple, prefix: str, name: str, shape: Shape, lines: tuple[str, ...], css: str,
                 kind: str, path: str | None, members: tuple[str, ...] = (), family: str = "") -> str:
        ident = self.ids.get(key, prefix, name)
        self.d.nodes.append(DNode(ident, shape, lines, css, kind, self.group_of(path), members or (name,), family))
        return ident

    def edge(self, src: str, dst: str, lines: tuple[str, ...] = (), style: EdgeStyle = "solid") -> None:
        self.d.add_edge(DEdge(src, dst, lines, style))

    # ------------------------------------------------------------------ build

    def build(self) -> Diagram:
        ir = self.ir
        mode = f"{self.mode.mode.value} mode" if self.mode else "not planned"
        self.d.comments.append(f"streamc data flow of pipeline {ir.pipeline.name} ({mode})")
        if self.hybrid:  # hot path first
            self.group_of("hot")
            self.group_of("cold")
        note = w.pipeline_lines(ir.pipeline, ir.plan, ir.environments)
        self.add_node(("pipeline",), "n_pipeline", "", "notch-rect", note, "note", "pipeline", None,
                      members=(f"pipeline {ir.pipeline.name}",))
        for s in ir.sources:
            self.source(s)
        for m in ir.models:
            self.model(m)
        for m in ir.metrics:
            self.metric(m)
        # edges once every copy exists: a spec may name a model before the one it reads
        for m in ir.models:
            for path in self.paths(f"model:{m.name}"):
                for dep in m.depends_on:
                    self.read(dep, path, self.drawn[(f"model:{m.name}", path)])
        for m in ir.metrics:
            for path in self.paths(f"metric:{m.name}"):
                self.read(m.from_, path, self.drawn[(f"metric:{m.name}", path)])
        self.produced_topics()
        for k in ir.sinks:
            self.sink(k)
        self.consumer_groups()
        for t in ir.plan.topics:  # every planned topic is drawn, attached or not
            if t.name not in self.topic_ids:
                self.topic_node(t, None)
        return self.d

    # ------------------------------------------------------------------ sources and capture

    def consumer_paths(self, name: str) -> set[str | None]:
        """The paths on which something reads source `name`."""
        out: set[str | None] = set()
        for m in self.ir.models:
            if name in m.depends_on:
                out.update(self.paths(f"model:{m.name}"))
        for m in self.ir.metrics:
            if m.from_ == name:
                out.update(self.paths(f"metric:{m.name}"))
        for k in self.ir.sinks:
            if name in k.sources:
                out.add(self.placement(f"sink:{k.name}"))
        return out

    def source(self, s) -> None:
        nid = f"source:{s.name}"
        conn = self.ir.connection(s.connection)
        cap = self.captures.get(s.name)
        own_topic = next((t for t in self.topics_of.get(nid, []) if t.purpose == "events"), None)
        place = self.placement(nid)
        shape, css = store_shape(conn.kind if conn else None, bool(conn and conn.is_warehouse), sink=False)
        lines = w.source_lines(s, conn, own_topic, self.ir.checks_on(s.name))
        sid = self.add_node(("source", s.name), "n_source", s.name, shape, lines, css, "source", place)
        self.drawn[(nid, place)] = sid
        if own_topic is not None:
            self.topic_ids[own_topic.name] = sid
        readers = self.consumer_paths(s.name) or {place}
        schedule = self.ir.pipeline.schedule

        hot_feed: tuple[str, tuple[str, ...], EdgeStyle] = (sid, ("stream",), "thick")
        if cap is not None and cap.method == "log_cdc":
            topic = next((t for t in self.topics_of.get(nid, []) if t.purpose == "cdc"), None)
            cid = self.connector(s.connection, place)
            self.edge(sid, cid, w.cdc_edge(cap), "thick")
            if topic is not None:
                tid = self.topic_node(topic, place)
                self.edge(cid, tid, ("change events",), "thick")
                hot_feed = (tid, ("stream",), "thick")
            else:  # no topic planned (yet): the connector feeds the readers directly
                hot_feed = (cid, ("change events",), "thick")
        elif cap is not None and cap.method not in ("topic",):
            hot_feed = (sid, w.ingest_edge(s, cap, schedule), self.style("hot"))

        cold_feed: tuple[str, tuple[str, ...], EdgeStyle] = (sid, w.ingest_edge(s, cap, schedule), "solid")
        wants_cold = any(p != "hot" for p in readers) if self.hybrid else not self.streaming
        if cap is not None and cap.raw_load is not None and wants_cold:
            raw_place = "cold" if self.hybrid else None
            rid = self.add_node(("raw", s.name), "n_raw", s.name, "rect", w.raw_lines(s, self.warehouse), "raw",
                                "raw", raw_place, members=(f"{s.name} (raw copy)",))
            if cap.raw_load == "from_topic":
                self.edge(hot_feed[0], rid, w.RAW_FROM_TOPIC, "solid")
            else:
                self.edge(sid, rid, w.ingest_edge(s, cap, schedule), "solid")
            cold_feed = (rid, (), "solid")
        elif cap is not None and cap.method in ("log_cdc", "topic"):
            cold_feed = (hot_feed[0], (), "solid")

        for p in (None, "hot", "cold"):
            streaming_reader = p == "hot" or (p is None and self.streaming)
            self.feeds[(nid, p)] = hot_feed if streaming_reader else cold_feed

    def connector(self, conn_name: str, place: str | None) -> str:
        if conn_name not in self.connectors:
            caps = [c for c in self.ir.plan.captures if c.method == "log_cdc"
                    and (src := self.ir.source(c.source)) is not None and src.connection == conn_name]
            self.connectors[conn_name] = self.add_node(
                ("connector", conn_name), "n_cdc", conn_name, "hex",
                w.connector_lines(self.ir.connection(conn_name), conn_name, caps), "connector", "connector", place,
                members=(f"Debezium connector for {conn_name}",))
        return self.connectors[conn_name]

    def topic_node(self, t: TopicPlan, path: str | None) -> str:
        if t.name not in self.topic_ids:
            self.topic_ids[t.name] = self.add_node(("topic", t.name), "n_topic", t.name, "h-cyl", w.topic_lines(t),
                                                   "queue", "topic", path)
        return self.topic_ids[t.name]

    def read(self, dep: str, path: str | None, target: str) -> None:
        """Draw the edge from what `target` (on `path`) reads: a source's feed, or another node's copy."""
        kind = self.ir.kind_of(dep)
        if kind == "source":
            src, lines, style = self.feeds.get((f"source:{dep}", path)) or self.feeds[(f"source:{dep}", None)]
            self.edge(src, target, lines, style)
            return
        if kind is None:
            return
        src = self.drawn_in(f"{kind}:{dep}", path)
        if src is not None:
            self.edge(src, target, (), self.style(path))

    # ------------------------------------------------------------------ models and metrics

    def model(self, m) -> None:
        nid = f"model:{m.name}"
        copies = self.paths(nid)
        for path in copies:
            engine = self.engine(nid, path)
            sql = engine == Engine.warehouse_sql or engine is None
            suffix = (path,) if len(copies) > 1 else ()
            mp = self.model_plans.get(m.name)
            ident = self.add_node(("model", m.name, *suffix), "n_model", "_".join((m.name, *suffix)),
                                  "rect" if sql else "subroutine",
                                  w.model_lines(m, engine, mp, self.ir.checks_on(m.name)),
                                  "model" if sql else "stream", "model", path,
                                  members=(m.name + (f" ({path} path)" if suffix else ""),),
                                  family=mp.layer if mp and sql else "")
            self.drawn[(nid, path)] = ident

    def metric(self, m) -> None:
        nid = f"metric:{m.name}"
        copies = self.paths(nid)
        for path in copies:
            engine = self.engine(nid, path)
            sql = engine == Engine.warehouse_sql or engine is None
            suffix = (path,) if len(copies) > 1 else ()
            ident = self.add_node(("metric", m.name, *suffix), "n_metric", "_".join((m.name, *suffix)),
                                  "rect" if sql else "subroutine",
                                  w.metric_lines(m, engine, self.watermarks.get(m.name), self.ir.checks_on(m.name)),
                                  "metric", "metric", path,
                                  members=(m.name + (f" ({path} path)" if suffix else ""),))
            self.drawn[(nid, path)] = ident

    def produced_topics(self) -> None:
        """Topics a model or metric writes (its results, or its rows for a Kafka sink)."""
        strategies = {ip.topic: w.input_strategy(ip) for sp in self.ir.plan.sinks for ip in sp.inputs if ip.topic}
        for t in self.ir.plan.topics:
            if t.purpose not in ("metric", "sink") or t.name in self.topic_ids:
                continue
            producer = self.drawn_in(t.node, "hot")
            path = "hot" if self.hybrid else None
            tid = self.topic_node(t, path)
            if producer is not None:
                self.edge(producer, tid, (strategies.get(t.name, "results"),), "thick")

    # ------------------------------------------------------------------ sinks and consumers

    def sink(self, k) -> None:
        nid = f"sink:{k.name}"
        conn = self.ir.connection(k.connection)
        sp = self.sink_plans.get(k.name)
        place = self.placement(nid)
        engine = self.engine(nid, place) or (sp.engine if sp else None)
        inputs = list(sp.inputs) if sp else []
        planned = {ip.node for ip in inputs}
        unplanned = [n for n in k.inputs if f"{self.ir.kind_of(n)}:{n}" not in planned]
        style = self.style(place)

        if conn is not None and conn.kind == ConnectionKind.kafka and self.kafka_sink_topics(sp, inputs):
            writer = self.kafka_sink(k, conn, sp, inputs, unplanned, place)
        else:
            shape, css = store_shape(conn.kind if conn else None, bool(conn and conn.is_warehouse), sink=True)
            lines = w.sink_lines(k, conn, self.ir.checks_on(k.name))
            writer = sink_id = self.add_node(("sink", k.name), "n_sink", k.name, shape, lines, css, "sink", place)
            self.drawn[(nid, place)] = sink_id
            for ip in inputs:
                label = w.lines(w.input_strategy(ip), f"TTL {k.ttl.text}" if k.ttl else None)
                topic = self.input_topic(ip)
                group = self.groups_by_name.get(group_name(self.ir.pipeline.name, k.name))
                if engine == Engine.kafka_consumer and topic is not None and topic in self.topic_ids:
                    if group is not None:
                        gid = self.consumer_node(group.name, None, group.max_consumers, place, writer=True)
                        self.edge(self.topic_ids[topic], gid, ("stream",), style)
                        self.edge(gid, sink_id, label, style)
                        writer = gid
                    else:
                        self.edge(self.topic_ids[topic], sink_id, ("Kafka consumer", *label), style)
                    continue
                self.read_input(ip.node, place, sink_id, label, style)
            for n in unplanned:  # the idempotency plan has not covered it (yet): drawn, unlabelled
                self.read_input(f"{self.ir.kind_of(n)}:{n}", place, sink_id, (), style)

        if sp is not None and sp.dead_letter_topic:
            dlq = self.topics.get(sp.dead_letter_topic)
            did = (self.topic_node(dlq, place) if dlq is not None else
                   self.add_node(("topic", sp.dead_letter_topic), "n_topic", sp.dead_letter_topic, "h-cyl",
                                 (sp.dead_letter_topic, "dead-letter topic"), "queue", "topic", place))
            if engine == Engine.debezium:
                writers = sorted({self.connectors[s.connection] for n in k.sources
                                  if (s := self.ir.source(n)) is not None and s.connection in self.connectors})
            else:
                writers = [writer]
            for src in writers or [writer]:
                self.edge(src, did, ("rejected records",), "dotted")

    def read_input(self, node: str, place: str | None, target: str, label: tuple[str, ...],
                   style: EdgeStyle) -> None:
        kind, _, name = node.partition(":")
        if kind == "source":
            src, first, feed_style = self.feeds.get((node, place)) or self.feeds[(node, None)]
            self.edge(src, target, tuple(dict.fromkeys((*first, *label))), feed_style)
            return
        src = self.drawn_in(node, place)
        if src is not None:
            self.edge(src, target, label, style)

    def input_topic(self, ip) -> str | None:
        return ip.topic or next((t.name for t in self.topics_of.get(ip.node, []) if t.purpose != "dlq"), None)

    def kafka_sink_topics(self, sp, inputs) -> list[str]:
        """The topics a Kafka sink consists of: the plan's, and those its inputs travel on."""
        names = list(sp.topics) if sp else []
        for ip in inputs:
            own = self.input_topic(ip)
            if own is not None and own not in names:
                names.append(own)
        return names

    def kafka_sink(self, k, conn, sp, inputs, unplanned, place: str | None) -> str:
        """A Kafka sink (with planned topics) is the set of topics it writes: a subgraph around them."""
        gid = self.ids.get(("sink", k.name), "sg_sink", k.name)
        self.d.groups.append(DGroup(gid, w.kafka_sink_lines(k, conn, [w.input_strategy(ip) for ip in inputs],
                                                                self.ir.checks_on(k.name)),
                                    parent=self.group_of(place), css="kafkasink"))
        self.drawn[(f"sink:{k.name}", place)] = gid
        names = self.kafka_sink_topics(sp, inputs)
        for ip in inputs:
            if self.input_topic(ip) is None:
                self.read_input(ip.node, place, gid, (w.input_strategy(ip),), self.style(place))
        for n in unplanned:
            self.read_input(f"{self.ir.kind_of(n)}:{n}", place, gid, (), self.style(place))
        for name in names:
            t = self.topics.get(name)
            tid = (self.topic_node(t, place) if t is not None else
                   self.add_node(("topic", name), "n_topic", name, "h-cyl", (name, "topic"), "queue", "topic", place))
            self.d.move(tid, gid)
            self.topic_ids[name] = tid
        return gid

    def consumer_node(self, name: str, purpose: str | None, most: int, place: str | None, writer: bool) -> str:
        key = ("group", name)
        if key in self.ids.by_key:
            return self.ids.by_key[key]
        return self.add_node(key, "n_group", name, "subroutine" if writer else "rounded",
                             w.consumer_lines(name, purpose, most), "stream" if writer else "consumer",
                             "consumer", place, members=(f"consumer group {name}",))

    def consumer_groups(self) -> None:
        """Consumer groups the spec declares (`consumer SERVICE for PURPOSE`) read the sink's topics."""
        declared: dict[str, tuple[str, str | None]] = {}
        for k in self.ir.sinks:
            for c in k.consumers:
                declared.setdefault(group_name(c.service, c.purpose), (f"{c.service} for {c.purpose}",
                                                                       self.placement(f"sink:{k.name}")))
        for g in self.ir.plan.consumer_groups:
            if ("group", g.name) in self.ids.by_key:
                continue  # a sink's own writer, drawn with the sink
            purpose, place = declared.get(g.name, (None, None))
            gid = self.consumer_node(g.name, purpose, g.max_consumers, place, writer=False)
            for t in g.topics:
                if t in self.topic_ids:
                    self.edge(self.topic_ids[t], gid, (), self.style(place))


def build(ir: Spec) -> Diagram:
    return FlowBuilder(ir).build()
