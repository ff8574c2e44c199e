"""SQL inside specs, parsed with sqlglot: syntax errors at .stream positions, dependencies, column lineage."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from .diagnostics import Diagnostic, make
from .ir import Span, SqlText
from .limits import (MAX_SQL_DEPTH, MAX_SQL_PARENS, MAX_SQL_PARSE_FRAMES, MAX_SQL_TOKENS, current_budget,
                     recursion_budget)

READ_DIALECT = "postgres"  # specs are written in portable, Postgres-flavoured SQL; backends transpile


def sql_span(sql: SqlText, line: int, col: int, length: int = 1) -> Span:
    """Map a 1-based (line, col) inside `sql.text` to the .stream file."""
    base = sql.span
    if line <= 1:
        column = base.column + max(col - 1 - sql.prefix, 0)
        return Span(file=base.file, line=base.line, column=column, end_line=base.line, end_column=column + length)
    return Span(file=base.file, line=base.line + line - 1, column=max(col, 1), end_line=base.line + line - 1,
                end_column=max(col, 1) + length)


def sql_error_diagnostic(e: sqlglot.errors.ParseError, sql: SqlText) -> Diagnostic:
    info = e.errors[0] if e.errors else {}
    line, col = info.get("line") or 1, info.get("col") or 1
    highlight = info.get("highlight") or ""
    desc = (info.get("description") or str(e)).split("\n")[0]
    # sqlglot reports the column at the end of the offending token
    start = max(col - len(highlight) + 1, 1) if highlight else col
    return make("E105", sql_span(sql, line, start, max(len(highlight), 1)), message=desc)


def paren_depth(text: str) -> int:
    """Deepest parenthesis nesting outside quoted strings."""
    depth = deepest = 0
    quote = None
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
    return deepest


def tree_depth(tree: exp.Expression) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_SQL_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    return deepest


def parse_statements(sql: SqlText) -> tuple[list[exp.Expression], Diagnostic | None]:
    """The one place spec SQL is parsed: syntax errors, pathological nesting and SQL beyond the compile's token
    budget (streamc/limits.py) become diagnostics."""
    too_deep = make("E152", sql.span, reason=f"its expression tree is more than {MAX_SQL_DEPTH} levels deep "
                    "(each parenthesis, function call, CASE, subquery and chained operator adds levels)")
    too_many_parens = make("E152", sql.span, reason=f"more than {MAX_SQL_PARENS} parentheses, function calls or "
                           "casts inside each other")
    if paren_depth(sql.text) > MAX_SQL_PARENS:
        return [], too_many_parens
    budget = current_budget()
    if budget.sql_exhausted is not None:  # reported once, where the budget ran out; the SQL after it is not read
        return [], budget.sql_exhausted
    dialect = Dialect.get_or_raise(READ_DIALECT)
    try:
        tokens = dialect.tokenize(sql.text)
        budget.sql_tokens -= len(tokens)
        if budget.sql_tokens < 0:
            budget.sql_exhausted = make("E153", sql.span, what="the SQL of the spec (with its imports)",
                                        limit=f"{MAX_SQL_TOKENS:,}",
                                        hint="move large queries into a spec of their own, or split the pipeline")
            return [], budget.sql_exhausted
        with recursion_budget(MAX_SQL_PARSE_FRAMES):
            statements = dialect.parser().parse(tokens, sql.text)
    except sqlglot.errors.ParseError as e:
        return [], sql_error_diagnostic(e, sql)
    except sqlglot.errors.TokenError as e:
        return [], make("E105", sql.span, message=str(e).split("\n")[0])
    except RecursionError:  # beyond MAX_SQL_PARSE_FRAMES: about 18 parentheses or 40 NOTs inside each other
        return [], make("E152", sql.span, reason="it is too deep to parse (parentheses, function calls, CASE, "
                        "NOT or subqueries inside each other)")
    statements = [s for s in statements if s is not None]
    depths = [tree_depth(s) for s in statements]
    if any(d > MAX_SQL_DEPTH for d in depths):
        return [], too_deep
    # backends print the SQL and parse it again: `a::int::int...` parses flat but prints as nested CAST(...) calls.
    # A printed parenthesis needs a tree level or two, so only deeper trees are printed to be measured.
    deep = [s for s, d in zip(statements, depths) if d > MAX_SQL_PARENS // 2]
    try:
        with recursion_budget(MAX_SQL_PARSE_FRAMES):
            printed = [dialect.generate(s) for s in deep]
    except RecursionError:
        return [], too_deep
    if any(paren_depth(text) > MAX_SQL_PARENS for text in printed):
        return [], too_many_parens
    return statements, None


def parse_sql(sql: SqlText) -> tuple[exp.Expression | None, Diagnostic | None]:
    statements, err = parse_statements(sql)
    if err is not None:
        return None, err
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        return None, make("E105", sql.span, message="a model's SQL must be exactly one SELECT query")
    return statements[0], None


@dataclass
class QueryShape:
    """What a model's query reads and produces."""

    tables: list[str] = field(default_factory=list)  # referenced node names, in order of first use
    alias_to_table: dict[str, str] = field(default_factory=dict)
    outputs: list[tuple[str, exp.Expression]] = field(default_factory=list)  # (column name, expression)
    star_tables: list[str | None] = field(default_factory=list)  # `*` / `t.*` projections
    # (qualifier, name, node, inside the select list): names in the select list cannot refer to its aliases
    column_refs: list[tuple[str | None, str, exp.Column, bool]] = field(default_factory=list)


def query_shape(tree: exp.Expression) -> QueryShape:
    shape = QueryShape()
    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        name = table.name
        if name in cte_names or not name:
            continue
        if name not in shape.tables:
            shape.tables.append(name)
        shape.alias_to_table[table.alias_or_name] = name
        shape.alias_to_table[name] = name
    outer = tree
    if isinstance(outer, exp.SetOperation):
        outer = outer.left
        while isinstance(outer, exp.SetOperation):
            outer = outer.left
    if isinstance(outer, exp.Select):
        for proj in outer.expressions:
            if isinstance(proj, exp.Star):
                shape.star_tables.append(None)
            elif isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star):
                shape.star_tables.append(proj.table or None)
            else:
                shape.outputs.append((proj.alias_or_name, proj))
    # column references whose qualifier names a real table (not a CTE / subquery) can be checked
    subquery_aliases = {s.alias_or_name for s in tree.find_all(exp.Subquery) if s.alias_or_name}
    in_projection = {id(c) for p in (outer.expressions if isinstance(outer, exp.Select) else [])
                     for c in p.find_all(exp.Column)}
    for col in tree.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            continue
        qualifier = col.table or None
        if qualifier and (qualifier in cte_names or qualifier in subquery_aliases):
            continue
        shape.column_refs.append((qualifier, col.name, col, id(col) in in_projection))
    return shape


def uses_ctes_or_subqueries(tree: exp.Expression) -> bool:
    return tree.find(exp.CTE) is not None or tree.find(exp.Subquery) is not None


def expression_columns(e: exp.Expression) -> list[tuple[str | None, str]]:
    return [(c.table or None, c.name) for c in e.find_all(exp.Column) if not isinstance(c.this, exp.Star)]


def is_aggregate_query(tree: exp.Expression) -> bool:
    return tree.find(exp.AggFunc) is not None or tree.find(exp.Group) is not None


def join_count(tree: exp.Expression) -> int:
    return len(list(tree.find_all(exp.Join)))


def identifier_span(sql: SqlText, node: exp.Expression, length: int) -> Span | None:
    """Position of a column or table reference, from sqlglot's token metadata (None when it has none)."""
    meta = node.this.meta if isinstance(node.this, exp.Expression) else {}
    line, start = meta.get("line"), meta.get("start")
    if not line or start is None:
        return None
    offset = sum(len(t) + 1 for t in sql.text.split("\n")[: line - 1])
    return sql_span(sql, line, start - offset + 1, length)


def column_position(sql: SqlText, col: exp.Column) -> Span:
    """Best-effort position of a column reference."""
    return identifier_span(sql, col, len(col.name)) or sql.span
