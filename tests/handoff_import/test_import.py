"""`streamc import`: the reference material's incoming handoffs become canonical specs that compile; unknown, missing
and invalid fields are errors at their YAML line."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from streamc.compiler import compile_text
from streamc.formatter import format_file
from streamc.handoff_import import add_import_parser, cmd_import, import_handoff

ROOT = Path(__file__).resolve().parents[2]
SEED = next((ROOT.parent / "shared" / "reference" / "seeds").glob("000_*.txt"))
INCOMING = ("SCHEMA_TO_STREAM_HANDOFF", "PULSE_TO_STREAM_HANDOFF", "BUILDER_TO_STREAM_HANDOFF")


def examples() -> dict[str, str]:
    text = SEED.read_text(encoding="utf-8")
    out = {}
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        out[re.search(r"## (\w+)", block).group(1)] = block
    return out


def imported(title: str):
    result = import_handoff(examples()[title], f"{title}.yaml", "imported.stream")
    assert result.ok, [(d.code, d.message, d.span.line if d.span else None) for d in result.diagnostics]
    return result


@pytest.mark.parametrize("title", INCOMING)
def test_reference_handoffs_compile(title: str):
    result = imported(title)
    assert result.kind + "_HANDOFF" == title
    compiled = compile_text(result.text, "imported.stream")
    assert compiled.ok, [(d.code, d.message) for d in compiled.diagnostics if d.severity == "error"]
    formatted, _ = format_file(result.text, "imported.stream")
    assert formatted == result.text, "written in canonical form"


def test_schema_handoff_content():
    spec = compile_text(imported("SCHEMA_TO_STREAM_HANDOFF").text, "s.stream").spec
    orders = spec.source("orders")
    assert [c.name for c in orders.columns] == ["id", "customer_id", "total_amount", "created_at", "updated_at"]
    assert orders.column("total_amount").type.sql() == "numeric(10, 2)"
    assert orders.primary_key == ("id",) and orders.location.value == "public.orders"
    assert orders.volume.text == "50000/day" and orders.peak.text == "100/s" and orders.retention.text == "3y"
    fct = spec.model("fct_orders")
    assert fct.grain == ("order_id",) and fct.cluster == ("customer_id",)
    assert fct.partition.column == "created_at" and fct.partition.granularity == "day"
    checks = {(c.kind.value, c.columns) for c in spec.checks_on("fct_orders")}
    assert checks == {("unique", ("order_id",)), ("range", ("total_amount",)), ("not_null", ("created_at",))}
    assert spec.connection("warehouse").kind.value == "snowflake"


def test_pulse_handoff_content():
    spec = compile_text(imported("PULSE_TO_STREAM_HANDOFF").text, "p.stream").spec
    daily = spec.metric("daily_revenue")
    assert daily.window.size.text == "1d" and daily.dimensions == ("store_id", "product_category")
    assert daily.measures[0].function == "sum" and daily.measures[0].column == "total_amount"
    assert spec.metric("customer_ltv").dimensions == ("customer_id",) and spec.metric("customer_ltv").window is None
    assert spec.model("rpt_order_frequency").grain == ("month",)
    assert {s.name for s in spec.sources} == {"orders", "customers", "products"}
    assert spec.pipeline.schedule.time == "05:00", "an hour before 'available by 06:00 UTC'"


def test_builder_handoff_content():
    spec = compile_text(imported("BUILDER_TO_STREAM_HANDOFF").text, "b.stream").spec
    tx = spec.source("transactions")
    assert tx.location.kind == "endpoint" and tx.location.value == "/transactions" and tx.location.method == "GET"
    assert tx.api.auth == "oauth2" and tx.api.pagination == "cursor" and tx.api.rate_limit.text == "100/min"
    assert tx.api.initial_load.text == "90d" and tx.every.text == "15m" and tx.capture.column == "updated_at"
    assert tx.column("status").type.values == ("pending", "completed", "failed")
    assert tx.column("created_at").type.name == "timestamp"
    assert spec.pipeline.schedule.every.text == "15m"
    env = {o.key: o.value.text for e in spec.environments for o in e.overrides}
    assert env == {"base_url": "https://api.payments.com"}


# ------------------------------------------------------------------ errors, at their YAML line


def _errors(text: str) -> list[tuple[str, int]]:
    result = import_handoff(text, "h.yaml")
    assert not result.ok
    return [(d.code, d.span.line) for d in result.diagnostics]


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_unknown_field_with_its_line():
    text = examples()["SCHEMA_TO_STREAM_HANDOFF"].replace("    daily_growth: 50000", "    daily_grwth: 50000")
    result = import_handoff(text, "h.yaml")
    [d] = result.diagnostics
    assert (d.code, d.span.line) == ("E131", _line(text, "daily_grwth"))
    assert "did you mean 'daily_growth'" in d.hint


def test_missing_field_names_its_parent():
    text = examples()["BUILDER_TO_STREAM_HANDOFF"].replace('        type: "decimal"\n', "")
    result = import_handoff(text, "h.yaml")
    [d] = result.diagnostics
    assert d.code == "E132" and "'type'" in d.message and "fields[1]" in d.message
    assert d.span.line == _line(text, '- name: "amount"')


def test_invalid_values():
    text = examples()["SCHEMA_TO_STREAM_HANDOFF"].replace('type: "timestamp"', 'type: "timestmp"', 1)
    assert _errors(text) == [("E133", _line(text, "timestmp"))]
    text = examples()["SCHEMA_TO_STREAM_HANDOFF"].replace('"total_amount >= 0"', '"amounts look fine"')
    assert _errors(text) == [("E133", _line(text, "amounts look fine"))]
    text = examples()["BUILDER_TO_STREAM_HANDOFF"].replace('"every 15 minutes"', '"whenever"')
    assert _errors(text) == [("E133", _line(text, "whenever"))]


def test_not_a_handoff_and_bad_yaml():
    assert _errors("something: 1\nelse: 2\n") == [("E130", 1)]
    assert _errors("source_models:\n  - table: [x\n") == [("E134", 3)]


def test_several_unknown_fields_are_all_reported():
    text = examples()["PULSE_TO_STREAM_HANDOFF"].replace("      grain: \"customer\"", "      grian: \"customer\"")
    text = text.replace('description: "Total revenue per day"', 'descriptoin: "Total revenue per day"')
    assert sorted(_errors(text)) == sorted([("E131", _line(text, "grian")), ("E131", _line(text, "descriptoin"))])
    # a renamed required field: the unknown name and the missing one
    text = examples()["PULSE_TO_STREAM_HANDOFF"].replace("  data_sources:", "  data_sourcez:")
    assert sorted(_errors(text)) == [("E131", _line(text, "data_sourcez")), ("E132", _line(text, "analytics_requirements:"))]


# ------------------------------------------------------------------ the command


def _parser():
    p = argparse.ArgumentParser()
    add_import_parser(p.add_subparsers(dest="command"))
    return p


def test_command_writes_a_spec_streamc_check_accepts(tmp_path, capsys):
    handoff = tmp_path / "builder.yaml"
    handoff.write_text(examples()["BUILDER_TO_STREAM_HANDOFF"], encoding="utf-8")
    out = tmp_path / "payments.stream"
    assert cmd_import(_parser().parse_args(["import", str(handoff), "-o", str(out)])) == 0
    assert out.read_text().startswith("# Imported by `streamc import` from builder.yaml")
    exe = Path(sys.executable).parent / "streamc"
    check = subprocess.run([str(exe), "check", str(out)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    # an existing file is kept unless --force
    assert cmd_import(_parser().parse_args(["import", str(handoff), "-o", str(out)])) == 2
    assert cmd_import(_parser().parse_args(["import", str(handoff), "-o", str(out), "--force"])) == 0


def test_command_reports_errors_with_positions(tmp_path, capsys):
    handoff = tmp_path / "bad.yaml"
    handoff.write_text(examples()["SCHEMA_TO_STREAM_HANDOFF"].replace("    estimated_rows:", "    estimated_rowz:"))
    assert cmd_import(_parser().parse_args(["import", str(handoff)])) == 1
    err = capsys.readouterr().err
    line = _line(handoff.read_text(), "estimated_rowz")
    assert f"{handoff}:{line}:5: error[E131]: unknown field 'estimated_rowz' in source_models[0]" in err


@pytest.mark.parametrize("title", INCOMING)
def test_snapshots(title: str, snapshot):
    assert snapshot(name=f"{title}.stream") == imported(title).text
