"""Large specs finish or fail cleanly: 10 MB padded or full of nodes, over 16 MB, 10,000 nodes, dense tokens."""

from __future__ import annotations

import json

from bounded_run import FULL, assert_clean, full_only, run_bounded
from limit_specs import (MB, compact_nodes, generated, many_checks, many_nodes, padded_with_comments,
                         padded_with_description, wide_select, wide_source, with_model)
from streamc.limits import MAX_NODES, MAX_SPEC_BYTES, MAX_SPEC_TOKENS, MAX_SQL_TOKENS


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def diagnostics(run) -> list[dict]:
    return json.loads(run.stdout)["diagnostics"]


def errors(run) -> list[tuple[str, int, int]]:
    return [(d["code"], d["line"], d["column"]) for d in diagnostics(run) if d["severity"] == "error"]


# ---------------------------------------------------------------- 10 MB and over the size limit


def test_a_valid_spec_padded_by_10_mb_of_comments_checks(tmp_path):
    spec = write(tmp_path, "commented.stream", padded_with_comments(10 * MB))
    assert spec.stat().st_size >= 10 * MB
    assert_clean(run_bounded(tmp_path, "check", str(spec)), 0)


def test_a_valid_spec_with_a_10_mb_description_checks(tmp_path):
    spec = write(tmp_path, "described.stream", padded_with_description(10 * MB))
    assert spec.stat().st_size >= 10 * MB
    assert_clean(run_bounded(tmp_path, "check", str(spec)), 0)


def test_10_mb_of_nodes_stops_at_the_token_or_node_limit_with_a_position(tmp_path):
    spec = write(tmp_path, "nodes.stream", many_nodes(10 * MB))
    run = run_bounded(tmp_path, "check", "--format", "json", str(spec))
    assert_clean(run, 1)
    [(code, line, column)] = errors(run)
    assert code in ("E151", "E153")
    lines = spec.read_text(encoding="utf-8").split("\n")
    assert 1 < line < len(lines) and column >= 1  # where the limit ran out, long before the end


def test_a_spec_over_the_size_limit_is_refused_and_nothing_is_written(tmp_path):
    spec = write(tmp_path, "huge.stream", padded_with_comments(MAX_SPEC_BYTES + MB))
    out = tmp_path / "out"
    run = run_bounded(tmp_path, "build", "--format", "json", str(spec), "-o", str(out))
    assert_clean(run, 1)
    assert errors(run) == [("E150", 1, 1)]
    assert "16 MB" in diagnostics(run)[0]["message"]
    assert not out.exists()


def test_an_import_over_the_size_limit_is_refused_where_it_is_imported(tmp_path):
    write(tmp_path, "big.stream", padded_with_comments(MAX_SPEC_BYTES // 2 + MB))
    write(tmp_path, "also_big.stream", padded_with_comments(MAX_SPEC_BYTES // 2 + MB))
    root = write(tmp_path, "root.stream", 'import "big.stream"\nimport "also_big.stream"\n')
    run = run_bounded(tmp_path, "check", "--format", "json", str(root))
    assert_clean(run, 1)
    assert errors(run) == [("E150", 2, 8)]  # each file fits alone; together they do not


# ---------------------------------------------------------------- nodes


def test_a_generated_spec_of_many_nodes_checks(tmp_path):
    nodes = 10_000 if FULL else 2_000  # 10,000 takes ~20-30 s: STREAMC_LIMITS_FULL=1
    spec = write(tmp_path, f"bench_{nodes}.stream", generated(nodes))
    assert_clean(run_bounded(tmp_path, "check", str(spec)), 0)


def test_one_node_over_the_limit_is_an_error_at_that_node(tmp_path):
    text = compact_nodes(MAX_NODES)  # and the 4 nodes of BASE
    spec = write(tmp_path, "compact.stream", text)
    run = run_bounded(tmp_path, "check", "--format", "json", str(spec))
    assert_clean(run, 1)
    declarations = [i + 1 for i, ln in enumerate(text.split("\n"))
                    if ln.split(" ", 1)[0] in ("source", "model", "metric", "sink", "expect")]
    assert errors(run) == [("E151", declarations[MAX_NODES], 1)]  # the first one over the limit


def test_dense_spec_syntax_stops_at_the_token_limit(tmp_path):
    checks = MAX_SPEC_TOKENS // 2  # `not_null a` and `range a 0 .. N`: two to five tokens each
    spec = write(tmp_path, "checks.stream", many_checks(checks))
    run = run_bounded(tmp_path, "check", "--format", "json", str(spec))
    assert_clean(run, 1)
    [(code, line, column)] = errors(run)
    assert code == "E153" and "250,000 tokens" in diagnostics(run)[0]["message"]


# ---------------------------------------------------------------- wide and long parts of one spec


def test_a_source_of_10000_columns_checks(tmp_path):
    assert_clean(run_bounded(tmp_path, "check", str(write(tmp_path, "wide.stream", wide_source(10_000)))), 0)


def test_10000_expectations_check(tmp_path):
    assert_clean(run_bounded(tmp_path, "check", str(write(tmp_path, "checks.stream", many_checks(10_000)))), 0)


def test_a_1_mb_sql_body_over_the_sql_token_limit_is_an_error_at_that_sql(tmp_path):
    text = with_model("wide", wide_select(82_000))  # 1 MB, 328,000 SQL tokens
    assert len(text) > MB
    spec = write(tmp_path, "wide_sql.stream", text)
    run = run_bounded(tmp_path, "check", "--format", "json", str(spec))
    assert_clean(run, 1)
    sql_line = text.split("\n").index('  sql """') + 1
    assert errors(run) == [("E153", sql_line, 10)]
    assert f"{MAX_SQL_TOKENS:,} tokens" in diagnostics(run)[0]["message"]


def test_a_1_mb_sql_body_of_long_literals_checks(tmp_path):
    literals = ", ".join(f"'{'v' * 1000}{i}'" for i in range(1100))  # 1 MB in 2,200 tokens
    text = with_model("literals", f"select a as x from s where a::text in ({literals})")
    spec = write(tmp_path, "literal_sql.stream", text)
    assert spec.stat().st_size > MB
    assert_clean(run_bounded(tmp_path, "check", str(spec)), 0)


@full_only
def test_the_largest_sql_body_within_the_token_limit_checks(tmp_path):
    spec = write(tmp_path, "widest_sql.stream", with_model("wide", wide_select(MAX_SQL_TOKENS // 4 - 2_000)))
    assert_clean(run_bounded(tmp_path, "check", str(spec)), 0)


@full_only
def test_both_token_budgets_spent_on_their_most_expensive_forms_stay_under_the_memory_bound(tmp_path):
    """The worst case the limits allow: spec tokens on columns (the IR's largest per token), SQL tokens on one
    wide select (lineage per output column)."""
    text = wide_source(MAX_SPEC_TOKENS // 4 - 1_000).replace("sink out to wh { models m }",
                                                              "sink out to wh { models m, wide_sql }")
    spec = write(tmp_path, "worst.stream", with_model("wide_sql", wide_select(MAX_SQL_TOKENS // 4 - 2_000), text))
    assert_clean(run_bounded(tmp_path, "check", str(spec)), 0)
