"""The generated Dagster definitions on the real Dagster 1.13: they load, validate, match the IR, and materialize.

Every batch spec is emitted with `target_warehouse=duckdb` (and `target_storage=local`), its batch sources are
seeded in DuckDB from the column contracts (dagster_sample_data.py), then:
  * the batch harness (tests/realtools/batch/harness.py `dagster_load`) loads the module, runs
    `Definitions.validate_loadable`, describes it, and materializes every asset in process with
    `materialize(..., instance=DagsterInstance.ephemeral())` for yesterday's partition;
  * dagster_job_runner.py runs the pipeline's own job in process (the source gates included, as the
    schedule would), and evaluates the arrival sensor.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dagster_cases import (
    asset_deps,
    batch_models,
    batch_sources,
    compiled,
    emit,
    expected_checks,
    partitioned_models,
    spec_names,
    write,
)
from dagster_sample_data import seed_statements

pytestmark = pytest.mark.realtools

HERE = Path(__file__).resolve().parent
BATCH = HERE.parents[1] / "realtools" / "batch"
BATCH_SPECS = [n for n in spec_names() if batch_models(compiled(n))]


def load_harness():
    """tests/realtools/batch/harness.py, under the name its own conftest gives it."""
    name = "streamc_realtools_batch_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BATCH / "harness.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def harness():
    return load_harness()


class Pipeline:
    """One emitted pipeline in a scratch folder, with its DuckDB warehouse and environment."""

    def __init__(self, name: str, root: Path):
        self.name = name
        self.ir = compiled(name)
        self.module = write(emit(name, target_warehouse="duckdb", target_storage="local"), root)
        self.root = root
        self.db = root / "warehouse.duckdb"
        self.files = root / "files"
        self.files.mkdir()
        self.now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        self.day: date = (self.now - timedelta(days=1)).date()  # the last complete daily partition
        self.partition = self.day.isoformat() if partitioned_models(self.ir) else None
        text = self.module.read_text()
        env_names = [line.split()[0] for line in text.split('"""')[1].splitlines()
                     if line.strip().startswith(self.ir.pipeline.name.upper())]
        self.env = {n: str(self.db) if n.endswith("_DATABASE") else str(self.files) for n in env_names}

    def seed(self, extra: list[str] = ()) -> Path:
        statements = seed_statements(self.ir, batch_sources(self.ir), self.day, self.now) + list(extra)
        path = self.root / f"seed-{len(list(self.root.glob('seed-*')))}.json"
        path.write_text(json.dumps(statements))
        return path

    def key(self, node: str) -> str:
        return f"{self.ir.pipeline.name}/{node}"


def run_job_runner(harness, pipe: Pipeline, *args: str) -> dict:
    """dagster_job_runner.py in the batch-dagster tool env (the harness's env and error handling)."""
    py = harness.tool_python("batch-dagster")
    command = [str(py), str(HERE / "dagster_job_runner.py"), "--module-path", str(pipe.module), "--db", str(pipe.db),
               *args]
    proc = harness.toolenv.run_in_env(py, command[1:], cwd=pipe.root,
                                      env={**pipe.env, "DAGSTER_DISABLE_TELEMETRY": "1", "TMPDIR": str(pipe.root)},
                                      timeout=900)
    doc = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
    assert proc.returncode == 0 and "harness_error" not in doc, f"{doc.get('harness_error')}\n{proc.stderr[-6000:]}"
    return doc


@pytest.mark.parametrize("name", BATCH_SPECS)
def test_definitions_load_match_the_ir_and_materialize(harness, tmp_path: Path, name: str) -> None:
    pipe = Pipeline(name, tmp_path)
    ir = pipe.ir

    # 1. the pipeline job, as the schedule runs it: source gates, then models and their gates
    doc = run_job_runner(harness, pipe, "--seed", str(pipe.seed()), "--job", f"{ir.pipeline.name}_job",
                         *(["--partition", pipe.partition] if pipe.partition else []))
    job = doc["job"]
    assert job["success"], job["step_failures"]
    assert set(job["materialized"]) == {pipe.key(m) for m in batch_models(ir)}
    checks = expected_checks(ir)
    assert set(job["checks"]) == set(checks), "the job runs every gate of the plan, sources included"
    assert [k for k, v in job["checks"].items() if not v["passed"]] == []
    assert {k: v["severity"] for k, v in job["checks"].items()} == {k: v["severity"] for k, v in checks.items()}

    # 2. the harness: load, validate, describe, materialize every asset in process (a second, idempotent run)
    result = harness.dagster_load(pipe.module, materialize=True, partition=pipe.partition, cwd=pipe.root,
                                  env=pipe.env)
    harness.assert_dagster_ok(result)
    assert result["valid"] and result["dagster_version"].startswith("1.13.")
    assert {k: v["deps"] for k, v in result["assets"].items()} == asset_deps(ir)
    assert {k for k, v in result["assets"].items() if v["is_external"]} == {pipe.key(s) for s in batch_sources(ir)}
    assert {k: {"blocking": v["blocking"]} for k, v in result["asset_checks"].items()} == {
        k: {"blocking": v["blocking"]} for k, v in checks.items()}
    daily = {k for k, v in result["assets"].items()
             if (v["partitions_def"] or {}).get("type") == "DailyPartitionsDefinition"}
    assert daily == {pipe.key(m) for m in partitioned_models(ir)}
    assert f"{ir.pipeline.name}_job" in result["jobs"]
    assert set(result["resources"]) >= {c.name for c in ir.connections if c.is_warehouse and
                                        any(s.connection == c.name for s in ir.sinks)}

    mat = result["materialization"]
    model_checks = {k for k in checks if k.split(":")[0] in {pipe.key(m) for m in batch_models(ir)}}
    assert set(mat["materialized"]) == {pipe.key(m) for m in batch_models(ir)}
    assert set(mat["checks"]) == model_checks and mat["checks_not_evaluated"] == []
    assert all(v["passed"] for v in mat["checks"].values())
    for key, first in job["materialized"].items():  # re-running writes the same rows (idempotent)
        assert mat["materialized"][key]["metadata"].get("dagster/row_count") == first.get("dagster/row_count"), key


def test_duplicate_key_fails_the_uniqueness_gates_and_blocks_downstream(harness, tmp_path: Path) -> None:
    pipe = Pipeline("customer_marts", tmp_path)
    duplicate = "INSERT INTO raw_shop_db.orders SELECT * FROM raw_shop_db.orders WHERE id = 1"
    seed = pipe.seed([duplicate])

    # the models alone (harness materialize): the duplicate reaches the fact table; its unique check fails
    run_job_runner(harness, pipe, "--seed", str(seed))
    result = harness.dagster_load(pipe.module, materialize=True, partition=pipe.partition, cwd=pipe.root,
                                  env=pipe.env)
    checks = result["materialization"]["checks"]
    unique = checks[pipe.key("fct_customer_transactions") + ":unique_order_id"]
    assert (unique["passed"], unique["severity"], unique["metadata"]["failing_rows"]) == (False, "ERROR", 1)
    assert [k for k, v in checks.items() if not v["passed"]] == [pipe.key("fct_customer_transactions")
                                                                + ":unique_order_id"]

    # the pipeline job: the source's blocking unique gate fails first; nothing downstream of orders runs
    job = run_job_runner(harness, pipe, "--seed", str(seed), "--job", "customer_marts_job",
                         "--partition", pipe.partition)["job"]
    assert not job["success"]
    assert job["checks"][pipe.key("orders") + ":unique_id"]["passed"] is False
    assert set(job["materialized"]) == {pipe.key("stg_customers")}
    assert list(job["step_failures"]) == ["customer_marts__orders_unique_id"]


def test_arrival_sensor_waits_for_the_file_then_requests_the_partition(harness, tmp_path: Path) -> None:
    pipe = Pipeline("daily_file_drop", tmp_path)
    sensor = "partner_orders_daily_arrivals"
    waiting = run_job_runner(harness, pipe, "--sensor", sensor)["sensor"]
    path = f"raw/orders/{pipe.day.isoformat()}/data.parquet"
    due = datetime.combine(pipe.day + timedelta(days=1), datetime.min.time()) + timedelta(hours=7)  # 06:00 + 1h
    if pipe.now < due - timedelta(minutes=1):
        assert waiting["error"] is None and waiting["run_requests"] == []
        assert path in waiting["skip_message"]
    elif pipe.now > due + timedelta(minutes=1):
        assert "has not arrived by" in waiting["error"]["message"] and path in waiting["error"]["message"]

    (pipe.files / path).parent.mkdir(parents=True)
    (pipe.files / path).write_bytes(b"PAR1")
    arrived = run_job_runner(harness, pipe, "--sensor", sensor)["sensor"]
    assert arrived["error"] is None
    assert [(r["run_key"], r["partition_key"]) for r in arrived["run_requests"]] == [(pipe.day.isoformat(),) * 2]


@pytest.mark.parametrize("name, cron", [("customer_marts", "0 5 * * *"), ("payments_api_sync", "*/15 * * * *")])
def test_schedule_requests_the_last_complete_partition(harness, tmp_path: Path, name: str, cron: str) -> None:
    pipe = Pipeline(name, tmp_path)
    schedule = run_job_runner(harness, pipe, "--schedule", f"{pipe.ir.pipeline.name}_schedule")["schedule"]
    assert (schedule["cron_schedule"], schedule["execution_timezone"]) == (cron, "UTC")
    assert [r["partition_key"] for r in schedule["run_requests"]] == [pipe.partition]


def test_freshness_job_runs_only_the_freshness_gates(harness, tmp_path: Path) -> None:
    pipe = Pipeline("orders_analytics", tmp_path)
    run_job_runner(harness, pipe, "--seed", str(pipe.seed()), "--job", "orders_analytics_job",
                   "--partition", pipe.partition)
    job = run_job_runner(harness, pipe, "--job", "orders_analytics_freshness_job")["job"]
    assert job["success"] and job["materialized"] == {}
    assert set(job["checks"]) == {pipe.key("orders") + ":freshness_created_at",
                                  pipe.key("fct_orders") + ":freshness_created_at"}
    assert all(v["passed"] for v in job["checks"].values())


# ------------------------------------------------------------------ the spec's own warehouses (no DuckDB swap)

# The integrations the production modules import; an env of its own (the batch harness env has DuckDB only).
WAREHOUSE_ENV = ["dagster==1.13.27", "dagster-duckdb==0.29.27", "dagster-snowflake==0.29.27", "dagster-gcp==0.29.27",
                 "dagster-aws==0.29.27", "psycopg[binary]==3.2.10"]


@pytest.fixture(scope="module")
def warehouse_python(harness) -> Path:
    return harness.toolenv.ensure_env("dagster-warehouses", WAREHOUSE_ENV, python="3.11")


@pytest.mark.parametrize("name", BATCH_SPECS)
def test_production_definitions_load_with_the_real_integrations(harness, warehouse_python: Path, tmp_path: Path,
                                                                name: str) -> None:
    """Postgres (psycopg), Snowflake, BigQuery + S3 and DuckDB modules import and validate as emitted."""
    module = write(emit(name), tmp_path)
    proc = harness.toolenv.run_in_env(warehouse_python, [str(BATCH / "dagster_loader.py"), "--module-path",
                                                         str(module)], cwd=tmp_path,
                                      env={"DAGSTER_DISABLE_TELEMETRY": "1", "TMPDIR": str(tmp_path)})
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    assert doc["load_error"] is None and doc["valid"], doc.get("load_error") or doc.get("validation_error")
    ir = compiled(name)
    assert {k: v["deps"] for k, v in doc["assets"].items()} == asset_deps(ir)
    assert set(doc["asset_checks"]) == set(expected_checks(ir))


def load_postgres_server():
    path = HERE.parents[1] / "realtools" / "streaming" / "postgres_server.py"
    spec = importlib.util.spec_from_file_location("streamc_realtools_postgres_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_customer_marts_on_a_real_postgres_warehouse(harness, warehouse_python: Path, tmp_path: Path) -> None:
    """The spec's own warehouse (`dwh postgres as warehouse`): views, a rebuilt table, a day partition, type 2
    history and PII hashing/masking run on PostgreSQL through the generated psycopg resource."""
    pipe = Pipeline("customer_marts", tmp_path)
    pipe.module = write(emit("customer_marts"), tmp_path / "production")
    statements = seed_statements(pipe.ir, batch_sources(pipe.ir), pipe.day, pipe.now)
    with load_postgres_server().PostgresServer() as pg:
        pg.execute("CREATE SCHEMA marts")
        pg.execute(";\n".join(statements) + ";")
        env = {"CUSTOMER_MARTS_DWH_HOST": pg.host, "CUSTOMER_MARTS_DWH_PORT": str(pg.port),
               "CUSTOMER_MARTS_DWH_DATABASE": pg.dbname, "DWH_CREDENTIALS_USER": pg.superuser,
               "DWH_CREDENTIALS_PASSWORD": pg.password, "CUSTOMER_MARTS_DWH_SCHEMA": "marts",
               "DAGSTER_DISABLE_TELEMETRY": "1", "TMPDIR": str(tmp_path)}

        def run() -> dict:
            proc = harness.toolenv.run_in_env(
                warehouse_python, [str(HERE / "dagster_job_runner.py"), "--module-path", str(pipe.module),
                                   "--job", "customer_marts_job", "--partition", pipe.partition],
                cwd=tmp_path, env=env, timeout=900)
            doc = json.loads(proc.stdout.strip().splitlines()[-1])
            assert "harness_error" not in doc, doc["harness_error"]["traceback"]
            job = doc["job"]
            assert job["success"], job["step_failures"]
            assert [k for k, v in job["checks"].items() if not v["passed"]] == []
            assert set(job["checks"]) == set(expected_checks(pipe.ir))
            return job

        first = run()
        assert set(first["materialized"]) == {pipe.key(m) for m in batch_models(pipe.ir)}
        dim = pg.query("SELECT customer_id, email, first_name, is_current FROM marts.dim_customers "
                       "WHERE customer_id = 2")
        assert len(dim) == 1 and len(dim[0][1]) == 64 and dim[0][2].startswith("f") and set(dim[0][2][1:]) == {"*"}

        # customer 2 (sample status "churned") comes back as a prospect: the rerun closes its current version
        # and adds a new one (type 2 history); the day partition of the fact table is replaced, not appended
        pg.execute("UPDATE raw_shop_db.customers SET status = 'prospect', "
                   "updated_at = updated_at + interval '1 minute' WHERE id = 2")
        second = run()
        assert second["materialized"][pipe.key("fct_customer_transactions")]["dagster/row_count"] == \
            first["materialized"][pipe.key("fct_customer_transactions")]["dagster/row_count"]
        history = pg.query("SELECT status, is_current, valid_to = (SELECT updated_at FROM raw_shop_db.customers "
                           "WHERE id = 2)"
                           " FROM marts.dim_customers WHERE customer_id = 2 ORDER BY valid_from")
        assert [tuple(r) for r in history] == [("churned", "f", "t"), ("prospect", "t", None)]
        assert pg.query("SELECT count(*) FROM marts.dim_customers WHERE is_current")[0][0] == "24"
