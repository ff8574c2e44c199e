"""Unit tests of the dbt backend: profiles without literals, PII in staging, modern dbt syntax, diagnostics, samples."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import yaml

from dbt_cases import ROOT, batch_spec_names, compiled, emit
from streamc.backends.dbt import DbtBackend, DbtOptions
from streamc.backends.dbt.project import build_project
from streamc.backends.dbt.samples import regex_sample, sample_tables
from streamc.backends.dbt.jinja_text import Template
from streamc.backends.dbt.yaml_text import dump
from streamc.compiler import compile_files

ENV_LOOKUP = re.compile(r"^\{\{ env_var\('[A-Z0-9_]+'(, '[^']*')?\)( \| as_number)? \}\}$")
BUILTIN_TESTS = {"unique", "not_null", "accepted_values", "relationships"}


def _yaml_files(files: dict[str, str]) -> dict[str, object]:
    return {p: yaml.safe_load(t) for p, t in files.items() if p.endswith(".yml")}


def _tests(node: object):
    """Every data test entry anywhere in a parsed YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data_tests":
                yield from value
            else:
                yield from _tests(value)
    elif isinstance(node, list):
        for item in node:
            yield from _tests(item)


def test_no_batch_side_emits_nothing() -> None:
    assert emit("orders_cdc_kafka") == {}
    assert DbtBackend().check(compiled("orders_cdc_kafka"), DbtOptions()) == []


@pytest.mark.parametrize("name", batch_spec_names())
def test_profiles_read_every_setting_from_the_environment(name: str) -> None:
    doc = yaml.safe_load(emit(name)["dbt/profiles.yml"])
    (profile,) = doc.values()
    envs = {e.name for e in compiled(name).environments}
    assert set(profile["outputs"]) == envs
    assert ENV_LOOKUP.match(profile["target"])
    for output in profile["outputs"].values():
        assert output["type"] in ("postgres", "snowflake", "bigquery", "duckdb")
        for key, value in output.items():
            if key != "type":
                assert ENV_LOOKUP.match(str(value)), (key, value)


def test_per_environment_schema_defaults_come_from_env_blocks() -> None:
    outputs = yaml.safe_load(emit("customer_marts")["dbt/profiles.yml"])["customer_marts"]["outputs"]
    assert outputs["dev"]["schema"] == "{{ env_var('DWH_SCHEMA', 'dev_marts') }}"
    assert outputs["prod"]["schema"] == "{{ env_var('DWH_SCHEMA', 'marts') }}"
    assert outputs["prod"]["password"] == "{{ env_var('DWH_CREDENTIALS_PASSWORD') }}"


@pytest.mark.parametrize("name", batch_spec_names())
def test_generic_tests_use_todays_arguments_syntax(name: str) -> None:
    files = emit(name)
    macros = {Path(p).stem for p in files if p.startswith("dbt/macros/")}
    seen = 0
    for doc in _yaml_files(files).values():
        for entry in _tests(doc):
            seen += 1
            test_name = entry if isinstance(entry, str) else next(iter(entry))
            assert test_name in BUILTIN_TESTS or test_name in macros, test_name  # no package needed
            if isinstance(entry, dict):
                body = entry[test_name]
                assert set(body) <= {"arguments", "config"}, body
                assert set(body.get("config", {})) <= {"severity"}
    assert seen > 0


def test_freshness_and_loaded_at_field_on_sources() -> None:
    doc = yaml.safe_load(emit("customer_marts")["dbt/models/sources.yml"])
    tables = {t["name"]: t for s in doc["sources"] for t in s["tables"]}
    cfg = tables["customers"]["config"]
    assert cfg["loaded_at_field"] == "updated_at"
    assert cfg["freshness"] == {"error_after": {"count": 26, "period": "hour"}}
    assert all(c.get("description") for t in tables.values() for c in t["columns"])


def test_staging_applies_pii_per_warehouse() -> None:
    pg = emit("customer_marts")["dbt/models/staging/stg_customers.sql"]
    assert "ENCODE(SHA256(CONVERT_TO(email, 'UTF8')), 'hex') AS email" in pg
    assert "LEFT(first_name, 1) || '****' END AS first_name" in pg
    assert "FROM {{ source('shop_db', 'customers') }}" in pg
    duck = emit("customer_marts", target_warehouse="duckdb")["dbt/models/staging/stg_customers.sql"]
    assert "SHA256(email) AS email" in duck
    # orders_analytics: customers.first_name is pii(drop): never selected, nor listed as a raw column
    files = emit("orders_analytics")
    assert "first_name" not in files["dbt/models/staging/stg_customers.sql"]
    assert "LEFT(email, 1) || '****'" in files["dbt/models/staging/stg_customers.sql"]


def test_models_ref_each_other_and_carry_plan_configs() -> None:
    files = emit("payments_api_sync")
    fct = files["dbt/models/marts/fct_transactions.sql"]
    assert "unique_key='transaction_id'" in fct and "incremental_strategy='merge'" in fct
    assert "FROM {{ ref('stg_transactions') }}" in fct
    assert "{% if is_incremental() %}" in fct and "updated_at >= (SELECT MAX(already_loaded.updated_at)" in fct
    assert files["dbt/tests/no_settled_without_completion.sql"].count("{{ ref('fct_transactions') }}") == 1


def test_partition_overwrite_per_warehouse() -> None:
    bq = emit("daily_file_drop")["dbt/models/marts/fct_partner_orders_daily.sql"]
    assert "incremental_strategy='insert_overwrite'" in bq
    assert "partition_by={'field': 'order_date', 'data_type': 'date', 'granularity': 'day'}" in bq
    duck = emit("daily_file_drop", target_warehouse="duckdb")["dbt/models/marts/fct_partner_orders_daily.sql"]
    assert "incremental_strategy='delete+insert'" in duck and "unique_key='order_date'" in duck
    assert "partition_by" not in duck
    sf = emit("orders_analytics")["dbt/models/marts/fct_orders.sql"]
    assert "cluster_by=['TO_DATE(created_at)', 'customer_id']" in sf


def test_scd2_history_is_a_yaml_snapshot() -> None:
    files = emit("customer_marts")
    snap = yaml.safe_load(files["dbt/snapshots/dim_customers_history.yml"])["snapshots"][0]
    assert snap["relation"] == "ref('dim_customers_current')"
    assert snap["config"]["strategy"] == "timestamp" and snap["config"]["updated_at"] == "updated_at"
    assert snap["config"]["unique_key"] == "customer_id"
    assert "valid_to IS NULL AS is_current" in files["dbt/models/marts/dim_customers.sql"]
    project = yaml.safe_load(files["dbt/dbt_project.yml"])
    assert project["snapshot-paths"] == ["snapshots"] and project["name"] == "customer_marts"


def test_emit_is_deterministic() -> None:
    for name in batch_spec_names():
        assert emit(name, target_warehouse="duckdb", samples=8) == emit(name, target_warehouse="duckdb", samples=8)


def test_samples_need_duckdb() -> None:
    problems = DbtBackend().check(compiled("customer_marts"), DbtOptions(samples=4))
    assert [p.code for p in problems] == ["E120"]
    assert "target_warehouse=duckdb" in problems[0].hint


def test_encrypt_in_duckdb_is_reported(tmp_path: Path) -> None:
    text = (ROOT / "specs" / "payments_api_sync.stream").read_text()
    text = text.replace("select transaction_id, amount,", "select transaction_id, customer_email, amount,")
    spec_file = tmp_path / "payments.stream"
    spec_file.write_text(text)
    result = compile_files([str(spec_file)])
    assert result.ok
    problems = DbtBackend().check(result.spec, DbtOptions())
    assert any("encrypting transactions.customer_email" in p.message for p in problems)


def test_sample_rows_respect_the_contracts() -> None:
    project = build_project(compiled("daily_file_drop"), local=True)
    rows = list(csv.DictReader(io.StringIO(sample_tables(project, 40)["raw_orders"])))
    assert len(rows) == 40 and len({r["order_id"] for r in rows}) == 40
    assert all(re.search(r"^[A-Z]{3}-[0-9]{4,}$", r["sku"]) for r in rows)
    assert all(1 <= int(r["quantity"]) <= 10000 for r in rows)
    project = build_project(compiled("orders_analytics"), local=True)
    tables = sample_tables(project, 24)
    customers = {r["id"] for r in csv.DictReader(io.StringIO(tables["customers"]))}
    orders = list(csv.DictReader(io.StringIO(tables["orders"])))
    assert {r["customer_id"] for r in orders} <= customers
    assert {r["status"] for r in orders} == {"pending", "completed", "failed"}
    assert all(float(r["total_amount"]) >= 0 for r in orders)


def test_regex_sample_matches() -> None:
    for pattern in (r"^[A-Z]{3}-[0-9]{4,}$", r"^(ab|cd)\d{2}x?$", r"^[a-f0-9]{8}$"):
        for i in range(20):
            assert re.search(pattern, regex_sample(pattern, i)), (pattern, regex_sample(pattern, i))


def test_yaml_writer_round_trips() -> None:
    value = {
        "a": ["yes", "no", "1.0", "x: y", "# c", Template("{{ env_var('X') }}"), Template("ref('m')"), "+tag", ""],
        "b": {"c": None, "d": True, "e": 2.5, "f": []},
        "g": [{"h": 1, "i": [1, 2]}],
    }
    assert yaml.safe_load(dump(value, "header")) == value


def test_yaml_writer_escapes_spec_text_for_dbts_jinja() -> None:
    """Text that is not a Template is spec text: dbt renders it back to exactly that text, never runs it."""
    import jinja2

    texts = ["{{ env_var('X') }}", "{% if x %}", "{# c #}", "a {{{ b", "ref('m')", "env_var('SECRET')"]
    loaded = yaml.safe_load(dump({"a": texts}))["a"]
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    assert [env.from_string(t).render() for t in loaded] == texts


def test_without_a_plan_the_gaps_are_visible() -> None:
    """Before the passes decide, only the spec's own pins are used, and the files say so."""
    from streamc.ir import Plan

    ir = compiled("payments_api_sync").model_copy(update={"plan": Plan()})
    files = DbtBackend().emit(ir, DbtOptions())
    assert "dbt/models/unplanned/stg_transactions.sql" in files
    fct = files["dbt/models/unplanned/fct_transactions.sql"]
    assert "streamc GAP" in fct and "WITH stg_transactions AS" in fct  # incremental, as the spec pins it
    assert "materialized='view'" in files["dbt/models/unplanned/stg_transactions.sql"]  # dbt's default
    folders = yaml.safe_load(files["dbt/dbt_project.yml"])["models"]["payments_sync"]
    assert folders["unplanned"]["+materialized"] == "incremental"
    sources = yaml.safe_load(files["dbt/models/sources.yml"])
    (table,) = sources["sources"][0]["tables"]
    tests = {c["name"]: c.get("data_tests", []) for c in table["columns"]}
    assert tests["transaction_id"] == ["unique", "not_null"]  # the contract is tested without gates too
