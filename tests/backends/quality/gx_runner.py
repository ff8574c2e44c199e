"""Runs INSIDE the Great Expectations tool env: loads suites from a file context, validates tables; prints JSON.

argv: JOB.json with {"project": dir holding gx/expectations, "suites": [names], "runs": [{"suite", "table",
"duckdb", "parameters"}]}. Column and table expectations run on a pandas DataFrame of the table; the SQL ones
(unexpected_rows_expectation) on a SQLite copy of it, since GX has no DuckDB data source.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
import tempfile
from pathlib import Path

import duckdb
import great_expectations as gx


def _parameters(raw: dict) -> dict:
    out = {}
    for key, value in raw.items():
        if isinstance(value, dict) and "minutes_ago" in value:
            out[key] = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=value["minutes_ago"])
        else:
            out[key] = value
    return out


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    context = gx.get_context(mode="file", project_root_dir=job["project"])
    loaded = {}
    for name in job["suites"]:
        suite = context.suites.get(name)
        loaded[name] = [e.expectation_type if hasattr(e, "expectation_type") else type(e).__name__
                        for e in suite.expectations]
    runs = []
    for run in job["runs"]:
        suite = context.suites.get(run["suite"])
        con = duckdb.connect(run["duckdb"], read_only=True)
        frame = con.execute(f"SELECT * FROM {run['table']}").df()
        con.close()
        sql_types = {"unexpected_rows_expectation", "UnexpectedRowsExpectation"}
        column_suite = gx.ExpectationSuite(name=f"{run['suite']}.frame",
                                           expectations=[e.configuration for e in suite.expectations
                                                         if type(e).__name__ not in sql_types])
        sql_suite = gx.ExpectationSuite(name=f"{run['suite']}.sql",
                                        expectations=[e.configuration for e in suite.expectations
                                                      if type(e).__name__ in sql_types])
        eph = gx.get_context(mode="ephemeral")
        params = _parameters(run.get("parameters", {}))
        results = []
        batch = (eph.data_sources.add_pandas(name="frames").add_dataframe_asset(name=run["table"])
                 .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))
        results += batch.validate(column_suite, expectation_parameters=params).results
        if sql_suite.expectations:
            db = Path(tempfile.mkdtemp()) / "copy.sqlite"
            lite = sqlite3.connect(db)
            frame.to_sql(run["table"], lite, index=False)
            lite.close()
            sql_batch = (eph.data_sources.add_sqlite(name="copy", connection_string=f"sqlite:///{db}")
                         .add_table_asset(name=run["table"], table_name=run["table"])
                         .add_batch_definition_whole_table("all").get_batch())
            results += sql_batch.validate(sql_suite, expectation_parameters=params).results
        runs.append({
            "suite": run["suite"], "rows": len(frame),
            "results": [{"type": r.expectation_config.type, "kwargs": {k: str(v) for k, v in
                                                                       r.expectation_config.kwargs.items()},
                         "success": bool(r.success),
                         "error": bool(r.exception_info.get("raised_exception"))
                         if "raised_exception" in r.exception_info else any(
                             v.get("raised_exception") for v in r.exception_info.values() if isinstance(v, dict))}
                        for r in results],
        })
    print(json.dumps({"version": gx.__version__, "loaded": loaded, "runs": runs}))


if __name__ == "__main__":
    main()
