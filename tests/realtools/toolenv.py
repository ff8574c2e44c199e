"""Isolated, cached virtual environments for the real tools the tests run (dbt, Airflow, ...)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

CACHE_ROOT = Path(os.environ.get("STREAMC_TOOLENV_DIR", Path.home() / ".cache" / "streamc-toolenvs"))


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(found).exists():
        raise RuntimeError("uv is not installed in the test environment (scripts/test installs it)")
    return found


def ensure_env(name: str, requirements: list[str], python: str = "3.11") -> Path:
    """Create (once) a venv holding `requirements`; return the path of its python executable.

    The venv is keyed by a hash of the requirement list, so changing a pin makes a new one.
    Bytecode is compiled at install time: this machine sets PYTHONDONTWRITEBYTECODE=1.
    """
    digest = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:12]
    root = CACHE_ROOT / f"{name}-{digest}"
    py = root / "bin" / "python"
    marker = root / ".complete"
    if marker.exists():
        return py
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / f".{name}-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test processes build each env once
        if marker.exists():
            return py
        return _create(root, py, marker, requirements, python)


def _create(root: Path, py: Path, marker: Path, requirements: list[str], python: str) -> Path:
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, UV_COMPILE_BYTECODE="1")
    subprocess.run([_uv(), "venv", "--quiet", "--python", python, str(root)], check=True, env=env)
    subprocess.run(
        [_uv(), "pip", "install", "--quiet", "--python", str(py), *requirements],
        check=True,
        env=env,
    )
    marker.write_text("\n".join(requirements) + "\n")
    return py


def run_in_env(py: Path, args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
               timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run `python args...` inside a tool env and capture text output (never raises on exit code)."""
    full_env = dict(os.environ)
    full_env.pop("PYTHONPATH", None)
    full_env["VIRTUAL_ENV"] = str(py.parent.parent)
    full_env["PATH"] = f"{py.parent}{os.pathsep}{full_env.get('PATH', '')}"
    if env:
        full_env.update(env)
    return subprocess.run([str(py), *args], cwd=cwd, env=full_env, text=True, capture_output=True,
                          timeout=timeout)
