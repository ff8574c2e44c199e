"""Credentials: a literal one in a spec is an error (E109) under any spelling of its key or inside a connection
string; no backend writes one for any spec in specs/, and each refers to secrets the way its tool resolves them."""

from __future__ import annotations

import ast
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from backend_runs import backend_names, run_backend
from credential_scan import credential_literals
from streamc.compiler import compile_files, compile_text

# not `from conftest import SPECS`: this folder is collected after tests/realtools, whose conftest modules
# take the name `conftest` by then
SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.stream"))

SPEC_HEAD = """\
pipeline crm {
  owner "data-team"
  tier  standard
  latency < 24h
  schedule daily at 06:00 UTC
}

connection dwh postgres as warehouse { credentials secret dwh_credentials }
"""
SPEC_TAIL = """
source contacts from crm_db {
  table   public.contacts
  capture incremental(updated_at)
  columns {
    id         bigint    primary key
    updated_at timestamp not null
  }
}

sink raw to dwh { sources contacts }

expect contacts { unique id }
"""

KEYS = ["password", "Password", "PASSWD", "pwd", "passphrase", "secret", "client_secret", "token", "auth_token",
        "sas_token", "api_key", "apikey", "ApiKey", "access_key", "accessKey", "secret_key",
        "private_key", "account_key", "credentials", "credential", "auth"]
INNOCENT_KEYS = ["database", "schema", "host", "user", "port", "bucket", "project", "dataset", "base_url", "key_column",
                 "keyspace", "warehouse", "role"]
CONNECTION_STRINGS = [
    "postgres://app:hunter2@db.internal:5432/shop",
    "mysql+pymysql://root:toor@localhost/db",
    "https://deploy:ghp_x1y2z3@git.example.com/repo",
    "Server=db;Database=shop;User Id=app;Password=hunter2;",
    "host=db dbname=shop user=app password=hunter2",
    "jdbc:postgresql://db/shop?user=app&password=hunter2",
    "Driver={ODBC};Uid=app;Pwd=hunter2",
]
INNOCENT_VALUES = ["https://api.payments.example.com", "postgres://db.internal:5432/shop", "https://user@host/x",
                   "raw/{date}/data.parquet", "password reset emails"]


def spec_with_setting(key: str, value: str) -> tuple[str, int, int]:
    """A spec whose source connection has the setting; the (line, column) of its value."""
    line = f'connection crm_db postgres {{ {key} "{value}" }}'
    text = SPEC_HEAD + line + "\n" + SPEC_TAIL
    row = text[: text.index(line)].count("\n") + 1
    return text, row, line.index('"') + 1


def spec_with_override(key: str, value: str) -> tuple[str, int, int]:
    line = f'env prod {{ crm_db.{key} "{value}" }}'
    text = SPEC_HEAD + 'connection crm_db postgres { credentials secret crm_credentials }\n' + line + "\n" + SPEC_TAIL
    row = text[: text.index(line)].count("\n") + 1
    return text, row, line.index('"') + 1


def e109_positions(text: str) -> list[tuple[int, int]]:
    result = compile_text(text, "secrets.stream")
    return [(d.span.line, d.span.column) for d in result.diagnostics if d.code == "E109"]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("place", [spec_with_setting, spec_with_override], ids=["setting", "env-override"])
def test_a_credential_key_with_a_literal_value_is_an_error_at_the_value(place, key):
    text, line, column = place(key, "hunter2")
    assert (line, column) in e109_positions(text)


@pytest.mark.parametrize("value", CONNECTION_STRINGS)
@pytest.mark.parametrize("key", ["url", "dsn", "connection_string", "jdbc_url"])
@pytest.mark.parametrize("place", [spec_with_setting, spec_with_override], ids=["setting", "env-override"])
def test_a_connection_string_holding_a_password_is_an_error(place, key, value):
    text, line, column = place(key, value)
    assert (line, column) in e109_positions(text)


@pytest.mark.parametrize("key", KEYS)
def test_the_same_keys_referring_to_a_named_secret_are_fine(key):
    text = SPEC_HEAD + f"connection crm_db postgres {{ {key} secret crm_{key.lower().replace('-', '_')} }}\n" + SPEC_TAIL
    assert e109_positions(text) == []


@pytest.mark.parametrize("key", INNOCENT_KEYS)
@pytest.mark.parametrize("value", INNOCENT_VALUES)
def test_ordinary_settings_are_not_mistaken_for_credentials(key, value):
    text, _, _ = spec_with_setting(key, value)
    assert e109_positions(text) == []


# ------------------------------------------------------------------ what the backends write


@lru_cache(maxsize=None)
def spec_build(path: str, backend: str) -> dict[str, str]:
    from pathlib import Path

    result = compile_files([Path(path)])
    assert result.ok
    run = run_backend(result.spec, backend)
    assert run.crash is None and not [d for d in run.diagnostics if d.severity == "error"], (backend, run.crash)
    return run.files


@lru_cache(maxsize=None)
def secret_names(path: str) -> frozenset[str]:
    from pathlib import Path

    spec = compile_files([Path(path)]).spec
    names = {st.value.text for c in spec.connections for st in c.settings if st.value.kind == "secret"}
    names |= {s.api.auth_secret for s in spec.sources if s.api and s.api.auth_secret}
    return frozenset(names)


@pytest.mark.parametrize("backend", backend_names())
@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_no_backend_writes_a_credential_for_the_shipped_specs(spec, backend):
    files = spec_build(str(spec), backend)
    found = {path: credential_literals(path, text, secret_names(str(spec))) for path, text in files.items()}
    assert not {p: f for p, f in found.items() if f}


@pytest.mark.parametrize("path, text", [
    ("a.py", 'connect(host="db", password="hunter2")\n'),
    ("a.py", 'API_TOKEN = "abc"\n'),
    ("a.py", 'URL = "postgres://app:hunter2@db/shop"\n'),
    ("a.yml", "outputs:\n  dev:\n    password: hunter2\n"),
    ("a.json", '{"config": {"database.password": "hunter2"}}'),
    ("a.sql", "ALTER ROLE app WITH LOGIN PASSWORD 'hunter2';\n"),
    ("a.md", "export DSN='Server=db;Password=hunter2;'\n"),
    ("a.txt", "key: Zx8Qm2Lp9Vt4Rw7Ky3Nb6Hc1Jd5Fg0Sa\n"),
])
def test_the_scan_finds_a_written_credential(path, text):
    """The scan above could fail: each of these is found."""
    assert credential_literals(path, text)


@pytest.mark.parametrize("path, text", [
    ("a.py", 'connect(password=dg.EnvVar("DWH_PASSWORD"))\n'),
    ("a.yml", "password: \"{{ env_var('DWH_PASSWORD') }}\"\n"),
    ("a.json", '{"database.password": "${env:DWH_PASSWORD}"}'),
    ("a.sql", "ALTER ROLE app WITH LOGIN PASSWORD :'debezium_password';\n"),
    ("a.txt", "code_version 8b70572d7eb26187c0ffee11deadbeef00112233 and stg_customers_history_snapshot_key\n"),
])
def test_the_scan_accepts_references(path, text):
    assert credential_literals(path, text) == []


# ------------------------------------------------------------------ how each tool is told where a secret is

def credentialed_specs() -> list:
    return [s for s in SPECS if secret_names(str(s))]


ENV_REF = re.compile(r"\{\{ env_var\('[A-Z][A-Z0-9_]*'\) \}\}")


@pytest.mark.parametrize("spec", credentialed_specs(), ids=lambda p: p.stem)
def test_dbt_profiles_read_credentials_with_env_var(spec):
    files = spec_build(str(spec), "dbt")
    if "dbt/profiles.yml" not in files:
        pytest.skip("no batch side")
    doc = yaml.safe_load(files["dbt/profiles.yml"])
    outputs = next(iter(doc.values()))["outputs"]
    for target in outputs.values():
        for key in ("user", "password", "token", "private_key", "keyfile_json", "keyfile"):
            if key in target:
                assert ENV_REF.fullmatch(target[key]), (key, target[key])


@pytest.mark.parametrize("spec", credentialed_specs(), ids=lambda p: p.stem)
def test_dagster_resources_read_credentials_with_envvar(spec):
    files = spec_build(str(spec), "dagster")
    seen = 0
    for path, text in files.items():
        if not path.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.keyword) and node.arg in ("user", "password", "token", "gcp_credentials",
                                                                 "private_key", "api_key"):
                seen += 1
                call = node.value
                func = call.func if isinstance(call, ast.Call) else None
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                inner = func.value.attr if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) \
                    else None
                ok = name == "EnvVar" or inner == "EnvVar" or isinstance(call, ast.Attribute)  # self.password
                assert ok, ast.unparse(node)
    warehouse_secret = any(c.is_warehouse and any(st.value.kind == "secret" for st in c.settings)
                           for c in compile_files([spec]).spec.connections)
    assert seen or not warehouse_secret, "the warehouse resource names no credential at all"


@pytest.mark.parametrize("spec", credentialed_specs(), ids=lambda p: p.stem)
def test_debezium_connectors_read_credentials_through_config_providers(spec):
    files = spec_build(str(spec), "debezium")
    for path, text in files.items():
        if path.endswith("connector.json"):
            config = json.loads(text)["config"]
            for key in ("database.user", "database.password"):
                assert re.fullmatch(r"\$\{(env|file):[^}]+\}", config[key]), (key, config[key])


@pytest.mark.parametrize("spec", credentialed_specs(), ids=lambda p: p.stem)
def test_flink_connector_options_hold_only_placeholders_for_credentials(spec):
    for path, text in spec_build(str(spec), "flink").items():
        for key, value in re.findall(r"'([\w.-]*(?:password|username|user|token)[\w.-]*)'\s*=\s*'([^']*)'", text):
            assert re.fullmatch(r"\$\{[A-Z][A-Z0-9_]*\}", value), (path, key, value)


@pytest.mark.parametrize("spec", credentialed_specs(), ids=lambda p: p.stem)
def test_airflow_reaches_databases_through_connection_ids_only(spec):
    for path, text in spec_build(str(spec), "airflow").items():
        if not path.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.keyword) and node.arg in ("password", "login", "token", "extra"):
                raise AssertionError(f"{path}: {ast.unparse(node)}")
