"""Snapshot tests of the dbt backend: one syrupy snapshot per emitted file per reference spec."""

from __future__ import annotations

import pytest

from dbt_cases import batch_spec_names, emit, spec_names


@pytest.mark.parametrize("name", spec_names())
def test_dbt_project_files(name: str, snapshot) -> None:
    files = emit(name)
    if name not in batch_spec_names():
        assert files == {}, "a spec without a batch side gets no dbt project"
        return
    assert "dbt/dbt_project.yml" in files and "dbt/profiles.yml" in files
    for path in sorted(files):
        assert snapshot(name=path) == files[path]


@pytest.mark.parametrize("name", ["customer_marts"])
def test_dbt_local_duckdb_files(name: str, snapshot) -> None:
    """The DuckDB stand-in with sample data (what the real-tool test runs), for one spec with every feature."""
    files = emit(name, target_warehouse="duckdb", samples=16)
    for path in sorted(files):
        assert snapshot(name=path) == files[path]
