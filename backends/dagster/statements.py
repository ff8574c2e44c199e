"""Warehouse SQL the Dagster assets and checks run: materializations per plan decision and one query per check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from streamc.sql_render import render_expression, render_sql

TableRef = Callable[[str], "str | None"]



@dataclass(frozen=True)
class Slots:
    """Placeholders the generated module's bind() fills in at run time, in one pass: `{<prefix>:raw:<connection>}`
    (the schema raw tables of a connection land in, like dbt's env_var) and `{<prefix>:partition_start}` /
    `{<prefix>:partition_end}` (the partition's time window; unbounded when a check runs outside a partitioned
    run). The prefix is chosen so that no spec text holds `{<prefix>:`: a literal in the spec's SQL that looks like
    a slot stays as written."""

    prefix: str = "streamc"

    def slot(self, name: str) -> str:
        return "{" + self.prefix + ":" + name + "}"

    @property
    def start(self) -> str:
        return self.slot("partition_start")

    @property
    def end(self) -> str:
        return self.slot("partition_end")

    def raw_schema(self, connection: str) -> str:
        """The schema raw tables of `connection` land in."""
        return self.slot("raw:" + connection)

    @property
    def pattern(self) -> str:
        """The regular expression bind() finds the slots with (group 1: the slot's name)."""
        return r"\{" + re.escape(self.prefix) + r":(raw:\w+|partition_start|partition_end)\}"


def slots_for(spec_text: str) -> Slots:
    """Slots whose prefix occurs in none of the spec's text (`streamc`, else `streamc1`, `streamc2`, ...)."""
    prefix, n = "streamc", 0
    while "{" + prefix + ":" in spec_text:
        n += 1
        prefix = f"streamc{n}"
    return Slots(prefix)


SCD2_COLUMNS = ("valid_from", "valid_to", "is_current")


@dataclass(frozen=True)
class Materialization:
    """How one model is written: `setup` (idempotent DDL) then `write` (one transaction), then `count`."""

    setup: tuple[str, ...]
    write: tuple[str, ...]
    count: str | None  # row count of what was written (None for views: counting would run the query)


def no_refs(_name: str) -> str | None:
    return None


def to_dialect(sql: str, dialect: str, refs: TableRef = no_refs, pretty: bool = True) -> str:
    """Transpile portable (Postgres-flavoured) SQL to `dialect`; `refs` maps source names to their raw tables."""
    return render_sql(sql, dialect, refs, pretty=pretty)


def check_query(sql: str, dialect: str, refs: TableRef = no_refs) -> str:
    """A check's query: one line when it is short, laid out when it is not."""
    flat = to_dialect(sql, dialect, refs, pretty=False)
    return flat if len(flat) <= 100 else to_dialect(sql, dialect, refs)


def expression(text: str, dialect: str) -> str:
    return render_expression(text, dialect)


def indent(sql: str, by: int = 2) -> str:
    pad = " " * by
    return "\n".join(pad + line if line else line for line in sql.splitlines())


def window_predicate(column: str, dialect: str, slots: Slots, alias: str | None = None) -> str:
    """`column` falls inside the run's partition window (slots bound at run time)."""
    ref = f"{alias}.{column}" if alias else column
    return expression(
        f"cast({ref} as timestamp) >= cast('{slots.start}' as timestamp)"
        f" and cast({ref} as timestamp) < cast('{slots.end}' as timestamp)",
        dialect,
    )


def keys_match(left: str, right: str, keys: tuple[str, ...]) -> str:
    return " AND ".join(f"{left}.{k} = {right}.{k}" for k in keys)


# ------------------------------------------------------------------ materializations


def empty_table(relation: str, select: str) -> str:
    """Create the table with the query's columns and no rows, unless it exists."""
    return f"CREATE TABLE IF NOT EXISTS {relation} AS\nSELECT * FROM (\n{indent(select)}\n) AS q\nWHERE 1 = 0"


def insert(relation: str, rows: str) -> str:
    """INSERT the rows of a query (wrapped, so a query with its own WITH clause stays valid everywhere)."""
    if rows.startswith("SELECT * FROM (\n"):
        return f"INSERT INTO {relation}\n{rows}"
    return f"INSERT INTO {relation}\nSELECT * FROM (\n{indent(rows)}\n) AS q"


def view(relation: str, select: str) -> Materialization:
    return Materialization(setup=(), write=(f"CREATE OR REPLACE VIEW {relation} AS\n{select}",), count=None)


def table(relation: str, select: str, dialect: str) -> Materialization:
    count = f"SELECT COUNT(*) FROM {relation}"
    if dialect == "postgres":
        # Postgres has no CREATE OR REPLACE TABLE; truncate + insert keeps dependent views valid.
        return Materialization(
            setup=(empty_table(relation, select),),
            write=(f"DELETE FROM {relation}", insert(relation, select)),
            count=count,
        )
    return Materialization(setup=(), write=(f"CREATE OR REPLACE TABLE {relation} AS\n{select}",), count=count)


def windowed(select: str, column: str, dialect: str, slots: Slots) -> str:
    """Only the rows of the query that fall in the run's partition."""
    return f"SELECT * FROM (\n{indent(select)}\n) AS q\nWHERE {window_predicate(column, dialect, slots, 'q')}"


def partition_count(relation: str, column: str, dialect: str, slots: Slots) -> str:
    return f"SELECT COUNT(*) FROM {relation}\nWHERE {window_predicate(column, dialect, slots)}"


def overwrite_partition(relation: str, select: str, column: str, dialect: str, slots: Slots) -> Materialization:
    """Replace the run's partition: delete its window, insert the query's rows in that window."""
    return Materialization(
        setup=(empty_table(relation, select),),
        write=(
            f"DELETE FROM {relation}\nWHERE {window_predicate(column, dialect, slots)}",
            insert(relation, windowed(select, column, dialect, slots)),
        ),
        count=partition_count(relation, column, dialect, slots),
    )


def merge(relation: str, shape: str, rows: str, key: tuple[str, ...], columns: tuple[str, ...]) -> Materialization:
    """Upsert `rows` on `key`; `shape` (the model's query) gives the table its columns on the first run."""
    updates = [c for c in columns if c not in key]
    parts = [f"MERGE INTO {relation} AS t\nUSING (\n{indent(rows)}\n) AS s\nON {keys_match('t', 's', key)}"]
    if updates:
        parts.append("WHEN MATCHED THEN UPDATE SET " + ", ".join(f"{c} = s.{c}" for c in updates))
    parts.append(
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(columns)})\nVALUES ({', '.join('s.' + c for c in columns)})"
    )
    return Materialization(
        setup=(empty_table(relation, shape),), write=("\n".join(parts),), count=f"SELECT COUNT(*) FROM {relation}"
    )


def delete_insert(relation: str, shape: str, rows: str, key: tuple[str, ...]) -> Materialization:
    return Materialization(
        setup=(empty_table(relation, shape),),
        write=(
            f"DELETE FROM {relation}\nWHERE EXISTS (\n  SELECT 1 FROM (\n{indent(rows, 4)}\n  ) AS s\n"
            f"  WHERE {keys_match(relation, 's', key)}\n)",
            insert(relation, rows),
        ),
        count=f"SELECT COUNT(*) FROM {relation}",
    )


def append(relation: str, shape: str, rows: str) -> Materialization:
    return Materialization(
        setup=(empty_table(relation, shape),),
        write=(insert(relation, rows),),
        count=f"SELECT COUNT(*) FROM {relation}",
    )


def scd2(relation: str, select: str, key: tuple[str, ...], columns: tuple[str, ...], updated_at: str | None,
         check_columns: tuple[str, ...]) -> Materialization:
    """Type 2 history: close the current version of changed keys, insert their new versions.

    Adds valid_from / valid_to / is_current; `updated_at` (timestamp strategy) or `check_columns` detect a change.
    """
    if updated_at:
        changed = f"s.{updated_at} > {relation}.{updated_at}"
        valid_from = f"s.{updated_at}"
        typed_null = f"CASE WHEN FALSE THEN q.{updated_at} END"  # NULL with the type of updated_at
        first_from = f"q.{updated_at}"
    else:
        changed = " OR ".join(f"s.{c} IS DISTINCT FROM {relation}.{c}" for c in check_columns)
        valid_from = "CURRENT_TIMESTAMP"
        typed_null = "CASE WHEN FALSE THEN CURRENT_TIMESTAMP END"
        first_from = "CURRENT_TIMESTAMP"
    create = (
        f"CREATE TABLE IF NOT EXISTS {relation} AS\nSELECT q.*, {first_from} AS valid_from, {typed_null} AS valid_to,"
        f" TRUE AS is_current\nFROM (\n{indent(select)}\n) AS q\nWHERE 1 = 0"
    )
    close = (
        f"UPDATE {relation}\nSET valid_to = {valid_from}, is_current = FALSE\nFROM (\n{indent(select)}\n) AS s\n"
        f"WHERE {keys_match(relation, 's', key)} AND {relation}.is_current AND ({changed})"
    )
    cols = ", ".join(columns)
    add = (
        f"INSERT INTO {relation} ({cols}, valid_from, valid_to, is_current)\n"
        f"SELECT {', '.join('s.' + c for c in columns)}, {valid_from}, NULL, TRUE\nFROM (\n{indent(select)}\n) AS s\n"
        f"WHERE NOT EXISTS (\n  SELECT 1 FROM {relation} AS t\n  WHERE {keys_match('t', 's', key)} AND t.is_current\n)"
    )
    count = f"SELECT COUNT(*) FROM {relation} WHERE is_current"
    return Materialization(setup=(create,), write=(close, add), count=count)


# ------------------------------------------------------------------ PII handling applied inside a model

def pii_expression(strategy: str, column: str, dialect: str) -> str | None:
    """SQL replacing a PII column's value, or None when the column is dropped."""
    ref = f"q.{column}"
    if strategy == "hash":
        return {
            "duckdb": f"SHA256(CAST({ref} AS VARCHAR))",
            "postgres": f"ENCODE(SHA256(CONVERT_TO(CAST({ref} AS TEXT), 'UTF8')), 'hex')",
            "snowflake": f"SHA2(CAST({ref} AS VARCHAR), 256)",
            "bigquery": f"TO_HEX(SHA256(CAST({ref} AS STRING)))",
        }[dialect]
    if strategy == "mask":
        return expression(f"left({ref}, 1) || repeat('*', greatest(length({ref}) - 1, 0))", dialect)
    if strategy == "drop":
        return None
    raise ValueError(f"PII strategy {strategy} cannot be applied in warehouse SQL")


def with_pii(select: str, columns: tuple[str, ...], handled: dict[str, str], dialect: str) -> str:
    """Wrap a model query so the PII columns it outputs are hashed / masked / dropped."""
    items = []
    for c in columns:
        if c not in handled:
            items.append(f"q.{c}")
            continue
        expr = pii_expression(handled[c], c, dialect)
        if expr is not None:
            items.append(f"{expr} AS {c}")
    return "SELECT\n" + ",\n".join("  " + i for i in items) + f"\nFROM (\n{indent(select)}\n) AS q"


# ------------------------------------------------------------------ checks (portable SQL, transpiled)

def scoped(relation: str, window_column: str | None, slots: Slots, alias: str | None = None) -> str:
    """The relation, or only the run's partition of it, for a FROM clause."""
    alias = alias or relation
    if not window_column:
        return relation if alias == relation else f"{relation} AS {alias}"
    return (
        f"(SELECT * FROM {relation} WHERE cast({window_column} as timestamp) >= cast('{slots.start}' as timestamp)"
        f" AND cast({window_column} as timestamp) < cast('{slots.end}' as timestamp)) AS {alias}"
    )


def failing_unique(relation: str, columns: tuple[str, ...]) -> str:
    cols = ", ".join(columns)
    not_null = " AND ".join(f"{c} IS NOT NULL" for c in columns)
    return (
        f"SELECT COUNT(*) FROM (SELECT {cols} FROM {relation} WHERE {not_null} GROUP BY {cols}"
        f" HAVING COUNT(*) > 1) AS duplicates"
    )


def failing_not_null(relation: str, column: str) -> str:
    return f"SELECT COUNT(*) FROM {relation} WHERE {column} IS NULL"


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def failing_range(relation: str, column: str, low: float | None, high: float | None) -> str:
    bounds = []
    if low is not None:
        bounds.append(f"{column} < {number(low)}")
    if high is not None:
        bounds.append(f"{column} > {number(high)}")
    return f"SELECT COUNT(*) FROM {relation} WHERE {column} IS NOT NULL AND ({' OR '.join(bounds)})"


def quote_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def failing_accepted(relation: str, column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(quote_string(v) for v in values)
    return f"SELECT COUNT(*) FROM {relation} WHERE {column} IS NOT NULL AND {column} NOT IN ({listed})"


def failing_regex(relation: str, column: str, pattern: str) -> str:
    return f"SELECT COUNT(*) FROM {relation} WHERE {column} IS NOT NULL AND NOT ({column} ~ {quote_string(pattern)})"


def failing_relationship(child: str, column: str, parent: str, parent_column: str) -> str:
    """`child` is a FROM item aliased `child` (see `scoped`)."""
    return (
        f"SELECT COUNT(*) FROM {child} WHERE child.{column} IS NOT NULL AND NOT EXISTS"
        f" (SELECT 1 FROM {parent} AS parent WHERE parent.{parent_column} = child.{column})"
    )


def failing_custom(sql: str) -> str:
    return f"SELECT COUNT(*) FROM ({sql.strip().rstrip(';')}) AS failures"


def latest(relation: str, column: str) -> str:
    return f"SELECT MAX({column}) FROM {relation}"


def row_count(relation: str) -> str:
    return f"SELECT COUNT(*) FROM {relation}"


def daily_volume(relation: str, column: str) -> str:
    """Rows of the last complete day (yesterday, warehouse clock) and the average rows per day of the 7 days before."""
    return (
        f"WITH daily AS (SELECT CAST({column} AS DATE) AS day, COUNT(*) AS n FROM {relation}"
        f" WHERE {column} IS NOT NULL GROUP BY CAST({column} AS DATE)),"
        f" ref AS (SELECT CAST(CURRENT_DATE - INTERVAL '1 day' AS DATE) AS day)"
        f" SELECT COALESCE((SELECT n FROM daily WHERE day = (SELECT day FROM ref)), 0) AS latest,"
        f" (SELECT AVG(n) FROM daily WHERE day < (SELECT day FROM ref)"
        f" AND day >= CAST((SELECT day FROM ref) - INTERVAL '7 day' AS DATE)) AS baseline"
    )


def measures(target: str, target_measure: str, against: str, against_measure: str) -> str:
    return (f"SELECT (SELECT {target_measure} FROM {target}) AS target,"
            f" (SELECT {against_measure} FROM {against}) AS against")
