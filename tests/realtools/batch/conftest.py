"""pytest wiring for the batch real-tool harness tests."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "samples"


def load_harness():
    """Import harness.py under a unique module name (other realtools folders may have a harness.py)."""
    name = "streamc_realtools_batch_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "harness.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "realtools: runs generated artefacts on the real tools (creates cached tool venvs; slow)"
    )


@pytest.fixture
def dbt_project(tmp_path: Path) -> Path:
    """A private, writable copy of the sample dbt project (dbt writes target/ and the DuckDB file in it)."""
    dest = tmp_path / "dbt_shop"
    shutil.copytree(SAMPLES / "dbt_shop", dest)
    return dest


@pytest.fixture(scope="session")
def harness():
    return load_harness()
