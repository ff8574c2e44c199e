"""docs/language.md stays true: every example compiles, and every diagnostic code is documented."""

from __future__ import annotations

import re

from conftest import ROOT
from streamc.compiler import compile_text
from streamc.diagnostics import REGISTRY

DOC = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```stream\n(.*?)```", DOC, re.S)
MUST_FAIL = {"pipeline other_example": "E101"}


def test_the_doc_has_examples():
    assert len(BLOCKS) >= 8


def test_every_example_compiles():
    """Examples build on each other, as a reader meets them: each compiles on top of the ones before."""
    base = ""
    for block in BLOCKS:
        result = compile_text(base + "\n" + block, "doc.stream")
        expected_failure = next((code for marker, code in MUST_FAIL.items() if marker in block), None)
        if expected_failure:
            assert not result.ok and any(d.code == expected_failure for d in result.diagnostics), block
            continue
        assert result.ok, (block, [(d.code, d.message) for d in result.diagnostics])
        base += "\n" + block


def test_every_diagnostic_code_is_documented():
    documented = set(re.findall(r"^\| ([EW]\d{3}) \|", DOC, re.M))
    assert documented == set(REGISTRY)
