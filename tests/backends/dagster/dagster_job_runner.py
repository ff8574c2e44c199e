"""Runs INSIDE the Dagster tool env: seeds DuckDB, runs a generated pipeline job or sensor in process, prints JSON.

    python dagster_job_runner.py --module-path FILE.py [--seed SEED.json --db DB] [--job NAME [--partition KEY]]
                                 [--sensor NAME] [--schedule NAME] [--query SQL]...

The job run goes through the definitions' own job (sources' gates included, as a deployed schedule would
run it), unlike the batch harness's materialize(), which selects only materializable assets.
Output: {"dagster_version", "seeded", "job": {...} | null, "sensor": {...} | null, "schedule": {...} | null,
         "queries": [[rows]]}.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).resolve().parents[2] / "realtools" / "batch"
sys.path.insert(0, str(HARNESS))
from _runner_common import error_info, jsonable, run_main  # noqa: E402


def load_defs(path: Path) -> Any:
    import dagster as dg

    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"streamc_job_defs_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = [v for v in vars(module).values() if isinstance(v, dg.Definitions)]
    assert len(found) == 1, f"expected one Definitions object, found {len(found)}"
    return found[0]


def seed(db: str, seed_file: str) -> int:
    import duckdb

    statements = json.loads(Path(seed_file).read_text())
    with duckdb.connect(db) as conn:
        for statement in statements:
            conn.execute(statement)
    return len(statements)


def run_job(defs: Any, name: str, partition: str | None) -> dict[str, Any]:
    import dagster as dg

    job = defs.resolve_job_def(name)
    result = job.execute_in_process(partition_key=partition, instance=dg.DagsterInstance.ephemeral(),
                                    raise_on_error=False)
    out: dict[str, Any] = {"success": result.success, "materialized": {}, "checks": {}, "step_failures": {},
                           "planned_steps": sorted(job.get_job_snapshot().node_names)}
    for ev in result.get_asset_materialization_events():
        mat = ev.event_specific_data.materialization
        out["materialized"][mat.asset_key.to_user_string()] = jsonable(
            {k: getattr(v, "value", v) for k, v in mat.metadata.items()})
    for ev in result.get_asset_check_evaluations():
        out["checks"][f"{ev.asset_key.to_user_string()}:{ev.check_name}"] = {
            "passed": bool(ev.passed),
            "severity": str(getattr(ev.severity, "value", ev.severity)),
            "metadata": jsonable({k: getattr(v, "value", v) for k, v in ev.metadata.items()}),
        }
    for ev in result.all_events:
        if ev.is_step_failure:
            err = ev.step_failure_data.error if ev.step_failure_data else None
            out["step_failures"][ev.step_key] = err.message.strip() if err else ev.message
    return out


def run_sensor(defs: Any, name: str) -> dict[str, Any]:
    import dagster as dg

    sensor = defs.resolve_sensor_def(name)
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance, resources=dict(defs.resources or {}),
                                          definitions=defs)
        try:
            result = sensor.evaluate_tick(context)
        except Exception as exc:  # noqa: BLE001 - a sensor that raises is a failed tick: report it
            return {"error": error_info(exc)}
    return {
        "run_requests": [{"run_key": r.run_key, "partition_key": r.partition_key, "job_name": r.job_name}
                         for r in result.run_requests or []],
        "skip_message": result.skip_message,
        "error": None,
    }


def run_schedule(defs: Any, name: str) -> dict[str, Any]:
    import datetime as dt

    import dagster as dg

    schedule = defs.resolve_schedule_def(name)
    now = dt.datetime.now(dt.timezone.utc)
    with dg.instance_for_test() as instance:  # a schedule context needs an instance with a ref
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=now,
                                            repository_def=defs.get_repository_def())
        result = schedule.evaluate_tick(context)
    return {
        "cron_schedule": schedule.cron_schedule,
        "execution_timezone": schedule.execution_timezone,
        "run_requests": [{"run_key": r.run_key, "partition_key": r.partition_key} for r in result.run_requests or []],
        "skip_message": result.skip_message,
    }


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--module-path", required=True)
    parser.add_argument("--seed")
    parser.add_argument("--db")
    parser.add_argument("--job")
    parser.add_argument("--partition")
    parser.add_argument("--sensor")
    parser.add_argument("--schedule")
    parser.add_argument("--query", action="append", default=[])
    args = parser.parse_args(argv)
    import dagster as dg

    doc: dict[str, Any] = {"dagster_version": dg.__version__, "seeded": 0, "job": None, "sensor": None,
                           "schedule": None, "queries": []}
    if args.seed:
        doc["seeded"] = seed(args.db, args.seed)
    defs = load_defs(Path(args.module_path).resolve())
    dg.Definitions.validate_loadable(defs)
    if args.job:
        doc["job"] = run_job(defs, args.job, args.partition)
    if args.sensor:
        doc["sensor"] = run_sensor(defs, args.sensor)
    if args.schedule:
        doc["schedule"] = run_schedule(defs, args.schedule)
    if args.query:
        import duckdb

        with duckdb.connect(args.db, read_only=True) as conn:
            doc["queries"] = [jsonable(conn.execute(q).fetchall()) for q in args.query]
    return doc


if __name__ == "__main__":
    run_main(main)
