"""Optimizer passes: each a plain function Spec -> Spec that records its decisions; the order lives in PASSES."""

from __future__ import annotations

from typing import Callable

from ..diagnostics import Diagnostics
from ..ir import Spec
from .capture import capture_pass
from .idempotency import idempotency_pass
from .kafka import kafka_pass
from .layering import layering_pass
from .mode import mode_pass
from .reliability import reliability_pass

Pass = Callable[[Spec, Diagnostics], Spec]

# (name, function, why it runs at this point). Each pass reads only what the passes before it recorded.
PASSES: tuple[tuple[str, Pass, str], ...] = (
    ("mode", mode_pass,
     "first: batch / streaming / hybrid and the engine of every node decide what every later pass plans for"),
    ("capture", capture_pass,
     "after mode: how each source is read depends on its connection and capture, and replica identity on what the "
     "hot path computes from it"),
    ("kafka", kafka_pass,
     "after capture and mode: topics exist for CDC sources, streamed metrics, Kafka sinks and streaming sinks' "
     "dead letters"),
    ("layering", layering_pass,
     "before idempotency: a warehouse sink's write strategy follows its models' materialization"),
    ("idempotency", idempotency_pass,
     "after kafka and layering: sinks are written through the planned topics and materializations"),
    ("reliability", reliability_pass,
     "after the load plans: one active run is needed exactly when captures, models or sinks load in order"),
)


def run_passes(spec: Spec, diags: Diagnostics) -> Spec:
    for _name, fn, _reason in PASSES:
        spec = fn(spec, diags)
    return spec
