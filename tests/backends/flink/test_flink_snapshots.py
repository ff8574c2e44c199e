"""Snapshot tests of the Flink backend: one syrupy snapshot per emitted file per spec (deployable scripts)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from streamc.backends.flink import FlinkBackend, FlinkOptions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flink_cases import cases  # noqa: E402

CASES = cases()
# specs whose plan has a Flink job; the others (batch, or streaming through Debezium / plain consumers) emit nothing
WITH_JOBS = {"orders_analytics", "clickstream", "clickstream_flink_sinks", "orders_mirror_flink_sinks"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_flink_scripts(name: str, snapshot) -> None:
    backend = FlinkBackend()
    assert backend.check(CASES[name], FlinkOptions()) == []
    files = backend.emit(CASES[name], FlinkOptions())
    if name not in WITH_JOBS:
        assert files == {}, "no Flink job in the plan, no script"
        return
    assert files and all(p.startswith("flink/") and p.endswith(".sql") for p in files)
    for path in sorted(files):
        assert snapshot(name=path) == files[path]


@pytest.mark.parametrize("name", ["orders_analytics"])
def test_flink_test_connector_scripts(name: str, snapshot) -> None:
    """The local stand-in the real-tool test runs (files instead of Kafka), for the reference hybrid spec."""
    files = FlinkBackend().emit(CASES[name], FlinkOptions(test_connectors=True))
    for path in sorted(files):
        assert snapshot(name=path) == files[path]
