"""Runs INSIDE the Soda Core 4 tool env: validates contracts with Soda's parser, verifies some on DuckDB; prints JSON.

argv: JOB.json with {"parse": [{"path", "variables"}], "verify": [{"path", "data_source", "variables", "tables"}]}.
`tables` maps a table name to {"columns": [[name, duckdb type]], "rows": [[...]]}, created before verifying.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("SODA_CORE_TELEMETRY_ENABLED", "false")

import duckdb  # noqa: E402
from soda_core.contracts import test_contract, verify_contract_locally  # noqa: E402


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    parsed = []
    for item in job["parse"]:
        r = test_contract(contract_file_path=item["path"], variables=item["variables"])
        parsed.append({"path": item["path"], "errors": r.get_errors_str() if r.has_errors else ""})
    verified = []
    for item in job["verify"]:
        con = duckdb.connect(item["database"])
        for table, body in item["tables"].items():
            cols = ", ".join(f"{n} {t}" for n, t in body["columns"])
            con.execute(f"CREATE OR REPLACE TABLE {table} ({cols})")
            marks = ", ".join("?" for _ in body["columns"])
            for row in body["rows"]:
                con.execute(f"INSERT INTO {table} VALUES ({marks})", row)
        con.close()
        r = verify_contract_locally(data_source_file_path=item["data_source"], contract_file_path=item["path"],
                                    variables=item["variables"])
        checks = []
        for cr in r.contract_verification_results:
            for x in cr.check_results:
                checks.append({"type": x.check.type, "column": x.check.column_name, "name": x.check.name,
                               "outcome": x.outcome.name})
        verified.append({"path": item["path"], "errors": r.get_errors_str() if r.has_errors else "",
                         "checks": checks})
    print(json.dumps({"parsed": parsed, "verified": verified}))


if __name__ == "__main__":
    main()
