"""Quality gates as dbt data tests: column/model tests for the YAML files, source freshness, singular tests."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from streamc.ir import Check, CheckKind, Column, Severity
from streamc.sql_analysis import READ_DIALECT
from streamc.sql_render import render_expression

from .project import DbtSource, Problem, Project

TestEntry = str | dict[str, object]


@dataclass
class NodeTests:
    """The data tests of one model or source table: per column and on the whole relation."""

    columns: dict[str, list[TestEntry]] = field(default_factory=lambda: defaultdict(list))
    relation: list[TestEntry] = field(default_factory=list)

    def add(self, column: str | None, entry: TestEntry) -> None:
        """Adds a test once; the same test with the same arguments keeps its strictest severity (dbt names
        tests by test and arguments, so two copies would collide)."""
        target = self.columns[column] if column else self.relation
        for i, old in enumerate(target):
            if _identity(old) == _identity(entry):
                if _is_warn(old) and not _is_warn(entry):
                    target[i] = entry
                return
        target.append(entry)


def _identity(entry: TestEntry) -> tuple[str, str]:
    if isinstance(entry, str):
        return entry, "{}"
    name, body = next(iter(entry.items()))
    return name, repr(body.get("arguments", {}))


def _is_warn(entry: TestEntry) -> bool:
    return isinstance(entry, dict) and next(iter(entry.values())).get("config", {}).get("severity") == "warn"


@dataclass
class Freshness:
    loaded_at_field: str
    warn_after: dict[str, object] | None = None
    error_after: dict[str, object] | None = None


@dataclass
class Quality:
    tests: dict[str, NodeTests] = field(default_factory=lambda: defaultdict(NodeTests))
    freshness: dict[str, Freshness] = field(default_factory=dict)
    singular: list[Check] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def generic(name: str, arguments: dict[str, object] | None = None, warn: bool = False) -> TestEntry:
    """A generic test entry in today's syntax: inputs under `arguments:`, severity under `config:`."""
    body: dict[str, object] = {}
    if arguments:
        body["arguments"] = arguments
    if warn:
        body["config"] = {"severity": "warn"}
    return {name: body} if body else name


def period(seconds: float) -> dict[str, object]:
    """A dbt freshness threshold: the largest whole unit (day/hour/minute), rounding up to minutes."""
    for unit, size in (("day", 86400), ("hour", 3600)):
        if seconds >= size and seconds % size == 0:
            return {"count": int(seconds // size), "period": unit}
    return {"count": max(1, math.ceil(seconds / 60)), "period": "minute"}


def date_column(project: Project, node: str) -> str | None:
    """The column a volume check counts rows per day by: partition, event time, incremental column, first date."""
    dm = project.models.get(node)
    if dm is not None:
        if dm.partition is not None:
            return dm.partition.column
        for lin in dm.model.columns:
            origin = project.trace(node, lin.name)
            src = project.ir.source(origin[0]) if origin else None
            col = src.column(origin[1]) if src else None
            if col is not None and (col.event_time or (src.capture and src.capture.column == col.name)):
                return lin.name
        return None
    src = project.ir.source(node)
    if src is None:
        return None
    if src.event_time is not None:
        return src.event_time.name
    if src.capture is not None and src.capture.column:
        return src.capture.column
    timed = [c for c in src.columns if c.type.name in ("date", "timestamp", "timestamptz")]
    timed.sort(key=lambda c: (not c.not_null, c.type.name != "date"))
    return timed[0].name if timed else None


def count_column(project: Project, node: str) -> tuple[bool, str | None]:
    """(aggregated?, the `count(*)` output column): an aggregate's row count is the sum of that column."""
    dm = project.models.get(node)
    if dm is None:
        return False, None
    tree = sqlglot.parse_one(dm.model.sql.text, read=READ_DIALECT)
    if not isinstance(tree, exp.Select) or not tree.args.get("group"):
        return False, None
    for proj in tree.expressions:
        inner = proj.this if isinstance(proj, exp.Alias) else proj
        if isinstance(inner, exp.Count) and isinstance(inner.this, exp.Star):
            return True, proj.alias_or_name
    return True, None


def contract_tests(project: Project, src: DbtSource, q: Quality) -> None:
    """The source's column contract: keys, not null, accepted values, references and column checks."""
    s = src.source
    tests = q.tests[s.name]
    pk = [c for c in s.primary_key if c not in src.excluded]
    if len(pk) == 1:
        tests.add(pk[0], "unique")
        tests.add(pk[0], "not_null")
    elif pk:
        tests.add(None, generic("streamc_unique_combination", {"columns": pk}))
        for c in pk:
            tests.add(c, "not_null")
    for c in src.columns:
        column_contract(project, s.name, c, q)


def column_contract(project: Project, node: str, c: Column, q: Quality) -> None:
    tests = q.tests[node]
    if c.not_null:
        tests.add(c.name, "not_null")
    if c.unique:
        tests.add(c.name, "unique")
    values = c.accepted_values or c.type.values
    if values:
        tests.add(c.name, generic("accepted_values", {"values": list(values)}))
    if c.references is not None:
        to = project.relation_arg(c.references.node)
        if to is not None:
            tests.add(c.name, generic("relationships", {"to": to, "field": c.references.column}))
    for chk in c.checks:
        expression = render_expression(chk.text, project.warehouse.dialect)
        tests.add(c.name, generic("streamc_expression_is_true", {"expression": expression}))


def check_tests(project: Project, check: Check, q: Quality) -> None:
    tests = q.tests[check.target]
    warn = check.severity == Severity.warn
    cols = list(check.columns)
    kind = check.kind
    if kind == CheckKind.unique:
        if len(cols) == 1:
            tests.add(cols[0], generic("unique", warn=warn))
        else:
            tests.add(None, generic("streamc_unique_combination", {"columns": cols}, warn))
    elif kind == CheckKind.not_null:
        for c in cols:
            tests.add(c, generic("not_null", warn=warn))
    elif kind == CheckKind.range:
        args = {k: v for k, v in (("min_value", check.min), ("max_value", check.max)) if v is not None}
        for c in cols:
            tests.add(c, generic("streamc_accepted_range", args, warn))
    elif kind == CheckKind.accepted_values:
        for c in cols:
            tests.add(c, generic("accepted_values", {"values": list(check.values)}, warn))
    elif kind == CheckKind.regex:
        for c in cols:
            tests.add(c, generic("streamc_regex_match", {"pattern": check.pattern}, warn))
    elif kind == CheckKind.relationships:
        to = project.relation_arg(check.reference.node) if check.reference else None
        if to is None:
            q.problems.append(
                Problem(
                    check.span,
                    f"a relationship to '{check.reference.node}', which dbt does " "not build",
                    "point the relationship at a batch model or source",
                )
            )
        else:
            tests.add(cols[0], generic("relationships", {"to": to, "field": check.reference.column}, warn))
    elif kind == CheckKind.freshness:
        freshness(project, check, q)
    elif kind in (CheckKind.row_count, CheckKind.volume_anomaly):
        volume(project, check, q)
    elif kind == CheckKind.reconcile:
        reconcile(project, check, q)
    elif kind == CheckKind.custom_sql:
        q.singular.append(check)
    elif kind == CheckKind.schema:
        expected = (
            [c.name for c in project.sources[check.target].columns]
            if check.target in project.sources
            else [c.name for c in project.models[check.target].model.columns]
        )
        tests.add(None, generic("streamc_schema_matches", {"columns": expected}, warn))


def freshness(project: Project, check: Check, q: Quality) -> None:
    if check.target in project.sources:
        if not check.columns:
            return  # reported by project.model_problems
        col = check.columns[0]
        ctype = project.column_type(check.target, col)
        loaded_at = col if ctype is None or ctype.name != "date" else f"CAST({col} AS TIMESTAMP)"
        f = q.freshness.setdefault(check.target, Freshness(loaded_at))
        threshold = period(check.max_age.seconds)
        if check.severity == Severity.warn:
            f.warn_after = threshold
        else:
            f.error_after = threshold
        return
    col = check.columns[0] if check.columns else date_column(project, check.target)
    if col is None:
        q.problems.append(
            Problem(
                check.span, f"freshness of '{check.target}' without a timestamp column", "write `freshness 24h by col`"
            )
        )
        return
    q.tests[check.target].add(
        col,
        generic("streamc_recency", {"max_age_seconds": int(check.max_age.seconds)}, check.severity == Severity.warn),
    )


def volume(project: Project, check: Check, q: Quality) -> None:
    warn = check.severity == Severity.warn
    comparison = check.comparison or ">="
    if check.baseline:
        days = re.search(r"(\d+)\s*d", check.baseline)
        col = date_column(project, check.target)
        if col is None:
            q.problems.append(
                Problem(
                    check.span,
                    f"a volume baseline on '{check.target}', which has no date column",
                    "give the node a partition, an event_time or a date column",
                )
            )
            return
        args = {
            "date_column": col,
            "comparison": comparison,
            "factor": check.threshold if check.threshold is not None else 1,
            "days": int(days.group(1)) if days else 7,
        }
        q.tests[check.target].add(None, generic("streamc_volume_anomaly", args, warn))
    else:
        args = {"comparison": comparison, "threshold": check.threshold if check.threshold is not None else 0}
        q.tests[check.target].add(None, generic("streamc_row_count", args, warn))


def reconcile(project: Project, check: Check, q: Quality) -> None:
    against = project.relation_arg(check.against or "")
    if against is None:
        q.problems.append(
            Problem(
                check.span,
                f"reconciling with '{check.against}', which dbt does not build",
                "reconcile against a batch source or model",
            )
        )
        return
    measure = (check.measure or "count").strip()
    if measure.lower() in ("count", "count(*)"):
        aggregated, counter = count_column(project, check.target)
        if aggregated and counter is None:
            q.problems.append(
                Problem(
                    check.span,
                    f"a row-count reconciliation of the aggregate '{check.target}'",
                    "add `count(*) as <name>` to the model so its rows can be counted back",
                )
            )
            return
        target_sql = f"SUM({counter})" if aggregated else "COUNT(*)"
        origin_sql = "COUNT(*)"
    else:
        target_sql = origin_sql = render_expression(measure, project.warehouse.dialect)
    args = {
        "compare_to": against,
        "measure": target_sql,
        "compare_measure": origin_sql,
        "tolerance_pct": check.tolerance.value if check.tolerance else 0,
    }
    q.tests[check.target].add(None, generic("streamc_reconcile", args, check.severity == Severity.warn))


def quality(project: Project) -> Quality:
    q = Quality()
    if not project.ir.plan.gates:  # the passes turn contracts into gates; before they run, test the contracts here
        for src in project.sources.values():
            contract_tests(project, src, q)
    for check in project.checks:
        check_tests(project, check, q)
    return q
