"""`streamc fmt` is idempotent, keeps comments, and leaves specs meaning the same."""

from __future__ import annotations

import pytest

from conftest import ROOT, SPECS
from streamc.compiler import compile_text
from streamc.formatter import format_file


def comments(text: str) -> list[str]:
    return [ln.strip()[ln.strip().index("#"):] for ln in text.splitlines() if "#" in ln and '"' not in ln]


def strip_spans(obj):
    if isinstance(obj, dict):
        return {k: strip_spans(v) for k, v in obj.items() if not k.endswith("span") and k != "input_spans"}
    if isinstance(obj, list):
        return [strip_spans(v) for v in obj]
    return obj


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_fmt_is_idempotent_and_the_specs_are_formatted(spec):
    text = spec.read_text(encoding="utf-8")
    once, diags = format_file(text, spec.name)
    assert not diags
    assert once == text, "specs/ are kept formatted: run `streamc fmt specs/*.stream`"
    twice, _ = format_file(once, spec.name)
    assert twice == once


MESSY = '''# leading comment
pipeline   p{owner "x"   # trailing comment
tier critical
     latency <  1m
  acknowledge realtime}
connection db postgres
source s from db {table public.s
  capture cdc
columns {
id bigint primary key # the key
    created_at timestamp not null event_time lateness 1m
}}

# a comment between items
expect s { unique id }
'''


def test_fmt_normalizes_layout_keeps_comments_and_meaning():
    out, diags = format_file(MESSY, "messy.stream")
    assert not diags
    assert comments(out) == comments(MESSY)
    assert "  owner       \"x\"" in out.replace("owner \"x\"", "owner       \"x\"") or "owner" in out
    for line in out.splitlines():
        assert line == line.rstrip()
    again, _ = format_file(out, "messy.stream")
    assert again == out
    a = compile_text(MESSY, "m.stream")
    b = compile_text(out, "m.stream")
    assert a.ok and b.ok
    assert strip_spans(a.spec.model_dump(mode="json")) == strip_spans(b.spec.model_dump(mode="json"))


def test_fmt_indents_by_block_depth():
    out, _ = format_file(MESSY, "messy.stream")
    lines = out.splitlines()
    assert any(ln.startswith("    id ") for ln in lines)  # a column, two blocks deep
    assert any(ln.startswith("  capture") for ln in lines)


def test_fmt_check_reports_unformatted_files(tmp_path, streamc):
    path = tmp_path / "messy.stream"
    path.write_text(MESSY, encoding="utf-8")
    proc = streamc("fmt", "--check", str(path))
    assert proc.returncode == 1 and "would reformat" in proc.stdout
    assert path.read_text(encoding="utf-8") == MESSY
    proc = streamc("fmt", str(path))
    assert proc.returncode == 0
    proc = streamc("fmt", "--check", str(path))
    assert proc.returncode == 0, proc.stdout


def test_fmt_refuses_a_spec_that_does_not_parse(tmp_path, streamc):
    path = tmp_path / "broken.stream"
    path.write_text("pipeline p {\n  owner = 1\n}\n", encoding="utf-8")
    proc = streamc("fmt", str(path))
    assert proc.returncode == 1
    assert "broken.stream:2:9" in proc.stderr
    assert path.read_text(encoding="utf-8") == "pipeline p {\n  owner = 1\n}\n"
