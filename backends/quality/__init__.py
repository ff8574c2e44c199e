"""The `quality` backend: the plan's quality gates as Great Expectations suites and Soda data contracts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from streamc.backend_api import Backend
from streamc.diagnostics import Diagnostic
from streamc.ir import Spec

from .datasets import Layout, Skipped, check_label, layout
from .gx import Suite, suites
from .readme import readme
from .soda import Contract, contracts
from .soda_variables import soda_variable_problems


class QualityOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    great_expectations: bool = True  # quality/gx/expectations/<pipeline>/<node>.json (GX Core 1.x)
    soda: bool = True  # quality/soda/contracts/<node>.yml (Soda Core 4 contract language)


class QualityBackend(Backend):
    name = "quality"
    description = "quality gates for teams outside dbt: Great Expectations suites and Soda data contracts"
    options_model = QualityOptions
    # Gates on tables: raw copies and source tables (sources, whatever their capture), warehouse models. Gates on
    # what only exists on the stream (metrics, windows, topics, deduplicated Kafka inputs) are listed in the
    # README as not carried, with the reason: the streaming backends run the stream side.
    features = frozenset({"source", "model", "sink", "expectation", "cdc", "api", "files", "pii", "history",
                          "partitions", "schedule", "environments"})
    delegated = frozenset({"metric", "windows", "topic", "dedup"})

    def check(self, ir: Spec, options: QualityOptions) -> list[Diagnostic]:
        return soda_variable_problems(ir) if options.soda else []

    def emit(self, ir: Spec, options: QualityOptions) -> dict[str, str]:
        lay: Layout = layout(ir)
        files: dict[str, str] = {}
        gx: list[Suite] = []
        soda: list[Contract] = []
        gx_skipped: list[Skipped] = []
        soda_skipped: list[Skipped] = []
        if options.great_expectations:
            gx, gx_skipped = suites(ir, lay)
            files.update({f"quality/gx/expectations/{ir.pipeline.name}/{s.dataset.node}.json": s.text for s in gx})
        if options.soda:
            soda, soda_skipped = contracts(ir, lay)
            files.update({c.path: c.text for c in soda})
        files["quality/README.md"] = readme(ir, lay, gx, soda, gx_skipped, soda_skipped)
        return dict(sorted(files.items()))


__all__ = ["QualityBackend", "QualityOptions", "check_label"]
