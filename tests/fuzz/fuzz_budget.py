"""How many inputs each fuzz test runs (STREAMC_FUZZ_BUDGET), the per-input hang guard, and the run tallies."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

BUDGET_ENV = "STREAMC_FUZZ_BUDGET"
REPORT_ENV = "STREAMC_FUZZ_REPORT"
HANG_SECONDS = 20.0  # a hang guard, not a performance bound: a normal input compiles in milliseconds


def budget_scale() -> float:
    """STREAMC_FUZZ_BUDGET=n: the main loop of every fuzz test runs n inputs (default: the test's own small count)."""
    raw = os.environ.get(BUDGET_ENV, "").strip()
    if not raw:
        return 0.0
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{BUDGET_ENV} must be a whole number of inputs, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{BUDGET_ENV} must be at least 1, got {value}")
    return float(value)


def budget(default: int) -> int:
    """The number of inputs for a test's main loop."""
    n = budget_scale()
    return int(n) if n else default


def scaled(default: int, main_default: int) -> int:
    """A secondary count (CLI runs, backend builds) that grows with the budget in the same proportion."""
    n = budget_scale()
    return max(default, round(default * n / main_default)) if n else default


class HangError(Exception):
    """One input took longer than HANG_SECONDS."""


@contextmanager
def hang_guard(what: str, seconds: float = HANG_SECONDS):
    """Interrupt (main thread, POSIX) or at least flag an input whose compile runs past `seconds`."""
    use_alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def on_alarm(signum, frame):
        raise HangError(f"{what} still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, on_alarm) if use_alarm else None
    if use_alarm:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.perf_counter()
    try:
        yield
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    if elapsed > seconds:
        raise HangError(f"{what} took {elapsed:.1f} s (hang bound {seconds:.0f} s)")


@dataclass
class Tally:
    """What one fuzz test ran: printed as a summary line and merged into the STREAMC_FUZZ_REPORT JSON file."""

    test: str
    ran: int = 0
    compiled: int = 0
    rejected: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def count(self, ok: bool) -> None:
        self.ran += 1
        if ok:
            self.compiled += 1
        else:
            self.rejected += 1

    def add(self, key: str, n: int = 1) -> None:
        self.extra[key] = self.extra.get(key, 0) + n

    def summary(self) -> str:
        line = (f"fuzz: {self.test} ran {self.ran} inputs, {self.compiled} compiled, "
                f"{self.rejected} rejected with diagnostics")
        if self.extra:
            line += " (" + ", ".join(f"{k} {v}" for k, v in sorted(self.extra.items())) + ")"
        return line

    def report(self) -> None:
        print(self.summary())
        path = os.environ.get(REPORT_ENV, "").strip()
        if not path:
            return
        target = Path(path)
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or not isinstance(data.get("tests"), dict):
            data = {"tests": {}}
        entry = asdict(self)
        entry.pop("test")
        data["tests"][self.test] = entry
        data["total_inputs"] = sum(t.get("ran", 0) for t in data["tests"].values())
        target.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
