"""Minimized inputs from fuzzing: each once crashed, hung, mispositioned a diagnostic or wrote nothing with exit 2."""

from __future__ import annotations

import os

import pytest

from compile_outcomes import assert_clean_outcome, assert_positioned
from conftest import SPECS
from fuzz_budget import hang_guard
from streamc.backend_api import Registry
from streamc.build import backend_options, generate
from streamc.compiler import compile_files, compile_text
from streamc.config import Config

MINIMAL = ('pipeline p {{ owner "x" {pipeline} }}\n'
           'connection db postgres\n'
           'source s from db {{\n'
           '  table public.s\n'
           '  {source}\n'
           '  columns {{\n'
           '    id bigint primary key\n'
           '    {column}\n'
           '  }}\n'
           '}}\n'
           '{rest}\n'
           'expect s {{ unique id }}\n')


def minimal(pipeline: str = "", source: str = "", column: str = "", rest: str = "") -> str:
    return MINIMAL.format(pipeline=pipeline, source=source, column=column, rest=rest)


def errors(result) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in result.diagnostics if d.severity == "error"]


def build_all(result) -> dict[str, list[str]]:
    """Every backend on its own (in process, nothing written); returns backend -> error codes it reported."""
    registry = Registry()
    targets = registry.names()
    options = backend_options(registry, targets, {}, Config())
    reported = {}
    for name in targets:
        files, diags = generate(result.spec, registry, [name], options)  # must not raise
        reported[name] = [d.code for d in diags if d.severity == "error"]
    return reported


# ---------------------------------------------------------------- line breaks


@pytest.mark.parametrize("text", [
    "pipeline p\r\r\r",  # lone CR: str.splitlines() saw 4 lines, the lexer 1
    "pipeline p\x0c\x0c\x0c",  # form feeds are line breaks to str.splitlines() only
    "pipeline p\x0c\r\n\x0c\r",
    "pipeline p\n\n\n   \n",
])
def test_end_of_file_error_points_at_the_last_line(text):
    result = assert_clean_outcome(text)
    assert errors(result) == [("E001", 1, len("pipeline p") + 1)]


def test_lone_cr_line_endings_compile_like_lf():
    # with lone CR line breaks a comment (and a select line) used to run to the end of the file
    for spec in SPECS:
        text = spec.read_text(encoding="utf-8")
        lf = compile_text(text, "spec.stream")
        for ending in ("\r", "\r\n"):
            other = compile_text(text.replace("\n", ending), "spec.stream")
            assert other.ok, (spec.name, ending, errors(other))
            assert other.spec.model_dump() == lf.spec.model_dump(), (spec.name, repr(ending))


def test_lone_cr_positions_count_lines_like_an_editor():
    result = assert_clean_outcome("# a comment\rpipeline p {\r  tier crtical\r}\r")
    assert ("E112", 3, 8) in errors(result)


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize("where, text, expected", [
    ("volume", minimal(source="volume 1" + "0" * 400 + "/day"), ("E160", 5, 10)),
    ("avg_size", minimal(source="avg_size 99999999999999999999999999999999999999999TB"), ("E160", 5, 12)),
    ("retention", minimal(source="retention " + "9" * 5000 + "d"), ("E160", 5, 13)),
    ("latency", minimal(pipeline="latency < 1" + "0" * 400 + "d"), ("E160", 1, 34)),
    ("range", minimal(rest="expect s { range id 0 .. 1" + "0" * 400 + " }"), ("E160", 11, 26)),
    # float('1000...') is infinity: numeric(inf, 2) raised OverflowError converting it to int
    ("type parameter", minimal(column="amount numeric(1" + "0" * 400 + ", 2)"), ("E112", 8, 20)),
])
def test_numbers_beyond_any_real_value_are_diagnosed(where, text, expected):
    result = assert_clean_outcome(text)
    assert expected in errors(result), (where, errors(result))


def test_the_largest_allowed_numbers_build_through_every_backend():
    # 1e303 KB once compiled, then overflowed to infinity in the Kafka sizing pass and in the kafka and
    # handoffs backends; numbers are capped at 1e38, whose products stay finite
    big = "1" + "0" * 38
    text = (SPECS[0].parent / "orders_cdc_kafka.stream").read_text(encoding="utf-8")
    text = (text.replace("replay      14d", f"replay      {big}d")
            .replace("2000000/day peak 2000/s avg_size 2KB", f"{big}/day peak {big}/s avg_size {big}PB"))
    assert big in text
    result = assert_clean_outcome(text)
    assert result.ok, errors(result)
    build_all(result)


# ---------------------------------------------------------------- intervals


@pytest.mark.parametrize("text, expected", [
    (minimal(pipeline="schedule every 0s"), ("E112", 1, 39)),
    (minimal(pipeline="schedule every 500ms"), ("E112", 1, 39)),
    (minimal(source="every 0.001m"), ("E112", 5, 9)),
])
def test_intervals_under_a_second_are_rejected(text, expected):
    # they reached the airflow and dagster backends, which divided by the interval in whole seconds
    result = assert_clean_outcome(text)
    assert expected in errors(result), errors(result)


def test_sub_second_freshness_is_checked_once_a_second():
    # freshness 500ms planned freshness checks every 250ms: the dagster backend divided by int(0.25)
    text = minimal(source="freshness 500ms", pipeline="schedule daily at 06:00",
                   rest="connection wh duckdb\nmodel stg_s from s { select id }\nsink out to wh { models stg_s }")
    result = assert_clean_outcome(text)
    assert result.ok, errors(result)
    assert result.spec.plan.reliability.freshness_check_every.seconds == 1.0
    build_all(result)


# ---------------------------------------------------------------- imports


def write_spec(path, first_line: str):
    path.write_text(first_line + "\n" + minimal(), encoding="utf-8")
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_importing_a_fifo_is_an_error_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.stream")  # nobody writes to it: reading it blocked forever
    spec = write_spec(tmp_path / "main.stream", 'import "pipe.stream"')
    with hang_guard("importing a FIFO", seconds=20):
        result = compile_files([spec])
    assert_positioned(result)
    assert errors(result) == [("E115", 1, 8)]
    assert "not a regular file" in result.diagnostics[0].message


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null", "."])
def test_importing_a_device_or_directory_is_an_error(tmp_path, target):
    if target.startswith("/dev/") and not os.path.exists(target):
        pytest.skip(f"no {target} here")
    spec = write_spec(tmp_path / "main.stream", f'import "{target}"')  # /dev/zero never ends: it filled memory
    with hang_guard(f"importing {target}", seconds=20):
        result = compile_files([spec])
    assert errors(result) == [("E115", 1, 8)]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_importing_a_symlink_loop_is_an_error(tmp_path):
    try:
        os.symlink(tmp_path / "b.stream", tmp_path / "a.stream")
        os.symlink(tmp_path / "a.stream", tmp_path / "b.stream")
    except OSError:
        pytest.skip("cannot create symlinks here")
    spec = write_spec(tmp_path / "main.stream", 'import "a.stream"')
    result = compile_files([spec])  # Path.resolve() raised RuntimeError: exit 3
    assert errors(result) == [("E115", 1, 8)]


# ---------------------------------------------------------------- long names


def test_a_long_pipeline_name_is_rejected_before_anything_is_written(streamc, tmp_path):
    # the pipeline name is the output folder: 300 characters made the build fail with exit 2 (File name too long)
    name = "p" * 300
    text = minimal(pipeline="schedule daily at 06:00",
                   rest="connection wh duckdb\nmodel stg_s from s { select id }\nsink out to wh { models stg_s }")
    (tmp_path / "long.stream").write_text(text.replace("pipeline p ", f"pipeline {name} ", 1), encoding="utf-8")
    proc = streamc("build", "long.stream", "-o", "out", "--no-config", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "E116" in proc.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, expected", [
    # a column check is a dbt test file named after the source and the column
    (minimal(column="c" * 300 + " integer check (" + "c" * 300 + " > 0)"), ("E116", 8, 5)),
    (minimal(rest='model stg_s { sql """select id as ' + "a" * 300 + ' from s""" }'), ("E116", 11, 22)),
])
def test_long_column_names_are_rejected(text, expected):
    result = assert_clean_outcome(text)
    assert expected in errors(result), errors(result)

