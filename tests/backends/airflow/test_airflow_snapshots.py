"""Snapshot tests of the Airflow backend: one syrupy snapshot per emitted file per reference spec."""

from __future__ import annotations

import pytest
from airflow_cases import SPECS, emitted


@pytest.mark.parametrize("name", sorted(SPECS))
def test_airflow_files(name: str, snapshot) -> None:
    files = emitted(name)
    assert snapshot(name="files") == sorted(files)
    for path in sorted(files):
        assert snapshot(name=path) == files[path]
