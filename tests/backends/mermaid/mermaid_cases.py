"""Shared inputs of the Mermaid backend tests: specs compiled with their plans, the emitted files, names to see."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from streamc.backends.mermaid import MermaidBackend, MermaidOptions
from streamc.compiler import compile_files, compile_text
from streamc.ir import Spec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SPECS = {p.stem: p for p in sorted((ROOT / "specs").glob("*.stream"))}
INJECTION = HERE / "specs" / "injection.stream"
BACKEND = MermaidBackend()


@functools.lru_cache(maxsize=None)
def compiled_path(path: Path) -> Spec:
    """Compiled from the repository root, so spans read `specs/x.stream` as `streamc build` shows them."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = compile_files([path.relative_to(ROOT)])
    finally:
        os.chdir(cwd)
    errors = [f"{d.code} {d.message}" for d in result.diagnostics if d.severity == "error"]
    assert result.spec is not None and not errors, errors
    return result.spec


def compiled(name: str) -> Spec:
    return compiled_path(SPECS[name])


def emit(ir: Spec, **options: object) -> dict[str, str]:
    opts = MermaidOptions(**options)
    problems = BACKEND.check(ir, opts)
    assert not problems, [p.message for p in problems]
    return BACKEND.emit(ir, opts)


@functools.lru_cache(maxsize=None)
def emitted(name: str) -> dict[str, str]:
    return emit(compiled(name))


def diagram(files: dict[str, str]) -> str:
    return next(text for path, text in sorted(files.items()) if path.endswith(".mmd"))


def spec_names_to_see(ir: Spec) -> list[str]:
    """Every source, model, metric and sink name of the spec: each must be the first line of some label."""
    return [n.name for group in (ir.sources, ir.models, ir.metrics, ir.sinks) for n in group]


def has_label_for(labels: list[str], name: str) -> bool:
    """A label whose first line is the name (svg_labels reads <br> as a space)."""
    return any(label == name or label.startswith(name + " ") for label in labels)


def big_spec(n: int) -> str:
    """A batch pipeline of n sources, each through a staging and a mart model into one sink: 4n edges."""
    parts = ['pipeline big { owner "team" domain bulk tier standard latency < 24h schedule daily at 05:00 UTC }',
             'connection db postgres { database "x" credentials secret db_credentials }',
             'connection wh snowflake { database "analytics" }']
    for i in range(n):
        parts.append(f"source s{i} from db {{ table public.t{i} capture incremental(updated_at) volume 10/day "
                     "columns { id bigint primary key\n updated_at timestamp not null } }")
        parts.append(f"model stg_s{i} from s{i} {{ select id, updated_at }}")
        parts.append(f'model fct_s{i} {{ grain id sql """ select id, updated_at from stg_s{i} """ }}')
    parts.append("sink out to wh { models " + ", ".join(f"fct_s{i}" for i in range(n)) + " }")
    parts.append("expect fct_s0 { not_null id }")
    return "\n".join(parts) + "\n"


@functools.lru_cache(maxsize=None)
def big(n: int) -> Spec:
    result = compile_text(big_spec(n), name="big.stream")
    assert result.spec is not None, [d.message for d in result.diagnostics if d.severity == "error"]
    return result.spec
