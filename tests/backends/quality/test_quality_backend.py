"""The `quality` backend: every planned gate is in the GX suite and the Soda contract of its table, or listed in the
README as not carried (with the reason); one snapshot per emitted file per reference spec."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest
import yaml

from streamc.backends.quality import QualityBackend, QualityOptions
from streamc.backends.quality.datasets import check_label, layout
from streamc.compiler import compile_files
from streamc.ir import Spec
from streamc.testing import conformance_checks

ROOT = Path(__file__).resolve().parents[3]
SPECS = sorted((ROOT / "specs").glob("*.stream"))
NAMES = [p.stem for p in SPECS]


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
    return QualityBackend().emit(compiled(name), QualityOptions())


@pytest.mark.parametrize("name", NAMES)
def test_every_gate_is_carried_or_listed(name: str):
    ir = compiled(name)
    files = emitted(name)
    lay = layout(ir)
    readme = files["quality/README.md"]
    for g in ir.plan.gates:
        label = check_label(g.check)
        ds = lay.dataset(g.check.target)
        if ds is None:
            assert f"`{g.check.target}` {label}" in readme, f"gate {label} on {g.check.target} is neither carried nor listed"
            continue
        suite = json.loads(files[f"quality/gx/expectations/{ir.pipeline.name}/{ds.node}.json"])
        contract = files[f"quality/soda/contracts/{ds.node}.yml"]
        in_gx = any(e["meta"]["check"] == label for e in suite["expectations"])
        in_soda = f"{g.check.target} {label}" in contract
        assert in_gx or f"`{g.check.target}` {label} | GX |" in readme
        assert in_soda or f"`{g.check.target}` {label} | Soda |" in readme


@pytest.mark.parametrize("name", NAMES)
def test_suites_and_contracts_are_well_formed(name: str):
    ir = compiled(name)
    for path, text in emitted(name).items():
        if path.endswith(".json"):
            suite = json.loads(text)
            assert suite["name"] == f"{ir.pipeline.name}.{Path(path).stem}"
            for e in suite["expectations"]:
                assert set(e) == {"type", "kwargs", "meta", "description", "severity"}
                assert e["severity"] in ("critical", "warning")
        elif path.endswith(".yml"):
            contract = yaml.safe_load(text)
            node = Path(path).stem
            assert contract["dataset"].endswith(f"/{node}")
            ds = layout(ir).dataset(node)
            assert contract["dataset"].startswith(ds.connection.name + "/")
            assert [c["name"] for c in contract["columns"]] == [n for n, _ in ds.columns]
            for var, body in (contract.get("variables") or {}).items():
                assert f"${{var.{var}}}" in text, f"variable {var} declared but not used"
                assert body is None or set(body) == {"default"}


def test_warn_gates_warn():
    contract = yaml.safe_load(emitted("orders_analytics")["quality/soda/contracts/fct_orders.yml"])
    row_counts = [c["row_count"] for c in contract["checks"] if "row_count" in c]
    assert row_counts and all(c["threshold"]["level"] == "warn" for c in row_counts)
    suite = json.loads(emitted("orders_analytics")["quality/gx/expectations/orders_analytics/fct_orders.json"])
    volume = [e for e in suite["expectations"] if e["meta"]["check"].startswith("row_count >= 0.8")]
    assert volume and all(e["severity"] == "warning" for e in volume)


def test_stream_only_gates_are_listed():
    readme = emitted("orders_analytics")["quality/README.md"]
    assert "`revenue_per_minute` row_count >= 0.8 x avg_7d | none | metric revenue_per_minute is computed on the " \
           "stream" in readme


def test_no_environment_value_is_a_literal():
    """Schemas that differ per environment are contract variables without a default; the README lists them."""
    text = emitted("orders_analytics")["quality/soda/contracts/fct_orders.yml"]
    assert "dev_analytics" not in text and "WAREHOUSE_SCHEMA:\n" in text
    assert "dev: `dev_analytics`, prod: `analytics`" in emitted("orders_analytics")["quality/README.md"]


def test_options_turn_tools_off():
    files = QualityBackend().emit(compiled("payments_api_sync"), QualityOptions(soda=False))
    assert not any(p.startswith("quality/soda/") for p in files)
    assert any(p.startswith("quality/gx/") for p in files)


@pytest.mark.parametrize("name", NAMES)
def test_snapshots(name: str, snapshot):
    for path, text in sorted(emitted(name).items()):
        assert snapshot(name=path) == text


@pytest.mark.parametrize("check", conformance_checks(QualityBackend, [str(p) for p in SPECS]), ids=str)
def test_conformance(check):
    check()
