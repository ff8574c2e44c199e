"""Snapshot tests of the Kafka backend: one syrupy snapshot per emitted file per spec with a Kafka plan."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kafka_cases import compiled, emit, with_topics  # noqa: E402


@pytest.mark.parametrize("name", with_topics())
def test_kafka_files(name: str, snapshot) -> None:
    files = emit(compiled(name))
    assert files
    for path in sorted(files):
        assert snapshot(name=path) == files[path]
