"""Harnesses that prove generated batch artefacts on the REAL tools (dbt, Airflow, Dagster).

Called from the main test venv. Each function ensures its isolated tool env (toolenv.ensure_env),
runs a runner script inside it (toolenv.run_in_env) and returns the runner's JSON document as a dict.

Error policy:
  * What the TOOL says about the artefact (a failing dbt node, a DAG import error, a failed
    Dagster step...) is returned in the dict: tests assert on it (or call the assert_* helpers).
  * When the harness itself cannot produce an answer (runner crashed, bad JSON, timeout, bad
    arguments) a ToolError is raised, carrying the command, exit code and the tool's stderr.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))  # tests/realtools, for the shared toolenv module

import toolenv  # noqa: E402


def _load_sibling(filename: str) -> Any:
    """Import a file of this folder under a unique module name ("requirements" is too generic)."""
    name = f"streamc_realtools_batch_{Path(filename).stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / filename)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


reqs = _load_sibling("requirements.py")

STDERR_TAIL = 20_000


class ToolError(RuntimeError):
    """The harness could not get an answer from a tool; `stderr` holds the tool's own output."""

    def __init__(
        self,
        message: str,
        *,
        command: list[str] | None = None,
        returncode: int | None = None,
        stdout: str = "",
        stderr: str = "",
        detail: Any = None,
    ) -> None:
        self.command = command or []
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.detail = detail
        parts = [message]
        if command:
            parts.append("command: " + " ".join(map(str, command)))
        if returncode is not None:
            parts.append(f"exit code: {returncode}")
        if detail:
            parts.append("detail:\n" + (detail if isinstance(detail, str) else json.dumps(detail, indent=1)))
        if stderr:
            parts.append("---- tool stderr (tail) ----\n" + stderr[-STDERR_TAIL:])
        if stdout and not stdout.lstrip().startswith("{"):
            parts.append("---- tool stdout (tail) ----\n" + stdout[-4000:])
        super().__init__("\n".join(parts))


# --------------------------------------------------------------------------- envs


def tool_python(env_name: str) -> Path:
    """Ensure the tool env `env_name` ("batch-dbt", "batch-airflow", "batch-dagster") exists; return its python.

    Serialised with a file lock, so parallel test workers do not build the same env twice.
    """
    requirements = reqs.ENVS[env_name]
    toolenv.CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    lock_path = toolenv.CACHE_ROOT / f".{env_name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return toolenv.ensure_env(env_name, requirements, python=reqs.PYTHON)
        except subprocess.CalledProcessError as exc:
            raise ToolError(
                f"could not create tool env {env_name}",
                command=list(map(str, exc.cmd)),
                returncode=exc.returncode,
                stderr=str(exc.stderr or ""),
            ) from exc
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _scratch(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"streamc-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _run(
    env_name: str,
    script: str,
    args: list[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> dict[str, Any]:
    py = tool_python(env_name)
    command = [str(py), str(HERE / script), *args]
    try:
        proc = toolenv.run_in_env(py, command[1:], cwd=cwd, env=dict(env or {}), timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        raise ToolError(f"{script} timed out after {timeout}s", command=command, stderr=err) from exc
    try:
        doc = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise ToolError(
            f"{script} printed no JSON document",
            command=command,
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
        )
    if "harness_error" in doc or proc.returncode != 0:
        err = doc.get("harness_error") or {}
        raise ToolError(
            f"{script} failed: {err.get('type')}: {err.get('message')}",
            command=command,
            returncode=proc.returncode,
            stderr=proc.stderr,
            detail=err.get("traceback"),
        )
    doc["stderr"] = proc.stderr[-STDERR_TAIL:]
    return doc


# --------------------------------------------------------------------------- dbt

# Offline and quiet: no anonymous usage tracking, no "newer dbt available" check.
DBT_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "DO_NOT_TRACK": "1", "DBT_VERSION_CHECK": "False"}


def dbt_build(
    project_dir: str | os.PathLike[str],
    profiles_dir: str | os.PathLike[str],
    target: str | None = None,
    vars: Mapping[str, Any] | None = None,
    *,
    command: str = "build",
    extra_args: list[str] | tuple[str, ...] = (),
    target_path: str | os.PathLike[str] | None = None,
    partial_parse: bool = False,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> dict[str, Any]:
    """Run `dbt build` (or `command`) on a project with dbt-core + dbt-duckdb.

    dbt runs with cwd=project_dir (relative DuckDB paths / external locations resolve there);
    artefacts go to target_path (default project_dir/target). `env` is added to the process env
    (e.g. values for env_var() in profiles). Partial parsing is off by default (every call
    parses the project from scratch, so in-place rewrites of generated files are always seen).

    Returns {"success", "exception", "dbt_version", "elapsed", "summary": {status: n},
             "results": [{"unique_id", "resource_type", "name", "status", "failures", "message",
                          "execution_time", "relation_name", "rows_affected", "test_name",
                          "attached_node", "column_name", "materialized", "depends_on"}],
             "command", "run_results_path", "stderr" (dbt's log, tail)}.
    """
    project_dir = Path(project_dir).resolve()
    args = [
        "build",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(Path(profiles_dir).resolve()),
        "--command",
        command,
    ]
    if target:
        args += ["--target", target]
    if vars:
        args += ["--vars", json.dumps(dict(vars))]
    if target_path:
        args += ["--target-path", str(Path(target_path).resolve())]
    if partial_parse:
        args.append("--partial-parse")
    if extra_args:
        args += ["--", *extra_args]
    return _run("batch-dbt", "dbt_runner.py", args, cwd=project_dir, env={**DBT_ENV, **(env or {})}, timeout=timeout)


def duckdb_dump(db_path: str | os.PathLike[str], *, env_name: str = "batch-dbt") -> dict[str, Any]:
    """All tables/views of a DuckDB file: {"tables": {"schema.table": sorted rows}, "columns": {...}, "types": {...}}.

    Values are JSON-normalised (decimals/dates as strings). Uses the duckdb of `env_name`
    (both envs pin the same duckdb, so files written by either can be read).
    """
    doc = _run(env_name, "dbt_runner.py", ["tables", "--db", str(Path(db_path).resolve())])
    doc.pop("stderr", None)
    return doc


def duckdb_tables(db_path: str | os.PathLike[str], *, env_name: str = "batch-dbt") -> dict[str, list[list[Any]]]:
    """{"schema.table": sorted rows} for every table and view: compare two runs for idempotency."""
    return duckdb_dump(db_path, env_name=env_name)["tables"]


def assert_dbt_ok(result: Mapping[str, Any]) -> None:
    """Raise AssertionError listing every failed node (and dbt's log tail) unless the build succeeded."""
    bad = [r for r in result["results"] if r["status"] not in ("success", "pass")]
    if result["success"] and not bad:
        return
    lines = [f"dbt {result.get('command', ['dbt', '?'])[1]} failed: exception={result.get('exception')}"]
    lines += [f"  {r['unique_id']}: {r['status']} failures={r['failures']} {r['message']}" for r in bad]
    raise AssertionError("\n".join(lines) + "\n---- dbt log (tail) ----\n" + result.get("stderr", "")[-8000:])


# --------------------------------------------------------------------------- Airflow


def airflow_env(home: Path, dag_dir: Path) -> dict[str, str]:
    """Env that lets DagBag run offline, with no metadata DB, isolated from any real AIRFLOW_HOME."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dag_dir),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAG_DISCOVERY_SAFE_MODE": "False",
        # Provider imports (google, amazon) are slow on a busy 2-core box; default is 30 s.
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        # Never used by DagBag parsing; points any accidental DB access at a throwaway file.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "TMPDIR": str(home),
    }


def airflow_load(
    dag_dir: str | os.PathLike[str],
    *,
    serialize: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> dict[str, Any]:
    """Parse a DAG folder with Airflow's DagBag (safe_mode=False), no metadata DB.

    Returns {"airflow_version", "elapsed", "import_errors": {file: traceback},
             "warnings": {file: [..]}, "dags": {dag_id: {"schedule", "timetable",
             "timetable_summary", "catchup", "max_active_runs", "max_active_tasks", "tags",
             "start_date", "default_args", "params", "serialization_error", "fileloc",
             "tasks": {task_id: {"operator", "operator_module", "retries", "retry_delay",
                       "retry_exponential_backoff", "max_retry_delay", "upstream", "downstream",
                       "pool", "pool_slots", "queue", "trigger_rule", "execution_timeout",
                       "task_group", "is_sensor", "template_fields",
                       sensors: "timeout", "poke_interval", "mode", "soft_fail", "exponential_backoff"}}}},
             "stderr"}. Durations are in seconds. See airflow_loader.py for the full list.
    With serialize=True each DAG is also round-tripped through Airflow's DAG serializer, as the
    DAG processor does (a failure lands in "serialization_error").
    """
    dag_dir = Path(dag_dir).resolve()
    args = ["--dag-dir", str(dag_dir)] + ([] if serialize else ["--no-serialize"])
    with _scratch("airflow") as home:
        return _run(
            "batch-airflow",
            "airflow_loader.py",
            args,
            cwd=home,
            env={**airflow_env(home, dag_dir), **(env or {})},
            timeout=timeout,
        )


def assert_airflow_ok(result: Mapping[str, Any]) -> None:
    problems = [f"import error in {f}:\n{tb}" for f, tb in result["import_errors"].items()]
    problems += [
        f"DAG {d} does not serialize: {info['serialization_error']}"
        for d, info in result["dags"].items()
        if info.get("serialization_error")
    ]
    if problems:
        raise AssertionError("\n".join(problems))


# --------------------------------------------------------------------------- Dagster


def dagster_load(
    module_path: str | os.PathLike[str],
    materialize: bool = False,
    partition: str | None = None,
    *,
    attr: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> dict[str, Any]:
    """Import a Dagster definitions file, validate it, describe it, optionally materialize everything.

    The module's Definitions object is found by `attr`, else the single Definitions at module
    scope, else a `defs()` function. Materialization runs in process with
    DagsterInstance.ephemeral() and the Definitions' own resources; partitioned assets run only
    when `partition` is given (they are listed in "skipped_partitioned" otherwise).
    Runs with cwd=`cwd` (default: a scratch dir), so relative paths in the definitions land there.

    Returns {"dagster_version", "attr", "elapsed", "load_error", "valid", "validation_error",
             "assets": {"a/b": {"key", "deps", "group", "kinds", "partitions_def", "checks", ...}},
             "asset_checks": {"a/b:name": {"name", "asset_key", "blocking", "description"}},
             "jobs", "schedules", "sensors", "resources",
             "materialization": None | {"success", "partition", "selected", "skipped_partitioned",
                 "materialized": {"a/b": {"count", "partitions", "metadata"}},
                 "checks": {"a/b:name": {"passed", "severity", "metadata", "description"}},
                 "step_failures": {step: {"error_type", "message", "cause"}}, "not_materialized",
                 "checks_not_evaluated", "error"}, "stderr"}.
    """
    args = ["--module-path", str(Path(module_path).resolve())]
    if attr:
        args += ["--attr", attr]
    if materialize:
        args.append("--materialize")
    if partition:
        if not materialize:
            raise ValueError("partition= only makes sense with materialize=True")
        args += ["--partition", partition]
    with _scratch("dagster") as scratch:
        # dagster-dbt runs the dbt CLI of the env (on PATH via run_in_env): keep it offline too.
        run_env = {"TMPDIR": str(scratch), **DBT_ENV, **(env or {})}  # ephemeral instance: no telemetry
        return _run(
            "batch-dagster",
            "dagster_loader.py",
            args,
            cwd=Path(cwd).resolve() if cwd else scratch,
            env=run_env,
            timeout=timeout,
        )


def assert_dagster_ok(result: Mapping[str, Any], *, checks_must_pass: bool = True) -> None:
    problems = []
    if result.get("load_error"):
        problems.append(f"load error: {result['load_error']['traceback']}")
    if result.get("validation_error"):
        problems.append(f"not loadable: {result['validation_error']['message']}")
    mat = result.get("materialization")
    if mat:
        if mat.get("error"):
            problems.append(f"materialize() raised: {mat['error']['traceback']}")
        for step, f in mat["step_failures"].items():
            problems.append(f"step {step} failed: {f['message']} {f['cause']}")
        if mat["not_materialized"]:
            problems.append(f"not materialized: {mat['not_materialized']}")
        if checks_must_pass:
            problems += [f"check {c} failed ({v['severity']})" for c, v in mat["checks"].items() if not v["passed"]]
    if problems:
        raise AssertionError(
            "\n".join(problems) + "\n---- dagster stderr (tail) ----\n" + result.get("stderr", "")[-8000:]
        )
