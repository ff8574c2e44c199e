"""Renders every task's templated fields of generated DAG files the way Airflow does before a task runs.

Runs INSIDE the batch-airflow tool env (stdlib + Airflow): `python airflow_render.py DAG_FILE...` prints one JSON
document on its last stdout line: {dag_id: {task_id: {field: rendered value}}}, or {"error": ...} for a file that
does not import or a field that does not render. The run's context is fixed (2026-01-02, a one-day interval);
Variables read as `VAR`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback
from pathlib import Path


class Variable:
    """`var.json.<variable>.<key>` and `var.value.<name>` without a metadata database: any lookup reads `VAR`."""

    def __getattr__(self, name: str) -> "Variable":
        return self

    def __str__(self) -> str:
        return "VAR"


def context_for(dag) -> dict:
    import pendulum

    start = pendulum.datetime(2026, 1, 2, tz="UTC")
    return {
        "dag": dag,
        "ds": "2026-01-02",
        "ds_nodash": "20260102",
        "logical_date": start,
        "data_interval_start": start,
        "data_interval_end": start.add(days=1),
        "params": {"full_refresh": False},
        "var": Variable(),
    }


def plain(value):
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def render_file(path: Path) -> dict:
    from airflow.sdk import DAG

    spec = importlib.util.spec_from_file_location(f"dag_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = {}
    for dag in (v for v in vars(module).values() if isinstance(v, DAG)):
        tasks = {}
        for task in dag.tasks:
            task.render_template_fields(context_for(dag))
            tasks[task.task_id] = {name: plain(getattr(task, name, None)) for name in task.template_fields}
        out[dag.dag_id] = tasks
    return out


def main(paths: list[str]) -> dict:
    out = {}
    for path in paths:
        try:
            out.update(render_file(Path(path)))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which shows it
            return {"error": f"{path}: {type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    return out


if __name__ == "__main__":
    result = main(sys.argv[1:])
    sys.stdout.write("\n" + json.dumps(result) + "\n")
