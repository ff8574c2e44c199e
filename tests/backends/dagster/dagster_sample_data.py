"""Deterministic sample rows for a spec's batch sources, derived from the column contracts and the planned gates.

Rows 0..n-2 are spread over `day` (00:00:00 .. 23:59:59, the partition the test materializes); the last row
sits one minute before `now`, so freshness gates measured against the wall clock pass. Keys count from 1,
references point at existing keys, accepted values cycle, regex-checked columns use a sample per pattern.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from streamc.ir import CheckKind, Source, Spec

# A value generator per regex the specs check (regexes cannot be sampled generically and deterministically).
REGEX_SAMPLES = {
    "^[A-Z]{3}-[0-9]{4,}$": lambda i: f"SKU-{1000 + i}",
}

INT_TYPES = {"bigint", "integer", "int", "smallint"}
NUMBER_TYPES = {"numeric", "decimal", "float", "double", "real"}
TIME_TYPES = {"timestamp", "timestamptz", "datetime"}
TEXT_TYPES = {"text", "string", "varchar", "enum"}


def origins(ir: Spec, node: str, column: str, depth: int = 0) -> set[tuple[str, str]]:
    if ir.source(node) is not None:
        return {(node, column)}
    model = ir.model(node)
    out: set[tuple[str, str]] = set()
    if model is None or depth > 50:
        return out
    for c in model.columns:
        if c.name == column:
            for ref in c.inputs:
                out |= origins(ir, ref.node, ref.column, depth + 1)
    return out


def regex_columns(ir: Spec) -> dict[tuple[str, str], str]:
    out = {}
    for gate in ir.plan.gates:
        if gate.check.kind == CheckKind.regex and gate.check.pattern:
            for col in gate.check.columns:
                for origin in origins(ir, gate.check.target, col):
                    out[origin] = gate.check.pattern
    return out


def excluded(ir: Spec, source: str) -> set[str]:
    capture = next((c for c in ir.plan.captures if c.source == source), None)
    return set(capture.excluded_columns) if capture else set()


def contract(ir: Spec, source: Source) -> list[tuple[str, str]]:
    """(column, DuckDB type) of the raw table: the contract minus columns the capture never loads."""
    drop = excluded(ir, source.name)
    return [(c.name, c.type.sql()) for c in source.columns if c.name not in drop]


def key_value(type_name: str, column: str, i: int) -> Any:
    return i + 1 if type_name in INT_TYPES else f"{column}-{i + 1:04d}"


def row_time(i: int, n: int, day: date, now: datetime) -> datetime:
    if i == n - 1:
        return now - timedelta(minutes=1)
    step = 86399 / max(n - 2, 1)
    return datetime.combine(day, time()) + timedelta(seconds=round(i * step))


def value(ir: Spec, source: Source, col, i: int, n: int, day: date, now: datetime, patterns) -> Any:
    t = col.type.name
    if (source.name, col.name) in patterns:
        return REGEX_SAMPLES[patterns[(source.name, col.name)]](i)
    if col.references is not None:
        ref = ir.source(col.references.node)
        ref_col = ref.column(col.references.column) if ref else None
        ref_type = ref_col.type.name if ref_col else t
        return key_value(ref_type, col.references.column, i % n)
    values = col.accepted_values or col.type.values
    if values:
        return values[i % len(values)]
    if col.primary_key or col.unique or col.name in source.key:
        return key_value(t, col.name, i)
    if t in TIME_TYPES:
        return row_time(i, n, day, now)
    if t == "date":
        return row_time(i, n, day, now).date()
    if t in INT_TYPES:
        return 1 + i % 7
    if t in NUMBER_TYPES:
        return Decimal(10) + Decimal(i) + Decimal("0.50")
    if t == "boolean":
        return i % 2 == 0
    if t == "json":
        return "{}"
    return f"{col.name}_{i}"


def literal(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, Decimal)):
        return str(v)
    if isinstance(v, datetime):
        return f"TIMESTAMP '{v.strftime('%Y-%m-%d %H:%M:%S')}'"
    if isinstance(v, date):
        return f"DATE '{v.isoformat()}'"
    return "'" + str(v).replace("'", "''") + "'"


def source_rows(ir: Spec, source: Source, day: date, now: datetime, n: int) -> list[tuple[Any, ...]]:
    patterns = regex_columns(ir)
    keep = {name for name, _ in contract(ir, source)}
    return [tuple(value(ir, source, c, i, n, day, now, patterns) for c in source.columns if c.name in keep)
            for i in range(n)]


def raw_table(ir: Spec, name: str) -> str:
    """Where a source's raw rows land: `raw_<connection>.<source>` (the dbt and Dagster backends' default)."""
    return f"raw_{ir.source(name).connection}.{name}"


def seed_statements(ir: Spec, sources: list[str], day: date, now: datetime, n: int = 24) -> list[str]:
    """The raw tables of the named sources, with rows (SQL that DuckDB and PostgreSQL both run)."""
    out = []
    for name in sources:
        source = ir.source(name)
        assert source is not None
        table = raw_table(ir, name)
        columns = contract(ir, source)
        out.append(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
        out.append(f"DROP TABLE IF EXISTS {table}")
        out.append(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t in columns)})")
        rows = source_rows(ir, source, day, now, n)
        out.append(f"INSERT INTO {table} VALUES " + ", ".join("(" + ", ".join(map(literal, r)) + ")" for r in rows))
    return out
