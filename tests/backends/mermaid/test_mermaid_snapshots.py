"""Snapshot tests of the Mermaid backend: one syrupy snapshot per emitted file per spec (the reference specs and
the injection spec whose names and strings are Mermaid syntax)."""

from __future__ import annotations

import pytest

from mermaid_cases import INJECTION, SPECS, compiled_path, emit


@pytest.mark.parametrize("name", [*SPECS, "injection"])
def test_mermaid_files(name: str, snapshot) -> None:
    ir = compiled_path(SPECS.get(name, INJECTION))
    files = emit(ir)
    assert sorted(files) == [f"mermaid/{ir.pipeline.name}.md", f"mermaid/{ir.pipeline.name}.mmd"]
    for path in sorted(files):
        assert snapshot(name=path) == files[path]
