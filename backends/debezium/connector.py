"""The Kafka Connect config of each Debezium 3 connector: today's property names, every setting with its reason."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from streamc import cdc_wire
from streamc.ir import ConnectionKind
from streamc.text_escape import markdown_cell

from .design import Connector, Table, env_name

CLASSES = {
    ConnectionKind.postgres: "io.debezium.connector.postgresql.PostgresConnector",
    ConnectionKind.mysql: "io.debezium.connector.mysql.MySqlConnector",
    ConnectionKind.sqlserver: "io.debezium.connector.sqlserver.SqlServerConnector",
}
TITLES = {ConnectionKind.postgres: "PostgreSQL", ConnectionKind.mysql: "MySQL", ConnectionKind.sqlserver: "SQL Server"}
REGEX_ROUTER = "org.apache.kafka.connect.transforms.RegexRouter"
UNWRAP = "io.debezium.transforms.ExtractNewRecordState"
TOPIC_MATCHES = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"
# Source fields an unwrapped row keeps (as __<field>): the operation, the commit time and the log position, which
# identifies a change (consumers dedupe on it; Debezium delivers at least once).
ROW_FIELDS = {
    ConnectionKind.postgres: "op,source.ts_ms,lsn",
    ConnectionKind.mysql: "op,source.ts_ms,file,pos,row",
    ConnectionKind.sqlserver: "op,source.ts_ms,change_lsn,commit_lsn,event_serial_no",
}


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    why: str


@dataclass(frozen=True)
class EnvVar:
    name: str
    meaning: str


def rx(text: str) -> str:
    """A Java regular expression matching exactly `text` (include lists and routers take regexes)."""
    return re.escape(text)


def default_topic_regex(c: Connector, t: Table) -> str:
    """The topic Debezium names a table's events before routing (`<prefix>.<schema>.<table>`; SQL Server adds
    the database, matched by any name so the routing holds whatever the database is called in an environment)."""
    if c.kind == ConnectionKind.sqlserver:
        return rx(c.topic_prefix) + r"\.[^.]+\." + rx(t.schema) + r"\." + rx(t.name)
    return rx(f"{c.topic_prefix}.{t.schema}.{t.name}")


def column_id(c: Connector, t: Table, column: str) -> str:
    """`schema.table.column` (PostgreSQL, SQL Server) or `database.table.column` (MySQL), as a regex."""
    return rx(f"{t.schema}.{t.name}.{column}")


def transform_name(t: Table) -> str:
    return "route_" + re.sub(r"[^A-Za-z0-9_]", "_", t.source)


class ConfigBuilder:
    """Builds the ordered settings of one connector and the environment variables they reference."""

    def __init__(self, c: Connector, secrets: str, secrets_dir: str):
        self.c = c
        self.secrets = secrets
        self.secrets_dir = secrets_dir.rstrip("/")
        self.env: list[EnvVar] = []
        self.settings: list[Setting] = []

    # ------------------------------------------------------------------ references (never literals)
    def env_ref(self, name: str, meaning: str) -> str:
        if all(e.name != name for e in self.env):
            self.env.append(EnvVar(name, meaning))
        return "${env:" + name + "}"

    def secret_ref(self, field: str) -> str:
        c = self.c
        base = c.secret or f"{c.connection}_credentials"
        what = {"user": f"login of the role `{c.role}`", "password": f"password of the role `{c.role}`"}[field]
        if self.secrets == "file":
            path = f"{self.secrets_dir}/{base}.properties"
            if all(e.name != path for e in self.env):
                self.env.append(EnvVar(path, f"properties file of secret `{base}` with keys `user` and `password`"))
            return "${file:" + path + ":" + field + "}"
        return self.env_ref(env_name(base, field), f"{what} (secret `{base}`)")

    def add(self, key: str, value: str, why: str) -> None:
        self.settings.append(Setting(key, value, why))

    # ------------------------------------------------------------------ the settings
    def build(self) -> list[Setting]:
        c = self.c
        kind = c.kind
        conn = c.connection
        self.add("connector.class", CLASSES[kind], f"Debezium's {TITLES[kind]} connector")
        self.add("tasks.max", "1", "Debezium log connectors run a single task")
        self.add("database.hostname", self.env_ref(env_name(conn, "host"), f"host of `{conn}`"),
                 "config provider reference: the worker resolves it, the JSON holds no host")
        self.add("database.port", self.env_ref(env_name(conn, "port"), f"port of `{conn}`"), "config provider")
        db_meaning = f"database of `{conn}`" + (f" (the spec says `{markdown_cell(c.database)}`)" if c.database else "")
        if kind == ConnectionKind.postgres:
            self.add("database.dbname", self.env_ref(env_name(conn, "database"), db_meaning), "config provider")
        elif kind == ConnectionKind.sqlserver:
            self.add("database.names", self.env_ref(env_name(conn, "database"), db_meaning), "config provider")
        self.add("database.user", self.secret_ref("user"),
                 f"the least-privilege role `{c.role}` that setup.sql creates, from a secret")
        self.add("database.password", self.secret_ref("password"), "from a secret, never a literal")
        if kind == ConnectionKind.mysql:
            self.add("database.server.id",
                     self.env_ref(env_name(conn, "server_id"), f"replication client id, unique among the "
                                                               f"replicas of `{conn}`"),
                     "MySQL needs a distinct server id per binlog reader")
        self.add("topic.prefix", c.topic_prefix, "capture plan (replaces the removed database.server.name); "
                 "also names the heartbeat topic and keys the connector's offsets")
        if kind == ConnectionKind.postgres:
            self.add("plugin.name", "pgoutput", "PostgreSQL's built-in logical decoding plugin (rules §6)")
            self.add("slot.name", c.slot, "capture plan: the replication slot, created by the connector")
            self.add("publication.name", c.publication, "capture plan: the publication setup.sql creates")
            self.add("publication.autocreate.mode", "disabled",
                     "setup.sql creates the publication, so the role needs no table ownership")
        self.add("snapshot.mode", c.snapshot_mode, "capture plan: snapshot, then stream from its position")
        self.add("table.include.list", ",".join(rx(t.qualified) for t in c.tables),
                 "exactly the captured tables (regexes, dots escaped)")
        excluded = [column_id(c, t, col) for t in c.tables for col in t.excluded]
        if excluded:
            self.add("column.exclude.list", ",".join(excluded), "pii(drop) columns: never in any event")
        custom_keys = [t for t in c.tables if t.key and t.key != t.primary_key]
        if custom_keys:
            self.add("message.key.columns", ";".join(f"{rx(t.qualified)}:{','.join(t.key)}" for t in custom_keys),
                     "the Kafka plan keys these topics by other columns than the primary key")
        if kind != ConnectionKind.postgres:
            kafka = self.env_ref(env_name(c.kafka, "bootstrap_servers"), f"bootstrap servers of Kafka `{c.kafka}`")
            self.add("schema.history.internal.kafka.bootstrap.servers", kafka,
                     "the connector keeps the table schemas' history in Kafka")
            self.add("schema.history.internal.kafka.topic", f"{c.topic_prefix}.{conn}.schema-history",
                     "internal topic; the connector creates it (one partition, kept forever)")
            self.add("schema.history.internal.store.only.captured.tables.ddl", "true",
                     "record the DDL of the captured tables only")
            self.add("include.schema.changes", "false",
                     "no schema-change topic: the Kafka plan has none")
        compacted = any(t.compacted for t in c.tables)
        self.add("tombstones.on.delete", "true" if compacted else "false",
                 "a tombstone after each delete lets compaction remove the key" if compacted else
                 "the change topics are not compacted (Kafka plan): the delete event is enough")
        for key, value, why in cdc_wire.VALUE_SETTINGS:  # the wire contract every reader of the topics relies on
            self.add(key, value, why)
        if c.heartbeat_ms:
            self.add("heartbeat.interval.ms", str(c.heartbeat_ms),
                     "capture plan: keeps the source position moving while the tables are quiet")
        self.transforms()
        self.add("event.processing.failure.handling.mode", "fail",
                 "a change event Debezium cannot process stops the connector: skipping would lose a change")
        self.add("errors.tolerance", "none",
                 "a record that fails conversion stops the task (a source connector has no dead-letter queue)")
        self.add("errors.log.enable", "true", "log failed operations")
        self.add("errors.log.include.messages", "false", "keep row values (personal data) out of the logs")
        self.add("errors.max.retries", "-1", "retry retriable database errors (e.g. a lost connection) forever")
        for key, value, why in cdc_wire.CONVERTER_SETTINGS:
            self.add(key, value, why)
        return self.settings

    def transforms(self) -> None:
        c = self.c
        routes = [transform_name(t) for t in c.tables]
        rows = [t for t in c.tables if t.envelope == "rows"]
        names = routes + (["unwrap"] if rows else [])
        self.add("transforms", ",".join(names),
                 "route each table's events to its Kafka plan topic" + ("; unwrap rows (capture plan)" if rows else ""))
        for t, name in zip(c.tables, routes):
            self.add(f"transforms.{name}.type", REGEX_ROUTER, f"{t.qualified} -> {t.topic}")
            self.add(f"transforms.{name}.regex", default_topic_regex(c, t), "Debezium's default topic name")
            self.add(f"transforms.{name}.replacement", t.topic, "the topic the Kafka plan names")
        if not rows:
            return
        self.add("transforms.unwrap.type", UNWRAP,
                 "capture plan: envelope `rows` (only plain consumers read these topics): the row after the change")
        rewrite = "rewrite-with-tombstone" if any(t.compacted for t in rows) else "rewrite"
        self.add("transforms.unwrap.delete.tombstone.handling.mode", rewrite,
                 "a delete becomes the old row with `__deleted: \"true\"`" +
                 (", then a tombstone for compaction" if rewrite != "rewrite" else ""))
        self.add("transforms.unwrap.add.fields", ROW_FIELDS[c.kind],
                 "keep the operation, commit time and log position as `__` fields (key and position identify a "
                 "change: consumers dedupe on them)")
        if len(rows) < len(c.tables):
            self.add("transforms.unwrap.predicate", "row_topics", "unwrap only the topics whose envelope is `rows`")
            self.add("predicates", "row_topics", "topics carrying unwrapped rows")
            self.add("predicates.row_topics.type", TOPIC_MATCHES, "matches the routed topic name")
            self.add("predicates.row_topics.pattern", "|".join(rx(t.topic) for t in rows),
                     ", ".join(t.topic for t in rows))


def connector_json(c: Connector, settings: list[Setting]) -> str:
    config = {s.key: s.value for s in settings}
    return json.dumps({"name": c.name, "config": config}, indent=2, ensure_ascii=False) + "\n"
