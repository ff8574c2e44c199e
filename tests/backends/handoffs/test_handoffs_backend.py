"""The `handoffs` backend: the four outgoing handoffs load as YAML, use the reference formats' field names, and say
what the compiled spec and its plan say; one snapshot per emitted file per reference spec."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest
import yaml

from streamc.backends.handoffs import HandoffOptions, HandoffsBackend
from streamc.backends.handoffs.facts import runtimes
from streamc.backends.mermaid import MermaidBackend, MermaidOptions
from streamc.compiler import compile_files
from streamc.ir import Spec
from streamc.testing import conformance_checks

ROOT = Path(__file__).resolve().parents[3]
SPECS = sorted((ROOT / "specs").glob("*.stream"))
NAMES = [p.stem for p in SPECS]
SEED = next((ROOT.parent / "shared" / "reference" / "seeds").glob("000_*.txt"))
OUTGOING = ("STREAM_TO_CANVAS_HANDOFF", "STREAM_TO_RADAR_HANDOFF", "STREAM_TO_GEAR_HANDOFF",
            "STREAM_TO_SCHEMA_HANDOFF")
FREE = {"input", "expected"}  # test data: any keys

# Fields streamc adds beyond the reference formats (each a fact the reference has no field for).
EXTENSIONS = {
    "STREAM_TO_RADAR_HANDOFF": {
        f"test_requirements.data_quality_tests[].{k}"
        for k in ("values", "pattern", "references", "condition", "against", "measure", "tolerance", "name", "sql",
                  "boundary", "severity")},
    "STREAM_TO_GEAR_HANDOFF": {"ci_cd_requirements.deploy.environments[].kafka_replication",
                               "ci_cd_requirements.monitoring.alerts[].check_every"},
    "STREAM_TO_SCHEMA_HANDOFF": {"derived_models[].layer", "derived_models[].materialization",
                                 "derived_models[].published_to", "derived_models[].partitioning.partitions"},
    "STREAM_TO_CANVAS_HANDOFF": set(),
}


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
def emitted(name: str) -> dict[str, str]:
    return HandoffsBackend().emit(compiled(name), HandoffOptions())


def loaded(name: str, handoff: str) -> dict:
    return yaml.safe_load(emitted(name)[f"handoffs/{handoff}.yaml"])


@functools.lru_cache(maxsize=None)
def reference() -> dict[str, dict]:
    """The outgoing handoff examples of the reference material, parsed from its YAML blocks."""
    text = SEED.read_text(encoding="utf-8")
    out = {}
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        title = re.search(r"## (\w+)", block).group(1)
        out[title] = yaml.safe_load(block)
    return out


def paths(value: object, prefix: str = "") -> set[str]:
    """Every key path (`a.b[].c`) in a document, not descending into free test data."""
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{prefix}.{k}" if prefix else str(k)
            out.add(p)
            if k not in FREE:
                out |= paths(v, p)
    elif isinstance(value, list):
        for item in value:
            out |= paths(item, prefix + "[]")
    return out


def always(value: object, prefix: str = "") -> set[str]:
    """Key paths present in every item of the lists they sit in (the fields an entry cannot leave out)."""
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{prefix}.{k}" if prefix else str(k)
            out.add(p)
            if k not in FREE:
                out |= always(v, p)
    elif isinstance(value, list) and value:
        dicts = [v for v in value if isinstance(v, dict)]
        if dicts:
            common = set.intersection(*(always(d, prefix + "[]") for d in dicts))
            out |= common
    return out


def test_reference_examples_are_found():
    assert set(OUTGOING) <= set(reference())


@pytest.mark.parametrize("name", NAMES)
def test_every_handoff_is_emitted_and_loads(name: str):
    files = emitted(name)
    assert sorted(files) == sorted(f"handoffs/{h}.yaml" for h in OUTGOING)
    for h in OUTGOING:
        text = files[f"handoffs/{h}.yaml"]
        assert text.startswith(f"## {h}\n"), "the first line names the handoff, as in the reference"
        assert isinstance(yaml.safe_load(text), dict)


@pytest.mark.parametrize("handoff", OUTGOING)
@pytest.mark.parametrize("name", NAMES)
def test_fields_are_the_reference_formats(name: str, handoff: str):
    ref = reference()[handoff]
    mine = loaded(name, handoff)
    assert set(mine) == set(ref), "top-level fields"
    mine_paths = paths(mine)
    unknown = mine_paths - paths(ref) - EXTENSIONS[handoff]
    assert not unknown, f"fields the reference format does not have: {sorted(unknown)}"
    # the fields every entry of the reference has, wherever this handoff has entries of that list
    for p in sorted(always(ref)):
        if p == "ci_cd_requirements.deploy.environments[].airflow_url" and not runtimes(compiled(name)).batch:
            continue  # Airflow's URL: only a pipeline with a batch side deploys a DAG
        parent = p.rsplit(".", 1)[0] if "." in p else ""
        if parent and not any(q == parent or q.startswith(parent + ".") for q in mine_paths):
            continue  # an empty list here (e.g. no unit test can be derived)
        assert p in mine_paths, f"missing {p}"


def _mermaid_ids(ir: Spec) -> set[str]:
    files = MermaidBackend().emit(ir, MermaidOptions(markdown=False))
    text = next(v for k, v in files.items() if k.endswith(".mmd"))
    return set(re.findall(r"\b(n_[A-Za-z0-9_]+|sg_[A-Za-z0-9_]+)\b", text))


@pytest.mark.parametrize("name", NAMES)
def test_canvas_is_the_mermaid_graph(name: str):
    ir = compiled(name)
    canvas = loaded(name, "STREAM_TO_CANVAS_HANDOFF")
    ids = [n["id"] for n in canvas["nodes"]]
    assert len(ids) == len(set(ids))
    assert set(ids) <= _mermaid_ids(ir), "node ids are the Mermaid diagram's"
    for e in canvas["edges"]:
        assert e["from"] in ids and e["to"] in ids
    for a in canvas["annotations"]:
        assert a["position"] in ids
    for s in ir.sources:
        assert any(n["label"].startswith(s.name + "\n") and n.get("position") == "left" for n in canvas["nodes"])
    assert canvas["format"] == "mermaid"
    assert ir.plan.mode.mode.value in canvas["diagram_request"]["title"]


def test_canvas_annotates_topics_and_windows():
    canvas = loaded("orders_analytics", "STREAM_TO_CANVAS_HANDOFF")
    texts = {a["position"]: a["text"] for a in canvas["annotations"]}
    assert "retention 7d" in texts["n_topic_ecommerce_orders_changes"]
    assert "window tumbling 1m" in texts["n_metric_revenue_per_minute"]


@pytest.mark.parametrize("name", NAMES)
def test_radar_quality_tests_are_the_gates(name: str):
    ir = compiled(name)
    radar = loaded(name, "STREAM_TO_RADAR_HANDOFF")["test_requirements"]
    assert radar["pipeline_name"] == ir.pipeline.name
    dq = radar["data_quality_tests"]
    assert len(dq) == len(ir.plan.gates)
    for t, g in zip(dq, ir.plan.gates):
        assert t["table"] == g.check.target and t["boundary"] == g.boundary
        assert t["severity"] == g.check.severity.value
    sinks = {s.sink for s in ir.plan.sinks}
    names = {t["name"] for t in radar["integration_tests"]}
    assert {f"end_to_end_{s}" for s in sinks} <= names
    assert {f"idempotent_rerun_{s}" for s in sinks} <= names
    assert {f"backfill_{b.change}" for b in ir.plan.backfill} <= names


def test_radar_unit_tests_compute_the_model_sql():
    units = {u["name"]: u for u in loaded("daily_file_drop", "STREAM_TO_RADAR_HANDOFF")["test_requirements"]
             ["unit_tests"]}
    line = units["stg_partner_orders_line_amount"]
    assert line["expected"]["line_amount"] == line["input"]["quantity"] * line["input"]["unit_price"]
    payments = {u["name"]: u for u in loaded("payments_api_sync", "STREAM_TO_RADAR_HANDOFF")["test_requirements"]
                ["unit_tests"]}
    settled = payments["fct_transactions_settled_amount"]
    assert settled["input"]["status"] == "pending" and settled["expected"]["settled_amount"] == 0
    metric = {u["name"]: u for u in loaded("orders_analytics", "STREAM_TO_RADAR_HANDOFF")["test_requirements"]
              ["unit_tests"]}["revenue_per_minute_one_window"]
    rows = metric["input"]["rows"]
    assert metric["expected"]["revenue"] == sum(r["total_amount"] for r in rows)
    assert metric["expected"]["orders"] == len(rows)


@pytest.mark.parametrize("name", NAMES)
def test_gear_follows_the_plan(name: str):
    ir = compiled(name)
    gear = loaded(name, "STREAM_TO_GEAR_HANDOFF")["ci_cd_requirements"]
    envs = [e["name"] for e in gear["deploy"]["environments"]]
    assert envs == ([e.name for e in ir.environments] or ["default"])
    rel = ir.plan.reliability
    thresholds = {(a["metric"], a["threshold"]) for a in gear["monitoring"]["alerts"]}
    assert ("resource_utilization", f">= {rel.resource_warning_pct}%") in thresholds
    if rel.stale_alert_after is not None:
        assert ("time_since_last_update", f"> {rel.stale_alert_after.text}") in thresholds
    steps = "\n".join(gear["deploy"]["steps"])
    for t in ir.plan.topics:
        if t.owned:
            assert f"--topic {t.name} --partitions {t.partitions} " in steps
    assert "://" not in steps, "no host is a literal"


def test_gear_batch_steps_name_the_dag():
    gear = loaded("customer_marts", "STREAM_TO_GEAR_HANDOFF")["ci_cd_requirements"]
    assert "airflow dags unpause customer_marts" in gear["deploy"]["steps"]
    assert gear["deploy"]["environments"][-1]["approval_required"] is True  # tier important


@pytest.mark.parametrize("name", NAMES)
def test_schema_handoff_lists_every_model(name: str):
    ir = compiled(name)
    models = {m["name"]: m for m in loaded(name, "STREAM_TO_SCHEMA_HANDOFF")["derived_models"]}
    for m in ir.models:
        entry = models[m.name]
        assert [c["name"] for c in entry["columns"]] == [c.name for c in m.columns]
        if m.grain:
            assert entry["primary_key"] == list(m.grain)
        if m.partition is not None:
            assert entry["partitioning"]["column"] == m.partition.column


def test_schema_handoff_types_and_history():
    models = {m["name"]: m for m in loaded("customer_marts", "STREAM_TO_SCHEMA_HANDOFF")["derived_models"]}
    dim = models["dim_customers"]
    assert dim["scd_type"] == 2
    types = {c["name"]: c["type"] for c in dim["columns"]}
    assert types["customer_id"] == "bigint" and types["total_orders"] == "bigint"
    fct = models["fct_customer_transactions"]
    assert fct["partitioning"] == {"type": "range", "column": "created_at", "interval": "daily"}
    cdc = {m["name"]: m for m in loaded("orders_cdc_kafka", "STREAM_TO_SCHEMA_HANDOFF")["derived_models"]}
    topic = cdc["ecommerce.orders.changes"]
    assert "internal_notes" not in [c["name"] for c in topic["columns"]], "pii(drop) is never published"


@pytest.mark.parametrize("name", NAMES)
def test_snapshots(name: str, snapshot):
    for path, text in sorted(emitted(name).items()):
        assert snapshot(name=path) == text


@pytest.mark.parametrize("check", conformance_checks(HandoffsBackend, [str(p) for p in SPECS]), ids=str)
def test_conformance(check):
    check()
