"""The `dagster` backend: a pipeline's batch side as Dagster 1.13 definitions (assets, checks, schedules, sensors)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from streamc.backend_api import Backend
from streamc.diagnostics import Diagnostic
from streamc.ir import Spec

from .graph import Project, build_project
from .render import render_definitions, render_requirements


class DagsterOptions(BaseModel):
    """Options (`--opt dagster.NAME=VALUE`)."""

    model_config = ConfigDict(extra="forbid")

    target_warehouse: Literal["spec", "duckdb"] = Field(
        "spec",
        description="`duckdb` builds the models in a DuckDB file instead of the spec's warehouse (tests, local runs)")
    target_storage: Literal["spec", "local"] = Field(
        "spec", description="`local` watches a local directory instead of the spec's bucket for `arrives` files")
    partition_start: date = Field(
        date(2024, 1, 1), description="first partition of partitioned models (a fixed date keeps the output stable)")


class DagsterBackend(Backend):
    name = "dagster"
    description = "Dagster definitions for the batch side: one asset per model, checks from expectations, schedules"
    options_model = DagsterOptions
    features = frozenset({"source", "model", "sink", "expectation", "schedule", "plan", "pii", "history", "partitions"})

    def project(self, ir: Spec, options: DagsterOptions) -> Project:
        return build_project(ir, swap_warehouse=options.target_warehouse == "duckdb",
                             local_storage=options.target_storage == "local", partition_start=options.partition_start)

    def check(self, ir: Spec, options: DagsterOptions) -> list[Diagnostic]:
        return [self.unsupported(p.span, p.what, p.hint) for p in self.project(ir, options).problems]

    def emit(self, ir: Spec, options: DagsterOptions) -> dict[str, str]:
        project = self.project(ir, options)
        if project.problems:
            raise ValueError("dagster backend: emit() called on a spec that check() rejects: "
                             + "; ".join(p.what for p in project.problems))
        if not project.has_batch_side:
            return {}
        return {
            "dagster/definitions.py": render_definitions(project),
            "dagster/requirements.txt": render_requirements(project),
        }
