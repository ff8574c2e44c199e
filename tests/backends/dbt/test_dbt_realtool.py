"""The emitted dbt projects on the real dbt (dbt-core + dbt-duckdb): build, idempotency, a failing uniqueness test.

Each spec with a batch side is built with `target_warehouse=duckdb` (DuckDB dialect and profile) and
`samples=48` (deterministic CSV rows from the column contracts, read through dbt-duckdb's
`external_location`), then `dbt build` runs every model, snapshot and data test.
"""

from __future__ import annotations

import csv
import re
import importlib.util
import sys
import time
from pathlib import Path

import pytest

from dbt_cases import ROOT, batch_spec_names, emit, write

pytestmark = pytest.mark.realtools

ROWS = 48  # a multiple of the samples' 8 days: every day has the same row count (volume baselines hold)
HARNESS = ROOT / "tests" / "realtools" / "batch" / "harness.py"


@pytest.fixture(scope="module")
def harness():
    name = "streamc_realtools_batch_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HARNESS)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _db_path(project: Path) -> tuple[Path, str]:
    """Where the build's DuckDB file goes, and the env var the emitted profile reads that path from."""
    import yaml

    profiles = yaml.safe_load((project / "profiles.yml").read_text())
    (profile,) = profiles.values()
    dev = profile["outputs"]["dev"]
    assert dev["type"] == "duckdb"
    var = re.search(r"env_var\('(\w+)'", dev["path"]).group(1)
    return project / "warehouse.duckdb", var


def _build(harness, project: Path, db: Path, db_var: str) -> dict:
    # absolute sample paths: the staging views stay readable from any working directory (duckdb_tables)
    env = {db_var: str(db), "DBT_THREADS": "1", "STREAMC_SAMPLE_DIR": str(project / "data")}
    return harness.dbt_build(project, project, "dev", env=env)


def _unique_source_column(project: Path) -> tuple[str, str, str]:
    """(source group, table, column) of the first source column carrying a `unique` test."""
    import yaml

    doc = yaml.safe_load((project / "models" / "sources.yml").read_text())
    for group in doc["sources"]:
        for table in group["tables"]:
            for col in table["columns"]:
                if any(t == "unique" or (isinstance(t, dict) and "unique" in t) for t in col.get("data_tests", [])):
                    return group["name"], table["name"], col["name"]
    raise AssertionError("no source column has a unique test")


@pytest.mark.parametrize("name", batch_spec_names())
def test_dbt_build_on_duckdb(name: str, harness, tmp_path: Path) -> None:
    files = emit(name, target_warehouse="duckdb", samples=ROWS)
    project = write(files, tmp_path)
    db, db_var = _db_path(project)

    started = time.perf_counter()
    first = _build(harness, project, db, db_var)
    harness.assert_dbt_ok(first)
    elapsed = time.perf_counter() - started

    # every model / snapshot the project declares was built, and every test ran and passed
    results = first["results"]
    built = {r["name"] for r in results if r["resource_type"] in ("model", "snapshot")}
    declared = {p.stem for p in (project / "models").rglob("*.sql")}
    declared |= {p.stem for p in (project / "snapshots").glob("*.yml")} if (project / "snapshots").exists() else set()
    assert built == declared
    tests = [r for r in results if r["resource_type"] == "test"]
    assert tests and all(r["status"] == "pass" for r in tests)
    singular = {p.stem for p in (project / "tests").glob("*.sql")} if (project / "tests").exists() else set()
    assert singular <= {r["name"] for r in tests}
    print(f"{name}: dbt build {len(built)} models/snapshots, {len(tests)} tests in {elapsed:.1f}s")

    # idempotent: a second build over the same data leaves every table and view identical
    tables = harness.duckdb_tables(db)
    assert any(rows for rows in tables.values())
    harness.assert_dbt_ok(_build(harness, project, db, db_var))
    assert harness.duckdb_tables(db) == tables

    # a duplicated key in the raw data: the uniqueness test catches it and the build fails
    group, table, column = _unique_source_column(project)
    path = project / "data" / f"{table}.csv"
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    with path.open("a", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow(rows[1])
    broken = _build(harness, project, db, db_var)
    assert not broken["success"]
    failed = {r["unique_id"] for r in broken["results"] if r["resource_type"] == "test" and r["status"] == "fail"}
    wanted = f"source_unique_{group}_{table}_{column}"
    assert any(wanted in uid for uid in failed), failed
