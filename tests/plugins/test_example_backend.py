"""The example plugin backend, installed as a real package: listed, built with, configured, and its kit suite run."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).resolve().parent / "example_backend"
SPEC = ROOT / "specs" / "orders_analytics.stream"
HISTORY_SPEC = ROOT / "specs" / "customer_marts.stream"


def install_command(src: Path, target: Path) -> list[str]:
    """uv when the test venv has it (fast, cached), else pip; both build the wheel in isolation (PEP 517)."""
    if importlib.util.find_spec("uv") is not None:
        return [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--no-deps", "--python", sys.executable,
                "--target", str(target), str(src)]
    return [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(src)]


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """A copy of the example package (the build writes into its source tree), installed into its own directory.

    `pip install --target` gives a real installation (a dist-info with the entry point) that only the
    processes given `PYTHONPATH` see: the shared test venv is never modified, so nothing to uninstall and no
    other test run sees a backend appear.
    """
    base = tmp_path_factory.mktemp("plugin")
    src = base / "src"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", ".pytest_cache"))
    site = base / "site"
    proc = subprocess.run(install_command(src, site), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (site / "streamc_csv_catalog" / "__init__.py").is_file()
    assert list(site.glob("streamc_csv_catalog-0.1.0.dist-info/entry_points.txt"))
    path = os.pathsep.join([str(site)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return SimpleNamespace(src=src, site=site, env={"PYTHONPATH": path})


def test_listed_by_streamc_backends(streamc, plugin):
    proc = streamc("backends", "--format", "json", env=plugin.env)
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    row = rows["csv-catalog"]
    assert row["distribution"] == "streamc-csv-catalog" and row["version"] == "0.1.0"
    assert row["entry_point"] == "streamc_csv_catalog:CsvCatalogBackend"
    assert {"source", "pii", "windows"} <= set(row["features"])
    assert "expectation" in row["delegated"] and "history" not in row["features"] + row["delegated"]
    assert row["options"] == ["delimiter", "models"]
    assert "ir" in rows  # the built-ins are found the same way

    text = streamc("backends", env=plugin.env)
    line = next(ln for ln in text.stdout.splitlines() if ln.startswith("csv-catalog "))
    assert "streamc-csv-catalog 0.1.0" in line


def test_not_visible_without_the_install(streamc):
    proc = streamc("backends", "--format", "json")
    assert "csv-catalog" not in {r["name"] for r in json.loads(proc.stdout)}


def test_builds_with_it(streamc, plugin, tmp_path):
    out = tmp_path / "out"
    proc = streamc("build", str(SPEC), "--target", "csv-catalog", "-o", str(out), env=plugin.env)
    assert proc.returncode == 0, proc.stderr
    folder = out / "orders_analytics" / "csv-catalog"
    assert sorted(p.name for p in folder.iterdir()) == ["columns.csv", "nodes.csv"]
    columns = (folder / "columns.csv").read_text().splitlines()
    assert "customers,first_name,3,text,,,drop,,," in columns
    assert "orders,status,6,text,,,,pending|completed|failed,," in columns
    assert "metric,revenue_per_minute,stg_orders,,store_id,,tumbling 1m,," in (folder / "nodes.csv").read_text()
    check = streamc("build", str(SPEC), "--target", "csv-catalog", "-o", str(out), "--check", env=plugin.env)
    assert check.returncode == 0, check.stdout + check.stderr


def test_options_from_pyproject_then_command_line(streamc, plugin, tmp_path):
    (tmp_path / "specs").mkdir()
    shutil.copy(SPEC, tmp_path / "specs" / SPEC.name)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "analytics"\n\n[tool.streamc]\nspecs = ["specs/*.stream"]\ntargets = ["csv-catalog"]\n'
        'output = "generated"\n\n[tool.streamc.backends.csv-catalog]\ndelimiter = ";"\nmodels = false\n')
    (tmp_path / ".git").mkdir()  # the repository root: the configuration search stops here
    proc = streamc("build", cwd=tmp_path, env=plugin.env)
    assert proc.returncode == 0, proc.stderr
    nodes = tmp_path / "generated" / "orders_analytics" / "csv-catalog" / "nodes.csv"
    assert nodes.read_text().startswith("kind;name;reads;")
    assert "stg_orders" not in (nodes.parent / "columns.csv").read_text()  # models = false

    proc = streamc("build", "--opt", "csv-catalog.delimiter=|", cwd=tmp_path, env=plugin.env)
    assert proc.returncode == 0, proc.stderr
    assert nodes.read_text().startswith("kind|name|reads|")

    (tmp_path / "pyproject.toml").write_text(
        '[tool.streamc]\nspecs = ["specs/*.stream"]\n\n[tool.streamc.backends.csv-catalog]\ndelimiter = "tab"\n')
    proc = streamc("build", "--target", "csv-catalog", cwd=tmp_path, env=plugin.env)
    assert proc.returncode == 2
    assert "pyproject.toml, key tool.streamc.backends.csv-catalog.delimiter" in proc.stderr
    assert "invalid options for backend 'csv-catalog'" in proc.stderr and "Traceback" not in proc.stderr


def test_unsupported_history_stops_the_build(streamc, plugin, tmp_path):
    out = tmp_path / "out"
    proc = streamc("build", str(HISTORY_SPEC), "--target", "csv-catalog", "-o", str(out), env=plugin.env)
    assert proc.returncode == 1
    assert ("error[E120]: backend 'csv-catalog' cannot express the type 2 history of model 'dim_customers'"
            in proc.stderr)
    assert not out.exists()


def test_its_own_suite_runs_the_conformance_kit(plugin):
    """What the backend's author runs in their repository: pytest over its tests, which use streamc.testing."""
    env = dict(os.environ, **plugin.env)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--confcutdir",
                           str(plugin.src), "tests"], cwd=plugin.src, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = proc.stdout.strip().splitlines()[-1]
    assert "passed" in summary and "failed" not in summary and "error" not in summary
    assert int(summary.split(" passed")[0].split()[-1]) >= 40  # every kit check is a test of its own


def test_the_docs_quote_the_example_verbatim():
    """docs/backends.md walks through this package: its Python blocks are the package's code, not a paraphrase."""
    import re

    doc = (ROOT / "docs" / "backends.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    sources = "\n".join(p.read_text() for p in sorted(EXAMPLE.rglob("*.py")))
    assert len(blocks) >= 5
    for block in blocks:
        assert block.strip() in sources, block[:200]
    entry = re.search(r'```toml\n(\[project\.entry-points\."streamc\.backends"\]\n.*?)```', doc, flags=re.S)
    assert entry and entry.group(1).strip() in (EXAMPLE / "pyproject.toml").read_text()
