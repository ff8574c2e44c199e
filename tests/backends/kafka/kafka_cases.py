"""Specs the Kafka backend tests compile (the reference specs) and their emitted Kafka plans."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from streamc.backends.kafka import KafkaBackend, KafkaOptions
from streamc.compiler import compile_files
from streamc.ir import Spec

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = sorted(p.stem for p in (ROOT / "specs").glob("*.stream"))


@functools.lru_cache(maxsize=None)
def compiled(name: str) -> Spec:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = compile_files([f"specs/{name}.stream"])
    finally:
        os.chdir(cwd)
    assert result.ok
    return result.spec


def emit(spec: Spec, **options) -> dict[str, str]:
    backend = KafkaBackend()
    opts = KafkaOptions(**options)
    assert backend.check(spec, opts) == []
    return backend.emit(spec, opts)


def with_topics() -> list[str]:
    return [n for n in REFERENCE if any(t.owned for t in compiled(n).plan.topics)]


def envs_of(spec: Spec) -> list[str]:
    return sorted({e for t in spec.plan.topics for e in t.replication})
