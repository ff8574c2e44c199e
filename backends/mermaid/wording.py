"""The words on the diagram: node label lines and edge labels, read from the spec and the plan (never decided here)."""

from __future__ import annotations

from streamc.ir import (CapturePlan, Check, Connection, Duration, Engine, Environment, Location, Metric, Model,
                        ModelPlan, Partition, Pipeline, Plan, ReliabilityPlan, Schedule, Sink, SinkInputPlan, Source,
                        TopicPlan, WatermarkPlan, Window)

SEP = " · "

ENGINE_WORDS: dict[Engine, str] = {
    Engine.flink: "Flink SQL",
    Engine.kafka_consumer: "Kafka consumer",
    Engine.debezium: "Debezium",
    Engine.warehouse_sql: "dbt",
    Engine.orchestrator: "orchestrator",
}

TOPIC_PURPOSES = {
    "cdc": "CDC topic",
    "events": "event topic",
    "metric": "metric topic",
    "dlq": "dead-letter topic",
    "sink": "row topic",
}


def join(*parts: str | None) -> str:
    return SEP.join(p for p in parts if p)


def lines(*items: str | None) -> tuple[str, ...]:
    return tuple(i for i in items if i)


def keys(cols: tuple[str, ...]) -> str:
    return ", ".join(cols)


def partition_text(p: Partition | None) -> str | None:
    if p is None:
        return None
    return f"{p.granularity}({p.column})" if p.granularity else p.column


def schedule_text(s: Schedule | None) -> str | None:
    if s is None:
        return None
    if s.kind == "daily":
        return f"daily at {s.time} {s.timezone}"
    if s.kind == "hourly":
        return "hourly"
    if s.kind == "weekly":
        return f"weekly on {s.weekday} at {s.time} {s.timezone}"
    if s.kind == "every":
        return f"every {s.every.text}" if s.every else "periodic"
    if s.kind == "cron":
        return f"cron {s.cron} {s.timezone}"
    return "continuous"


def location_text(loc: Location | None) -> str | None:
    if loc is None:
        return None
    if loc.kind == "endpoint":
        return f"{loc.method} {loc.value}" if loc.method else f"endpoint {loc.value}"
    return f"{loc.kind} {loc.value}"


def connection_text(conn: Connection | None, name: str) -> str:
    if conn is None:
        return name
    role = " (warehouse)" if conn.role == "warehouse" else ""
    return f"{conn.kind.value}{role}{SEP}{conn.name}"


def volume_text(s: Source) -> str | None:
    return join(s.volume.text if s.volume else None, f"peak {s.peak.text}" if s.peak else None) or None


def checks_text(checks: tuple[Check, ...]) -> str | None:
    """The quality checks on a node: how many, and of which kinds (spec order)."""
    if not checks:
        return None
    kinds = ", ".join(dict.fromkeys(c.kind.value for c in checks))
    return f"{len(checks)} check{'s' if len(checks) != 1 else ''}: {kinds}"


def pii_text(s: Source) -> str | None:
    cols = [f"{c.name} {c.pii.strategy.value}" for c in s.columns if c.pii is not None]
    return f"pii: {', '.join(cols)}" if cols else None


def pipeline_lines(p: Pipeline, plan: Plan, envs: tuple[Environment, ...] = ()) -> tuple[str, ...]:
    mode = plan.mode.mode.value if plan.mode else (p.mode.value if p.mode else None)
    rel = plan.reliability
    return lines(
        f"pipeline {p.name}",
        p.description,
        join(f"owner {p.owner}" if p.owner else None, f"domain {p.domain}" if p.domain else None,
             f"tier {p.tier.value}"),
        join(f"{mode} mode" if mode else None, f"latency < {p.latency.text}" if p.latency else None,
             schedule_text(p.schedule), f"replay {p.replay.text}" if p.replay else None),
        reliability_text(rel),
        f"environments: {', '.join(e.name for e in envs)}" if envs else None,
    )


def reliability_text(rel: ReliabilityPlan | None) -> str | None:
    if rel is None:
        return None
    backoff = " (exponential)" if rel.exponential_backoff else ""
    return join(f"availability {rel.availability}", f"retries {rel.retries} every {rel.retry_delay.text}{backoff}")


def source_lines(s: Source, conn: Connection | None, topic: TopicPlan | None,
                 checks: tuple[Check, ...] = ()) -> tuple[str, ...]:
    return lines(
        s.name,
        connection_text(conn, s.connection),
        join(location_text(s.location) if topic is None or s.location is None or s.location.kind != "topic" else None,
             f"format {s.format}" if s.format else None),
        *(topic_detail(topic) if topic is not None else ()),
        volume_text(s),
        pii_text(s),
        checks_text(checks),
        s.description,
    )


def topic_detail(t: TopicPlan) -> tuple[str, ...]:
    kept = f"retention {t.retention.text}" if t.retention else "kept forever"
    cleanup = "compacted" if t.cleanup_policy == "compact" else None
    return lines(
        f"topic {t.name}",
        join(f"{t.partitions} partitions", kept, cleanup),
        f"key {keys(t.key)}" if t.key else None,
        None if t.owned else "exists already (read only)",
    )


def topic_lines(t: TopicPlan) -> tuple[str, ...]:
    kept = f"retention {t.retention.text}" if t.retention else "kept forever"
    cleanup = "compacted" if t.cleanup_policy == "compact" else None
    return lines(
        t.name,
        TOPIC_PURPOSES.get(t.purpose, "topic"),
        join(f"{t.partitions} partitions", kept, cleanup),
        f"key {keys(t.key)}" if t.key else None,
        None if t.owned else "exists already (read only)",
    )


def connector_lines(conn: Connection | None, conn_name: str, caps: list[CapturePlan]) -> tuple[str, ...]:
    first = caps[0]
    slots = sorted({c.slot_name for c in caps if c.slot_name})
    pubs = sorted({c.publication_name for c in caps if c.publication_name})
    snaps = sorted({c.snapshot_mode for c in caps if c.snapshot_mode})
    beats = sorted({c.heartbeat_ms for c in caps if c.heartbeat_ms})
    return lines(
        "Debezium connector",
        connection_text(conn, conn_name),
        join(*(f"slot {s}" for s in slots), *(f"publication {p}" for p in pubs)) or None,
        join(*(f"snapshot {s}" for s in snaps), *(f"heartbeat {ms_text(b)}" for b in beats)) or None,
        f"topic prefix {first.topic_prefix}" if first.topic_prefix else None,
    )


def ms_text(ms: int) -> str:
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def cdc_edge(cap: CapturePlan) -> tuple[str, ...]:
    return lines(
        "CDC",
        f"replica identity {cap.replica_identity}" if cap.replica_identity else None,
        f"excludes {keys(cap.excluded_columns)} (pii drop)" if cap.excluded_columns else None,
    )


def ingest_edge(s: Source, cap: CapturePlan | None, schedule: Schedule | None) -> tuple[str, ...]:
    """The first hop of a source read by the batch path (extract and load), by the capture the plan chose."""
    when = f"every {s.every.text}" if s.every else schedule_text(schedule)
    if cap is None:
        return lines("load", when)
    if cap.method == "timestamp_incremental":
        return lines("batch load", f"incremental on {cap.incremental_column}", when)
    if cap.method == "full":
        return lines("batch load", "full copy", when)
    if cap.method == "api_incremental":
        api = s.api
        return lines(
            "API pull",
            join(f"incremental on {cap.incremental_column}" if cap.incremental_column else None,
                 f"{api.pagination} pagination" if api and api.pagination else None),
            join(when, f"rate limit {api.rate_limit.text}" if api and api.rate_limit else None),
        )
    if cap.method == "file_arrival":
        arr = s.arrival
        return lines(
            "file drop",
            join(f"format {s.format}" if s.format else None,
                 f"arrives by {arr.by} {arr.timezone}" if arr else None,
                 f"timeout {arr.timeout.text}" if arr and arr.timeout else None),
            when,
        )
    if cap.method == "log_cdc":
        return lines("CDC")
    return lines("stream")


RAW_FROM_TOPIC = ("Kafka sink connector", "changes unwrapped to rows")


def raw_lines(s: Source, warehouse: Connection | None) -> tuple[str, ...]:
    where = f"raw copy in {warehouse.name} ({warehouse.kind.value})" if warehouse else "raw copy in the warehouse"
    return (s.name, where)


def model_lines(m: Model, engine: Engine | None, mp: ModelPlan | None,
                checks: tuple[Check, ...] = ()) -> tuple[str, ...]:
    if engine == Engine.warehouse_sql and mp is not None:
        how = join("dbt", mp.layer, mp.materialization,
                   f"({mp.incremental_strategy})" if mp.incremental_strategy else None).replace(" · (", " (")
        return lines(
            m.name,
            how,
            f"key {keys(mp.unique_key)}" if mp.unique_key else None,
            f"history SCD2 by {m.history.updated_at or keys(m.history.check_columns)}" if m.history else None,
            f"partition by {partition_text(m.partition)}" if m.partition else None,
            checks_text(checks),
            m.description,
        )
    return lines(m.name, f"model{SEP}{ENGINE_WORDS[engine]}" if engine else "model", checks_text(checks),
                 m.description)


def window_text(w: Window | None) -> str | None:
    if w is None:
        return None
    if w.kind == "tumbling":
        return f"window tumbling {w.size.text}"
    if w.kind == "hopping":
        return f"window hopping {w.size.text} every {w.slide.text if w.slide else '?'}"
    if w.kind == "session":
        return f"window session gap {w.size.text}"
    return f"window cumulate {w.size.text} step {w.slide.text if w.slide else '?'}"


def metric_lines(m: Metric, engine: Engine | None, wm: WatermarkPlan | None,
                 checks: tuple[Check, ...] = ()) -> tuple[str, ...]:
    return lines(
        m.name,
        f"metric{SEP}{ENGINE_WORDS[engine]}" if engine else "metric",
        ", ".join(f"{x.expression} as {x.alias}" for x in m.measures),
        f"by {keys(m.dimensions)}" if m.dimensions else None,
        window_text(m.window),
        f"watermark {wm.input_column or wm.event_time} - {wm.lateness.text}" if wm else None,
        f"where {m.where.text}" if m.where else None,
        checks_text(checks),
        m.description,
    )


def sink_lines(k: Sink, conn: Connection | None, checks: tuple[Check, ...] = ()) -> tuple[str, ...]:
    return lines(
        k.name,
        connection_text(conn, k.connection),
        f"partition by {partition_text(k.partition)}" if k.partition else None,
        f"TTL {k.ttl.text}" if k.ttl else None,
        checks_text(checks),
        k.description,
    )


def one_line(*parts: str | None) -> tuple[str, ...]:
    """A subgraph title: Mermaid reserves one line of height for it, so everything goes on one line."""
    return (join(*(" ".join(p.split()) for p in parts if p)),)


def kafka_sink_lines(k: Sink, conn: Connection | None, strategies: list[str],
                     checks: tuple[Check, ...] = ()) -> tuple[str, ...]:
    return one_line(k.name, f"sink to {connection_text(conn, k.connection)}", *dict.fromkeys(strategies),
                    checks_text(checks), k.description)


def strategy_text(strategy: str, key: tuple[str, ...], partition: Partition | None,
                  dedup_ttl: Duration | None) -> str:
    if strategy == "upsert":
        return f"upsert on {keys(key)}" if key else "upsert"
    if strategy == "merge":
        return f"merge on {keys(key)}" if key else "merge"
    if strategy == "overwrite_partition":
        return f"overwrite partition {partition_text(partition)}" if partition else "overwrite partition"
    if strategy == "dedup_event_id":
        ttl = f" (TTL {dedup_ttl.text})" if dedup_ttl else ""
        return (f"dedup on {keys(key)}" if key else "dedup by event id") + ttl
    if strategy == "exactly_once":
        return "exactly-once"
    if strategy == "append_only_log":
        return "append-only log"
    if strategy == "replace":
        return "full replace"
    return strategy


def input_strategy(ip: SinkInputPlan) -> str:
    return strategy_text(ip.strategy, ip.key, ip.partition, ip.dedup_ttl)


def consumer_lines(name: str, purpose: str | None, max_consumers: int) -> tuple[str, ...]:
    return lines(purpose, f"consumer group {name}", f"up to {max_consumers} consumers")


def path_title(path: str, p: Pipeline, plan: Plan) -> tuple[str, ...]:
    rel = plan.reliability
    if path == "hot":
        return one_line("hot path: streaming", f"latency < {p.latency.text}" if p.latency else None,
                        f"checkpoint every {rel.checkpoint_interval.text}" if rel and rel.checkpoint_interval else None)
    return one_line("cold path: batch", schedule_text(p.schedule))
