"""Runs INSIDE the apache-flink==2.3.0 tool env: execute a Flink SQL script statement by statement.

    python flink_runner.py REQUEST.json RESULT.json
REQUEST: {"script": path, "workdir": dir, "params": {NAME: value}, "continue_on_error": false,
          "max_rows": 1000}
A local streaming TableEnvironment (mini cluster in this JVM) runs each statement in order:
  SET 'k' = 'v' / RESET ['k']   -> applied to the TableConfig (not sent to the planner)
  INSERT ... / EXECUTE STATEMENT SET BEGIN ... END / EXECUTE INSERT   -> submitted, then .wait()
  BEGIN STATEMENT SET; INSERT...; END;  (SQL-client style) -> gathered into one StatementSet
  SELECT / SHOW / DESCRIBE / EXPLAIN  -> rows collected (SELECT must be bounded)
  anything else (CREATE/ALTER/DROP/USE ...)  -> execute_sql
The first failing statement stops the run (later ones are "skipped") unless continue_on_error.
RESULT: {"ok", "statements": [{"index", "line", "kind", "sql", "status", "error", "job_status",
"rows"}], "first_error", "flink_version", "elapsed_s"}. Logs go to stderr only.
"""

from __future__ import annotations

import json
import re
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlsplit import split_statements, strip_comments  # noqa: E402

_SET = re.compile(r"^\s*SET\s+'([^']*)'\s*=\s*'((?:[^']|'')*)'\s*$", re.I | re.S)
_SET_BARE = re.compile(r"^\s*SET\s*$", re.I)
_RESET = re.compile(r"^\s*RESET(?:\s+'([^']*)')?\s*$", re.I | re.S)
_BEGIN_SET = re.compile(r"^\s*BEGIN\s+STATEMENT\s+SET\s*$", re.I)
_END = re.compile(r"^\s*END\s*$", re.I)


def classify(sql: str) -> str:
    s = strip_comments(sql).strip()
    u = re.sub(r"\s+", " ", s).upper()
    if _SET.match(s) or _SET_BARE.match(s):
        return "set"
    if _RESET.match(s):
        return "reset"
    if _BEGIN_SET.match(s):
        return "begin_statement_set"
    if _END.match(s):
        return "end"
    if u.startswith("EXECUTE STATEMENT SET"):
        return "statement_set"
    if u.startswith(("INSERT ", "EXECUTE INSERT ")):
        return "insert"
    if u.startswith(("SELECT ", "WITH ", "VALUES", "(")):
        return "query"
    if u.startswith(("SHOW ", "DESCRIBE ", "DESC ", "EXPLAIN ")):
        return "inspect"
    return "ddl"


def java_error(exc: BaseException) -> str:
    """The most useful message of a (py4j) Java exception: the root cause chain, short."""
    try:
        from py4j.protocol import Py4JJavaError
        if isinstance(exc, Py4JJavaError):
            jt = exc.java_exception
            msgs = []
            seen = 0
            while jt is not None and seen < 12:
                msgs.append(f"{jt.getClass().getName()}: {jt.getMessage()}")
                jt = jt.getCause()
                seen += 1
            return "\n".join(msgs)
    except Exception:  # noqa: BLE001
        pass
    msg = str(exc)
    return msg if len(msg) < 8000 else msg[:8000] + "..."


def collect_rows(table_result, max_rows: int) -> tuple[list[list], list[str]]:
    """Rows and their changelog kinds (+I, -U, +U, -D): a streaming SELECT yields a changelog."""
    rows, kinds = [], []
    with table_result.collect() as it:
        for row in it:
            rows.append([_plain(v) for v in row])
            try:
                kinds.append(str(row.get_row_kind()))
            except Exception:  # noqa: BLE001
                kinds.append("+I")
            if len(rows) >= max_rows:
                break
    return rows, kinds


def _plain(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def main(argv: list[str]) -> int:
    req = json.loads(Path(argv[1]).read_text())
    out = Path(argv[2])
    t0 = time.monotonic()
    result = {"ok": False, "statements": [], "first_error": None, "flink_version": None}
    try:
        script = Path(req["script"]).read_text()
        for name, value in (req.get("params") or {}).items():
            script = script.replace("${" + name + "}", str(value))
        statements = split_statements(script)

        t_start = time.monotonic()
        from pyflink.table import EnvironmentSettings, TableEnvironment
        settings = EnvironmentSettings.in_streaming_mode()
        t_env = TableEnvironment.create(settings)
        conf = t_env.get_config()
        conf.set("parallelism.default", "1")  # deterministic and light; a script SET overrides it
        try:
            from pyflink.java_gateway import get_gateway
            result["flink_version"] = str(get_gateway().jvm.org.apache.flink.runtime.util
                                          .EnvironmentInformation.getVersion())
        except Exception:  # noqa: BLE001
            pass

        result["startup_s"] = round(time.monotonic() - t_start, 2)
        max_rows = int(req.get("max_rows", 1000))
        keep_going = bool(req.get("continue_on_error"))
        originals: dict[str, str | None] = {}  # value of each SET key before the script changed it
        pending_set = None  # (StatementSet, [entries]) while inside BEGIN STATEMENT SET; ... END;
        failed = False
        for idx, sql in enumerate(statements):
            kind = classify(sql)
            entry = {"index": idx, "line": sql.line, "kind": kind, "sql": str(sql), "status": "ok",
                     "error": None, "job_status": None, "rows": None}
            result["statements"].append(entry)
            if failed and not keep_going:
                entry["status"] = "skipped"
                continue
            t_stmt = time.monotonic()
            try:
                body = strip_comments(sql).strip()
                if kind == "set":
                    m = _SET.match(body)
                    if m:
                        originals.setdefault(m.group(1), conf.get(m.group(1), None))
                        conf.set(m.group(1), m.group(2).replace("''", "'"))
                    else:
                        entry["rows"] = [[k, v] for k, v in sorted(conf.get_configuration().to_dict().items())]
                elif kind == "reset":
                    m = _RESET.match(body)
                    if not (m and m.group(1)):
                        raise ValueError("RESET without a key is not supported by the harness")
                    reset_option(conf, m.group(1), originals)
                elif kind == "begin_statement_set":
                    pending_set = (t_env.create_statement_set(), [])
                elif kind == "insert" and pending_set is not None:
                    pending_set[0].add_insert_sql(body)
                    pending_set[1].append(entry)
                    entry["status"] = "queued"
                elif kind == "end":
                    if pending_set is None:
                        raise ValueError("END without BEGIN STATEMENT SET")
                    stmt_set, members = pending_set
                    pending_set = None
                    try:
                        tr = stmt_set.execute()
                        _wait(tr, entry)
                        for m_entry in members:
                            m_entry["status"] = "ok"
                    except Exception:
                        for m_entry in members:
                            m_entry["status"] = "error"
                            m_entry["error"] = "statement set failed (see its END statement)"
                        raise
                elif kind in ("insert", "statement_set"):
                    tr = t_env.execute_sql(body)
                    _wait(tr, entry)
                elif kind in ("query", "inspect"):
                    tr = t_env.execute_sql(body)
                    entry["rows"], entry["row_kinds"] = collect_rows(tr, max_rows)
                else:
                    t_env.execute_sql(body)
            except Exception as exc:  # noqa: BLE001
                entry["status"] = "error"
                entry["error"] = java_error(exc)
                if result["first_error"] is None:
                    result["first_error"] = {"index": idx, "line": sql.line, "sql": str(sql),
                                             "error": entry["error"]}
                failed = True
            finally:
                entry["elapsed_s"] = round(time.monotonic() - t_stmt, 2)
        if pending_set is not None:
            raise ValueError("BEGIN STATEMENT SET without END")
        result["ok"] = result["first_error"] is None
    except Exception as exc:  # noqa: BLE001
        result["error"] = f"{type(exc).__name__}: {java_error(exc)}"
        result["traceback"] = traceback.format_exc()
        result["ok"] = False
    result["elapsed_s"] = round(time.monotonic() - t0, 2)
    out.write_text(json.dumps(result, indent=2, default=str))
    return 0


OPTION_CLASSES = [
    "org.apache.flink.table.api.config.ExecutionConfigOptions",
    "org.apache.flink.table.api.config.OptimizerConfigOptions",
    "org.apache.flink.table.api.config.TableConfigOptions",
    "org.apache.flink.configuration.PipelineOptions",
    "org.apache.flink.configuration.ExecutionOptions",
    "org.apache.flink.configuration.CheckpointingOptions",
    "org.apache.flink.configuration.StateBackendOptions",
    "org.apache.flink.configuration.CoreOptions",
    "org.apache.flink.configuration.RestartStrategyOptions",
]


def reset_option(conf, key: str, originals: dict) -> None:
    """RESET 'key'. Removing the key is not enough: once a statement has been planned the value is
    also in the environment's root configuration. So write back the value from before the script's
    SET, or else the option's declared default (found in Flink's option classes)."""
    if originals.get(key) is not None:
        conf.set(key, originals[key])
        return
    from pyflink.java_gateway import get_gateway
    jvm = get_gateway().jvm
    for cls_name in OPTION_CLASSES:
        cls = jvm.java.lang.Class.forName(cls_name)
        for field in cls.getFields():
            opt = field.get(None)
            if opt is None or opt.getClass().getName() != "org.apache.flink.configuration.ConfigOption":
                continue
            if opt.key() != key:
                continue
            default = opt.defaultValue()
            if default is None:
                conf.get_configuration().remove_config(key)
                return
            jclass = default.getClass().getName() if hasattr(default, "getClass") else None
            if jclass == "java.time.Duration":
                value = str(jvm.org.apache.flink.util.TimeUtils.formatWithHighestUnit(default))
            elif hasattr(default, "name") and callable(default.name):
                value = str(default.name())
            elif isinstance(default, bool):
                value = "true" if default else "false"
            else:
                value = str(default)
            conf.set(key, value)
            return
    raise ValueError(f"RESET '{key}': no default known to the harness; SET it explicitly instead")


def _wait(table_result, entry: dict) -> None:
    client = table_result.get_job_client()
    if client is not None:
        entry["job_id"] = str(client.get_job_id())
    table_result.wait()
    if client is not None:
        try:
            entry["job_status"] = str(client.get_job_status().result())
        except Exception:  # noqa: BLE001 - the mini cluster may have dropped a finished job already
            entry["job_status"] = "FINISHED"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
