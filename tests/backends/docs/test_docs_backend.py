"""The `docs` backend: a design document per spec whose every statement comes from the IR and the plan."""

from __future__ import annotations

import functools
import itertools
import os
import re
from pathlib import Path

import pytest

from streamc.backends.design_doc import DesignDocBackend, DocsOptions
from streamc.backends.mermaid import MermaidBackend, MermaidOptions
from streamc.compiler import compile_files
from streamc.ir import Spec
from streamc.testing import conformance_checks

ROOT = Path(__file__).resolve().parents[3]
SPECS = sorted((ROOT / "specs").glob("*.stream"))
NAMES = [p.stem for p in SPECS]
SECTIONS = ("## 1. Mode and why", "## 2. Source -> transform -> sink", "## 3. Data contracts",
            "## 4. Quality gates per boundary", "## 5. Idempotency per sink", "## 6. Lineage",
            "## 7. SLA, freshness and alerts", "## 8. PII handling", "## 9. Schema evolution policy",
            "## 10. Backfill and rollback", "## 11. Ownership")


@functools.lru_cache(maxsize=None)
def compiled(name: str) -> Spec:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = compile_files([f"specs/{name}.stream"])
    finally:
        os.chdir(cwd)
    assert result.ok, [d.message for d in result.diagnostics if d.severity == "error"]
    return result.spec


@functools.lru_cache(maxsize=None)
def design(name: str) -> str:
    files = DesignDocBackend().emit(compiled(name), DocsOptions())
    assert list(files) == ["docs/DESIGN.md"]
    return files["docs/DESIGN.md"]


def blocks(text: str) -> list[str]:
    """Paragraphs, list items and table rows: the units a reader would call 'a statement'."""
    out = []
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence or not line.strip() or line.startswith("#") or re.fullmatch(r"\|(-+\|)+", line):
            continue
        out.append(line.strip())
    return out


@pytest.mark.parametrize("name", NAMES)
def test_sections_in_order(name: str):
    text = design(name)
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("a,b", list(itertools.combinations(NAMES, 2)))
def test_no_boilerplate_shared_between_specs(a: str, b: str):
    """Two different specs' documents share no statement longer than a table header."""
    headers = {line for line in blocks(design(a)) if line.startswith("| ") and "---" not in line}
    shared = (set(blocks(design(a))) & set(blocks(design(b)))) - headers
    long = sorted(s for s in shared if len(s) > 60 and not _is_header(s))
    assert not long, long


def _is_header(line: str) -> bool:
    """A table header row: its cells are the column titles (short lower-case words)."""
    cells = [c.strip() for c in line.strip("|").split("|")]
    return line.startswith("|") and all(len(c) < 40 and not c.startswith("`") for c in cells)


@pytest.mark.parametrize("name", NAMES)
def test_states_the_plan(name: str):
    ir = compiled(name)
    text = design(name)
    assert f"**{ir.plan.mode.mode.value.upper()}**" in text
    assert ir.plan.mode.why.reason in text
    for s in ir.sources:
        assert f"### `{s.name}`" in text
        for c in s.columns:
            assert f"| `{c.name}` |" in text
    for sp in ir.plan.sinks:
        for ip in sp.inputs:
            assert ip.why.reason in text
    rel = ir.plan.reliability
    assert f"availability {rel.availability}" in text
    assert rel.retry_delay.text in text
    for p in ir.plan.pii:
        assert f"`{p.source}.{p.column}`" in text
    for b in ir.plan.backfill:
        assert f"| {b.change} | {b.strategy} |" in text


@pytest.mark.parametrize("name", NAMES)
def test_lineage_is_the_mermaid_backend_diagram(name: str):
    ir = compiled(name)
    mmd = next(v for k, v in MermaidBackend().emit(ir, MermaidOptions(markdown=False)).items() if k.endswith(".mmd"))
    assert "```mermaid\n" + mmd.rstrip("\n") + "\n```" in design(name)


@pytest.mark.parametrize("name", ["customer_marts", "daily_file_drop", "orders_analytics", "payments_api_sync"])
def test_batch_backfill_commands(name: str):
    ir = compiled(name)
    text = design(name)
    dag = ir.pipeline.name
    assert (f"airflow backfill create --dag-id {dag} --from-date \"$FROM_DATE\" --to-date \"$TO_DATE\" "
            f"--reprocess-behavior completed") in text
    marts = [m for k in ir.sinks for m in k.models]
    assert f"dbt build --project-dir dbt --select {' '.join('+' + m for m in marts)} --full-refresh" in text
    assert "Rollback:" in text


def test_stream_replay_commands():
    text = design("orders_cdc_kafka")
    assert "airflow backfill" not in text, "a streaming-only pipeline has no DAG"
    for group in ("analytics-order-metrics", "fulfillment-shipping", "inventory-stock-reservation"):
        assert f"--group {group} --topic ecommerce.orders.changes --reset-offsets --to-datetime" in text
    assert "at most 14d back" in text


def test_gaps_are_marked_not_hidden():
    text = design("orders_analytics")
    assert "GAP: the plan names no consumer group" in text  # the Flink job's offsets


@pytest.mark.parametrize("name", NAMES)
def test_snapshots(name: str, snapshot):
    assert snapshot(name="docs/DESIGN.md") == design(name)


@pytest.mark.parametrize("check", conformance_checks(DesignDocBackend, [str(p) for p in SPECS]), ids=str)
def test_conformance(check):
    check()
