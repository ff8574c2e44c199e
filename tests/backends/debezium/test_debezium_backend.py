"""The Debezium backend reads the capture and Kafka plans into connector configs, setup SQL and READMEs, and says
what it cannot express."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from streamc import cdc_wire
from streamc.backends.debezium import DebeziumBackend, DebeziumOptions
from streamc.ir import ConnectionKind, Spec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from debezium_cases import ALL, LOCAL, REFERENCE, cdc_names, compiled, emit  # noqa: E402

PROVIDER_REF = re.compile(r"^\$\{(env|file):[^}]+\}$")
CONNECTION_KEYS = ("database.hostname", "database.port", "database.user", "database.password")


def configs(files: dict[str, str]) -> dict[str, dict]:
    return {p.split("/")[1]: json.loads(t) for p, t in files.items() if p.endswith("connector.json")}


def test_cdc_specs_are_the_expected_ones():
    assert cdc_names(REFERENCE) == ["orders_analytics", "orders_cdc_kafka"]
    assert cdc_names(LOCAL) == ["mysql_shop", "pg_members", "sqlserver_billing"]


@pytest.mark.parametrize("name", sorted(ALL))
def test_files_per_captured_connection(name):
    spec = compiled(name)
    files = emit(spec)
    connections = sorted({spec.source(c.source).connection for c in spec.plan.captures if c.method == "log_cdc"})
    expected = sorted(f"debezium/{c}/{f}" for c in connections for f in ("README.md", "connector.json", "setup.sql"))
    assert sorted(files) == expected
    assert emit(spec) == files, "emit is deterministic"


@pytest.mark.parametrize("name", cdc_names(ALL))
def test_connector_follows_the_plan(name):
    spec = compiled(name)
    for conn_name, doc in configs(emit(spec)).items():
        assert set(doc) == {"name", "config"}
        cfg = doc["config"]
        assert all(isinstance(v, str) for v in cfg.values()), "Connect's REST API takes string values"
        conn = spec.connection(conn_name)
        caps = [c for c in spec.plan.captures
                if c.method == "log_cdc" and spec.source(c.source).connection == conn_name]
        cap = caps[0]
        assert "database.server.name" not in cfg, "removed in Debezium 2: topic.prefix"
        assert cfg["topic.prefix"] == cap.topic_prefix
        assert cfg["snapshot.mode"] == cap.snapshot_mode
        assert cfg["heartbeat.interval.ms"] == str(cap.heartbeat_ms)
        if conn.kind == ConnectionKind.postgres:
            assert cfg["plugin.name"] == "pgoutput"
            assert (cfg["slot.name"], cfg["publication.name"]) == (cap.slot_name, cap.publication_name)
            assert cfg["publication.autocreate.mode"] == "disabled"
        # connection values and credentials are provider references, never literals
        for key in CONNECTION_KEYS + (("database.dbname",) if conn.kind == ConnectionKind.postgres else ()):
            assert PROVIDER_REF.match(cfg[key]), (key, cfg[key])
        # source connectors have no dead-letter queue in Kafka Connect
        assert not [k for k in cfg if k.startswith("errors.deadletterqueue")]
        assert cfg["errors.tolerance"] in ("none", "all")
        # each captured table is routed to the topic the Kafka plan names
        routes = cfg["transforms"].split(",")
        targets = {}
        for c in caps:
            src = spec.source(c.source)
            schema, _, table = src.location.value.rpartition(".")
            default = (f"{cap.topic_prefix}.{schema}.{table}" if conn.kind != ConnectionKind.sqlserver else
                       f"{cap.topic_prefix}.{conn.setting('database').text}.{schema}.{table}")
            topic = next(t.name for t in spec.plan.topics if t.node == f"source:{c.source}" and t.purpose == "cdc")
            matching = [r for r in routes if cfg.get(f"transforms.{r}.type", "").endswith("RegexRouter")
                        and re.fullmatch(cfg[f"transforms.{r}.regex"], default)]
            assert len(matching) == 1, (default, routes)
            targets[c.source] = cfg[f"transforms.{matching[0]}.replacement"]
            assert targets[c.source] == topic
            assert re.fullmatch(cfg["table.include.list"].replace(",", "|"), f"{schema}.{table}")
        # unwrap exactly when the plan says the topics carry rows
        rows = {c.envelope for c in caps} == {"rows"}
        assert ("unwrap" in routes) == rows
        if rows:
            assert cfg["transforms.unwrap.type"] == "io.debezium.transforms.ExtractNewRecordState"
            assert cfg["transforms.unwrap.delete.tombstone.handling.mode"] in ("rewrite", "rewrite-with-tombstone")
            assert "drop.tombstones" not in json.dumps(cfg) and "delete.handling.mode" not in cfg


@pytest.mark.parametrize("name", cdc_names(ALL))
def test_pii_drop_columns_are_never_captured(name):
    """The config's captured columns of a table (its contract minus column.exclude.list) hold no pii(drop) column."""
    spec = compiled(name)
    for conn_name, doc in configs(emit(spec)).items():
        cfg = doc["config"]
        excludes = [p for p in cfg.get("column.exclude.list", "").split(",") if p]
        for cap in (c for c in spec.plan.captures if c.method == "log_cdc"):
            src = spec.source(cap.source)
            if src.connection != conn_name:
                continue
            dropped = {c.name for c in src.columns if c.pii and c.pii.strategy.value == "drop"}
            assert set(cap.excluded_columns) == dropped
            captured = {c.name for c in src.columns
                        if not any(re.fullmatch(p, f"{src.location.value}.{c.name}") for p in excludes)}
            assert captured == set(cap.captured_columns)
            assert not captured & dropped


@pytest.mark.parametrize("name", cdc_names(ALL))
def test_setup_sql_has_no_secret_and_follows_the_plan(name):
    spec = compiled(name)
    files = emit(spec)
    for path, text in files.items():
        if not path.endswith("setup.sql"):
            continue
        assert not re.search(r"PASSWORD\s*=?\s*N?'[^$]", text), "no password literal"
        conn = spec.connection(path.split("/")[1])
        caps = [c for c in spec.plan.captures
                if c.method == "log_cdc" and spec.source(c.source).connection == conn.name]
        if conn.kind == ConnectionKind.postgres:
            assert "PASSWORD :'debezium_password'" in text
            assert f"quote_ident('{caps[0].publication_name}')" in text
            for c in caps:
                table = spec.source(c.source).location.value
                assert (f"ALTER TABLE {table} REPLICA IDENTITY FULL;" in text) == (c.replica_identity == "full")
        elif conn.kind == ConnectionKind.mysql:
            assert "REPLICATION SLAVE, REPLICATION CLIENT ON *.*" in text and "QUOTE(@debezium_password)" in text
        else:
            assert "EXEC sys.sp_cdc_enable_db;" in text and "$(DEBEZIUM_PASSWORD)" in text
        for c in caps:
            for col in c.excluded_columns:
                # never granted, never in a publication column list / capture instance
                granted = re.findall(r"GRANT SELECT \(([^)]*)\)|GRANT SELECT ON \S+ \(([^)]*)\)|@captured_column_list "
                                     r"= N'([^']*)'|^\s+\S+ \(([^)]*)\)[,;]$", text, re.M)
                assert granted, "column-level grants where a column is dropped"
                assert all(col not in " ".join(g) for g in granted), col


def test_pg_column_list_only_where_replica_identity_allows_it():
    members = emit(compiled("pg_members"))["debezium/club_db/setup.sql"]
    assert "crm.members (id, nickname, joined_at);" in members, "identity DEFAULT: column list without birth_date"
    assert "Needs PostgreSQL 15 or later" in members
    orders = emit(compiled("orders_cdc_kafka"))["debezium/ecommerce_db/setup.sql"]
    assert "    public.orders;" in orders, "identity FULL: a column list would make UPDATE/DELETE fail"
    assert "GRANT SELECT (id, customer_id, status, total_amount, created_at, updated_at) ON TABLE public.orders" \
        in orders


def test_mysql_and_sqlserver_connectors():
    my = configs(emit(compiled("mysql_shop")))["shop_db"]["config"]
    assert my["connector.class"] == "io.debezium.connector.mysql.MySqlConnector"
    assert my["database.server.id"] == "${env:SHOP_DB_SERVER_ID}"
    assert my["schema.history.internal.kafka.bootstrap.servers"] == "${env:EVENTS_BOOTSTRAP_SERVERS}"
    assert my["column.exclude.list"] == r"shop\.customers\.email"
    assert my["transforms.unwrap.add.fields"] == "op,source.ts_ms,file,pos,row"
    assert my["include.schema.changes"] == "false"
    ms = configs(emit(compiled("sqlserver_billing")))["billing_db"]["config"]
    assert ms["connector.class"] == "io.debezium.connector.sqlserver.SqlServerConnector"
    assert ms["database.names"] == "${env:BILLING_DB_DATABASE}"
    assert ms["column.exclude.list"] == r"dbo\.invoices\.iban"
    assert re.fullmatch(ms["transforms.route_invoices.regex"], "billing.any_database_name.dbo.invoices")
    sql = emit(compiled("sqlserver_billing"))["debezium/billing_db/setup.sql"]
    assert "@captured_column_list = N'[id], [customer_id], [amount], [issued_at]'" in sql


def test_file_secrets_option():
    cfg = configs(emit(compiled("orders_cdc_kafka"), secrets="file", secrets_dir="/run/secrets"))["ecommerce_db"]
    assert cfg["config"]["database.password"] == \
        "${file:/run/secrets/ecommerce_cdc_credentials.properties:password}"
    readme = emit(compiled("orders_cdc_kafka"), secrets="file")["debezium/ecommerce_db/README.md"]
    assert "config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider" in readme


def test_readme_documents_deployment_and_dead_letter():
    readme = emit(compiled("orders_cdc_kafka"))["debezium/ecommerce_db/README.md"]
    for needle in ("config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider",
                   "ECOMMERCE_CDC_CREDENTIALS_PASSWORD", "/connectors/orders_cdc.ecommerce_db/config",
                   "`ecommerce.order_events.dlq` (sink `order_events`)", "__debezium-heartbeat.ecommerce",
                   "`ecommerce.order_items.changes`, `ecommerce.orders.changes`: unwrapped rows"):
        assert needle in readme, needle
    analytics = emit(compiled("orders_analytics"))["debezium/ecommerce_db/README.md"]
    assert "the Debezium change envelope, not unwrapped" in analytics
    assert "raw copy of `orders`" in analytics


def test_every_connector_writes_the_wire_contract():
    """The settings of streamc.cdc_wire (which the Flink backend reads by) are in every connector, unchanged; the
    README lists the wire form of each captured column type."""
    wanted = {k: v for k, v, _ in cdc_wire.VALUE_SETTINGS + cdc_wire.CONVERTER_SETTINGS}
    for name in cdc_names(ALL):
        for conn, doc in configs(emit(compiled(name))).items():
            assert {k: doc["config"].get(k) for k in wanted} == wanted, (name, conn)
    readme = emit(compiled("pg_members"))["debezium/club_db/README.md"]
    assert cdc_wire.settings_line() in readme
    assert '- Columns of type timestamp: the value as stored (not shifted to UTC)' in readme
    assert "Columns of type date" not in readme  # only the captured columns' types (birth_date is pii(drop))


# ------------------------------------------------------------------------------------------ what it cannot express
def _replace(spec, **update):
    """A changed copy of a Spec (model_copy would carry over its cached name index)."""
    return Spec(**{**{k: getattr(spec, k) for k in Spec.model_fields}, **update})


def _with_plan(spec, **update):
    return _replace(spec, plan=spec.plan.model_copy(update=update))


def _diag(spec) -> list[str]:
    diags = DebeziumBackend().check(spec, DebeziumOptions())
    assert all(d.code == "E120" for d in diags)
    return [d.message for d in diags]


def test_check_reports_disagreeing_captures_of_one_connection():
    spec = compiled("orders_cdc_kafka")
    caps = tuple(c.model_copy(update={"slot_name": "other_slot"}) if c.source == "orders" else c
                 for c in spec.plan.captures)
    messages = _diag(_with_plan(spec, captures=caps))
    assert any("different slot_name" in m for m in messages), messages
    with pytest.raises(ValueError, match="run check"):
        DebeziumBackend().emit(_with_plan(spec, captures=caps), DebeziumOptions())


def test_check_reports_missing_topic_envelope_and_lost_key():
    spec = compiled("orders_cdc_kafka")
    no_topic = _with_plan(spec, topics=tuple(t for t in spec.plan.topics if t.node != "source:orders"))
    assert any("0 change topics" in m for m in _diag(no_topic))
    caps = tuple(c.model_copy(update={"envelope": None}) for c in spec.plan.captures)
    assert any("change envelope" in m for m in _diag(_with_plan(spec, captures=caps)))
    caps = tuple(c.model_copy(update={"excluded_columns": ("id",), "captured_columns": ("customer_id",)})
                 if c.source == "orders" else c for c in spec.plan.captures)
    assert any("key column(s) id" in m for m in _diag(_with_plan(spec, captures=caps)))


def test_check_reports_log_capture_it_cannot_run():
    spec = compiled("orders_cdc_kafka")
    conns = tuple(c.model_copy(update={"kind": ConnectionKind.snowflake}) if c.name == "ecommerce_db" else c
                  for c in spec.connections)
    messages = _diag(_replace(spec, connections=conns))
    assert messages == ["backend 'debezium' cannot express log-based capture (Debezium) from a snowflake connection"]
    caps = tuple(c.model_copy(update={"snapshot_mode": "sometimes"}) for c in spec.plan.captures)
    assert any("snapshot mode 'sometimes'" in m for m in _diag(_with_plan(spec, captures=caps)))


def test_old_snapshot_mode_names_map_to_debezium_3():
    spec = compiled("orders_cdc_kafka")
    caps = tuple(c.model_copy(update={"snapshot_mode": "schema_only"}) for c in spec.plan.captures)
    cfg = configs(emit(_with_plan(spec, captures=caps)))["ecommerce_db"]["config"]
    assert cfg["snapshot.mode"] == "no_data"
