"""Inputs at and beyond the resource limits: padded specs, many nodes, wide sources, deep SQL, import trees."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Callable

from conftest import ROOT

MB = 1024 * 1024

# A small valid spec every builder extends: one source, one model, a sink and a gate.
BASE = """pipeline limits {
  owner    "data-team"
  latency  < 1h
  schedule daily at 06:00 UTC
}

connection db postgres
connection wh snowflake

source s from db {
  table public.s
  columns {
    id         bigint    primary key
    a          bigint    not null
    created_at timestamp not null event_time lateness 1m
  }
}

model m from s { select id, a, created_at }

sink out to wh { models m }

expect m { unique id }
"""


@lru_cache(maxsize=1)
def _bench_generator():
    """scripts/bench/generate_spec.py, imported from its file (scripts/ is not a package)."""
    path = ROOT / "scripts" / "bench" / "generate_spec.py"
    spec = importlib.util.spec_from_file_location("streamc_bench_generate_spec", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated(nodes: int) -> str:
    """The benchmark's synthetic spec of `nodes` nodes (sources, models, metrics, sinks, expects)."""
    return _bench_generator().generate(nodes)


def padded_with_comments(size: int) -> str:
    """BASE followed by comment lines up to `size` bytes."""
    line = "# " + "padding " * 12 + "\n"
    return BASE + line * ((size - len(BASE)) // len(line) + 1)


def padded_with_description(size: int) -> str:
    """BASE whose pipeline has a description of about `size` bytes (one string token on one line)."""
    return BASE.replace('owner    "data-team"', 'owner    "data-team"\n  description "' + "d" * size + '"')


def many_nodes(size: int) -> str:
    """A generated spec grown past `size` bytes: the benchmark's node shapes repeated under new names."""
    head, _, body = generated(1000).partition("\nsource ")
    body = "\nsource " + body
    chunks, total, i = [head], len(head), 0
    while total < size:
        chunk = body.replace("src_", f"r{i}_src_").replace("stg_", f"r{i}_stg_").replace("int_m_", f"r{i}_int_m_") \
            .replace("fct_m_", f"r{i}_fct_m_").replace("metric_", f"r{i}_metric_").replace("live_", f"r{i}_live_") \
            .replace("marts_", f"r{i}_marts_")
        chunks.append(chunk)
        total += len(chunk)
        i += 1
    return "".join(chunks)


def compact_nodes(count: int) -> str:
    """BASE and `count` one-line expect blocks: nodes at about 25 bytes each."""
    return BASE + "".join("expect m { unique id }\n" for _ in range(count))


def wide_source(columns: int) -> str:
    """BASE plus a source with `columns` columns."""
    cols = "".join(f"    c{i} bigint not null\n" for i in range(columns))
    return BASE + ("\nsource wide from db {\n  table public.wide\n  columns {\n    id bigint primary key\n"
                   f"{cols}  }}\n}}\n")


def many_checks(count: int) -> str:
    """BASE with one expect block of `count` checks."""
    checks = "".join("  not_null a\n" if i % 2 else f"  range a 0 .. {i}\n" for i in range(count))
    return BASE + f"\nexpect m {{\n{checks}}}\n"


def long_name(length: int) -> str:
    return BASE.replace("model m from s", f"model {'m' * length} from s")


def with_model(name: str, sql: str, spec: str = BASE) -> str:
    return spec + f'\nmodel {name} {{\n  sql """\n{sql}\n  """\n}}\n'


def wide_select(columns: int) -> str:
    """A SQL body of `columns` output columns: about 14 bytes and 4 SQL tokens each."""
    return "select " + ",\n".join(f"a as c{i}" for i in range(columns)) + "\nfrom s"


# ---------------------------------------------------------------- nesting: SQL written n levels deep, each form
# reads `s` and outputs `x`
SQL_NESTING: dict[str, Callable[[int], str]] = {
    "parentheses": lambda n: "select " + "(" * n + "a" + ")" * n + " as x from s",
    "case": lambda n: "select " + "case when a > 0 then " * n + "a" + " end" * n + " as x from s",
    "from_subquery": lambda n: "select x from " + "(select a as x from " * n + "s" + ") t" * n,
    "in_subquery": lambda n: "select a as x from s where a in " + "(select a from s where a in " * n + "(1)"
                             + ")" * n,
    "exists": lambda n: "select a as x from s where " + "exists (select 1 from s where " * n + "a > 0" + ")" * n,
    "function_calls": lambda n: "select " + "abs(" * n + "a" + ")" * n + " as x from s",
    "casts": lambda n: "select " + "cast(" * n + "a" + " as bigint)" * n + " as x from s",
    "postfix_casts": lambda n: "select a" + "::bigint" * n + " as x from s",
    "brackets": lambda n: "select a" + "[1]" * n + " as x from s",
    "not": lambda n: "select a as x from s where " + "not " * n + "a > 0",
    "unary_minus": lambda n: "select " + "- " * n + "a as x from s",
    "plus_chain": lambda n: "select " + " + ".join(["a"] * (n + 1)) + " as x from s",
    "and_chain": lambda n: "select a as x from s where " + " and ".join(["a > 0"] * (n + 1)),
    "or_chain": lambda n: "select a as x from s where " + " or ".join(["a > 0"] * (n + 1)),
    "concat_chain": lambda n: "select " + " || ".join(["'a'"] * (n + 1)) + " as x from s",
    "union_chain": lambda n: " union all ".join(["select a as x from s"] * (n + 1)),
    "mixed": lambda n: "select " + "not (- abs(case when " * n + "a > 0" + " then 1 end)) > 0" * n + " as x from s",
}


def nested_model(form: str, n: int) -> str:
    return with_model("nested", SQL_NESTING[form](n))


def nested_check(n: int) -> str:
    """A column `check (...)` whose expression chains n ANDs (its parentheses are bounded by the grammar)."""
    return BASE.replace("a          bigint    not null",
                        "a          bigint    not null check (" + " and ".join(["a > 0"] * (n + 1)) + ")")


def nested_where_line(n: int) -> str:
    """The select shorthand's `where` line with n parentheses."""
    return BASE.replace("model m from s { select id, a, created_at }",
                        "model m from s { select id, a, created_at\n  where " + "(" * n + "a > 0" + ")" * n + " }")


def nested_measure(n: int) -> str:
    return BASE + ("\nmetric per_minute from m {\n  measure sum(" + "(" * n + "a" + ")" * n + ") as total\n"
                   "  window tumbling 1m\n}\n")


def nested_custom_check(n: int) -> str:
    return BASE.replace("expect m { unique id }", 'expect m {\n  unique id\n  sql deep """select * from m where '
                        + " and ".join(["a > 0"] * (n + 1)) + '"""\n}')


# every place spec SQL is written, as (name, builder of the spec nested n deep)
SQL_PLACES: dict[str, Callable[[int], str]] = {
    **{f"model sql: {form}": (lambda n, form=form: nested_model(form, n)) for form in SQL_NESTING},
    "column check": nested_check,
    "select shorthand where": nested_where_line,
    "metric measure": nested_measure,
    "custom sql check": nested_custom_check,
}

# ---------------------------------------------------------------- nesting in the spec syntax itself
SYNTAX_NESTING: dict[str, Callable[[int], str]] = {
    "braces": lambda n: "{" * n + "}" * n,
    "open blocks": lambda n: "pipeline p {" * n,
    "blocks in a source": lambda n: BASE.replace("  columns {", "  columns {" + " columns {" * n, 1),
    "check parentheses": lambda n: BASE.replace("a          bigint    not null",
                                                "a          bigint    not null check " + "(" * n + "a > 0" + ")" * n),
    "type parentheses": lambda n: BASE.replace("a          bigint", "a          numeric" + "(" * n + "1" + ")" * n),
    "array types": lambda n: BASE.replace("a          bigint", "a          " + "array<" * n + "int" + ">" * n),
    "escaped quotes": lambda n: BASE.replace('owner    "data-team"', 'owner    "' + '\\"' * n + '"'),
    "long number": lambda n: BASE.replace("latency  < 1h", "latency  < " + "9" * n + "d"),
    "long decimal": lambda n: BASE.replace("latency  < 1h", "latency  < 0." + "0" * n + "1d"),
    "dotted table name": lambda n: BASE.replace("table public.s", "table " + ".".join(["x"] * n)),
    "long name list": lambda n: BASE.replace("expect m { unique id }", "expect m { not_null " + ", ".join(["a"] * n)
                                             + " }"),
}


# ---------------------------------------------------------------- imports
def import_chain(folder: Path, depth: int) -> Path:
    """root.stream imports link1, which imports link2, ... down to link<depth>; returns the root."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "root.stream").write_text('import "link1.stream"\n' + BASE, encoding="utf-8")
    for i in range(1, depth + 1):
        nxt = f'import "link{i + 1}.stream"\n' if i < depth else ""
        (folder / f"link{i}.stream").write_text(f"{nxt}connection c{i} postgres\n", encoding="utf-8")
    return folder / "root.stream"


def import_fan(folder: Path, files: int) -> Path:
    """root.stream imports `files` files side by side; returns the root."""
    folder.mkdir(parents=True, exist_ok=True)
    imports = "".join(f'import "part{i}.stream"\n' for i in range(files))
    (folder / "root.stream").write_text(imports + BASE, encoding="utf-8")
    for i in range(files):
        (folder / f"part{i}.stream").write_text(f"connection c{i} postgres\n", encoding="utf-8")
    return folder / "root.stream"
