"""Renders SQL written in a spec into a target dialect, with node names replaced by the target's references."""

from __future__ import annotations

from typing import Callable

import sqlglot
from sqlglot import exp

from .sql_analysis import READ_DIALECT

# sqlglot dialect names per warehouse / engine
DIALECTS = {"snowflake": "snowflake", "bigquery": "bigquery", "postgres": "postgres", "duckdb": "duckdb",
            "flink": "flink" if "flink" in sqlglot.dialects.DIALECTS else "hive", "ansi": ""}


def render_sql(text: str, dialect: str, table_ref: Callable[[str], str | None], pretty: bool = True) -> str:
    """Transpile `text` (portable, Postgres-flavoured SQL) to `dialect`.

    `table_ref(name)` returns the replacement text for a table that names a spec node (e.g.
    "{{ ref('stg_orders') }}" or "`catalog`.`db`.`stg_orders`"), or None to leave the table as written.
    Aliases are kept; a table without an alias keeps its node name as alias so qualified columns resolve.
    """
    tree = sqlglot.parse_one(text, read=READ_DIALECT)
    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    replacements: dict[str, str] = {}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name and node.name not in cte_names:
            target = table_ref(node.name)
            if target is None:
                return node
            token = f"__streamc_ref_{len(replacements)}__"
            replacements[token] = target
            alias = node.alias or node.name
            return exp.Table(this=exp.to_identifier(token), alias=exp.TableAlias(this=exp.to_identifier(alias)))
        return node

    tree = tree.transform(swap)
    out = tree.sql(dialect=DIALECTS.get(dialect, dialect), pretty=pretty)
    for token, target in replacements.items():
        out = out.replace(token, target)
    return out


def render_expression(text: str, dialect: str) -> str:
    """Transpile a scalar SQL expression (a column check, a measure) to `dialect`."""
    return sqlglot.parse_one(text, read=READ_DIALECT).sql(dialect=DIALECTS.get(dialect, dialect))
