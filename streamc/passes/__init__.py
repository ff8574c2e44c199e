"""Optimizer passes: each a plain function Spec -> Spec that records its decisions; the order lives in PASSES."""

from __future__ import annotations

from typing import Callable

from ..diagnostics import Diagnostics
from ..ir import Spec
from .backfill import backfill_pass
from .capture import capture_pass
from .gates import gates_pass
from .idempotency import idempotency_pass
from .kafka import kafka_pass
from .layering import layering_pass
from .mode import mode_pass
from .pii import pii_pass
from .reliability import reliability_pass
from .windows import windows_pass

Pass = Callable[[Spec, Diagnostics], Spec]

# (name, function, why it runs at this point). Each pass reads only the spec and what the passes before it recorded.
PASSES: tuple[tuple[str, Pass, str], ...] = (
    ("mode", mode_pass,
     "first: batch / streaming / hybrid and each node's engine shape everything planned after"),
    ("capture", capture_pass,
     "after mode: replica identity depends on what the hot path computes from a captured table"),
    ("kafka", kafka_pass,
     "after capture and mode: topics exist for CDC captures, streamed metrics, Kafka sinks and streaming sinks' "
     "dead letters"),
    ("layering", layering_pass,
     "before idempotency: a warehouse sink is written the way its models are materialized"),
    ("idempotency", idempotency_pass,
     "after kafka and layering: sinks write through the planned topics and materializations"),
    ("reliability", reliability_pass,
     "after the load plans: one active run at a time follows from ordered captures, models and sinks"),
    ("windows", windows_pass,
     "independent of the plans above; before gates so the watermarks are known when checks are placed"),
    ("pii", pii_pass,
     "after capture and layering: a PII strategy applies at capture (drop) or in the first model reading it"),
    ("gates", gates_pass,
     "after the data flow is planned: default gates cover every source, grain and sink input"),
    ("backfill", backfill_pass,
     "last: the replay window comes from the topic retention and the scope from the materializations"),
)


def run_passes(spec: Spec, diags: Diagnostics) -> Spec:
    for _name, fn, _reason in PASSES:
        spec = fn(spec, diags)
    return spec


def pass_reasons() -> dict[str, str]:
    """Pass name -> why it runs where it does (for `streamc explain`)."""
    return {name: reason for name, _fn, reason in PASSES}
