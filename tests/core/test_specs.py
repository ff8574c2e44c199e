"""Every spec in specs/ compiles cleanly; every spec in specs/errors/ yields exactly its inline diagnostics."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ERROR_SPECS, ROOT, SPECS
from streamc.compiler import compile_files

MARKER = re.compile(r"^#!\s*([EW]\d{3})\s+(?:([\w.\-]+\.stream):)?(\d+):(\d+)\s*$")


def expected_markers(path):
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = MARKER.match(line)
        if m:
            code, file, ln, col = m.groups()
            out.add((code, file or path.name, int(ln), int(col)))
    return out


def test_there_are_specs_for_the_five_scenarios():
    assert len(SPECS) >= 5
    assert len(ERROR_SPECS) >= 10


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_spec_compiles_without_errors(spec):
    result = compile_files([spec])
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert result.ok, errors
    assert not errors


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_spec_check_command_exits_zero(spec, streamc):
    proc = streamc("check", str(spec.relative_to(ROOT)))
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("spec", ERROR_SPECS, ids=lambda p: p.name)
def test_error_spec_yields_exactly_its_inline_diagnostics(spec, streamc):
    expected = expected_markers(spec)
    assert expected, f"{spec.name} declares no expected diagnostics"
    proc = streamc("check", "--format", "json", str(spec.relative_to(ROOT)))
    assert proc.returncode == 1, proc.stderr
    diags = json.loads(proc.stdout)["diagnostics"]
    got = {(d["code"], d["file"].split("/")[-1], d["line"], d["column"]) for d in diags}
    assert got == expected
    for d in diags:
        assert d["message"] and d["hint"], d


@pytest.mark.parametrize("spec", ERROR_SPECS[:3], ids=lambda p: p.name)
def test_text_rendering_shows_position_source_line_and_caret(spec, streamc):
    proc = streamc("check", str(spec.relative_to(ROOT)))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    first = next(i for i, ln in enumerate(lines) if re.match(r"^\S+\.stream:\d+:\d+: (error|warning)\[[EW]\d{3}\]: ", ln))
    assert re.match(r"^\s+\d+ \| ", lines[first + 1])
    assert lines[first + 2].strip().startswith("^")
    assert "= hint:" in proc.stderr


def test_several_errors_are_reported_in_one_run():
    result = compile_files([ROOT / "specs" / "errors" / "unknown_names.stream"])
    assert len([d for d in result.diagnostics if d.severity == "error"]) >= 4
