"""Shared inputs of the Airflow backend tests: the reference specs compiled with their plans, and the emitted files."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from streamc.backends.airflow import AirflowBackend, AirflowOptions
from streamc.compiler import compile_files
from streamc.ir import Spec
from streamc.python_format import format_python_files

ROOT = Path(__file__).resolve().parents[3]
SPECS = {p.stem: p for p in sorted((ROOT / "specs").glob("*.stream"))}
BACKEND = AirflowBackend()
OPTIONS = AirflowOptions()


@lru_cache(maxsize=None)
def compiled(name: str) -> Spec:
    result = compile_files([SPECS[name]])
    assert result.spec is not None, f"{name} does not compile"
    return result.spec


@lru_cache(maxsize=None)
def emitted(name: str) -> dict[str, str]:
    ir = compiled(name)
    assert BACKEND.check(ir, OPTIONS) == [], f"{name}: the airflow backend rejects it"
    return format_python_files(BACKEND.emit(ir, OPTIONS))
