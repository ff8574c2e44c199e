"""The `flink` backend: one Flink SQL script per streaming job of the plan (Flink 2.3)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from streamc.backend_api import Backend
from streamc.diagnostics import Diagnostic
from streamc.ir import Spec

from .render import render
from .statements import ScriptBuilder


class FlinkOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Swap Kafka / JDBC / object-storage tables for local files under ${WORKDIR}/input and ${WORKDIR}/output,
    # so a script runs on a local planner without connector jars (`--opt flink.test_connectors=true`).
    test_connectors: bool = False


class FlinkBackend(Backend):
    name = "flink"
    description = "Flink SQL scripts (Flink 2.3) for the streaming jobs of the plan"
    options_model = FlinkOptions
    features = frozenset({"source", "model", "metric", "sink", "plan", "windows", "cdc", "dedup"})

    def check(self, ir: Spec, options: FlinkOptions) -> list[Diagnostic]:
        builder = ScriptBuilder(ir, options.test_connectors)
        seen: set[tuple] = set()
        out = []
        for p in builder.problems:
            key = (p.span, p.what)
            if key not in seen:
                seen.add(key)
                out.append(self.unsupported(p.span, p.what, p.hint))
        return out

    def emit(self, ir: Spec, options: FlinkOptions) -> dict[str, str]:
        builder = ScriptBuilder(ir, options.test_connectors)
        if builder.problems:
            first = builder.problems[0]
            raise ValueError(f"flink: cannot emit ({first.what}); run check() first")
        return {s.path: render(s) for s in builder.scripts}
