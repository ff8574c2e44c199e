"""Quality-gate checks as warehouse SQL that counts failures (0 = the gate passes)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from streamc.ir import Check, CheckKind

from .naming import INTERVAL_END, INTERVAL_START, SqlWriter


@dataclass(frozen=True)
class TimeColumn:
    """The column that places a row of a node in time (for per-interval counts)."""

    name: str
    is_date: bool = False


@dataclass(frozen=True)
class GateContext:
    """What a check needs besides itself: where nodes live at this boundary and how long an interval is."""

    dialect: str
    relation: Callable[[str], str]  # node name -> relation text (Jinja allowed)
    schema_of: Callable[[str], tuple[str, str]]  # node name -> (schema text, table name)
    time_column: Callable[[str], TimeColumn | None]
    expected_columns: Callable[[str], tuple[str, ...]]
    interval_seconds: float | None


class GateError(ValueError):
    """The check cannot be written as SQL here; the message says what is missing."""


COMPARISONS = {">", ">=", "<", "<=", "=", "=="}


def check_id(check: Check) -> str:
    """A readable, stable task id for a check: `<target>__<kind>[_<columns>]` or `<target>__<custom name>`."""
    if check.kind == CheckKind.custom_sql and check.name:
        text = f"{check.target}__{check.name}"
    else:
        text = f"{check.target}__{check.kind.value}"
        if check.columns:
            text += "_" + "_".join(check.columns)
        if check.kind == CheckKind.reconcile and check.against:
            text += f"_vs_{check.against}"
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def describe(check: Check) -> str:
    """One line a person reads in the task's log and docs."""
    cols = ", ".join(check.columns)
    match check.kind:
        case CheckKind.unique | CheckKind.not_null:
            return f"{check.kind.value} {cols} on {check.target}"
        case CheckKind.range:
            bounds = ([f">= {_num(check.min)}"] if check.min is not None else []) + \
                ([f"<= {_num(check.max)}"] if check.max is not None else [])
            return f"{cols} of {check.target} {' and '.join(bounds)}"
        case CheckKind.accepted_values:
            return f"{cols} of {check.target} in ({', '.join(check.values)})"
        case CheckKind.regex:
            return f"{cols} of {check.target} matches {check.pattern}"
        case CheckKind.relationships:
            ref = check.reference
            return f"{check.target}.{cols} -> {ref.node}.{ref.column}" if ref else f"relationships on {check.target}"
        case CheckKind.freshness:
            age = check.max_age.text if check.max_age else "?"
            return f"{check.target} has rows by {cols or '?'} within {age} of the interval end"
        case CheckKind.row_count:
            return f"rows of {check.target} {check.comparison} {_num(check.threshold or 0)}"
        case CheckKind.volume_anomaly:
            return f"rows of {check.target} {check.comparison} {_num(check.threshold or 0)} x {check.baseline}"
        case CheckKind.reconcile:
            tol = check.tolerance.text if check.tolerance else "0%"
            return f"{check.measure or 'count'} of {check.target} matches {check.against} within {tol}"
        case CheckKind.custom_sql:
            return f"custom check {check.name or ''} on {check.target} returns no rows"
        case CheckKind.schema:
            return f"{check.target} has the columns of its contract"
    return f"{check.kind.value} on {check.target}"


def failure_sql(check: Check, ctx: GateContext) -> str:
    """SQL returning one number: how many rows (or 1 for a table-level check) violate the check."""
    w = SqlWriter(ctx.dialect, avoid=check.model_dump_json())
    t = check.target
    rel: dict[str, str] = {t: ctx.relation(t)}
    cols = check.columns
    match check.kind:
        case CheckKind.unique:
            _need(cols, "unique needs columns")
            keys = ", ".join(cols)
            sql = f"SELECT COUNT(*) FROM (SELECT {keys} FROM {t} GROUP BY {keys} HAVING COUNT(*) > 1) AS duplicates"
        case CheckKind.not_null:
            _need(cols, "not_null needs columns")
            sql = f"SELECT COUNT(*) FROM {t} WHERE " + " OR ".join(f"{c} IS NULL" for c in cols)
        case CheckKind.range:
            _need(cols, "range needs a column")
            bounds = []
            if check.min is not None:
                bounds.append(f"{cols[0]} < {_num(check.min)}")
            if check.max is not None:
                bounds.append(f"{cols[0]} > {_num(check.max)}")
            _need(bounds, "range needs a bound")
            sql = f"SELECT COUNT(*) FROM {t} WHERE " + " OR ".join(bounds)
        case CheckKind.accepted_values:
            _need(cols and check.values, "accepted_values needs a column and values")
            values = ", ".join(_quote(v) for v in check.values)
            sql = f"SELECT COUNT(*) FROM {t} WHERE {cols[0]} NOT IN ({values})"
        case CheckKind.regex:
            _need(cols and check.pattern, "regex needs a column and a pattern")
            sql = f"SELECT COUNT(*) FROM {t} WHERE NOT {cols[0]} ~ {_quote(check.pattern or '')}"
        case CheckKind.relationships:
            ref = check.reference
            _need(cols and ref, "relationships needs a column and a referenced column")
            assert ref is not None
            rel[ref.node] = ctx.relation(ref.node)
            sql = (f"SELECT COUNT(*) FROM {t} AS child LEFT JOIN {ref.node} AS parent "
                   f"ON child.{cols[0]} = parent.{ref.column} "
                   f"WHERE child.{cols[0]} IS NOT NULL AND parent.{ref.column} IS NULL")
        case CheckKind.freshness:
            _need(cols, "freshness needs the column that carries update time (`freshness 24h by updated_at`)")
            _need(check.max_age, "freshness needs a maximum age")
            assert check.max_age is not None
            seconds = int(check.max_age.seconds)
            sql = (f"SELECT CASE WHEN MAX({cols[0]}) >= {w.ts(INTERVAL_END)} - INTERVAL '{seconds} SECONDS' "
                   f"THEN 0 ELSE 1 END FROM {t}")
        case CheckKind.row_count:
            op = _comparison(check)
            where = _interval_filter(w, ctx.time_column(t))
            sql = (f"SELECT CASE WHEN COUNT(*) {op} {_num(check.threshold or 0)} THEN 0 ELSE 1 END "
                   f"FROM {t}{where}")
        case CheckKind.volume_anomaly:
            sql = _volume_sql(check, ctx, w)
        case CheckKind.reconcile:
            _need(check.against, "reconcile needs the node to compare with")
            other = check.against or ""
            rel[other] = ctx.relation(other)
            measure = _measure(check.measure)
            tolerance = (check.tolerance.value if check.tolerance else 0.0) / 100
            sql = (f"SELECT CASE WHEN ABS(target.m - other.m) <= {_num(tolerance)} * ABS(other.m) THEN 0 ELSE 1 END "
                   f"FROM (SELECT {measure} AS m FROM {t}) AS target "
                   f"CROSS JOIN (SELECT {measure} AS m FROM {other}) AS other")
        case CheckKind.custom_sql:
            _need(check.sql, "a custom check needs SQL")
            assert check.sql is not None
            return w.render(f"SELECT COUNT(*) FROM ({check.sql.text.strip()}) AS failures",
                            _all_nodes(check.sql.text, ctx, rel))
        case CheckKind.schema:
            return _schema_sql(check, ctx, w)
        case _:
            raise GateError(f"checks of kind {check.kind.value}")
    return w.render(sql, rel)


# ---------------------------------------------------------------------------------------------- pieces


def _need(value: object, message: str) -> None:
    if not value:
        raise GateError(message)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _comparison(check: Check) -> str:
    op = check.comparison or ">="
    if op not in COMPARISONS:
        raise GateError(f"comparison '{op}'")
    return "=" if op == "==" else op


def _measure(measure: str | None) -> str:
    if not measure or measure == "count":
        return "COUNT(*)"
    m = re.fullmatch(r"\s*(sum|count|min|max|avg)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*|\*)\s*\)\s*", measure)
    if not m:
        raise GateError(f"reconcile measure '{measure}'")
    return f"{m.group(1).upper()}({m.group(2)})"


def _interval_filter(w: SqlWriter, col: TimeColumn | None) -> str:
    if col is None:
        return ""
    lit = w.date if col.is_date else w.ts
    return f" WHERE {col.name} >= {lit(INTERVAL_START)} AND {col.name} < {lit(INTERVAL_END)}"


def _volume_sql(check: Check, ctx: GateContext, w: SqlWriter) -> str:
    """Rows of this interval against the average rows per interval over the baseline window."""
    t = check.target
    m = re.fullmatch(r"avg_(\d+)d", check.baseline or "")
    if not m:
        raise GateError(f"volume baseline '{check.baseline}' (expected avg_<days>d)")
    col = ctx.time_column(t)
    if col is None:
        raise GateError(f"a time column on '{t}' to count rows per interval (an event_time, partition or "
                        "incremental column)")
    if not ctx.interval_seconds:
        raise GateError("a fixed schedule interval to compare interval volumes")
    days = int(m.group(1))
    per_window = days * 86400 / ctx.interval_seconds
    lit = w.date if col.is_date else w.ts
    start, end, back = lit(INTERVAL_START), lit(INTERVAL_END), lit(INTERVAL_START)
    return (f"SELECT CASE WHEN cur.n {_comparison(check)} {_num(check.threshold or 0)} * hist.n / {_num(per_window)} "
            f"THEN 0 ELSE 1 END "
            f"FROM (SELECT COUNT(*) AS n FROM {t} WHERE {col.name} >= {start} AND {col.name} < {end}) AS cur "
            f"CROSS JOIN (SELECT COUNT(*) AS n FROM {t} WHERE {col.name} >= {back} - INTERVAL '{days} DAYS' "
            f"AND {col.name} < {start}) AS hist")


def _all_nodes(sql: str, ctx: GateContext, rel: dict[str, str]) -> dict[str, str]:
    """Relations for every spec node a custom SQL names (render_sql asks only for tables it meets)."""

    class Lazy(dict):
        def get(self, key, default=None):  # type: ignore[override]
            if key in rel:
                return rel[key]
            try:
                return ctx.relation(key)
            except KeyError:
                return default

    return Lazy()


def _schema_sql(check: Check, ctx: GateContext, w: SqlWriter) -> str:
    """Columns of the contract missing from the table (drift that breaks readers)."""
    t = check.target
    expected = check.columns or ctx.expected_columns(t)
    _need(expected, f"the contract columns of '{t}'")
    schema, table = ctx.schema_of(t)
    wanted = "\n  UNION ALL ".join(f"SELECT {_quote(c.lower())} AS name" for c in expected)
    if ctx.dialect == "bigquery":
        source = f"{schema}.INFORMATION_SCHEMA.COLUMNS"
        where = f"table_name = {_quote(table)}"
    else:
        source = "information_schema.columns"
        where = f"LOWER(table_schema) = LOWER({_quote(schema)}) AND LOWER(table_name) = {_quote(table.lower())}"
    return (f"SELECT COUNT(*)\nFROM (\n  {wanted}\n) AS expected\nWHERE name NOT IN (\n"
            f"  SELECT LOWER(column_name)\n  FROM {source}\n  WHERE {where}\n)")
