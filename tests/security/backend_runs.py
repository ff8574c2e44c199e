"""Compile spec text and run every installed backend on it in-process, as `streamc build` does (check, then emit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from streamc.backend_api import Registry, parse_options
from streamc.compiler import compile_text
from streamc.diagnostics import Diagnostic, render_text
from streamc.ir import Spec

# the sqlglot dialect of each connection kind
DIALECT_OF_KIND = {"postgres": "postgres", "snowflake": "snowflake", "bigquery": "bigquery", "duckdb": "duckdb",
                   "mysql": "mysql", "sqlserver": "tsql"}


@lru_cache(maxsize=1)
def registry() -> Registry:
    return Registry()


def backend_names() -> list[str]:
    return registry().names()


@dataclass
class BackendRun:
    backend: str
    files: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    crash: str | None = None


def compile_or_fail(text: str, name: str) -> Spec:
    result = compile_text(text, f"{name}.stream")
    if not result.ok:
        raise AssertionError(f"{name} does not compile:\n{render_text(result.diagnostics, result.sources)}")
    return result.spec


def run_backend(spec: Spec, name: str) -> BackendRun:
    backend = registry().get(name)
    options = parse_options(backend, {})
    run = BackendRun(name)
    try:
        run.diagnostics = list(backend.check(spec, options))
        if not any(d.severity == "error" for d in run.diagnostics):
            run.files = backend.emit(spec, options)
    except Exception as e:  # noqa: BLE001 - a crash on hostile text is a finding, reported by the test
        run.crash = f"{type(e).__name__}: {e}"
    return run


def dialects(spec: Spec) -> tuple[str, str]:
    """(warehouse dialect, source database dialect) of a spec."""
    warehouse = next((c for c in spec.connections if c.is_warehouse), None)
    source = next((c for c in spec.connections if c.kind.value in ("postgres", "mysql", "sqlserver")
                   and not c.is_warehouse), None)
    return (DIALECT_OF_KIND.get(warehouse.kind.value, "postgres") if warehouse else "postgres",
            DIALECT_OF_KIND.get(source.kind.value, "postgres") if source else "postgres")
