"""pytest wiring for tests/realtools/streaming (real PostgreSQL, PyFlink, Debezium)."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "realtools: runs real external tools (PostgreSQL, Flink, Debezium, ...); needs setup.sh and PyPI",
    )
