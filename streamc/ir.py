"""Typed, frozen intermediate representation of a compiled pipeline (the contract between passes and backends)."""

from __future__ import annotations

from enum import Enum
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

IR_VERSION = "1.0"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Span(Frozen):
    """A source position: 1-based line and column, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def at(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Node(Frozen):
    span: Span


# ------------------------------------------------------------------ typed values


class Duration(Frozen):
    seconds: float
    text: str


class Rate(Frozen):
    per_second: float
    text: str


class Size(Frozen):
    bytes: int
    text: str


class Percent(Frozen):
    value: float  # 1% -> 1.0
    text: str


# ------------------------------------------------------------------ pipeline, connections, environments


class Tier(str, Enum):
    critical = "critical"
    important = "important"
    standard = "standard"


class Mode(str, Enum):
    batch = "batch"
    streaming = "streaming"
    hybrid = "hybrid"


class Schedule(Node):
    kind: Literal["daily", "hourly", "weekly", "every", "cron", "continuous"]
    time: str | None = None  # "06:00"
    timezone: str = "UTC"
    weekday: str | None = None
    every: Duration | None = None
    cron: str | None = None


class Acknowledgement(str, Enum):
    large_volume = "large_volume"
    realtime = "realtime"
    pii = "pii"
    cross_region = "cross_region"


class Pipeline(Node):
    name: str
    owner: str | None = None
    domain: str | None = None
    tier: Tier = Tier.standard
    latency: Duration | None = None
    latency_inclusive: bool = False  # `latency <= X` (the bound itself is allowed) rather than `latency < X`
    latency_span: Span | None = None
    schedule: Schedule | None = None
    mode: Mode | None = None
    mode_span: Span | None = None
    replay: Duration | None = None
    acknowledged: tuple[Acknowledgement, ...] = ()
    description: str | None = None


class ConnectionKind(str, Enum):
    postgres = "postgres"
    mysql = "mysql"
    sqlserver = "sqlserver"
    kafka = "kafka"
    snowflake = "snowflake"
    bigquery = "bigquery"
    duckdb = "duckdb"
    redis = "redis"
    s3 = "s3"
    gcs = "gcs"
    http = "http"


class Value(Node):
    """A setting value: a literal, a bare name, or a reference to a named secret."""

    kind: Literal["string", "number", "name", "secret"]
    text: str
    number: float | None = None


class Setting(Node):
    key: str
    value: Value


class Connection(Node):
    name: str
    kind: ConnectionKind
    role: Literal["source", "warehouse"] | None = None  # `postgres as warehouse`
    settings: tuple[Setting, ...] = ()

    @property
    def is_warehouse(self) -> bool:
        return self.kind in (ConnectionKind.snowflake, ConnectionKind.bigquery, ConnectionKind.duckdb) or (
            self.role == "warehouse"
        )

    def setting(self, key: str) -> Value | None:
        return next((s.value for s in self.settings if s.key == key), None)


class EnvOverride(Node):
    target: str  # connection name or setting group (e.g. "kafka")
    key: str
    value: Value


class Environment(Node):
    name: str
    overrides: tuple[EnvOverride, ...] = ()


# ------------------------------------------------------------------ sources and columns


class ColumnType(Node):
    name: str  # canonical lower-case: bigint, text, numeric, timestamp, enum, json, ...
    params: tuple[int, ...] = ()
    values: tuple[str, ...] = ()  # enum members

    def sql(self) -> str:
        if self.name == "enum":
            return "text"
        if self.params:
            return f"{self.name}({', '.join(map(str, self.params))})"
        return self.name


class PiiStrategy(str, Enum):
    hash = "hash"
    mask = "mask"
    drop = "drop"
    encrypt = "encrypt"
    keep = "keep"


class Pii(Node):
    strategy: PiiStrategy
    reason: str | None = None


class Reference(Node):
    node: str
    column: str


class SqlText(Node):
    """SQL written in a spec; `span` is where its first character sits in the .stream file."""

    text: str
    prefix: int = 0  # characters streamc wrote before the user's text on its first line (select shorthand)


class Column(Node):
    name: str
    type: ColumnType
    primary_key: bool = False
    not_null: bool = False
    unique: bool = False
    references: Reference | None = None
    accepted_values: tuple[str, ...] = ()
    checks: tuple[SqlText, ...] = ()
    pii: Pii | None = None
    event_time: bool = False
    lateness: Duration | None = None
    description: str | None = None


class CaptureMode(str, Enum):
    cdc = "cdc"
    incremental = "incremental"
    full = "full"


class Capture(Node):
    mode: CaptureMode
    column: str | None = None


class Location(Node):
    kind: Literal["table", "topic", "endpoint", "path"]
    value: str  # schema.table, topic name, URL path or object path template
    method: str | None = None  # endpoint HTTP method


class ApiSettings(Node):
    auth: str | None = None
    auth_secret: str | None = None
    pagination: str | None = None
    rate_limit: Rate | None = None
    initial_load: Duration | None = None


class Arrival(Node):
    by: str  # "06:00"
    timezone: str = "UTC"
    timeout: Duration | None = None


class Source(Node):
    name: str
    connection: str
    connection_span: Span | None = None
    location: Location | None = None
    format: str | None = None
    capture: Capture | None = None
    volume: Rate | None = None
    peak: Rate | None = None
    avg_size: Size | None = None
    retention: Duration | None = None
    freshness: Duration | None = None
    arrival: Arrival | None = None
    every: Duration | None = None
    api: ApiSettings | None = None
    key: tuple[str, ...] = ()
    description: str | None = None
    columns: tuple[Column, ...] = ()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def primary_key(self) -> tuple[str, ...]:
        pk = tuple(c.name for c in self.columns if c.primary_key)
        return pk or self.key

    @property
    def event_time(self) -> Column | None:
        return next((c for c in self.columns if c.event_time), None)


# ------------------------------------------------------------------ models and metrics


class Partition(Node):
    column: str
    granularity: Literal["day", "hour", "month", "year"] | None = None


class History(Node):
    strategy: Literal["timestamp", "check"]
    updated_at: str | None = None
    check_columns: tuple[str, ...] = ()


class ColumnLineage(Frozen):
    """One output column of a model and the input columns it is computed from."""

    name: str
    inputs: tuple[Reference, ...] = ()
    expression: str = ""


class Model(Node):
    name: str
    from_: str | None = Field(default=None, alias="from")
    sql: SqlText
    shorthand: bool = False  # written as `select ...` rather than `sql """..."""`
    grain: tuple[str, ...] = ()
    partition: Partition | None = None
    cluster: tuple[str, ...] = ()
    materialized: str | None = None
    layer: str | None = None
    history: History | None = None
    description: str | None = None
    # filled in by analysis of the SQL (parsed once; passes read these instead of parsing again)
    depends_on: tuple[str, ...] = ()
    columns: tuple[ColumnLineage, ...] = ()
    joins: int = 0
    aggregates: bool = False

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Measure(Node):
    expression: str  # e.g. sum(total_amount)
    function: str  # sum / count / avg / min / max / count_distinct
    column: str | None  # None for count(*)
    alias: str


class Window(Node):
    kind: Literal["tumbling", "hopping", "session", "cumulate"]
    size: Duration  # tumbling/hopping/cumulate size, session gap
    slide: Duration | None = None  # hopping slide / cumulate step


class Metric(Node):
    name: str
    from_: str = Field(alias="from")
    measures: tuple[Measure, ...]
    dimensions: tuple[str, ...] = ()
    window: Window | None = None
    where: SqlText | None = None
    description: str | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# ------------------------------------------------------------------ sinks and expectations


class Consumer(Node):
    service: str
    purpose: str


class Sink(Node):
    name: str
    connection: str
    connection_span: Span | None = None
    input_spans: dict[str, Span] = {}  # where each received node is named
    models: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    mode: str | None = None  # upsert | merge | append | overwrite_partition | exactly_once
    partition: Partition | None = None
    key: tuple[str, ...] = ()
    ttl: Duration | None = None
    consumers: tuple[Consumer, ...] = ()
    description: str | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.sources + self.models + self.metrics


class Severity(str, Enum):
    error = "error"
    warn = "warn"


class CheckKind(str, Enum):
    unique = "unique"
    not_null = "not_null"
    range = "range"
    accepted_values = "accepted_values"
    regex = "regex"
    relationships = "relationships"
    freshness = "freshness"
    row_count = "row_count"
    volume_anomaly = "volume_anomaly"
    reconcile = "reconcile"
    custom_sql = "custom_sql"
    schema = "schema"


class Check(Node):
    kind: CheckKind
    target: str  # node name the check is on
    severity: Severity = Severity.error
    columns: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()
    pattern: str | None = None
    reference: Reference | None = None
    max_age: Duration | None = None
    comparison: str | None = None  # row_count / volume anomaly: ">=" etc.
    threshold: float | None = None  # row_count: absolute count or factor of the baseline
    baseline: str | None = None  # volume anomaly: avg_7d
    measure: str | None = None  # reconcile: count | sum(col)
    against: str | None = None  # reconcile: the other node
    tolerance: Percent | None = None
    name: str | None = None  # custom sql
    sql: SqlText | None = None


class Expectation(Node):
    target: str
    checks: tuple[Check, ...]


# ------------------------------------------------------------------ decisions taken by the optimizer passes


class Fact(Frozen):
    """A spec fact a decision rests on, with where it was written (None when it is a default)."""

    text: str
    span: Span | None = None


class Why(Frozen):
    rule: str  # e.g. "domain-rules §2 partitions"
    reason: str
    facts: tuple[Fact, ...] = ()


class Decision(Frozen):
    """One explained decision; `explain` prints these in order."""

    pass_name: str
    subject: str  # "pipeline", "source:orders", "sink:live_revenue", ...
    topic: str  # "mode", "partitions", "idempotency", ...
    choice: str
    why: Why


class Warning_(Frozen):
    code: str
    message: str
    span: Span | None = None


class Engine(str, Enum):
    flink = "flink"  # stream processor
    kafka_consumer = "kafka_consumer"  # plain consumers suffice
    debezium = "debezium"  # log-based capture
    warehouse_sql = "warehouse_sql"  # dbt in the warehouse, orchestrated
    orchestrator = "orchestrator"  # scheduled extract/load


class ModePlan(Frozen):
    mode: Mode
    engines: dict[str, Engine]  # node id -> engine (for a node on both paths: its cold-path engine)
    streaming_nodes: tuple[str, ...] = ()  # node ids on the hot path
    batch_nodes: tuple[str, ...] = ()  # node ids on the cold path (a node may be on both)
    why: Why
    hot_engines: dict[str, Engine] = {}  # node id -> engine on the hot path, for every node in streaming_nodes


class CapturePlan(Frozen):
    source: str
    method: Literal["log_cdc", "timestamp_incremental", "full", "api_incremental", "file_arrival", "topic"]
    incremental_column: str | None = None
    slot_name: str | None = None
    publication_name: str | None = None
    snapshot_mode: str | None = None
    replica_identity: Literal["full", "default"] | None = None
    heartbeat_ms: int | None = None
    topic_prefix: str | None = None
    captured_columns: tuple[str, ...] = ()
    excluded_columns: tuple[str, ...] = ()  # pii(drop): never captured
    why: Why
    # how the raw copy reaches the warehouse for the batch path: "from_topic" (a Kafka -> warehouse sink connector
    # loads the change topic, unwrapped to rows), "extract" (the orchestrator extracts and loads), None (no warehouse)
    raw_load: Literal["from_topic", "extract"] | None = None
    # log_cdc only: what the change topics carry. "debezium": the change envelope (before/after/op), which a
    # stream processor reads as a changelog (Flink's debezium-json); "rows": unwrapped rows with __op/__deleted
    # fields, for plain consumers. Decided once here so the Debezium and Flink backends agree.
    envelope: Literal["debezium", "rows"] | None = None


class TopicPlan(Frozen):
    name: str
    purpose: Literal["cdc", "events", "metric", "dlq", "sink"]
    node: str  # node id the topic carries
    partitions: int
    replication: dict[str, int]  # env -> factor
    retention: Duration | None  # None: kept forever (compacted)
    cleanup_policy: Literal["delete", "compact"]
    key: tuple[str, ...] = ()
    why: Why
    owned: bool = True  # False: the topic exists already (a source's topic); streamc reads it, never creates it


class ConsumerGroupPlan(Frozen):
    name: str
    topics: tuple[str, ...]
    max_consumers: int
    why: Why


SinkStrategy = Literal["upsert", "merge", "overwrite_partition", "dedup_event_id", "exactly_once", "append_only_log",
                       "replace"]  # replace: each run rebuilds the whole target (a keyless, unpartitioned table)


class SinkInputPlan(Frozen):
    """How one node a sink receives is written idempotently (a sink may receive several, each its own way)."""

    node: str  # node id: "model:fct_orders", "source:orders", "metric:revenue_per_minute"
    strategy: SinkStrategy
    key: tuple[str, ...] = ()
    partition: Partition | None = None
    dedup_ttl: Duration | None = None
    topic: str | None = None  # Kafka sinks: the topic this input is written to
    why: Why


class SinkPlan(Frozen):
    sink: str
    strategy: SinkStrategy  # the inputs' common strategy (see `inputs` when a sink receives several)
    key: tuple[str, ...] = ()  # the inputs' common key; () when they differ (see `inputs`)
    partition: Partition | None = None
    dedup_ttl: Duration | None = None
    engine: Engine
    dead_letter_topic: str | None = None
    why: Why
    inputs: tuple[SinkInputPlan, ...] = ()  # one per received node, in the sink's order
    topics: tuple[str, ...] = ()  # Kafka sinks: every topic the sink consists of


class ReliabilityPlan(Frozen):
    tier: Tier
    availability: str
    max_downtime_per_month: str
    retries: int
    retry_delay: Duration
    exponential_backoff: bool
    max_active_runs: int
    freshness_check_every: Duration | None
    stale_alert_after: Duration | None
    resource_warning_pct: int
    resource_critical_pct: int
    checkpoint_interval: Duration | None
    watch_p99_latency: bool
    why: Why
    hot_stale_alert_after: Duration | None = None  # hot path (streaming / hybrid): 1.5 x the latency target


class WatermarkPlan(Frozen):
    metric: str
    source: str
    event_time: str  # the source's event_time column
    lateness: Duration
    why: Why
    input_column: str = ""  # the same column as the metric's input (`from`) names it (differs after a rename)


class ModelPlan(Frozen):
    model: str
    layer: Literal["staging", "intermediate", "mart"]
    materialization: Literal["view", "table", "incremental", "snapshot", "ephemeral"]
    unique_key: tuple[str, ...] = ()
    incremental_strategy: str | None = None
    why: Why
    # incremental models: the column a run filters new rows on (the partition column when whole partitions are
    # replaced; else the column carrying the source's change cursor, e.g. updated_at; else its event time)
    incremental_column: str | None = None


class PiiPlan(Frozen):
    source: str
    column: str
    strategy: PiiStrategy
    applied_in: str  # "capture" or a model name
    reason: str | None = None
    why: Why


class GatePlan(Frozen):
    boundary: Literal["source", "transform", "sink"]
    check: Check
    origin: Literal["spec", "default"]
    priority: int  # 1 = first to run when only some can
    why: Why


class BackfillPlan(Frozen):
    change: Literal["schema_change", "bug_fix_window", "logic_change", "new_source"]
    strategy: str
    replay_window: Duration | None = None
    why: Why


class Plan(Frozen):
    mode: ModePlan | None = None
    captures: tuple[CapturePlan, ...] = ()
    topics: tuple[TopicPlan, ...] = ()
    consumer_groups: tuple[ConsumerGroupPlan, ...] = ()
    sinks: tuple[SinkPlan, ...] = ()
    reliability: ReliabilityPlan | None = None
    watermarks: tuple[WatermarkPlan, ...] = ()
    models: tuple[ModelPlan, ...] = ()
    pii: tuple[PiiPlan, ...] = ()
    gates: tuple[GatePlan, ...] = ()
    backfill: tuple[BackfillPlan, ...] = ()


# ------------------------------------------------------------------ the whole program


class Spec(Frozen):
    """A compiled spec: everything a backend may read."""

    ir_version: str = IR_VERSION
    files: tuple[str, ...]
    pipeline: Pipeline
    connections: tuple[Connection, ...] = ()
    environments: tuple[Environment, ...] = ()
    sources: tuple[Source, ...] = ()
    models: tuple[Model, ...] = ()
    metrics: tuple[Metric, ...] = ()
    sinks: tuple[Sink, ...] = ()
    expectations: tuple[Expectation, ...] = ()
    plan: Plan = Plan()
    decisions: tuple[Decision, ...] = ()
    warnings: tuple[Warning_, ...] = ()

    def model_copy(self, *, update=None, deep: bool = False) -> "Spec":
        """A copy never inherits the name index: it is rebuilt from the copy's own nodes on first use."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("_index", None)
        return copy

    # lookups by name: O(1) through an index built once per (immutable) Spec
    @cached_property
    def _index(self) -> dict[str, dict]:
        return {
            "connection": {c.name: c for c in self.connections},
            "source": {s.name: s for s in self.sources},
            "model": {m.name: m for m in self.models},
            "metric": {m.name: m for m in self.metrics},
            "sink": {s.name: s for s in self.sinks},
            "checks": _group_checks(self.expectations),
        }

    def connection(self, name: str) -> Connection | None:
        return self._index["connection"].get(name)

    def source(self, name: str) -> Source | None:
        return self._index["source"].get(name)

    def model(self, name: str) -> Model | None:
        return self._index["model"].get(name)

    def metric(self, name: str) -> Metric | None:
        return self._index["metric"].get(name)

    def sink(self, name: str) -> Sink | None:
        return self._index["sink"].get(name)

    def kind_of(self, name: str) -> str | None:
        for kind in ("source", "model", "metric", "sink"):
            if name in self._index[kind]:
                return kind
        return None

    def checks_on(self, name: str) -> tuple[Check, ...]:
        return self._index["checks"].get(name, ())


def _group_checks(expectations: tuple[Expectation, ...]) -> dict[str, tuple[Check, ...]]:
    grouped: dict[str, list[Check]] = {}
    for e in expectations:
        grouped.setdefault(e.target, []).extend(e.checks)
    return {k: tuple(v) for k, v in grouped.items()}
