"""The quality suites on the real libraries: GX Core 1.x loads every suite and validates sample tables; Soda Core 4
parses every contract and verifies sample tables in DuckDB; a broken table fails exactly the gates it breaks.

Tool envs come from tests/realtools/toolenv.py (cached uv venvs). The payments spec has a DuckDB warehouse, so its
contracts run unchanged on a DuckDB file with rows written here.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from streamc.backends.quality import QualityBackend, QualityOptions
from streamc.compiler import compile_files

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "realtools"))
from toolenv import ensure_env, run_in_env  # noqa: E402

pytestmark = pytest.mark.realtools

HERE = Path(__file__).resolve().parent
NAMES = [p.stem for p in sorted((ROOT / "specs").glob("*.stream"))]
# sqlalchemy: GX's SQLite data source (the SQL expectations); duckdb: reads the sample tables into pandas
GX_REQUIREMENTS = ["great-expectations==1.24.1", "pandas", "sqlalchemy>=2", "duckdb"]
SODA_REQUIREMENTS = ["soda-core==4.28.0", "soda-duckdb==4.28.0"]


@functools.lru_cache(maxsize=None)
def emitted(name: str) -> dict[str, str]:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = compile_files([f"specs/{name}.stream"])
    finally:
        os.chdir(cwd)
    assert result.ok
    return QualityBackend().emit(result.spec, QualityOptions())


def write_all(dest: Path) -> dict[str, Path]:
    out = {}
    for name in NAMES:
        for rel, text in emitted(name).items():
            path = dest / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        out[name] = dest / name / "quality"
    return out


def _run(py: Path, script: str, job: dict, tmp: Path) -> dict:
    job_path = tmp / f"{Path(script).stem}.job.json"
    job_path.write_text(json.dumps(job))
    proc = run_in_env(py, [str(HERE / script), str(job_path)], cwd=tmp, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ sample rows of the payments tables


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def payments_rows(broken: bool = False) -> dict:
    now = _now()
    statuses = ["completed", "pending", "failed", "completed", "pending", "completed"]
    raw, fct = [], []
    for i, status in enumerate(statuses):
        ts = (now - dt.timedelta(minutes=5 + i)).isoformat(sep=" ")
        amount = 10 + i
        raw.append([f"t{i}", amount, ["USD", "EUR", "JPY"][i % 3], status, f"enc-{i}", ts, ts])
        fct.append([f"t{i}", amount, ["USD", "EUR", "JPY"][i % 3], status, ts, ts,
                    amount if status == "completed" else 0])
    if broken:
        fct.append(list(fct[0]))  # a duplicate transaction_id
        fct.append(["t99", 5, "USD", "pending", fct[0][4], fct[0][5], 5])  # settled without completion
    return {
        "transactions": {"columns": [["transaction_id", "VARCHAR"], ["amount", "DECIMAL(18,3)"],
                                     ["currency", "VARCHAR"], ["status", "VARCHAR"], ["customer_email", "VARCHAR"],
                                     ["created_at", "TIMESTAMP"], ["updated_at", "TIMESTAMP"]], "rows": raw},
        "fct_transactions": {"columns": [["transaction_id", "VARCHAR"], ["amount", "DECIMAL(18,3)"],
                                         ["currency", "VARCHAR"], ["status", "VARCHAR"], ["created_at", "TIMESTAMP"],
                                         ["updated_at", "TIMESTAMP"], ["settled_amount", "DECIMAL(18,3)"]],
                             "rows": fct},
    }


def _variables(text: str) -> dict:
    """Every contract variable: its default, `main` for schemas, 1 for row bounds, a name for databases."""
    doc = yaml.safe_load(text)
    out = {}
    for name, body in (doc.get("variables") or {}).items():
        if body and "default" in body:
            out[name] = body["default"]
        elif name.endswith("_ROWS"):
            out[name] = 1
        else:
            out[name] = "main" if name.endswith(("_SCHEMA", "_DATASET")) else "analytics"
    return out


# ------------------------------------------------------------------ Soda


@pytest.fixture(scope="module")
def soda_py() -> Path:
    return ensure_env("soda", SODA_REQUIREMENTS)


@pytest.fixture(scope="module")
def gx_py() -> Path:
    return ensure_env("gx", GX_REQUIREMENTS)


def test_soda_parses_every_contract(soda_py, tmp_path):
    folders = write_all(tmp_path / "out")
    parse = [{"path": str(p), "variables": _variables(p.read_text())}
             for name in NAMES for p in sorted((folders[name] / "soda" / "contracts").glob("*.yml"))]
    assert len(parse) >= 10
    result = _run(soda_py, "soda_runner.py", {"parse": parse, "verify": []}, tmp_path)
    failures = {r["path"]: r["errors"] for r in result["parsed"] if r["errors"]}
    assert not failures, failures


def _soda_verify(soda_py, tmp_path: Path, broken: bool) -> dict[str, list[dict]]:
    folder = write_all(tmp_path / "out")["payments_api_sync"]
    db = tmp_path / ("broken.duckdb" if broken else "finance.duckdb")
    ds = tmp_path / "finance_dw.yml"
    ds.write_text(f"type: duckdb\nname: finance_dw\nconnection:\n  database: {db}\n")
    tables = payments_rows(broken)
    verify = []
    for node in ("transactions", "fct_transactions"):
        path = folder / "soda" / "contracts" / f"{node}.yml"
        verify.append({"path": str(path), "data_source": str(ds), "database": str(db),
                       "variables": {**_variables(path.read_text()), "PAYMENTS_API_RAW_SCHEMA": "main"},
                       "tables": {node: tables[node]}})
    result = _run(soda_py, "soda_runner.py", {"parse": [], "verify": verify}, tmp_path)
    out = {}
    for v in result["verified"]:
        assert not v["errors"], v["errors"]
        out[Path(v["path"]).stem] = v["checks"]
    return out


def test_soda_verifies_sample_tables(soda_py, tmp_path):
    checks = _soda_verify(soda_py, tmp_path, broken=False)
    for node, results in checks.items():
        assert len(results) >= 5, node
        bad = [c for c in results if c["outcome"] != "PASSED"]
        assert not bad, (node, bad)
    types = {c["type"] for c in checks["fct_transactions"]}
    assert {"duplicate", "missing", "invalid", "failed_rows"} <= types
    assert {"schema", "freshness"} <= {c["type"] for c in checks["transactions"]}


def test_soda_fails_the_broken_gates(soda_py, tmp_path):
    checks = _soda_verify(soda_py, tmp_path, broken=True)
    failed = {(c["type"], c["column"]) for c in checks["fct_transactions"] if c["outcome"] == "FAILED"}
    assert failed == {("duplicate", "transaction_id"), ("failed_rows", None)}, failed
    assert all(c["outcome"] == "PASSED" for c in checks["transactions"])


# ------------------------------------------------------------------ Great Expectations


def _gx_job(tmp_path: Path, broken: bool) -> tuple[dict, Path]:
    folders = write_all(tmp_path / "out")
    project = tmp_path / "gxproject"
    suites = []
    for name in NAMES:
        src = folders[name] / "gx" / "expectations"
        for path in sorted(src.rglob("*.json")):
            dest = project / "gx" / "expectations" / path.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)
            suites.append(json.loads(path.read_text())["name"])
    db = tmp_path / ("gx_broken.duckdb" if broken else "gx.duckdb")
    runs = [{"suite": "payments_sync.transactions", "table": "transactions", "duckdb": str(db),
             "parameters": {"transactions__updated_at__fresh_after": {"minutes_ago": 30}}},
            {"suite": "payments_sync.fct_transactions", "table": "fct_transactions", "duckdb": str(db)}]
    return {"project": str(project), "suites": suites, "runs": runs}, db


def _gx_run(gx_py, tmp_path: Path, broken: bool) -> dict:
    job, db = _gx_job(tmp_path, broken)
    # the same tables the Soda test uses
    tables = payments_rows(broken)
    script = tmp_path / "make_tables.py"
    script.write_text(
        "import duckdb, json, sys\n"
        "tables = json.loads(open(sys.argv[1]).read())\n"
        f"con = duckdb.connect({str(db)!r})\n"
        "for t, b in tables.items():\n"
        "    con.execute(f\"CREATE OR REPLACE TABLE {t} ({', '.join(n + ' ' + ty for n, ty in b['columns'])})\")\n"
        "    for r in b['rows']:\n"
        "        con.execute(f\"INSERT INTO {t} VALUES ({', '.join('?' for _ in r)})\", r)\n"
        "con.close()\n")
    data = tmp_path / "tables.json"
    data.write_text(json.dumps(tables))
    proc = run_in_env(gx_py, [str(script), str(data)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return _run(gx_py, "gx_runner.py", job, tmp_path)


def test_gx_loads_every_suite_and_validates_sample_tables(gx_py, tmp_path):
    result = _gx_run(gx_py, tmp_path, broken=False)
    assert result["version"].startswith("1.")
    expected = sum(1 for name in NAMES for p in emitted(name) if p.endswith(".json"))
    assert len(result["loaded"]) == expected >= 10
    assert all(result["loaded"].values()), "every suite has expectations"
    for run in result["runs"]:
        assert run["rows"] == 6
        bad = [r for r in run["results"] if not r["success"]]
        assert not bad, (run["suite"], bad)
    kinds = {r["type"] for run in result["runs"] for r in run["results"]}
    assert {"expect_column_values_to_be_unique", "expect_column_max_to_be_between", "unexpected_rows_expectation",
            "expect_table_columns_to_match_set"} <= kinds


def test_gx_fails_the_broken_gates(gx_py, tmp_path):
    result = _gx_run(gx_py, tmp_path, broken=True)
    fct = next(r for r in result["runs"] if r["suite"] == "payments_sync.fct_transactions")
    failed = sorted((r["type"], r["kwargs"].get("column", "")) for r in fct["results"] if not r["success"])
    assert failed == [("expect_column_values_to_be_unique", "transaction_id"), ("unexpected_rows_expectation", "")]
    assert not any(r["error"] for r in fct["results"])
