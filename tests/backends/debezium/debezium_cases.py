"""Specs the Debezium backend tests compile (the reference specs plus MySQL, SQL Server and PostgreSQL test specs)."""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path

from streamc.backends.debezium import DebeziumBackend, DebeziumOptions
from streamc.compiler import compile_files
from streamc.ir import Spec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
REFERENCE = {p.stem: f"specs/{p.name}" for p in sorted((ROOT / "specs").glob("*.stream"))}
# test specs: MySQL (binlog) and SQL Server (CDC tables) sources, and a PostgreSQL source whose plan keeps
# REPLICA IDENTITY DEFAULT, so its publication leaves the pii(drop) column out with a column list
LOCAL = {p.stem: str(p.relative_to(ROOT)) for p in sorted((HERE / "specs").glob("*.stream"))}
ALL = {**REFERENCE, **LOCAL}
STREAMING = ROOT / "tests" / "realtools" / "streaming"


@functools.lru_cache(maxsize=None)
def compiled(name: str) -> Spec:
    """The compiled spec, spans relative to the repository (as `streamc build` shows them)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = compile_files([ALL[name]])
    finally:
        os.chdir(cwd)
    assert result.ok, [d.message for d in result.diagnostics if d.severity == "error"]
    return result.spec


def cdc_names(names) -> list[str]:
    """Specs whose plan captures some source log-based (Debezium)."""
    return sorted(n for n in names if any(c.method == "log_cdc" for c in compiled(n).plan.captures))


def emit(spec: Spec, **options: object) -> dict[str, str]:
    backend = DebeziumBackend()
    opts = DebeziumOptions(**options)
    assert backend.check(spec, opts) == []
    return backend.emit(spec, opts)


def streaming_module(mod: str):
    """A module of tests/realtools/streaming (loaded by path under the name its own tests use)."""
    name = f"streamc_realtools_streaming_{mod}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, STREAMING / f"{mod}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
