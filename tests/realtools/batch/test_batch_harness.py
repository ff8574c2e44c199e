"""Self-tests of the batch harnesses on hand-written samples: each harness must PASS good
artefacts and CATCH broken ones, on the real dbt / Airflow / Dagster."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent / "samples"

pytestmark = pytest.mark.realtools


def _by_name(result: dict) -> dict:
    return {r["name"]: r for r in result["results"]}


# --------------------------------------------------------------------------- dbt


def test_dbt_build_passes_and_reports_every_node(harness, dbt_project):
    result = harness.dbt_build(dbt_project, dbt_project, "dev")
    harness.assert_dbt_ok(result)
    nodes = _by_name(result)
    assert {n for n, r in nodes.items() if r["resource_type"] == "model"} == {"stg_orders", "customer_totals"}
    assert result["summary"] == {"success": 2, "pass": 5}
    assert nodes["stg_orders"]["depends_on"] == ["source.shop.raw.orders"]
    unique = nodes["unique_stg_orders_order_id"]
    assert (unique["test_name"], unique["attached_node"], unique["column_name"]) == (
        "unique",
        "model.shop.stg_orders",
        "order_id",
    )
    assert unique["failures"] == 0

    tables = harness.duckdb_tables(dbt_project / "shop.duckdb")
    assert tables["main.stg_orders"] == [
        [1, 10, "25.00", "2024-01-01"],
        [2, 11, "40.50", "2024-01-01"],
        [3, 10, "12.25", "2024-01-02"],
        [4, 12, "99.99", "2024-01-03"],
    ]
    assert tables["main.customer_totals"] == [[10, 2, "37.25"], [11, 1, "40.50"], [12, 1, "99.99"]]


def test_dbt_build_is_idempotent_and_takes_vars(harness, dbt_project):
    harness.assert_dbt_ok(harness.dbt_build(dbt_project, dbt_project, "dev"))
    first = harness.duckdb_tables(dbt_project / "shop.duckdb")
    harness.assert_dbt_ok(harness.dbt_build(dbt_project, dbt_project, "dev"))
    assert harness.duckdb_tables(dbt_project / "shop.duckdb") == first

    harness.assert_dbt_ok(harness.dbt_build(dbt_project, dbt_project, "dev", vars={"min_amount": 20}))
    filtered = harness.duckdb_tables(dbt_project / "shop.duckdb")
    assert [row[0] for row in filtered["main.stg_orders"]] == [1, 2, 4]


def test_dbt_broken_sql_fails_the_build(harness, dbt_project):
    (dbt_project / "models" / "stg_orders.sql").write_text("selec order_id frm {{ source('raw', 'orders') }}\n")
    result = harness.dbt_build(dbt_project, dbt_project, "dev")
    assert result["success"] is False
    nodes = _by_name(result)
    assert nodes["stg_orders"]["status"] == "error"
    assert "syntax error" in nodes["stg_orders"]["message"].lower()
    assert nodes["customer_totals"]["status"] == "skipped"
    with pytest.raises(AssertionError, match="stg_orders: error"):
        harness.assert_dbt_ok(result)


def test_dbt_duplicate_key_fails_the_unique_test(harness, dbt_project):
    csv = dbt_project / "data" / "orders.csv"
    csv.write_text(csv.read_text() + "4,13,1.00,2024-01-04\n")
    result = harness.dbt_build(dbt_project, dbt_project, "dev")
    assert result["success"] is False
    failed = [r for r in result["results"] if r["status"] == "fail"]
    assert [(r["test_name"], r["attached_node"], r["column_name"], r["failures"]) for r in failed] == [
        ("unique", "model.shop.stg_orders", "order_id", 1)
    ]


def test_dbt_project_error_is_returned_not_raised(harness, dbt_project):
    (dbt_project / "models" / "customer_totals.sql").write_text("select * from {{ ref('no_such_model') }}\n")
    result = harness.dbt_build(dbt_project, dbt_project, "dev")
    assert result["success"] is False
    assert result["results"] == []
    assert "no_such_model" in result["exception"]["message"] + result["stderr"]


# --------------------------------------------------------------------------- Airflow


@pytest.fixture(scope="module")
def airflow_samples(harness):
    return harness.airflow_load(SAMPLES / "airflow_dags")


def test_airflow_loads_dag_with_schedule_retries_and_sensor(harness, airflow_samples):
    harness.assert_airflow_ok(airflow_samples)
    dag = airflow_samples["dags"]["orders_pipeline"]
    assert (dag["schedule"], dag["timetable"], dag["catchup"], dag["max_active_runs"]) == (
        "0 6 * * *",
        "CronTriggerTimetable",
        False,
        1,
    )
    assert dag["tags"] == ["orders", "streamc"]
    assert dag["default_args"]["retries"] == 3 and dag["default_args"]["retry_delay"] == 300.0
    tasks = dag["tasks"]
    assert set(tasks) == {"start", "wait_for_orders_file", "transform", "publish"}
    assert tasks["transform"]["operator"] == "BashOperator"
    assert (tasks["transform"]["retries"], tasks["transform"]["pool"]) == (1, "etl")
    assert tasks["transform"]["template_fields"]["bash_command"] == "echo transform"
    assert (tasks["start"]["retries"], tasks["start"]["retry_delay"], tasks["start"]["retry_exponential_backoff"]) == (
        3,
        300.0,
        2.0,
    )
    sensor = tasks["wait_for_orders_file"]
    assert sensor["is_sensor"] and (sensor["mode"], sensor["timeout"], sensor["poke_interval"]) == (
        "reschedule",
        3600.0,
        60.0,
    )
    assert sensor["upstream"] == ["start"] and sensor["downstream"] == ["transform"]
    assert tasks["publish"]["upstream"] == ["transform"]


def test_airflow_loads_provider_operators(airflow_samples):
    tasks = airflow_samples["dags"]["cloud_sensors"]["tasks"]
    assert tasks["wait_s3"]["operator_module"] == "airflow.providers.amazon.aws.sensors.s3"
    assert tasks["wait_gcs"]["operator"] == "GCSObjectExistenceSensor"
    assert tasks["load"]["upstream"] == ["wait_gcs", "wait_s3"]
    assert airflow_samples["dags"]["cloud_sensors"]["timetable"] == "DeltaTriggerTimetable"


def test_airflow_broken_files_show_up_in_import_errors(harness):
    result = harness.airflow_load(SAMPLES / "airflow_broken")
    errors = result["import_errors"]
    assert set(errors) == {"syntax_error.py", "import_error.py", "cycle.py"}
    assert "SyntaxError" in errors["syntax_error.py"]
    assert "ModuleNotFoundError" in errors["import_error.py"]
    assert "Cycle detected" in errors["cycle.py"]
    assert list(result["dags"]) == ["still_loads"]  # one bad file does not hide the good ones
    with pytest.raises(AssertionError, match="syntax_error.py"):
        harness.assert_airflow_ok(result)


def test_airflow_dag_can_import_a_sibling_module(harness, tmp_path):
    # Airflow puts the DAG folder on sys.path; generated DAGs may share a helper module.
    (tmp_path / "streamc_common.py").write_text("RETRIES = 4\n")
    (tmp_path / "uses_helper.py").write_text(
        "from airflow.providers.standard.operators.empty import EmptyOperator\n"
        "from airflow.sdk import DAG\n"
        "from streamc_common import RETRIES\n"
        "with DAG(dag_id='uses_helper', schedule=None):\n"
        "    EmptyOperator(task_id='t', retries=RETRIES)\n"
    )
    result = harness.airflow_load(tmp_path)
    harness.assert_airflow_ok(result)
    assert result["dags"]["uses_helper"]["tasks"]["t"]["retries"] == 4
    assert result["dags"]["uses_helper"]["schedule"] is None


def test_airflow_harness_error_raises_with_tool_stderr(harness, tmp_path):
    with pytest.raises(harness.ToolError, match="does not exist") as info:
        harness.airflow_load(tmp_path / "missing")
    assert info.value.returncode != 0


# --------------------------------------------------------------------------- Dagster


def test_dagster_describes_and_materializes_duckdb_assets(harness, tmp_path):
    db = tmp_path / "orders.duckdb"
    result = harness.dagster_load(
        SAMPLES / "dagster" / "orders_defs.py", materialize=True, env={"SAMPLE_DUCKDB_PATH": str(db)}
    )
    harness.assert_dagster_ok(result)
    assert result["valid"] and result["attr"] == "defs"
    assert result["assets"]["order_totals"]["deps"] == ["raw_orders"]
    assert result["assets"]["raw_orders"]["checks"] == ["raw_orders_unique_id"]
    assert result["asset_checks"]["raw_orders:raw_orders_unique_id"]["blocking"] is True
    assert result["schedules"]["orders_daily"]["cron_schedule"] == "0 6 * * *"
    assert result["resources"] == {"duckdb": "DuckDBResource"}
    mat = result["materialization"]
    assert mat["success"] and set(mat["materialized"]) == {"raw_orders", "order_totals"}
    assert mat["materialized"]["raw_orders"]["metadata"]["row_count"] == 3
    assert mat["checks"]["raw_orders:raw_orders_unique_id"] == {
        "passed": True,
        "severity": "ERROR",
        "description": None,
        "metadata": {"duplicate_keys": 0},
    }
    tables = harness.duckdb_tables(db, env_name="batch-dagster")
    assert tables["main.order_totals"] == [[3, "77.75"]]


def test_dagster_partitioned_assets_materialize_one_partition(harness, tmp_path):
    module = SAMPLES / "dagster" / "partitioned_defs.py"
    env = {"SAMPLE_DUCKDB_PATH": str(tmp_path / "p.duckdb")}
    no_key = harness.dagster_load(module, materialize=True, env=env)
    assert no_key["assets"]["daily_events"]["partitions_def"]["type"] == "DailyPartitionsDefinition"
    assert no_key["materialization"]["skipped_partitioned"] == ["daily_events", "daily_rollup"]
    assert no_key["sensors"]["new_events_sensor"]["minimum_interval_seconds"] == 300
    harness.assert_dagster_ok(no_key)  # nothing ran, nothing failed

    result = harness.dagster_load(module, materialize=True, partition="2024-01-05", env=env)
    harness.assert_dagster_ok(result)
    assert result["materialization"]["materialized"]["daily_rollup"]["partitions"] == ["2024-01-05"]
    assert result["materialization"]["checks"]["daily_rollup:rollup_not_empty"]["severity"] == "WARN"
    again = harness.dagster_load(module, materialize=True, partition="2024-01-05", env=env)
    harness.assert_dagster_ok(again)
    assert harness.duckdb_tables(tmp_path / "p.duckdb", env_name="batch-dagster")["main.daily_rollup"] == [
        ["2024-01-05", 3]
    ]

    bad_key = harness.dagster_load(module, materialize=True, partition="1999-01-01", env=env)
    assert bad_key["materialization"]["error"]["type"] == "DagsterUnknownPartitionError"


def test_dagster_raising_asset_fails_materialization(harness):
    result = harness.dagster_load(SAMPLES / "dagster" / "failing_defs.py", materialize=True)
    assert result["valid"]
    mat = result["materialization"]
    assert mat["success"] is False
    assert set(mat["step_failures"]) == {"explodes"}
    assert "boom: generated asset code is broken" in " ".join(mat["step_failures"]["explodes"]["cause"])
    assert mat["not_materialized"] == ["explodes", "never_runs"]
    assert mat["checks"]["upstream_ok:upstream_check_fails"]["passed"] is False
    with pytest.raises(AssertionError, match="step explodes failed"):
        harness.assert_dagster_ok(result)


def test_dagster_unloadable_and_unimportable_definitions(harness, tmp_path):
    result = harness.dagster_load(SAMPLES / "dagster" / "unloadable_defs.py", materialize=True)
    assert result["valid"] is False and result["materialization"] is None
    assert "warehouse" in result["validation_error"]["message"]

    broken = tmp_path / "broken_defs.py"
    broken.write_text("import dagster as dg\n\ndefs = dg.Definitions(assets=[undefined_asset])\n")
    result = harness.dagster_load(broken)
    assert result["load_error"]["type"] == "NameError" and result["valid"] is False


def test_dagster_dbt_assets_run_dbt_with_tests_as_checks(harness, dbt_project):
    result = harness.dagster_load(
        SAMPLES / "dagster" / "dbt_defs.py", materialize=True, env={"SAMPLE_DBT_PROJECT_DIR": str(dbt_project)}
    )
    harness.assert_dagster_ok(result)
    assert result["assets"]["raw/orders"]["is_external"]  # the dbt source
    assert result["assets"]["stg_orders"]["deps"] == ["raw/orders"]
    mat = result["materialization"]
    assert set(mat["materialized"]) == {"stg_orders", "customer_totals"}
    assert mat["checks"]["stg_orders:unique_stg_orders_order_id"]["passed"] is True
    assert len(mat["checks"]) == 5
    assert harness.duckdb_tables(dbt_project / "shop.duckdb", env_name="batch-dagster")["main.customer_totals"] == [
        [10, 2, "37.25"],
        [11, 1, "40.50"],
        [12, 1, "99.99"],
    ]
