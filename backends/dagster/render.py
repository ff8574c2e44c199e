"""Turns the typed asset graph into the template's view (Python literals computed here) and renders the files."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from streamc.template_env import template_environment
from streamc.text_escape import docstring_text

from . import pyliteral as py
from .graph import ColumnInfo, GateCheck, ModelAsset, Project, SourceAsset
from .targets import Target

TEMPLATES = Path(__file__).parent / "templates"

# Module-level names of the generated file a node name must not shadow.
RESERVED = {
    "dg", "operator", "contextmanager", "dataclass", "datetime", "timedelta", "timezone", "Path", "Any",
    "Iterator", "Sequence", "ZoneInfo", "bigquery", "bind", "build", "as_utc", "number", "evaluate", "gate_check",
    "active_runs", "next_run", "asset_checks", "defs", "check", "psycopg", "lineage", "os", "re", "SLOT",
}


@functools.cache
def environment() -> jinja2.Environment:
    env = template_environment(TEMPLATES)
    env.filters["docstring"] = docstring_text
    return env


def key(pipeline: str, name: str) -> str:
    return f"dg.AssetKey([{py.string(pipeline)}, {py.string(name)}])"


def dict_literal(items: dict[str, str]) -> str:
    return "{" + ", ".join(f"{py.string(k)}: {py.string(v)}" for k, v in items.items()) + "}"


def set_literal(items) -> str:
    return "{" + ", ".join(py.string(i) for i in sorted(set(items))) + "}"


def table_column(c: ColumnInfo) -> str:
    args = [py.string(c.name), py.string(c.type)]
    if c.description:
        args.append(f"description={py.string(c.description)}")
    if not c.nullable or c.unique:
        args.append(f"constraints=dg.TableColumnConstraints(nullable={c.nullable}, unique={c.unique})")
    if c.pii:
        args.append(f"tags={{\"pii\": {py.string(c.pii)}}}")
    return f"dg.TableColumn({', '.join(args)})"


def env_field(f) -> str:
    ctor = "dg.EnvVar.int" if f.as_int else "dg.EnvVar"
    return f"{f.field}={ctor}({py.string(f.env)})"


class View:
    """Everything the template substitutes, as attributes holding Python source text."""

    def __init__(self, p: Project):
        assert p.warehouse is not None and p.reliability is not None
        self.p = p
        self.taken = set(RESERVED)
        self.pipeline = p.pipeline
        self.pipeline_py = py.string(p.pipeline)
        self.files = ", ".join(Path(f).name for f in p.files)
        self.warehouse = p.warehouse
        self.storage = p.storage
        self.job_name = f"{p.pipeline}_job"
        self.job_var = self.name(self.job_name)
        self.job_name_py = py.string(self.job_name)
        self.sources = [self.source(s) for s in p.sources]
        self.models = [self.model(a) for a in p.models]
        self.gates = [self.gate(g) for g in p.gates]
        self.reliability(p)
        self.partitions_py = self.partitions(p)
        self.job(p)
        self.schedule = self.make_schedule(p)
        self.arrival = self.make_arrival(p)
        self.freshness = self.make_freshness(p)
        self.resources = [self.resource(t) for t in (p.warehouse, p.storage) if t is not None]
        fields = [f for t in (p.warehouse, p.storage) if t for f in t.fields]
        width = max(len(f.env) for f in fields) + 2
        self.env_lines = [f"{f.env:<{width}}{f.about}" for f in fields]
        self.imports = self.make_imports(p)
        self.raw_schemas = [(py.string(c), py.string(v), py.string(d)) for c, v, d in p.raw_schemas]
        self.slot_pattern_py = 'r"' + p.slots.pattern + '"'  # the prefix is letters and digits: no quote
        self.slot_example = "`" + p.slots.raw_schema("<connection>") + "`"
        self.definitions_lists()
        self.summary = self.make_summary(p)

    def name(self, wanted: str) -> str:
        out = py.identifier(wanted, self.taken)
        self.taken.add(out)
        return out

    # ---------------------------------------------------------- pieces

    def reliability(self, p: Project) -> None:
        r = p.reliability
        backoff = ", backoff=dg.Backoff.EXPONENTIAL" if r.exponential_backoff else ""
        self.retry_py = f"dg.RetryPolicy(max_retries={r.retries}, delay={r.retry_delay_seconds}{backoff})"
        self.max_active_runs = r.max_active_runs
        self.freshness_policy_py = ""
        self.stale_text = ""
        if r.stale_after_seconds:
            self.freshness_policy_py = (f"dg.FreshnessPolicy.time_window(fail_window=timedelta(seconds="
                                        f"{r.stale_after_seconds}))")
            self.stale_text = human_seconds(r.stale_after_seconds)
        self.owners_py = f"[{py.string('team:' + p.owner)}]" if p.owner else "[]"

    def partitions(self, p: Project) -> str:
        part = p.partitioning
        if part is None:
            return ""
        start = part.start.isoformat()
        tz = py.string(part.timezone)
        if part.granularity == "day":
            return f"dg.DailyPartitionsDefinition(start_date={py.string(start)}, timezone={tz})"
        if part.granularity == "hour":
            return f"dg.HourlyPartitionsDefinition(start_date={py.string(start + '-00:00')}, timezone={tz})"
        if part.granularity == "month":
            return f"dg.MonthlyPartitionsDefinition(start_date={py.string(start)}, timezone={tz})"
        return (f"dg.TimeWindowPartitionsDefinition(cron_schedule=\"0 0 1 1 *\", start={py.string(start)},"
                f" fmt=\"%Y-%m-%d\", timezone={tz})")

    def source(self, s: SourceAsset) -> dict[str, Any]:
        return {
            "var": self.name(s.name),
            "key_py": key(self.pipeline, s.name),
            "description_py": py.string(s.description),
            "kinds_py": set_literal([s.kind]),
            "tags_py": dict_literal({"layer": "source"}),
            "relation_py": py.string(s.name),
            "table_py": py.string(s.table),
            "location_py": py.string(s.location),
            "capture_py": py.string(s.capture) if s.capture else "",
            "columns": [table_column(c) for c in s.columns],
        }

    def model(self, a: ModelAsset) -> dict[str, Any]:
        var = self.name(a.name)
        lineage = []
        for col, deps in a.lineage:
            lineage.append((py.string(col), ", ".join(f"({py.string(n)}, {py.string(c)})" for n, c in deps)))
        return {
            "var": var,
            "const": self.name(a.name.upper() + "_SQL"),
            "key_py": key(self.pipeline, a.name),
            "deps_py": "[" + ", ".join(key(self.pipeline, d) for d in a.deps) + "]",
            "description_py": py.string(a.description),
            "kinds_py": set_literal(["sql", self.warehouse.kind]),
            "tags_py": dict_literal({"layer": a.layer, "materialization": a.materialization,
                                     "tier": self.p.reliability.tier}),
            "code_version_py": py.string(a.code_version),
            "partitioned": a.partition_column is not None,
            "relation_py": py.string(a.name),
            "write_py": py.string(a.write),
            "sinks_py": py.string(", ".join(a.sinks)) if a.sinks else "",
            "setup": [py.sql_block(s) for s in a.statements.setup],
            "write": [py.sql_block(s) for s in a.statements.write],
            "count": py.sql_block(a.statements.count) if a.statements.count else "",
            "columns": [table_column(c) for c in a.columns],
            "lineage": lineage,
        }

    def gate(self, g: GateCheck) -> dict[str, Any]:
        extra: list[tuple[str, str]] = []
        if g.sql:
            extra.append(("sql", py.sql_block(g.sql)))
        if g.deps:
            extra.append(("deps", "(" + ", ".join(key(self.pipeline, d) for d in g.deps) + ",)"))
        if g.relation:
            extra.append(("relation", py.string(g.relation)))
        if g.expected_columns:
            extra.append(("expected_columns", py.strings(g.expected_columns)))
        if g.comparison:
            extra.append(("comparison", py.string(g.comparison)))
            extra.append(("threshold", py.number(g.threshold)))
        if g.max_age_seconds:
            extra.append(("max_age_seconds", py.number(g.max_age_seconds)))
        if g.test == "reconcile":
            extra.append(("tolerance_pct", py.number(g.tolerance_pct)))
        return {
            "asset_py": key(self.pipeline, g.asset),
            "name_py": py.string(g.name),
            "description_py": py.string(g.description),
            "test_py": py.string(g.test),
            "severity": "ERROR" if g.severity == "error" else "WARN",
            "blocking": g.blocking,
            "metadata_py": dict_literal({"boundary": g.boundary, "origin": g.origin, "priority": str(g.priority),
                                         "severity": g.severity}),
            "extra": extra,
        }

    def job(self, p: Project) -> None:
        parts = []
        if p.models:
            parts.append("dg.AssetSelection.assets(" + ", ".join(m["var"] for m in self.models) + ")")
        checked = sorted({g.asset for g in p.gates} & {s.name for s in p.sources})
        if checked:
            parts.append("dg.AssetSelection.checks_for_assets("
                         + ", ".join(f"{s['var']}.key" for s in self.sources if s["relation_py"].strip('"') in checked)
                         + ")")
        self.job_selection_py = " | ".join(parts) if parts else "dg.AssetSelection.assets()"
        what = "builds the batch models and runs their quality gates"
        if checked:
            what += " (source gates first; failing error gates stop everything downstream)"
        self.job_description_py = py.string(f"Pipeline {p.pipeline}: {what}.")

    def make_schedule(self, p: Project) -> dict[str, str] | None:
        if p.schedule is None:
            return None
        name = f"{p.pipeline}_schedule"
        return {
            "var": self.name(name),
            "name_py": py.string(name),
            "cron_py": py.string(p.schedule.cron or ""),
            "tz_py": py.string(p.schedule_timezone),
            "description_py": py.string(f"The pipeline schedule: {p.schedule.text}."),
        }

    def make_arrival(self, p: Project) -> dict[str, Any] | None:
        if not p.arrivals or p.storage is None:
            return None
        files = []
        for a in p.arrivals:
            hour, minute = (int(x) for x in a.by.split(":"))
            deadline = 86400 + hour * 3600 + minute * 60 + a.timeout_seconds  # by HH:MM the day after {date}
            files.append({"source_py": py.string(a.source), "path_py": py.string(a.path),
                          "tz_py": py.string(a.timezone),
                          "deadline": deadline})
        name = f"{p.pipeline}_arrivals"
        listed = ", ".join(f"{a.source} by {a.by} {a.timezone}" for a in p.arrivals)
        schedule = " (serves the pipeline schedule)" if self.p_schedule_text(p) else ""
        return {
            "var": self.name(name),
            "name_py": py.string(name),
            "files": files,
            "description_py": py.string(f"Starts the pipeline when its files have arrived: {listed}{schedule}."),
        }

    @staticmethod
    def p_schedule_text(p: Project) -> str:
        return "" if p.schedule is None else p.schedule.text

    def make_freshness(self, p: Project) -> dict[str, Any] | None:
        every = p.reliability.freshness_every if p.reliability else None
        gates = [g for g in p.gates if g.test == "freshness"]
        if every is None or not gates:
            return None
        name = f"{p.pipeline}_freshness"
        return {
            "job_var": self.name(f"{p.pipeline}_freshness_job"),
            "job_name_py": py.string(f"{p.pipeline}_freshness_job"),
            "var": self.name(name),
            "name_py": py.string(name),
            "check_keys": [f"dg.AssetCheckKey({key(self.pipeline, g.asset)}, {py.string(g.name)})" for g in gates],
            "cron_py": py.string(every.cron) if every.cron else "",
            "seconds": every.seconds,
            "description_py": py.string(f"Freshness gates every {every.text} (ir.plan.reliability)."),
        }

    def resource(self, t: Target) -> dict[str, Any]:
        return {"key_py": py.string(t.key), "class_name": t.class_name, "fields": [env_field(f) for f in t.fields]}

    def definitions_lists(self) -> None:
        self.defs_assets = ", ".join([s["var"] for s in self.sources] + [a["var"] for a in self.models])
        self.defs_jobs = ", ".join([self.job_var] + ([self.freshness["job_var"]] if self.freshness else []))
        fresh = self.freshness
        schedules = [self.schedule["var"]] if self.schedule else []
        sensors = [self.arrival["var"]] if self.arrival else []
        if fresh:
            (schedules if fresh["cron_py"] else sensors).append(fresh["var"])
        self.defs_schedules = ", ".join(schedules)
        self.defs_sensors = ", ".join(sensors)

    def make_imports(self, p: Project) -> list[str]:
        std = ["import operator", "import os", "import re"]
        if p.warehouse.kind == "postgres":
            std.append("from contextlib import contextmanager")
        std.append("from dataclasses import dataclass")
        std.append("from datetime import datetime, timedelta, timezone")
        if p.storage is not None and p.storage.kind == "local":
            std.append("from pathlib import Path")
        typing = ["Any", "Sequence"] + (["Iterator"] if p.warehouse.kind == "postgres" else [])
        std.append(f"from typing import {', '.join(sorted(typing))}")
        if self.arrival:
            std.append("from zoneinfo import ZoneInfo")
        third = ["import dagster as dg"]
        for t in (p.warehouse, p.storage):
            if t is not None:
                third.extend(t.imports)
        return std + [""] + sorted(set(third), key=lambda line: (not line.startswith("import "), line))

    def make_summary(self, p: Project) -> str:
        r = p.reliability
        wh = p.warehouse
        swapped = f" (the spec says {wh.spec_kind}; swapped by --opt dagster.target_warehouse=duckdb)" \
            if wh.kind != wh.spec_kind else ""
        lines = [
            f"Mode: {p.mode}" + (" (this module is the batch side)" if p.mode == "hybrid" else "")
            + f". Owner: {p.owner or '-'}. Tier: {r.tier}.",
            f"Warehouse: `{wh.key}` ({wh.kind}){swapped}; sources are external assets whose raw rows are read"
            " from `<raw schema>.<source>` (see RAW_SCHEMAS).",
            f"Assets: {len(p.sources)} source(s), {len(p.models)} model(s); {len(p.gates)} quality gate(s)"
            f" ({sum(g.blocking for g in p.gates)} blocking).",
        ]
        if p.schedule is not None:
            lines.append(f"Runs: {p.schedule.text} (schedule `{p.pipeline}_schedule`).")
        elif p.arrivals:
            lines.append(f"Runs: when the files of {', '.join(a.source for a in p.arrivals)} arrive"
                         f" (sensor `{p.pipeline}_arrivals`).")
        else:
            lines.append("Runs: on demand (the spec has no schedule).")
        retry = f"{r.retries} retries, {human_seconds(r.retry_delay_seconds)} apart"
        if r.exponential_backoff:
            retry += " with exponential backoff"
        lines.append(f"Reliability (ir.plan.reliability): {retry}; at most {r.max_active_runs} active run(s).")
        return "\n".join(wrap(line) for line in lines)


def wrap(text: str, width: int = 110) -> str:
    words, lines, current = text.split(), [], ""
    for w in words:
        if current and len(current) + 1 + len(w) > width:
            lines.append(current)
            current = w
        else:
            current = f"{current} {w}" if current else w
    lines.append(current)
    return "\n".join(lines)


def human_seconds(seconds: float) -> str:
    s = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def render_definitions(project: Project) -> str:
    view = View(project)
    return environment().get_template("definitions.py.j2").render(m=view)


def render_requirements(project: Project) -> str:
    reqs = {r for t in (project.warehouse, project.storage) if t is not None for r in t.requirements}
    return "\n".join(sorted(reqs)) + "\n"
