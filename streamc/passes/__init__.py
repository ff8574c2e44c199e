"""Optimizer passes: each a plain function Spec -> Spec that records its decisions; the order lives in PASSES."""

from __future__ import annotations

from typing import Callable

from ..diagnostics import Diagnostics
from ..ir import Spec

Pass = Callable[[Spec, Diagnostics], Spec]

# (name, function, why it runs at this point). Filled in by the passes issue.
PASSES: tuple[tuple[str, Pass, str], ...] = ()


def run_passes(spec: Spec, diags: Diagnostics) -> Spec:
    for _name, fn, _reason in PASSES:
        spec = fn(spec, diags)
    return spec
