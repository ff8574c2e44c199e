"""Shared helpers for the Dagster backend tests: compile the reference specs, emit, and what the IR says to expect."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from streamc.backends.dagster import DagsterBackend, DagsterOptions
from streamc.compiler import compile_files
from streamc.ir import CheckKind, Mode, Spec
from streamc.python_format import format_python_files

ROOT = Path(__file__).resolve().parents[3]
SPECS = sorted((ROOT / "specs").glob("*.stream"))


@functools.lru_cache(maxsize=None)
def compiled(name: str) -> Spec:
    """The compiled spec `specs/<name>.stream`, paths relative to the repository (as `streamc build` shows them)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = compile_files([Path(f"specs/{name}.stream")])
    finally:
        os.chdir(cwd)
    assert result.ok, [d.message for d in result.diagnostics if d.severity == "error"]
    return result.spec


def spec_names() -> list[str]:
    return [p.stem for p in SPECS]


def emit(name: str, **options: object) -> dict[str, str]:
    backend = DagsterBackend()
    opts = DagsterOptions(**options)
    ir = compiled(name)
    problems = backend.check(ir, opts)
    assert not problems, [p.message for p in problems]
    return format_python_files(backend.emit(ir, opts))


def write(files: dict[str, str], dest: Path) -> Path:
    """Write emitted files under `dest`; return the definitions module."""
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return dest / "dagster" / "definitions.py"


# ------------------------------------------------------------------ what the IR says the definitions hold


def batch_ids(ir: Spec) -> set[str]:
    mode = ir.plan.mode
    if mode.batch_nodes:
        return set(mode.batch_nodes)
    if mode.mode != Mode.batch:
        return set()
    return {f"source:{s.name}" for s in ir.sources} | {f"model:{m.name}" for m in ir.models}


def batch_models(ir: Spec) -> list[str]:
    ids = batch_ids(ir)
    return [m.name for m in ir.models if f"model:{m.name}" in ids]


def batch_sources(ir: Spec) -> list[str]:
    """Batch sources the batch models read."""
    read = {d for m in ir.models if m.name in batch_models(ir) for d in m.depends_on}
    return [s.name for s in ir.sources if s.name in read]


def asset_deps(ir: Spec) -> dict[str, list[str]]:
    """"pipeline/node" -> sorted upstream "pipeline/node", for every asset."""
    p = ir.pipeline.name
    deps = {f"{p}/{s}": [] for s in batch_sources(ir)}
    for name in batch_models(ir):
        deps[f"{p}/{name}"] = sorted(f"{p}/{d}" for d in ir.model(name).depends_on)
    return deps


def check_names(check) -> list[str]:
    """The Dagster check names a gate becomes (one per column for column checks)."""
    k = check.kind
    if k == CheckKind.unique:
        return ["unique_" + "_".join(check.columns)]
    if k in (CheckKind.not_null, CheckKind.range, CheckKind.accepted_values, CheckKind.regex,
             CheckKind.relationships):
        return [f"{k.value}_{c}" for c in check.columns]
    if k == CheckKind.freshness:
        return [f"freshness_{check.columns[0]}"]
    if k in (CheckKind.row_count, CheckKind.volume_anomaly):
        return [k.value]
    if k == CheckKind.reconcile:
        measure = re.sub(r"\W+", "_", check.measure or "count").strip("_").lower()
        return [f"reconcile_{measure}_{check.against}"]
    if k == CheckKind.custom_sql:
        return [check.name]
    if k == CheckKind.schema:
        return ["schema_contract"]
    raise AssertionError(f"unexpected check kind {k}")


def expected_checks(ir: Spec) -> dict[str, dict[str, object]]:
    """"pipeline/node:check" -> {"blocking", "severity"} for every gate on a batch asset."""
    p = ir.pipeline.name
    assets = set(batch_sources(ir)) | set(batch_models(ir))
    out = {}
    for gate in ir.plan.gates:
        if gate.check.target not in assets:
            continue
        for name in check_names(gate.check):
            key = f"{p}/{gate.check.target}:{name}"
            assert key not in out, f"two gates named {key}"
            out[key] = {"blocking": gate.check.severity.value == "error",
                        "severity": "ERROR" if gate.check.severity.value == "error" else "WARN"}
    return out


def partitioned_models(ir: Spec) -> list[str]:
    """Models the plan builds as tables partitioned by day."""
    plans = {m.model: m for m in ir.plan.models}
    return [m for m in batch_models(ir) if ir.model(m).partition is not None
            and ir.model(m).partition.granularity == "day"
            and plans[m].materialization in ("table", "incremental")]
