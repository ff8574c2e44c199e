"""Runs INSIDE the dbt tool env. Prints one JSON document on stdout.

    python dbt_runner.py build --project-dir P --profiles-dir D [--target T] [--vars JSON]
                               [--target-path X] [--partial-parse] [-- extra dbt args...]
    python dbt_runner.py tables --db FILE.duckdb

`build` output:
    {"command": [...], "success": bool, "exception": {"type","message"} | null,
     "dbt_version": str, "elapsed": float, "run_results_path": str | null,
     "summary": {status: count}, "results": [node, ...]}
  node: {"unique_id", "resource_type", "name", "status", "failures", "message",
         "execution_time", "relation_name", "rows_affected",
         # from manifest.json when available:
         "test_name" (e.g. "unique"), "attached_node", "column_name", "materialized", "depends_on"}
`tables` output: {"tables": {"schema.table": [[row...], ...] (sorted)},
                  "columns": {"schema.table": [col, ...]}, "types": {"schema.table": "BASE TABLE"|"VIEW"}}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner_common import jsonable, run_main  # noqa: E402


def _load_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def build(args: argparse.Namespace, extra: list[str]) -> dict[str, Any]:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_VERSION_CHECK", "False")
    from dbt.cli.main import dbtRunner
    from dbt.version import __version__ as dbt_version

    project_dir = Path(args.project_dir).resolve()
    target_path = Path(args.target_path).resolve() if args.target_path else project_dir / "target"
    log_path = Path(args.log_path).resolve() if args.log_path else target_path / "logs"
    # A stale run_results.json from an earlier run must never be mistaken for this run's.
    for stale in ("run_results.json", "manifest.json"):
        (target_path / stale).unlink(missing_ok=True)

    cli = [
        args.command,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(Path(args.profiles_dir).resolve()),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
        "--no-use-colors",
        "--partial-parse" if args.partial_parse else "--no-partial-parse",
    ]
    if args.target:
        cli += ["--target", args.target]
    if args.vars:
        json.loads(args.vars)  # fail early, clearly, on malformed vars
        cli += ["--vars", args.vars]
    cli += extra

    # dbt resolves relative paths in profiles (DuckDB `path`) and external locations against the cwd.
    os.chdir(project_dir)
    start = time.monotonic()
    res = dbtRunner().invoke(cli)
    elapsed = time.monotonic() - start

    run_results = _load_json(target_path / "run_results.json")
    manifest = _load_json(target_path / "manifest.json") or {}
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    results = []
    for r in (run_results or {}).get("results", []):
        uid = r["unique_id"]
        node = nodes.get(uid, {})
        item = {
            "unique_id": uid,
            "resource_type": uid.split(".", 1)[0],
            "name": node.get("name", uid.rsplit(".", 1)[-1]),
            "status": r.get("status"),
            "failures": r.get("failures"),
            "message": r.get("message"),
            "execution_time": r.get("execution_time"),
            "relation_name": r.get("relation_name"),
            "rows_affected": (r.get("adapter_response") or {}).get("rows_affected"),
            "test_name": (node.get("test_metadata") or {}).get("name"),
            "attached_node": node.get("attached_node"),
            "column_name": node.get("column_name"),
            "materialized": (node.get("config") or {}).get("materialized"),
            "depends_on": sorted((node.get("depends_on") or {}).get("nodes", [])),
        }
        results.append(item)
    summary: dict[str, int] = {}
    for item in results:
        summary[item["status"]] = summary.get(item["status"], 0) + 1
    exc = res.exception
    return {
        "command": ["dbt", *cli],
        "success": bool(res.success),
        "exception": None if exc is None else {"type": type(exc).__name__, "message": str(exc)},
        "dbt_version": dbt_version,
        "elapsed": elapsed,
        "run_results_path": str(target_path / "run_results.json") if run_results is not None else None,
        "summary": summary,
        "results": results,
    }


def _sort_key(row: list[Any]) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def tables(args: argparse.Namespace) -> dict[str, Any]:
    import duckdb

    db = Path(args.db).resolve()
    if not db.exists():
        raise FileNotFoundError(f"no DuckDB file at {db}")
    con = duckdb.connect(str(db), read_only=True)
    try:
        listing = con.execute("""
            select table_schema, table_name, table_type
            from information_schema.tables
            where table_catalog = current_database()
              and table_schema not in ('information_schema', 'pg_catalog')
            order by 1, 2
            """).fetchall()
        out: dict[str, Any] = {"tables": {}, "columns": {}, "types": {}}
        for schema, name, ttype in listing:
            key = f"{schema}.{name}"
            cur = con.execute(f'select * from "{schema}"."{name}"')
            cols = [d[0] for d in cur.description]
            rows = [jsonable(list(row)) for row in cur.fetchall()]
            out["tables"][key] = sorted(rows, key=_sort_key)
            out["columns"][key] = cols
            out["types"][key] = ttype
        return out
    finally:
        con.close()


def main(argv: list[str]) -> dict[str, Any]:
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("build")
    b.add_argument("--project-dir", required=True)
    b.add_argument("--profiles-dir", required=True)
    b.add_argument("--target")
    b.add_argument("--vars")
    b.add_argument("--target-path")
    b.add_argument("--log-path")
    b.add_argument("--command", default="build", help="dbt sub-command (build, run, test, seed, ...)")
    b.add_argument("--partial-parse", action="store_true")
    t = sub.add_parser("tables")
    t.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    if args.mode == "build":
        return build(args, extra)
    return tables(args)


if __name__ == "__main__":
    run_main(main)
