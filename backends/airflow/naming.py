"""Names the generated DAG shares with its deployment: connection ids, the config Variable, relations, SQL dialect."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot

from streamc.ir import Connection, ConnectionKind, Spec
from streamc.sql_analysis import READ_DIALECT
from streamc.sql_render import DIALECTS, render_sql

# Warehouses the generated SQL (gates, landing, publishing) is written for.
WAREHOUSE_DIALECTS = {
    ConnectionKind.postgres: "postgres",
    ConnectionKind.snowflake: "snowflake",
    ConnectionKind.bigquery: "bigquery",
    ConnectionKind.duckdb: "duckdb",
}

# Jinja for the run's data interval, as naive UTC text every warehouse casts ("2026-01-01 06:00:00").
TS_FORMAT = '"%Y-%m-%d %H:%M:%S"'
INTERVAL_START = "{{ data_interval_start.strftime(" + TS_FORMAT + ") }}"
INTERVAL_END = "{{ data_interval_end.strftime(" + TS_FORMAT + ") }}"

# Where Jinja starts reading: `{{`, `{%`, `{#`; and a `{` at the end of the text or right before a token streamc
# replaces by its own Jinja later, which would start one once joined with it.
_JINJA_START = re.compile(r"\{[{%#]|\{(?=__streamc_|\Z)")


def jinja_text(text: str) -> str:
    """Spec text (or SQL holding it) in a field Airflow renders with Jinja: it renders back exactly as written.

    Each place Jinja would start reading is written as Jinja that outputs those characters (`{{ '{%' }}`), so the
    text's `{{ ... }}`, `{% ... %}` and `{# ... #}` reach the database as data; streamc's own Jinja (Variable
    lookups, interval macros) is added after escaping and stays live.
    """
    return _JINJA_START.sub(lambda m: "{{ '" + m.group(0) + "' }}", text)


@dataclass(frozen=True)
class Names:
    """Everything the DAG names outside itself, derived from the pipeline name only."""

    pipeline: str

    @property
    def variable(self) -> str:
        """The one Airflow Variable (JSON) holding this pipeline's per-environment settings."""
        return f"streamc_{self.pipeline}"

    def config(self, key: str) -> str:
        """Jinja reading one key of the pipeline's Variable at run time."""
        return "{{ var.json." + self.variable + "." + key + " }}"

    def conn_id(self, connection: str) -> str:
        return f"{self.pipeline}_{connection}"

    # relations -------------------------------------------------------------------------------
    # Raw tables live in one schema per source connection and models in the warehouse schema, named as
    # the dbt project names them (`<connection>_raw_schema` <-> env <CONNECTION>_RAW_SCHEMA of its sources,
    # the warehouse schema <-> the dbt target schema): the DAG hands the same values to dbt.
    def raw_schema_key(self, connection: str) -> str:
        return f"{connection}_raw_schema"

    def raw(self, source: str, connection: str) -> str:
        return f"{self.config(self.raw_schema_key(connection))}.{source}"

    def incoming(self, source: str, connection: str) -> str:
        return f"{self.config(self.raw_schema_key(connection))}.{source}__incoming"

    def model(self, warehouse_schema_key: str, node: str) -> str:
        return f"{self.config(warehouse_schema_key)}.{node}"


def env_name(*parts: str) -> str:
    """`shop_db`, `raw_schema` -> `SHOP_DB_RAW_SCHEMA`: the env var the dbt project reads the value from."""
    return "_".join(p.upper().replace("-", "_").replace(".", "_") for p in parts if p)


def warehouse_of(ir: Spec) -> Connection | None:
    """The single warehouse connection batch data lands in (None when there is none or several)."""
    found = [c for c in ir.connections if c.is_warehouse]
    return found[0] if len(found) == 1 else None


class SqlWriter:
    """Writes portable (Postgres-flavoured) SQL in one dialect, with relations and interval times filled in.

    Node names in the SQL become relation text through `relations`; time literals are written as
    `ts(...)` / `date(...)` placeholders and come out as Jinja that Airflow renders per run. Everything else in
    the SQL (the spec's literals and names) is escaped for Jinja first: Airflow renders it back as written.
    `avoid` is spec text the SQL will hold: the time placeholders are chosen not to occur in it.
    """

    def __init__(self, dialect: str, avoid: str = ""):
        self.dialect = dialect
        self._times: list[str] = []
        prefix = "__streamc_"
        while prefix in avoid:
            prefix += "x_"
        self._prefix = prefix
        self._token = re.compile(re.escape(prefix) + r"(?:ts|date)_(\d+)__")

    def ts(self, jinja: str) -> str:
        """A timestamp literal taken from Jinja (e.g. the interval end), as portable SQL."""
        self._times.append(jinja)
        kind = "TIMESTAMPTZ" if self.dialect == "bigquery" else "TIMESTAMP"
        return f"CAST('{self._prefix}ts_{len(self._times) - 1}__' AS {kind})"

    def date(self, jinja: str) -> str:
        self._times.append(jinja)
        return f"CAST('{self._prefix}date_{len(self._times) - 1}__' AS DATE)"

    def render(self, sql: str, relations: dict[str, str]) -> str:
        return self._fill(render_sql(sql, self.dialect, relations.get, pretty=True, escape=jinja_text))

    def statement(self, sql: str) -> str:
        """A statement without node names (DDL, MERGE on already-resolved relation tokens)."""
        out = sqlglot.transpile(sql, read=READ_DIALECT, write=DIALECTS.get(self.dialect, self.dialect),
                                pretty=True)[0]
        return self._fill(jinja_text(out))

    def _fill(self, sql: str) -> str:
        if not self._times:
            return sql
        return self._token.sub(lambda m: self._times[int(m.group(1))], sql)


def column_type_sql(type_sql: str, dialect: str) -> str:
    """A spec column type (`numeric(10,2)`, `string`, ...) in the warehouse's dialect."""
    expr = sqlglot.parse_one(f"CAST(x AS {type_sql})", read=READ_DIALECT)
    return expr.args["to"].sql(dialect=DIALECTS.get(dialect, dialect))
