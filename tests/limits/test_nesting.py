"""Deep nesting ends in a positioned diagnostic or compiles; whatever compiles, every backend builds with room to
spare on Python's stack."""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager

import pytest

from bounded_run import FULL, assert_clean, run_bounded
from compile_outcomes import assert_positioned
from limit_specs import BASE, SQL_NESTING, SQL_PLACES, SYNTAX_NESTING, nested_model, with_model
from streamc.backend_api import Registry, parse_options
from streamc.build import generate
from streamc.compiler import compile_text
from streamc.limits import MAX_CHECK_PAREN_DEPTH, MAX_SQL_DEPTH, MAX_SQL_PARENS

DEEP = 1000


def error_codes(result) -> list[str]:
    return [d.code for d in result.diagnostics if d.severity == "error"]


@pytest.mark.parametrize("place", sorted(SQL_PLACES))
def test_sql_nested_1000_deep_is_a_positioned_error(place):
    result = compile_text(SQL_PLACES[place](DEEP), "deep.stream")  # must not raise (RecursionError was E999)
    assert not result.ok
    assert_positioned(result)
    assert error_codes(result) == ["E152"]


@pytest.mark.parametrize("form", ["plus_chain", "and_chain", "concat_chain"])
def test_chains_of_10000_terms_are_a_positioned_error(form):
    result = compile_text(nested_model(form, 10_000), "chain.stream")
    assert_positioned(result)
    assert error_codes(result) == ["E152"]


@pytest.mark.parametrize("shape", sorted(SYNTAX_NESTING))
def test_spec_syntax_nested_or_repeated_1000_times_compiles_or_is_a_positioned_error(shape):
    result = compile_text(SYNTAX_NESTING[shape](DEEP), "syntax.stream")
    assert_positioned(result)
    assert "E999" not in error_codes(result)


def test_the_grammar_fixes_block_and_check_nesting_at_the_documented_depths():
    ok = SYNTAX_NESTING["check parentheses"](MAX_CHECK_PAREN_DEPTH)  # `check (((a > 0)))`: its own count
    assert compile_text(ok, "check.stream").ok
    too_deep = compile_text(SYNTAX_NESTING["check parentheses"](MAX_CHECK_PAREN_DEPTH + 1), "check.stream")
    assert error_codes(too_deep) == ["E001"]
    assert compile_text(BASE, "blocks.stream").ok  # `source { columns { } }`: MAX_BLOCK_DEPTH
    assert error_codes(compile_text(SYNTAX_NESTING["blocks in a source"](1), "blocks.stream"))[0] == "E001"


def test_deep_sql_through_the_command_line_exits_1_without_a_traceback(tmp_path):
    spec = tmp_path / "deep.stream"
    spec.write_text(nested_model("mixed", DEEP), encoding="utf-8")
    run = run_bounded(tmp_path, "check", str(spec))
    assert_clean(run, 1)
    assert "error[E152]" in run.stderr


# ---------------------------------------------------------------- what compiles also builds


def deepest_accepted(build, upper: int = 400) -> int:
    """The largest n for which build(n) compiles (a binary search: every form is monotonic in n)."""
    lo, hi = 0, upper
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if compile_text(build(mid), "probe.stream").ok:
            lo = mid
        else:
            hi = mid - 1
    return lo


def test_the_sql_limits_let_realistic_nesting_through():
    assert deepest_accepted(lambda n: nested_model("parentheses", n)) == MAX_SQL_PARENS
    assert deepest_accepted(lambda n: nested_model("postfix_casts", n)) == MAX_SQL_PARENS  # printed as CAST(...)
    assert deepest_accepted(lambda n: nested_model("and_chain", n)) >= MAX_SQL_DEPTH - 10
    assert deepest_accepted(lambda n: nested_model("case", n)) >= 10
    assert deepest_accepted(lambda n: nested_model("not", n)) >= 20


def test_the_same_sql_is_accepted_with_other_threads_running():
    """The recursion limit is shared by threads: with others alive the parse counts its frames another way, which
    may differ by one level (C calls on the stack count against the recursion limit, not against the count)."""
    forms = ["case", "not", "mixed", "from_subquery"]
    alone = [deepest_accepted(lambda n, f=f: nested_model(f, n)) for f in forms]
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        together = [deepest_accepted(lambda n, f=f: nested_model(f, n)) for f in forms]
    finally:
        release.set()
        other.join()
    assert all(abs(t - a) <= 1 for t, a in zip(together, alone)), (together, alone)


@contextmanager
def stack_room(frames: int):
    """Only `frames` frames above this point: a backend that recursed more would raise RecursionError here."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


# forms whose cost per level differs most (parser frames, printer frames, printed parentheses); all with FULL
BUILD_FORMS = sorted(SQL_NESTING) if FULL else ["parentheses", "case", "postfix_casts", "not", "unary_minus",
                                                 "from_subquery", "and_chain"]
STACK_ROOM = 600  # frames a backend may use above its caller for the deepest SQL accepted (Python allows 1000)


def test_the_deepest_sql_accepted_builds_in_every_backend_with_stack_to_spare(monkeypatch, tmp_path):
    """One spec holding each form at the deepest nesting the compiler accepts, built to every backend in-process."""
    monkeypatch.setenv("STREAMC_CACHE_DIR", str(tmp_path / "cache"))  # formatting cache: a fresh one, in tmp_path
    text = BASE
    for form in BUILD_FORMS:
        n = deepest_accepted(lambda k: nested_model(form, k))
        assert n >= 1, form
        text = with_model(f"deep_{form}", SQL_NESTING[form](n), text)
        text = text.replace("sink out to wh { models m", f"sink out to wh {{ models m, deep_{form}")
    result = compile_text(text, "deepest.stream")
    assert result.ok, [(d.code, d.message) for d in result.diagnostics if d.severity == "error"]
    registry = Registry()
    emitted: dict[str, dict[str, str]] = {}
    for name in registry.names():
        options = {name: parse_options(registry.get(name), {})}
        with stack_room(STACK_ROOM):
            emitted[name], diags = generate(result.spec, registry, [name], options)
        assert all(d.code == "E120" for d in diags if d.severity == "error"), (name, diags)
    for name in ("dbt", "airflow", "dagster", "quality", "handoffs"):  # backends that parse and print model SQL
        text = "\n".join(emitted[name].values())
        assert all(f"deep_{form}" in text for form in BUILD_FORMS), name
