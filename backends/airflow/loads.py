"""SQL that lands raw source rows in the warehouse idempotently: typed raw tables, upsert by key, full replace."""

from __future__ import annotations

from dataclasses import dataclass



@dataclass(frozen=True)
class TypedColumn:
    name: str
    type_sql: str  # already in the warehouse dialect


def create_table(relation: str, columns: tuple[TypedColumn, ...]) -> str:
    body = ",\n".join(f"  {c.name} {c.type_sql}" for c in columns)
    return f"CREATE TABLE IF NOT EXISTS {relation} (\n{body}\n)"


def truncate(relation: str) -> str:
    return f"TRUNCATE TABLE {relation}"


def merge(target: str, source: str, key: tuple[str, ...], columns: tuple[str, ...], *,
          latest_by: str | None = None, insert_only: bool = False) -> str:
    """MERGE on `key` (upsert). With `latest_by`, the source keeps one row per key: the latest by that column.

    ANSI MERGE, as accepted by Snowflake, BigQuery, PostgreSQL >= 15 and DuckDB >= 1.4.
    """
    using = source
    if latest_by:
        keys = ", ".join(key)
        using = (f"(\n  SELECT * FROM (\n    SELECT *, ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {latest_by} DESC)"
                 f" AS streamc_row\n    FROM {source}\n  ) AS ranked\n  WHERE streamc_row = 1\n)")
    on = " AND ".join(f"t.{k} = s.{k}" for k in key)
    lines = [f"MERGE INTO {target} AS t", f"USING {using} AS s", f"ON {on}"]
    updates = [c for c in columns if c not in key]
    if updates and not insert_only:
        lines.append("WHEN MATCHED THEN UPDATE SET\n  " + ",\n  ".join(f"{c} = s.{c}" for c in updates))
    lines.append(f"WHEN NOT MATCHED THEN INSERT ({', '.join(columns)})")
    lines.append(f"VALUES ({', '.join('s.' + c for c in columns)})")
    return "\n".join(lines)


def replace_all(target: str, source: str, columns: tuple[str, ...], dialect: str) -> list[str]:
    """Full capture: the target becomes exactly the source, in one transaction."""
    cols = ", ".join(columns)
    return transaction([f"DELETE FROM {target} WHERE TRUE",
                        f"INSERT INTO {target} ({cols})\nSELECT {cols} FROM {source}"], dialect)


def transaction(statements: list[str], dialect: str) -> list[str]:
    begin, commit = ("BEGIN TRANSACTION", "COMMIT TRANSACTION") if dialect == "bigquery" else ("BEGIN", "COMMIT")
    return [begin, *statements, commit]


def script(statements: list[str], dialect: str) -> str | list[str]:
    """BigQuery runs a multi-statement transaction as one script (one job); other warehouses take the list."""
    if dialect == "bigquery":
        return "\n" + ";\n".join(statements) + ";\n"
    return statements
