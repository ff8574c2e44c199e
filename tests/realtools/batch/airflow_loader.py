"""Runs INSIDE the Airflow tool env. Loads a DAG folder with DagBag; prints one JSON document.

    python airflow_loader.py --dag-dir DIR [--no-serialize]

The harness sets AIRFLOW_HOME (temp dir) and the offline/fast config env vars before starting
this process: Airflow reads its config at import time.

Output:
    {"airflow_version", "dag_dir", "elapsed",
     "import_errors": {relative_file: traceback_text},
     "warnings": {relative_file: [text, ...]},
     "dags": {dag_id: dag_info}}
  dag_info: {"dag_id", "fileloc" (relative), "schedule" (str|None), "timetable" (class name),
             "timetable_summary", "catchup", "max_active_runs", "max_active_tasks", "tags" (sorted),
             "start_date", "end_date", "dagrun_timeout" (s), "description", "owner_links",
             "default_args" (jsonable), "params" (jsonable), "serialization_error" (str|None),
             "tasks": {task_id: task_info}}
  task_info: {"task_id", "operator" (class name), "operator_module", "operator_name", "task_type", "retries",
              "retry_delay" (s), "retry_exponential_backoff" (float multiplier as the scheduler
              sees it: legacy True -> 2.0), "max_retry_delay" (s|None),
              "upstream" (sorted ids), "downstream" (sorted ids), "pool", "pool_slots", "queue",
              "trigger_rule", "execution_timeout" (s|None), "owner", "task_group",
              "is_sensor", "template_fields": {name: jsonable value},
              # sensors only:
              "timeout" (s), "poke_interval" (s), "mode", "soft_fail", "exponential_backoff"}
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner_common import jsonable, run_main  # noqa: E402


def _seconds(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    return jsonable(value)


def _schedule_str(dag: Any) -> str | None:
    schedule = getattr(dag, "schedule", None)
    if schedule is None:
        return None
    if isinstance(schedule, str):
        return schedule
    return repr(schedule)


def _rel(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return path


def _backoff(value: Any) -> Any:
    """The multiplier the scheduler uses: Airflow 3.3 takes a float; a legacy bool is mapped on
    deserialization (True -> 2.0, False -> 0). Raw True would read as 1.0 = no backoff."""
    if isinstance(value, bool):
        return 2.0 if value else 0.0
    return float(value) if isinstance(value, (int, float)) else jsonable(value)


def _task_info(task: Any, sensor_cls: type | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "task_id": task.task_id,
        "operator": type(task).__name__,
        "operator_module": type(task).__module__,
        "operator_name": getattr(task, "operator_name", None),  # "@task" for TaskFlow tasks
        "task_type": getattr(task, "task_type", type(task).__name__),
        "retries": getattr(task, "retries", None),
        "retry_delay": _seconds(getattr(task, "retry_delay", None)),
        "retry_exponential_backoff": _backoff(getattr(task, "retry_exponential_backoff", None)),
        "max_retry_delay": _seconds(getattr(task, "max_retry_delay", None)),
        "upstream": sorted(task.upstream_task_ids),
        "downstream": sorted(task.downstream_task_ids),
        "pool": getattr(task, "pool", None),
        "pool_slots": getattr(task, "pool_slots", None),
        "queue": getattr(task, "queue", None),
        "trigger_rule": str(getattr(getattr(task, "trigger_rule", None), "value", task.trigger_rule)),
        "execution_timeout": _seconds(getattr(task, "execution_timeout", None)),
        "owner": getattr(task, "owner", None),
        "task_group": getattr(getattr(task, "task_group", None), "group_id", None),
        "is_sensor": bool(sensor_cls is not None and isinstance(task, sensor_cls)),
        "template_fields": {
            name: jsonable(getattr(task, name, None)) for name in (getattr(task, "template_fields", ()) or ())
        },
    }
    if info["is_sensor"]:
        info.update(
            timeout=_seconds(getattr(task, "timeout", None)),
            poke_interval=_seconds(getattr(task, "poke_interval", None)),
            mode=getattr(task, "mode", None),
            soft_fail=getattr(task, "soft_fail", None),
            exponential_backoff=getattr(task, "exponential_backoff", None),
        )
    return info


def _params(dag: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    params = getattr(dag, "params", None) or {}
    for key in list(params.keys()):
        try:
            param = params.get_param(key) if hasattr(params, "get_param") else params[key]
            out[key] = jsonable(getattr(param, "value", param))
        except Exception as exc:  # noqa: BLE001 - e.g. a Param without default
            out[key] = f"<{type(exc).__name__}: {exc}>"
    return out


def _serialize(dag: Any) -> tuple[str | None, Any]:
    """Round-trip the DAG through Airflow's serializer, as the DAG processor does.

    Returns (error text or None, deserialized DAG or None).
    """
    try:
        try:
            from airflow.serialization.serialized_objects import DagSerialization as _Ser
        except ImportError:  # Airflow < 3.2
            from airflow.serialization.serialized_objects import SerializedDAG as _Ser
        return None, _Ser.from_dict(_Ser.to_dict(dag))
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}", None


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dag-dir", required=True)
    parser.add_argument("--no-serialize", action="store_true")
    args = parser.parse_args(argv)
    dag_dir = Path(args.dag_dir).resolve()
    if not dag_dir.exists():
        raise FileNotFoundError(f"DAG folder {dag_dir} does not exist")

    start = time.monotonic()
    # Airflow's DAG processor puts the DAG bundle root (the dags folder) on sys.path, so DAG
    # files may import helper modules that sit next to them; do the same.
    sys.path.insert(0, str(dag_dir))
    import airflow

    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow >= 3.1
    except ImportError:
        from airflow.models.dagbag import DagBag
    try:
        from airflow.sdk.bases.sensor import BaseSensorOperator as sensor_cls
    except ImportError:
        try:
            from airflow.sensors.base import BaseSensorOperator as sensor_cls
        except ImportError:
            sensor_cls = None

    kwargs: dict[str, Any] = {"dag_folder": str(dag_dir), "safe_mode": False}
    if "include_examples" in inspect.signature(DagBag.__init__).parameters:  # gone in Airflow 3.3
        kwargs["include_examples"] = False
    bag = DagBag(**kwargs)

    dags: dict[str, Any] = {}
    for dag_id, dag in sorted(bag.dags.items()):
        timetable = getattr(dag, "timetable", None)
        ser_error, ser_dag = (None, None) if args.no_serialize else _serialize(dag)
        # The SDK timetable has no `summary`; the deserialized (scheduler-side) one does.
        summary = getattr(timetable, "summary", None) or getattr(getattr(ser_dag, "timetable", None), "summary", None)
        dags[dag_id] = {
            "dag_id": dag_id,
            "fileloc": _rel(dag.fileloc, dag_dir) if dag.fileloc else None,
            "schedule": _schedule_str(dag),
            "timetable": type(timetable).__name__ if timetable is not None else None,
            "timetable_summary": summary,
            "catchup": getattr(dag, "catchup", None),
            "max_active_runs": getattr(dag, "max_active_runs", None),
            "max_active_tasks": getattr(dag, "max_active_tasks", None),
            "tags": sorted(getattr(dag, "tags", None) or []),
            "start_date": jsonable(getattr(dag, "start_date", None)),
            "end_date": jsonable(getattr(dag, "end_date", None)),
            "dagrun_timeout": _seconds(getattr(dag, "dagrun_timeout", None)),
            "description": getattr(dag, "description", None),
            "owner_links": jsonable(getattr(dag, "owner_links", None)),
            "default_args": jsonable(dict(getattr(dag, "default_args", None) or {})),
            "params": _params(dag),
            "serialization_error": ser_error,
            "tasks": {t.task_id: _task_info(t, sensor_cls) for t in sorted(dag.tasks, key=lambda t: t.task_id)},
        }
    return {
        "airflow_version": airflow.__version__,
        "dag_dir": str(dag_dir),
        "elapsed": time.monotonic() - start,
        "import_errors": {_rel(k, dag_dir): v for k, v in sorted(bag.import_errors.items())},
        "warnings": {_rel(k, dag_dir): list(v) for k, v in sorted(getattr(bag, "captured_warnings", {}).items())},
        "dags": dags,
    }


if __name__ == "__main__":
    run_main(main)
