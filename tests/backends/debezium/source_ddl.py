"""PostgreSQL DDL and sample rows for a spec's source tables, built from their column contracts (test stand-in
for the user's application database)."""

from __future__ import annotations

from dataclasses import dataclass

from streamc.ir import Column, Source

PG_TYPES = {"double": "double precision", "bytes": "bytea", "enum": "text", "json": "jsonb"}
UNCAPTURED = "streamc_not_captured"  # a table next to the captured ones that no publication includes


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_name(source: Source) -> tuple[str, str]:
    text = source.location.value if source.location is not None else source.name
    schema, _, table = text.rpartition(".")
    return schema or "public", table


def column_sql(c: Column) -> str:
    t = c.type
    base = PG_TYPES.get(t.name) or (f"{t.name}({', '.join(map(str, t.params))})" if t.params else t.name)
    null = " NOT NULL" if (c.not_null or c.primary_key) else ""
    return f"{quote(c.name)} {base}{null}"


def create_tables(sources: list[Source]) -> str:
    """CREATE SCHEMA / CREATE TABLE for the sources (no foreign keys: rows are inserted in any order), plus one
    table per schema that is not captured."""
    out = []
    schemas = sorted({table_name(s)[0] for s in sources})
    for schema in schemas:
        out.append(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)};")
    for s in sources:
        schema, table = table_name(s)
        cols = [column_sql(c) for c in s.columns]
        if s.primary_key:
            cols.append(f"PRIMARY KEY ({', '.join(quote(k) for k in s.primary_key)})")
        out.append(f"CREATE TABLE {quote(schema)}.{quote(table)} (\n    " + ",\n    ".join(cols) + "\n);")
    for schema in schemas:
        out.append(f"CREATE TABLE {quote(schema)}.{UNCAPTURED} (id bigint PRIMARY KEY, note text NOT NULL);")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Row:
    values: dict[str, str | None]  # column -> SQL literal text (None = NULL)


def value(c: Column, i: int) -> str | None:
    """A valid value of the column for row i (accepted values and enums respected)."""
    t = c.type.name
    choices = c.accepted_values or c.type.values
    if choices:
        return choices[i % len(choices)]
    if t in ("bigint", "integer", "smallint"):
        return str(i if (c.primary_key or c.unique) else 10 + i)
    if t == "numeric":
        return f"{i}.25"
    if t in ("double", "real"):
        return f"{i}.5"
    if t == "boolean":
        return "true" if i % 2 else "false"
    if t == "date":
        return f"2024-01-{i:02d}"
    if t in ("timestamp", "timestamptz"):
        return f"2024-01-02 10:{i:02d}:05"
    if t == "time":
        return f"10:{i:02d}:05"
    if t == "json":
        return '{"n": %d}' % i
    return f"{c.name}-{i}"


def insert(source: Source, i: int) -> str:
    schema, table = table_name(source)
    cols = ", ".join(quote(c.name) for c in source.columns)
    vals = ", ".join("NULL" if (v := value(c, i)) is None else "'" + v.replace("'", "''") + "'"
                     for c in source.columns)
    return f"INSERT INTO {quote(schema)}.{quote(table)} ({cols}) VALUES ({vals});"


def update(source: Source, i: int, column: Column, new: str) -> str:
    schema, table = table_name(source)
    where = " AND ".join(f"{quote(k)} = '{value(source.column(k), i)}'" for k in source.primary_key)
    return f"UPDATE {quote(schema)}.{quote(table)} SET {quote(column.name)} = '{new}' WHERE {where};"


def delete(source: Source, i: int) -> str:
    schema, table = table_name(source)
    where = " AND ".join(f"{quote(k)} = '{value(source.column(k), i)}'" for k in source.primary_key)
    return f"DELETE FROM {quote(schema)}.{quote(table)} WHERE {where};"


def updatable_column(source: Source) -> Column:
    """A non-key numeric or text column without accepted values, to update."""
    for c in source.columns:
        if not c.primary_key and not c.accepted_values and c.type.name in ("numeric", "text", "integer", "bigint") \
                and not (c.pii and c.pii.strategy.value == "drop") and not c.references:
            return c
    raise AssertionError(f"{source.name}: no column to update")


def new_value(c: Column) -> str:
    return {"numeric": "99.75", "integer": "99", "bigint": "99"}.get(c.type.name, "updated")
