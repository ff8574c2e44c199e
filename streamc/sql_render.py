"""Renders SQL written in a spec into a target dialect, with node names replaced by the target's references."""

from __future__ import annotations

import functools
from typing import Callable

import sqlglot
from sqlglot import exp

from .sql_analysis import READ_DIALECT

# sqlglot dialect names per warehouse / engine
DIALECTS = {"snowflake": "snowflake", "bigquery": "bigquery", "postgres": "postgres", "duckdb": "duckdb",
            "flink": "flink" if "flink" in sqlglot.dialects.DIALECTS else "hive", "ansi": ""}
CACHE_SIZE = 50_000  # distinct SQL texts / renderings kept per process (strings only), then start over


def render_sql(text: str, dialect: str, table_ref: Callable[[str], str | None], pretty: bool = True,
               escape: Callable[[str], str] | None = None) -> str:
    """Transpile `text` (portable, Postgres-flavoured SQL) to `dialect`.

    `table_ref(name)` returns the replacement text for a table that names a spec node (e.g.
    "{{ ref('stg_orders') }}" or "`catalog`.`db`.`stg_orders`"), or None to leave the table as written.
    Aliases are kept; a table without an alias keeps its node name as alias so qualified columns resolve.
    Each distinct (text, dialect, references) is parsed and generated once per process: several backends
    and their checks render the same model and gate SQL. Only strings are kept, never trees.
    `escape`, when given, is applied to the generated SQL before the references are put in (so it reaches the
    spec's text but not the reference text: e.g. escaping for a template engine whose syntax the references use).
    """
    tables = _TABLES.get(text)
    if tables is None:
        tables = _remember(_TABLES, text, _node_tables(_recent_tree(text)))
    refs = tuple((name, target) for name in tables if (target := table_ref(name)) is not None)
    key = (text, DIALECTS.get(dialect, dialect), refs, pretty, escape)
    out = _RENDERED.get(key)
    if out is None:
        out = _remember(_RENDERED, key, _generate(_recent_tree(text), *key[1:], source=text))
    return out


@functools.lru_cache(maxsize=64)
def _recent_tree(text: str) -> exp.Expression:
    """The parse of a recently rendered text (shared and never mutated: `_generate` transforms a copy); a
    statement is often rendered twice in a row (flat, then laid out), so a few trees are kept, not all."""
    return sqlglot.parse_one(text, read=READ_DIALECT)


_TABLES: dict[str, tuple[str, ...]] = {}
_RENDERED: dict[tuple, str] = {}


def _remember(cache: dict, key, value):
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def _node_tables(tree: exp.Expression) -> tuple[str, ...]:
    """Names of the tables the query reads that are not its own CTEs (the candidates for node references)."""
    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return tuple(sorted({t.name for t in tree.find_all(exp.Table) if t.name and t.name not in cte_names}))


def _generate(tree: exp.Expression, dialect: str, refs: tuple[tuple[str, str], ...], pretty: bool,
              escape: Callable[[str], str] | None, source: str) -> str:
    targets = dict(refs)
    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    replacements: dict[str, str] = {}
    # each reference stands in the generated text as a token the spec's SQL does not contain (a string
    # literal could hold `__streamc_ref_0__`, and would then be replaced by a reference)
    stand_in = "__streamc_ref_"
    while stand_in in source:
        stand_in += "x_"

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name and node.name not in cte_names:
            target = targets.get(node.name)
            if target is None:
                return node
            token = f"{stand_in}{len(replacements)}__"
            replacements[token] = target
            alias = node.alias or node.name
            return exp.Table(this=exp.to_identifier(token), alias=exp.TableAlias(this=exp.to_identifier(alias)))
        return node

    # transform copies the tree: the cached parse stays intact
    out = tree.transform(swap).sql(dialect=dialect, pretty=pretty)
    if escape is not None:
        out = escape(out)
    for token, target in replacements.items():
        out = out.replace(token, target)
    return out


@functools.lru_cache(maxsize=4096)
def render_expression(text: str, dialect: str) -> str:
    """Transpile a scalar SQL expression (a column check, a measure) to `dialect`."""
    return sqlglot.parse_one(text, read=READ_DIALECT).sql(dialect=DIALECTS.get(dialect, dialect))
