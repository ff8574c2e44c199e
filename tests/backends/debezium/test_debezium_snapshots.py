"""Snapshot tests of the Debezium backend: one syrupy snapshot per emitted file per spec with log-based capture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from debezium_cases import ALL, cdc_names, compiled, emit  # noqa: E402


@pytest.mark.parametrize("name", cdc_names(ALL))
def test_debezium_files(name: str, snapshot) -> None:
    files = emit(compiled(name))
    assert files
    for path in sorted(files):
        assert snapshot(name=path) == files[path]
