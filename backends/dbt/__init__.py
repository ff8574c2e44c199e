"""The `dbt` backend: a complete dbt project (models by layer, sources, snapshots, data tests) for the batch side."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from streamc.backend_api import Backend
from streamc.diagnostics import Diagnostic
from streamc.ir import Spec

from .project import Problem, build_project
from .quality import quality
from .render import emit_files


class DbtOptions(BaseModel):
    model_config = {"extra": "forbid"}

    target_warehouse: Literal["spec", "duckdb"] = Field(
        "spec",
        description="`duckdb` runs the project on DuckDB (dbt-duckdb) instead of the spec's warehouse: "
        "DuckDB dialect and profile, for local development and proofs",
    )
    samples: int = Field(
        0,
        ge=0,
        le=100_000,
        description="write this many deterministic sample rows per source to data/<source>.csv "
        "and read the sources from them (DuckDB only)",
    )
    profile: str | None = Field(None, description="dbt profile name (default: the pipeline name)")


class DbtBackend(Backend):
    name = "dbt"
    description = "a dbt project for the batch side: staging/intermediate/marts models, sources, snapshots, tests"
    options_model = DbtOptions
    features = frozenset({"source", "model", "sink", "expectation", "pii", "history", "plan"})

    def _problems(self, ir: Spec, options: DbtOptions) -> list[Problem]:
        project = build_project(ir, local=options.target_warehouse == "duckdb")
        if project is None:
            return []
        problems = list(project.problems) + quality(project).problems
        if options.samples and project.warehouse.kind != "duckdb":
            problems.append(
                Problem(
                    ir.pipeline.span, "sample data for a non-DuckDB warehouse", "add --opt dbt.target_warehouse=duckdb"
                )
            )
        for metric in ir.metrics:
            mode = ir.plan.mode
            on_warehouse = mode is not None and (
                f"metric:{metric.name}" in mode.batch_nodes or metric.name in mode.batch_nodes
            )
            if on_warehouse:
                problems.append(
                    Problem(
                        metric.span,
                        f"the batch metric '{metric.name}'",
                        "write it as a model (select ... group by ...)",
                    )
                )
        return problems

    def check(self, ir: Spec, options: DbtOptions) -> list[Diagnostic]:
        return [self.unsupported(p.span, p.what, p.hint) for p in self._problems(ir, options)]

    def emit(self, ir: Spec, options: DbtOptions) -> dict[str, str]:
        project = build_project(ir, local=options.target_warehouse == "duckdb")
        if project is None:
            return {}  # no batch side: nothing for dbt
        return emit_files(project, options)
