"""Optimizer passes: each a plain function Spec -> Spec that records its decisions; the order lives in PASSES."""

from __future__ import annotations

from typing import Callable

from ..diagnostics import Diagnostics
from ..ir import Spec
from .mode import mode_pass

Pass = Callable[[Spec, Diagnostics], Spec]

# (name, function, why it runs at this point). Each pass reads only what the passes before it recorded.
PASSES: tuple[tuple[str, Pass, str], ...] = (
    ("mode", mode_pass,
     "first: batch / streaming / hybrid and the engine of every node decide what every later pass plans for"),
)


def run_passes(spec: Spec, diags: Diagnostics) -> Spec:
    for _name, fn, _reason in PASSES:
        spec = fn(spec, diags)
    return spec
