"""The `csv-catalog` streamc backend: a CSV data catalog of a pipeline's nodes and columns (the docs' example)."""

from __future__ import annotations

import csv
import io
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from streamc.backend_api import Backend
from streamc.diagnostics import Diagnostic
from streamc.features import Feature
from streamc.ir import Column, ColumnType, Location, Source, Spec

NODE_HEADER = ("kind", "name", "reads", "capture", "grain", "partition", "window", "writes_to", "description")
COLUMN_HEADER = ("node", "column", "position", "type", "key", "not_null", "pii", "accepted_values", "lineage",
                 "description")


class CsvCatalogOptions(BaseModel):
    """Options: `--opt csv-catalog.delimiter=;` or `[tool.streamc.backends.csv-catalog]` in pyproject.toml."""

    model_config = ConfigDict(extra="forbid")

    delimiter: Literal[",", ";", "|"] = Field(",", description="field separator of both files")
    models: bool = Field(True, description="also list the output columns of models and metrics")


class CsvCatalogBackend(Backend):
    name = "csv-catalog"
    description = "a CSV data catalog: nodes.csv (sources, models, metrics, sinks) and columns.csv"
    options_model = CsvCatalogOptions
    features = frozenset({Feature.source, Feature.model, Feature.metric, Feature.windows, Feature.sink,
                          Feature.cdc, Feature.api, Feature.files, Feature.topic, Feature.pii, Feature.partitions})
    # quality checks, schedules, environments and delivery guarantees are the deploying backends' business
    delegated = frozenset({Feature.expectation, Feature.schedule, Feature.environments, Feature.dedup})

    def check(self, ir: Spec, options: CsvCatalogOptions) -> list[Diagnostic]:
        # Feature.history is neither expressed nor delegated: a catalog that left out the history columns would
        # be wrong, so the build stops and says why.
        return [
            self.unsupported(m.history.span, f"the type 2 history of model '{m.name}'",
                             "its valid_from / valid_to / is_current columns are not in the IR's column lineage; "
                             "leave csv-catalog out of --target for this spec")
            for m in ir.models if m.history is not None
        ]

    def emit(self, ir: Spec, options: CsvCatalogOptions) -> dict[str, str]:
        return {
            "csv-catalog/columns.csv": to_csv(COLUMN_HEADER, column_rows(ir, options), options.delimiter),
            "csv-catalog/nodes.csv": to_csv(NODE_HEADER, node_rows(ir), options.delimiter),
        }


# ------------------------------------------------------------------ rows (plain functions of the IR)


def node_rows(ir: Spec) -> list[tuple[str, ...]]:
    rows = []
    for s in ir.sources:
        rows.append(("source", s.name, f"{s.connection}: {location(s.location)}", capture(s), " ".join(s.primary_key),
                     "", "", "", s.description or ""))
    for m in ir.models:
        part = f"{m.partition.granularity or ''}({m.partition.column})" if m.partition else ""
        rows.append(("model", m.name, " ".join(m.depends_on), "", " ".join(m.grain), part, "", "",
                     m.description or ""))
    for mt in ir.metrics:
        window = ""
        if mt.window is not None:
            window = f"{mt.window.kind} {mt.window.size.text}" + (
                f" every {mt.window.slide.text}" if mt.window.slide else "")
        rows.append(("metric", mt.name, mt.from_, "", " ".join(mt.dimensions), "", window, "", mt.description or ""))
    for k in ir.sinks:
        part = f"{k.partition.granularity or ''}({k.partition.column})" if k.partition else ""
        rows.append(("sink", k.name, " ".join(k.inputs), "", " ".join(k.key), part, "", k.connection,
                     k.description or ""))
    return rows


def column_rows(ir: Spec, options: CsvCatalogOptions) -> list[tuple[str, ...]]:
    rows = []
    for s in ir.sources:
        for i, c in enumerate(s.columns, start=1):
            rows.append((s.name, c.name, str(i), type_text(c.type), yes(c.name in s.primary_key),
                         yes(c.not_null or c.primary_key), pii(c), "|".join(accepted(c)), "", c.description or ""))
    if options.models:
        for m in ir.models:
            for i, col in enumerate(m.columns, start=1):
                lineage = " ".join(f"{r.node}.{r.column}" for r in col.inputs)
                rows.append((m.name, col.name, str(i), "", yes(col.name in m.grain), "", "", "", lineage, ""))
        for mt in ir.metrics:
            names = list(mt.dimensions) + [ms.alias for ms in mt.measures]
            exprs = [""] * len(mt.dimensions) + [ms.expression for ms in mt.measures]
            for i, (name, expr) in enumerate(zip(names, exprs), start=1):
                rows.append((mt.name, name, str(i), "", yes(name in mt.dimensions), "", "", "", expr, ""))
    return rows


def location(loc: Location | None) -> str:
    if loc is None:
        return ""
    return f"{loc.kind} {loc.method + ' ' if loc.method else ''}{loc.value}"


def capture(s: Source) -> str:
    if s.capture is not None:
        return s.capture.mode.value + (f"({s.capture.column})" if s.capture.column else "")
    if s.arrival is not None:
        return f"arrives by {s.arrival.by} {s.arrival.timezone}"
    return f"every {s.every.text}" if s.every else ""


def type_text(t: ColumnType) -> str:
    return "enum(" + ", ".join(t.values) + ")" if t.name == "enum" else t.sql()


def accepted(c: Column) -> tuple[str, ...]:
    return c.accepted_values or c.type.values


def pii(c: Column) -> str:
    return c.pii.strategy.value if c.pii is not None else ""


def yes(flag: bool) -> str:
    return "yes" if flag else ""


def to_csv(header: tuple[str, ...], rows: list[tuple[str, ...]], delimiter: str) -> str:
    """RFC 4180 quoting, '\\n' line endings, in memory (emit does no I/O)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()
