"""Shared helpers for the dbt backend tests: compile the reference specs and emit their dbt projects."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from streamc.backends.dbt import DbtBackend, DbtOptions
from streamc.backends.dbt.project import has_batch_side
from streamc.compiler import compile_files
from streamc.ir import Spec

ROOT = Path(__file__).resolve().parents[3]
SPECS = sorted((ROOT / "specs").glob("*.stream"))


@functools.lru_cache(maxsize=None)
def compiled(name: str) -> Spec:
    """The compiled spec `specs/<name>.stream`, spans relative to the repository (as `streamc build` shows them)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = compile_files([f"specs/{name}.stream"])
    finally:
        os.chdir(cwd)
    assert result.ok, [d.message for d in result.diagnostics if d.severity == "error"]
    return result.spec


def spec_names() -> list[str]:
    return [p.stem for p in SPECS]


def batch_spec_names() -> list[str]:
    return [n for n in spec_names() if has_batch_side(compiled(n))]


def emit(name: str, **options: object) -> dict[str, str]:
    backend = DbtBackend()
    opts = DbtOptions(**options)
    ir = compiled(name)
    problems = backend.check(ir, opts)
    assert not problems, [p.message for p in problems]
    return backend.emit(ir, opts)


def write(files: dict[str, str], dest: Path) -> Path:
    """Write emitted files under `dest`; return the dbt project folder."""
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return dest / "dbt"
