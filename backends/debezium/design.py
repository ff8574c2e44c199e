"""What each Debezium connector captures, read from the capture and Kafka plans (this module decides nothing)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from streamc.ir import CapturePlan, ConnectionKind, Engine, Source, Span, Spec
from streamc.backend_api import Unsupported as Problem

KINDS = (ConnectionKind.postgres, ConnectionKind.mysql, ConnectionKind.sqlserver)
DEFAULT_SCHEMA = {ConnectionKind.postgres: "public", ConnectionKind.sqlserver: "dbo"}  # MySQL: the database
NAME_LIMITS = {ConnectionKind.postgres: 63, ConnectionKind.mysql: 32, ConnectionKind.sqlserver: 128}

# The plan's snapshot mode -> today's Debezium 3 name (the 1.x/2.x names `schema_only` and `never` were replaced
# by `no_data`; the connectors reject `never`).
SNAPSHOT_MODES = {
    "initial": "initial", "initial_only": "initial_only", "no_data": "no_data", "when_needed": "when_needed",
    "always": "always", "schema_only": "no_data", "never": "no_data", "no_snapshot": "no_data",
}




@dataclass(frozen=True)
class Table:
    """One captured table: its columns, the topic the plan gives its change events, its key and identity."""

    source: str
    schema: str  # PostgreSQL / SQL Server schema, MySQL database
    name: str
    columns: tuple[str, ...]  # captured, in the contract's order
    excluded: tuple[str, ...]  # pii(drop): never captured
    all_columns: tuple[str, ...]  # the whole column contract (the DDL the tests create)
    key: tuple[str, ...]  # the topic's key (Kafka plan), else the primary key
    primary_key: tuple[str, ...]
    topic: str
    compacted: bool
    replica_identity: str | None  # "full" | "default" (capture plan)
    envelope: str  # "debezium" (change envelope) | "rows" (unwrapped) (capture plan)
    raw_load: str | None  # "from_topic": the warehouse loads its raw copy from the topic (capture plan)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class DeadLetter:
    sink: str
    topic: str


@dataclass(frozen=True)
class Connector:
    """One Debezium connector: one captured database connection of the pipeline."""

    pipeline: str
    connection: str
    kind: ConnectionKind
    name: str
    database: str | None  # the spec's `database` setting (documentation; the config reads it from the environment)
    secret: str | None  # the spec's `credentials secret NAME`
    topic_prefix: str
    slot: str | None
    publication: str | None
    snapshot_mode: str
    heartbeat_ms: int | None
    role: str  # the least-privilege login the setup SQL creates
    kafka: str  # Kafka connection name (schema history topic of MySQL / SQL Server)
    tables: tuple[Table, ...]
    dead_letters: tuple[DeadLetter, ...] = ()

    @property
    def folder(self) -> str:
        return f"debezium/{self.connection}"

    @property
    def excluded(self) -> bool:
        return any(t.excluded for t in self.tables)


def env_name(*parts: str) -> str:
    """`ecommerce_db`, `host` -> `ECOMMERCE_DB_HOST`."""
    return re.sub(r"[^A-Za-z0-9]+", "_", "_".join(p for p in parts if p)).strip("_").upper()


def db_name(text: str, limit: int) -> str:
    """A role / login name: lower-case [a-z0-9_], shortened with a stable hash when over the database's limit."""
    name = re.sub(r"[^a-z0-9_]", "_", text.lower())
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[:limit - 9]}_{digest}"


@dataclass
class Design:
    """The connectors of a compiled spec, plus what cannot be expressed (reported by `check`)."""

    ir: Spec
    connectors: list[Connector] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        captures = [c for c in self.ir.plan.captures if c.method == "log_cdc"]
        by_connection: dict[str, list[tuple[Source, CapturePlan]]] = {}
        for cap in captures:
            src = self.ir.source(cap.source)
            if src is None:
                self.problem(None, f"capture plan for unknown source '{cap.source}'", "rebuild: the plan is stale")
                continue
            by_connection.setdefault(src.connection, []).append((src, cap))
        for conn_name in sorted(by_connection):
            connector = self._connector(conn_name, sorted(by_connection[conn_name], key=lambda p: p[0].name))
            if connector is not None:
                self.connectors.append(connector)

    def problem(self, span: Span | None, what: str, hint: str) -> None:
        self.problems.append(Problem(span, what, hint))

    # ------------------------------------------------------------------ one connector per connection
    def _connector(self, conn_name: str, pairs: list[tuple[Source, CapturePlan]]) -> Connector | None:
        ir = self.ir
        conn = ir.connection(conn_name)
        first = pairs[0][0]
        if conn is None:
            self.problem(first.connection_span or first.span, f"log-based capture from unknown connection "
                                                              f"'{conn_name}'", "define the connection")
            return None
        if conn.kind not in KINDS:
            self.problem(first.connection_span or first.span,
                         f"log-based capture (Debezium) from a {conn.kind.value} connection",
                         "Debezium connectors are emitted for postgres, mysql and sqlserver sources")
            return None
        plans = [cap for _, cap in pairs]
        shared = {}
        for attr in ("slot_name", "publication_name", "snapshot_mode", "heartbeat_ms", "topic_prefix"):
            values = {getattr(p, attr) for p in plans}
            if len(values) > 1:
                self.problem(first.span, f"sources of connection '{conn_name}' with different {attr} "
                                         f"({', '.join(sorted(map(str, values)))})",
                             "one connector captures one database: the capture plan must agree per connection")
            shared[attr] = sorted(values, key=str)[0]
        kind = conn.kind
        if kind == ConnectionKind.postgres and not (shared["slot_name"] and shared["publication_name"]):
            self.problem(first.span, f"PostgreSQL capture of '{conn_name}' without a slot or publication name",
                         "the capture pass must record slot_name and publication_name (optimizer gap)")
            return None
        if not shared["topic_prefix"]:
            self.problem(first.span, f"capture of '{conn_name}' without a topic prefix",
                         "the capture pass must record topic_prefix (optimizer gap)")
            return None
        snapshot = SNAPSHOT_MODES.get((shared["snapshot_mode"] or "").strip().lower().replace(" ", "_"))
        if snapshot is None:
            self.problem(first.span, f"snapshot mode '{shared['snapshot_mode']}' of '{conn_name}'",
                         f"Debezium 3 snapshot modes: {', '.join(sorted(set(SNAPSHOT_MODES.values())))}")
            return None
        tables = [t for t in (self._table(conn.kind, conn, src, cap) for src, cap in pairs) if t is not None]
        if len(tables) != len(pairs):
            return None
        database = conn.setting("database")
        creds = conn.setting("credentials")
        secret = creds.text if creds is not None and creds.kind == "secret" else None
        limit = NAME_LIMITS[kind]
        return Connector(
            pipeline=ir.pipeline.name, connection=conn_name, kind=kind, name=f"{ir.pipeline.name}.{conn_name}",
            database=database.text if database is not None else None, secret=secret,
            topic_prefix=shared["topic_prefix"], slot=shared["slot_name"], publication=shared["publication_name"],
            snapshot_mode=snapshot, heartbeat_ms=shared["heartbeat_ms"],
            role=db_name(f"streamc_{ir.pipeline.name}_{conn_name}_cdc", limit),
            kafka=self._kafka_connection(first.span, conn_name) if kind != ConnectionKind.postgres else "",
            tables=tuple(tables), dead_letters=self._dead_letters({s.name for s, _ in pairs}))

    def _table(self, kind: ConnectionKind, conn, src: Source, cap: CapturePlan) -> Table | None:
        loc = src.location
        if loc is not None and loc.kind != "table":
            self.problem(loc.span, f"log-based capture of '{src.name}' from a {loc.kind}",
                         "Debezium captures tables: write `table schema.name`")
            return None
        text = loc.value if loc is not None else src.name
        schema, _, name = text.rpartition(".")
        if not schema:
            default = DEFAULT_SCHEMA.get(kind)
            if default is None:  # MySQL: the table's database is the connection's
                db = conn.setting("database")
                if db is None:
                    self.problem(src.span, f"MySQL table '{text}' without a database",
                                 "write `table database.table` or set the connection's `database`")
                    return None
                default = db.text
            schema = default
        if "." in schema:
            self.problem(loc.span if loc else src.span, f"table name '{text}' with more than two parts",
                         "write `table schema.table`")
            return None
        topics = [t for t in self.ir.plan.topics if t.node == f"source:{src.name}" and t.purpose == "cdc"]
        if len(topics) != 1:
            self.problem(src.span, f"source '{src.name}' has {len(topics)} change topics in the Kafka plan",
                         "the Kafka pass must give every log-captured source exactly one `cdc` topic")
            return None
        topic = topics[0]
        excluded = tuple(cap.excluded_columns)
        captured = tuple(c for c in (cap.captured_columns or tuple(c.name for c in src.columns)) if c not in excluded)
        key = tuple(topic.key) or src.primary_key
        lost = [k for k in key if k not in captured]
        if lost:
            self.problem(src.span, f"key column(s) {', '.join(lost)} of '{src.name}' are not captured "
                                   "(pii(drop) or unknown)",
                         "a change topic's key must be captured: drop another column or key by other columns")
            return None
        if cap.envelope not in ("debezium", "rows"):
            self.problem(src.span, f"source '{src.name}' without a change envelope decision",
                         "the capture pass must record envelope (debezium or rows) (optimizer gap)")
            return None
        return Table(source=src.name, schema=schema, name=name, columns=captured, excluded=excluded,
                     all_columns=tuple(c.name for c in src.columns), key=key, primary_key=src.primary_key,
                     topic=topic.name,
                     compacted=topic.cleanup_policy == "compact", replica_identity=cap.replica_identity,
                     envelope=cap.envelope, raw_load=cap.raw_load)

    def _kafka_connection(self, span: Span | None, conn_name: str) -> str:
        kafkas = sorted(c.name for c in self.ir.connections if c.kind == ConnectionKind.kafka)
        if len(kafkas) > 1:
            self.problem(span, f"schema history of '{conn_name}': the spec has several Kafka connections "
                               f"({', '.join(kafkas)}) and the plan does not say which one the connector writes to",
                         "keep one Kafka connection per pipeline")
        return kafkas[0] if kafkas else "kafka"

    def _dead_letters(self, sources: set[str]) -> tuple[DeadLetter, ...]:
        """Dead-letter topics of sinks that Debezium itself feeds (the plan's engine for the sink is debezium)."""
        out = []
        for plan in self.ir.plan.sinks:
            sink = self.ir.sink(plan.sink)
            if plan.engine == Engine.debezium and plan.dead_letter_topic and sink is not None \
                    and set(sink.sources) & sources:
                out.append(DeadLetter(plan.sink, plan.dead_letter_topic))
        return tuple(sorted(out, key=lambda d: d.sink))
