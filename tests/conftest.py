"""Shared fixtures: the repository layout and a runner for the installed `streamc` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.stream"))
ERROR_SPECS = sorted((ROOT / "specs" / "errors").glob("*.stream"))


def streamc_command() -> list[str]:
    exe = Path(sys.executable).parent / "streamc"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "streamc"]


def run_streamc(*args: str, cwd: Path | None = None, env: dict | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([*streamc_command(), *args], cwd=cwd or ROOT, text=True, capture_output=True,
                          timeout=timeout, env=full_env)


@pytest.fixture
def streamc():
    return run_streamc


# The build's black cache (streamc.python_format) goes to a per-session folder, never the user's ~/.cache.
os.environ.setdefault("STREAMC_CACHE_DIR", os.path.join(
    os.environ.get("TMPDIR", "/tmp"), f"streamc-test-cache-{os.getpid()}"))
