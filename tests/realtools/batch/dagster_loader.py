"""Runs INSIDE the Dagster tool env. Loads a definitions file; prints one JSON document.

    python dagster_loader.py --module-path FILE.py [--attr defs] [--materialize] [--partition KEY]

Output:
    {"dagster_version", "module_path", "attr", "elapsed",
     "load_error": {"type","message","traceback"} | null,     # import failed / no Definitions found
     "valid": bool, "validation_error": {...} | null,          # Definitions.validate_loadable
     "assets": {"a/b": {"key": ["a","b"], "deps": ["x/y"], "group", "kinds", "is_materializable",
                        "is_external", "partitions_def": {"type","description",...} | null,
                        "code_version", "automation_condition", "checks": ["check_name"], "tags"}},
     "asset_checks": {"a/b:check_name": {"name", "asset_key", "blocking", "description",
                                          "additional_deps"}},
     "jobs": [name], "schedules": {name: {...}}, "sensors": {name: {...}}, "resources": {key: class},
     "materialization": null | {
         "success": bool, "partition": str | None, "run_id": str,
         "selected": ["a/b"], "skipped_partitioned": ["a/b"],   # partitioned assets not run (no --partition)
         "materialized": {"a/b": {"count": int, "partitions": [...], "metadata": {...}}},
         "checks": {"a/b:check": {"passed": bool, "severity": "ERROR"|"WARN", "metadata": {...},
                                   "description": str|None}},
         "step_failures": {step_key: {"error_type", "message", "cause": [str], "user_failure"}},
         "skipped_steps": [step_key],
         "not_materialized": ["a/b"],        # selected but no materialization (failed or never started)
         "checks_not_evaluated": ["a/b:check"],
         "error": {...} | null}}                                # materialize() itself raised
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner_common import error_info, jsonable, run_main  # noqa: E402


def _key(k: Any) -> str:
    return k.to_user_string()


def _check_id(ck: Any) -> str:
    return f"{_key(ck.asset_key)}:{ck.name}"


def _load_module(path: Path) -> Any:
    sys.path.insert(0, str(path.parent))  # sibling imports, as `dagster dev -f` allows
    name = f"streamc_defs_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _find_defs(module: Any, attr: str | None) -> tuple[str, Any]:
    import dagster as dg

    if attr:
        obj = getattr(module, attr)
        return attr, (obj() if callable(obj) and not isinstance(obj, dg.Definitions) else obj)
    found = [(n, v) for n, v in vars(module).items() if isinstance(v, dg.Definitions)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise ValueError(f"more than one Definitions object at module scope: {[n for n, _ in found]}")
    fn = getattr(module, "defs", None)  # @dg.definitions-decorated function
    if callable(fn):
        obj = fn()
        if isinstance(obj, dg.Definitions):
            return "defs", obj
    raise ValueError("no Definitions object found at module scope (pass attr=)")


def _partitions_info(pd: Any) -> dict[str, Any] | None:
    if pd is None:
        return None
    info: dict[str, Any] = {"type": type(pd).__name__, "description": str(pd)}
    for attr in ("cron_schedule", "fmt", "timezone", "start", "end", "name"):
        if hasattr(pd, attr):
            try:
                info[attr] = jsonable(getattr(pd, attr))
            except Exception:  # noqa: BLE001
                pass
    if type(pd).__name__ == "StaticPartitionsDefinition":
        info["keys"] = list(pd.get_partition_keys())
    elif type(pd).__name__ == "MultiPartitionsDefinition":
        info["dimensions"] = {d.name: _partitions_info(d.partitions_def) for d in pd.partitions_defs}
    return info


def describe(defs: Any) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    assets: dict[str, Any] = {}
    for node in sorted(graph.asset_nodes, key=lambda n: _key(n.key)):
        assets[_key(node.key)] = {
            "key": list(node.key.path),
            "deps": sorted(_key(k) for k in node.parent_keys),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "is_materializable": node.is_materializable,
            "is_external": node.is_external,
            "partitions_def": _partitions_info(node.partitions_def),
            "code_version": node.code_version,
            "automation_condition": None if node.automation_condition is None else str(node.automation_condition),
            "checks": sorted(ck.name for ck in node.check_keys),
            "tags": jsonable(dict(node.tags)),
        }
    checks: dict[str, Any] = {}
    for ck in sorted(graph.asset_check_keys, key=_check_id):
        spec = graph.get_check_spec(ck)
        checks[_check_id(ck)] = {
            "name": ck.name,
            "asset_key": _key(ck.asset_key),
            "blocking": bool(getattr(spec, "blocking", False)),
            "description": spec.description,
            "additional_deps": sorted(_key(d.asset_key) for d in (spec.additional_deps or [])),
        }
    repo = defs.get_repository_def()
    schedules = {}
    for s in repo.schedule_defs:
        schedules[s.name] = {
            "cron_schedule": jsonable(s.cron_schedule),
            "job_name": s.job_name,
            "execution_timezone": s.execution_timezone,
            "default_status": str(getattr(s.default_status, "value", s.default_status)),
        }
    sensors = {}
    for s in repo.sensor_defs:
        try:
            job_names = sorted(t.job_name for t in s.targets)
        except Exception:  # noqa: BLE001
            job_names = []
        sensors[s.name] = {
            "type": type(s).__name__,
            "sensor_type": str(getattr(s.sensor_type, "value", s.sensor_type)),
            "job_names": job_names,
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "default_status": str(getattr(s.default_status, "value", s.default_status)),
        }
    jobs = sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__"))
    resources = {k: type(v).__name__ for k, v in sorted((defs.resources or {}).items())}
    return {
        "assets": assets,
        "asset_checks": checks,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
        "resources": resources,
    }


def _failure(event: Any) -> dict[str, Any]:
    err = event.step_failure_data.error if event.step_failure_data else None
    causes = []
    cause = getattr(err, "cause", None)
    while cause is not None:
        causes.append(cause.message.strip())
        cause = cause.cause
    return {
        "error_type": getattr(err, "cls_name", None),
        "message": (err.message.strip() if err else event.message),
        "cause": causes,
        "user_failure": bool(getattr(event.step_failure_data, "user_failure_data", None)),
    }


def materialize_all(defs: Any, partition: str | None) -> dict[str, Any]:
    import dagster as dg
    from dagster import DagsterInstance

    graph = defs.resolve_asset_graph()
    runnable = [n for n in graph.asset_nodes if n.is_materializable]
    skipped = [] if partition else sorted(_key(n.key) for n in runnable if n.partitions_def is not None)
    selected = sorted(_key(n.key) for n in runnable if partition or n.partitions_def is None)
    out: dict[str, Any] = {
        "success": False,
        "partition": partition,
        "run_id": None,
        "selected": selected,
        "skipped_partitioned": skipped,
        "materialized": {},
        "checks": {},
        "step_failures": {},
        "skipped_steps": [],
        "not_materialized": [],
        "checks_not_evaluated": [],
        "error": None,
    }
    if not selected:
        out["success"] = True
        return out
    selection = dg.AssetSelection.assets(*[dg.AssetKey.from_user_string(k) for k in selected])
    # The raw (unbound) definitions, with the Definitions' resources passed in: the resolved
    # graph's assets_defs already have those resources bound and would conflict with them.
    raw = [
        a
        for a in [*(defs.assets or []), *(defs.asset_checks or [])]
        if isinstance(a, (dg.AssetsDefinition, dg.AssetSpec, dg.SourceAsset))
    ]
    try:
        result = dg.materialize(
            raw,
            selection=selection,
            resources=dict(defs.resources or {}),
            instance=DagsterInstance.ephemeral(),
            partition_key=partition,
            raise_on_error=False,
        )
    except Exception as exc:  # noqa: BLE001 - invalid selection, resource errors, bad partition...
        out["error"] = error_info(exc)
        return out
    out["success"] = bool(result.success)
    out["run_id"] = result.run_id
    for ev in result.get_asset_materialization_events():
        mat = ev.event_specific_data.materialization
        entry = out["materialized"].setdefault(_key(mat.asset_key), {"count": 0, "partitions": [], "metadata": {}})
        entry["count"] += 1
        if mat.partition:
            entry["partitions"].append(mat.partition)
        entry["metadata"].update({k: jsonable(getattr(v, "value", v)) for k, v in mat.metadata.items()})
    for ev in result.get_asset_check_evaluations():
        out["checks"][f"{_key(ev.asset_key)}:{ev.check_name}"] = {
            "passed": bool(ev.passed),
            "severity": str(getattr(ev.severity, "value", ev.severity)),
            "description": ev.description,
            "metadata": {k: jsonable(getattr(v, "value", v)) for k, v in ev.metadata.items()},
        }
    for ev in result.all_events:
        if ev.is_step_failure:
            out["step_failures"][ev.step_key] = _failure(ev)
        elif ev.is_step_skipped:
            out["skipped_steps"].append(ev.step_key)
    out["skipped_steps"].sort()
    # Steps downstream of a failure are simply never started (no STEP_SKIPPED event): list them.
    out["not_materialized"] = sorted(set(selected) - set(out["materialized"]))
    expected_checks = {_check_id(ck) for ck in graph.asset_check_keys if _key(ck.asset_key) in selected}
    out["checks_not_evaluated"] = sorted(expected_checks - set(out["checks"]))
    return out


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--module-path", required=True)
    parser.add_argument("--attr")
    parser.add_argument("--materialize", action="store_true")
    parser.add_argument("--partition")
    args = parser.parse_args(argv)
    start = time.monotonic()
    import dagster as dg

    path = Path(args.module_path).resolve()
    doc: dict[str, Any] = {
        "dagster_version": dg.__version__,
        "module_path": str(path),
        "attr": None,
        "load_error": None,
        "valid": False,
        "validation_error": None,
        "materialization": None,
    }
    try:
        module = _load_module(path)
        doc["attr"], defs = _find_defs(module, args.attr)
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, even SystemExit
        doc["load_error"] = error_info(exc)
        doc["elapsed"] = time.monotonic() - start
        return doc
    try:
        dg.Definitions.validate_loadable(defs)
        doc["valid"] = True
    except Exception as exc:  # noqa: BLE001
        doc["validation_error"] = error_info(exc)
    try:
        doc.update(describe(defs))
    except Exception as exc:  # noqa: BLE001
        doc["describe_error"] = error_info(exc)
    if args.materialize and doc["valid"]:
        doc["materialization"] = materialize_all(defs, args.partition)
    doc["elapsed"] = time.monotonic() - start
    return doc


if __name__ == "__main__":
    run_main(main)
