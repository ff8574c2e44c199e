"""Runs the streamc command under a hang guard and measures the peak memory of that one process (os.wait4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, streamc_command
from streamc.limits import LIMIT_MEMORY_MB

FULL_ENV = "STREAMC_LIMITS_FULL"  # =1: also the slow scenarios (10,000 nodes, the largest SQL accepted, ...)
FULL = os.environ.get(FULL_ENV) == "1"
full_only = pytest.mark.skipif(not FULL, reason=f"a slow scenario: set {FULL_ENV}=1 to run it")
HANG_GUARD = 600.0  # seconds: a hang guard, never a performance bound (docs/limits.md states measured times)


@dataclass
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float

    def summary(self) -> str:
        return f"exit {self.returncode}, {self.seconds:.1f} s, peak {self.peak_mb:.0f} MB"


# Runs the command given after the report path, then writes its exit code and peak memory (KB) there. A child's
# ru_maxrss starts at the RSS of the process it was forked from (Linux keeps the high-water mark across exec): forked
# from pytest it would read pytest's own size, so a small, fresh interpreter forks streamc instead.
_MEASURE = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = os.waitstatus_to_exitcode(status)
open(sys.argv[1], "w").write(f"{proc.returncode} {usage.ru_maxrss}")
"""


def run_bounded(tmp_path: Path, *args: str, hang_guard: float = HANG_GUARD) -> Run:
    """`streamc ARGS` in its own process; its output goes to files under tmp_path (a pipe could fill and block)."""
    out_path, err_path, report = tmp_path / "streamc.stdout", tmp_path / "streamc.stderr", tmp_path / "streamc.rusage"
    report.unlink(missing_ok=True)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", _MEASURE, str(report), *streamc_command(), *args], cwd=ROOT,
                                stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout=hang_guard)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the measuring interpreter and streamc: one session of their own
            proc.wait()
            pytest.fail(f"streamc {' '.join(args)[:200]} still ran after {hang_guard:.0f} s (hang guard)")
        seconds = time.monotonic() - start
    returncode, peak_kb = map(int, report.read_text(encoding="utf-8").split())
    run = Run(args=args, returncode=returncode, stdout=out_path.read_text(encoding="utf-8", errors="replace"),
              stderr=err_path.read_text(encoding="utf-8", errors="replace"), seconds=seconds,
              peak_mb=peak_kb / 1024)  # kilobytes on Linux
    print(f"\nlimits: streamc {' '.join(a if len(a) < 60 else '...' + a[-40:] for a in args)}: {run.summary()}")
    return run


def assert_clean(run: Run, code: int) -> None:
    """The exit code asked for, no traceback or internal error, and memory under the stated bound."""
    assert run.returncode == code, (run.returncode, run.stderr[-2000:])
    for marker in ("Traceback", "internal error", "E999", "RecursionError"):
        assert marker not in run.stderr, run.stderr[-2000:]
    assert run.peak_mb < LIMIT_MEMORY_MB, f"peak memory {run.peak_mb:.0f} MB over {LIMIT_MEMORY_MB} MB"
