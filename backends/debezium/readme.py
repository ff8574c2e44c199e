"""The facts the connector README shows: what is captured where, the environment, and the deployment steps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from streamc import cdc_wire
from streamc.ir import ConnectionKind, Spec

from .connector import ROW_FIELDS, TITLES, EnvVar, Setting
from .design import Connector, env_name
from .setup_sql import PASSWORD_VAR, SQLCMD_VAR, column_list_allowed

HEARTBEAT_PREFIX = "__debezium-heartbeat"  # Debezium's default heartbeat.topics.prefix
ENV_PROVIDER = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
FILE_PROVIDER = "org.apache.kafka.common.config.provider.FileConfigProvider"


@dataclass(frozen=True)
class TableRow:
    table: str
    source: str
    topic: str
    key: str
    captured: str
    dropped: str
    identity: str


@dataclass(frozen=True)
class ReadmeView:
    name: str
    title: str
    spec_file: str
    pipeline: str
    connection: str
    database: str
    role: str
    tables: list[TableRow]
    env: list[EnvVar]
    settings: list[Setting]
    worker: list[str]
    setup_command: list[str]
    server: list[str]
    topics: list[str]
    extra_topics: list[str]
    verify: list[str]
    decommission: list[str]
    contract: list[str]
    dead_letters: list[str]
    notes: list[str]


def identity_of(c: Connector, t) -> str:
    if c.kind == ConnectionKind.postgres:
        return "FULL" if t.replica_identity == "full" else "DEFAULT"
    if c.kind == ConnectionKind.mysql:
        return "binlog_row_image FULL"
    return "change table (full images)"


def readme_view(ir: Spec, c: Connector, settings: list[Setting], env: list[EnvVar], secrets: str,
                password_env: str) -> ReadmeView:
    spec_file = PurePosixPath(ir.files[0]).name if ir.files else "the spec"
    rows = [TableRow(table=t.qualified, source=t.source, topic=t.topic, key=", ".join(t.key) or "(none)",
                     captured=", ".join(t.columns), dropped=", ".join(t.excluded) or "-",
                     identity=identity_of(c, t)) for t in c.tables]
    worker = ["config.providers=env" + (",file" if secrets == "file" else ""),
              f"config.providers.env.class={ENV_PROVIDER}"]
    if secrets == "file":
        worker.append(f"config.providers.file.class={FILE_PROVIDER}")
    conn = c.connection
    host, port, db = (f"${env_name(conn, x)}" for x in ("host", "port", "database"))
    if c.kind == ConnectionKind.postgres:
        setup = [f"psql -v ON_ERROR_STOP=1 -v {PASSWORD_VAR}=\"${password_env}\" \\",
                 f"     -h \"{host}\" -p \"{port}\" -d \"{db}\" -f setup.sql"]
        server = ["`wal_level = logical` (restart), and one free `max_replication_slots` / `max_wal_senders` "
                  "entry for this connector's slot."]
        if any(column_list_allowed(t) for t in c.tables):
            server.append("PostgreSQL 15 or later: the publication uses column lists.")
        verify = [f"SELECT slot_name, active, confirmed_flush_lsn FROM pg_replication_slots "
                  f"WHERE slot_name = '{c.slot}';",
                  f"SELECT * FROM pg_publication_tables WHERE pubname = '{c.publication}';"]
        decommission = [f"SELECT pg_drop_replication_slot('{c.slot}');  -- after deleting the connector",
                        f"DROP PUBLICATION {c.publication};"]
    elif c.kind == ConnectionKind.mysql:
        setup = [f"{{ printf \"SET @{PASSWORD_VAR} = '%s';\\n\" \"${password_env}\"; cat setup.sql; }} \\",
                 f"  | mysql -h \"{host}\" -P \"{port}\" -u <admin> -p"]
        server = ["`log_bin` on, `binlog_format = ROW`, `binlog_row_image = FULL`, and binlog retention "
                  "(`binlog_expire_logs_seconds`) longer than the longest outage the connector must survive.",
                  f"`{env_name(conn, 'server_id')}`: a server id no other replica of the server uses."]
        verify = ["SHOW BINARY LOG STATUS;  -- MySQL 8.4 (SHOW MASTER STATUS before)",
                  f"SHOW GRANTS FOR '{c.role}'@'%';"]
        decommission = [f"DROP USER '{c.role}'@'%';  -- after deleting the connector"]
    else:
        setup = [f"sqlcmd -S \"{host},{port}\" -d \"{db}\" -b -v {SQLCMD_VAR}=\"${password_env}\" -i setup.sql"]
        server = ["SQL Server Agent running (it runs the capture job); a sysadmin runs setup.sql once."]
        verify = ["EXEC sys.sp_cdc_help_change_data_capture;"]
        decommission = [f"EXEC sys.sp_cdc_disable_table @source_schema = N'{t.schema}', @source_name = N'{t.name}', "
                        "@capture_instance = N'all';" for t in c.tables]
    extra = []
    if c.heartbeat_ms:
        extra.append(f"`{HEARTBEAT_PREFIX}.{c.topic_prefix}`: heartbeat records every {c.heartbeat_ms} ms. Not in "
                     "the Kafka plan: create it (1 partition, short retention) or let Connect / the broker create it.")
    history = next((s.value for s in settings if s.key == "schema.history.internal.kafka.topic"), None)
    if history:
        extra.append(f"`{history}`: the connector's schema history (internal). Not in the Kafka plan; the "
                     "connector creates it (1 partition, kept forever) if the worker's principal may.")
    dead = [f"`{d.topic}` (sink `{d.sink}`): a Kafka Connect source connector has no dead-letter queue "
            "(`errors.deadletterqueue.*` exists for sink connectors only). This connector stops rather than skip a "
            "change (`errors.tolerance=none`, `event.processing.failure.handling.mode=fail`); the topic is created "
            "by the Kafka plan for the consumers of the change topics, which park there the records they reject."
            for d in c.dead_letters]
    contract = wire_contract(ir, c)
    notes = []
    if c.kind == ConnectionKind.postgres:
        for t in c.tables:
            if t.excluded and not column_list_allowed(t):
                notes.append(
                    f"`{t.qualified}`: {', '.join(t.excluded)} is pii(drop) but the table has REPLICA IDENTITY "
                    "FULL, and PostgreSQL rejects every UPDATE and DELETE of a table whose publication column list "
                    "does not cover the replica identity. So the publication has no column list for it: the value "
                    "is decoded from the WAL and dropped by the connector (`column.exclude.list`) before any event "
                    "is written; the role cannot read it in the snapshot (column-level SELECT). To keep it off the "
                    "replication connection too, the capture plan would need a replica identity on an index of the "
                    "captured columns instead of FULL.")
        notes.append("TRUNCATE is not published: consumers of the change topics would keep the rows. Delete rows "
                      "instead, or re-snapshot.")
    elif c.kind == ConnectionKind.mysql:
        for t in c.tables:
            if t.excluded:
                notes.append(f"`{t.qualified}`: {', '.join(t.excluded)} is pii(drop); the binlog's row images carry "
                             "it, the connector drops it (`column.exclude.list`) before any event is written and "
                             "the user cannot read it in the snapshot (column-level SELECT).")
    notes.append("The slot / binlog position only moves while the connector runs: while it is down the database "
                 "keeps the log it has not read. Alert on replication lag and on the connector's task state.")
    return ReadmeView(
        name=c.name, title=TITLES[c.kind], spec_file=spec_file, pipeline=c.pipeline, connection=c.connection,
        database=c.database or "(not set in the spec)", role=c.role, tables=rows, env=env, settings=settings,
        worker=worker, setup_command=setup, server=server, topics=sorted({t.topic for t in c.tables}),
        extra_topics=extra, verify=verify, decommission=decommission, contract=contract, dead_letters=dead,
        notes=notes)


def wire_contract(ir: Spec, c: Connector) -> list[str]:
    """What a consumer of the change topics reads, per the capture plan's envelope decision."""
    def topics(ts) -> str:
        return ", ".join(f"`{t.topic}`" for t in ts)

    envelope = [t for t in c.tables if t.envelope == "debezium"]
    rows = [t for t in c.tables if t.envelope == "rows"]
    out = [cdc_wire.settings_line() + " The message key is the table's key columns."]
    if envelope:
        out.append(f"{topics(envelope)}: the Debezium change envelope, not unwrapped (capture plan: a stream "
                   "processor reads it as a changelog): `before`, `after`, `op` (`r` snapshot, `c`, `u`, `d`), "
                   "`source`, `ts_ms`.")
    if rows:
        fields = ", ".join(f"`__{f.replace('.', '_')}`" for f in ROW_FIELDS[c.kind].split(","))
        out.append(f"{topics(rows)}: unwrapped rows (capture plan: only plain consumers read them): the row after "
                   f"the change plus {fields}; a delete is the old row with `__deleted: \"true\"`.")
    types = sorted({col.type.name for t in c.tables for col in ir.source(t.source).columns if col.name in t.columns})
    out += [f"Columns of type {line}" for line in cdc_wire.form_lines(types)]
    if not any(t.compacted for t in c.tables):
        out.append("No tombstones: the change topics are not compacted.")
    for t in c.tables:
        if t.raw_load == "from_topic":
            out.append(f"`{t.topic}` is also the batch path's raw copy of `{t.source}` (capture plan: raw load "
                       "from the topic): a Kafka -> warehouse sink connector lands it in the raw schema, unwrapped "
                       "to rows. streamc does not emit that connector yet; note that `ExtractNewRecordState` passes "
                       "schemaless JSON through unchanged, so it must unwrap `after` itself (or read a schemaful "
                       "topic).")
    return out
