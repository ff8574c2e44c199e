"""Every emitted .sql file lints clean under sqlfluff, with the project's own config, in its warehouse dialect."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbt_cases import batch_spec_names, emit, write

sqlfluff = pytest.importorskip("sqlfluff")
from sqlfluff.core import FluffConfig, Linter  # noqa: E402

CASES = [(name, wh) for name in batch_spec_names() for wh in ("spec", "duckdb")]


@pytest.mark.parametrize("name,warehouse", CASES)
def test_sql_lints_clean(name: str, warehouse: str, tmp_path: Path) -> None:
    files = emit(name, target_warehouse=warehouse)
    project = write(files, tmp_path)
    config = FluffConfig.from_path(str(project))
    assert config.get("dialect") in ("snowflake", "bigquery", "postgres", "duckdb")
    assert config.get("templater") == "jinja"
    sql_files = sorted(p for p in project.rglob("*.sql"))
    assert sql_files, "no SQL emitted"
    linter = Linter(config=config)
    result = linter.lint_paths(tuple(str(p) for p in sql_files))
    problems = [
        f"{Path(r['filepath']).relative_to(project)}:{v['start_line_no']}:{v['start_line_pos']} "
        f"{v['code']} {v['description']}"
        for r in result.as_records()
        for v in r["violations"]
    ]
    assert problems == []
    assert len(result.as_records()) == len(sql_files)
