"""No input produces a traceback: truncated specs, random bytes, deep nesting, huge names all end in diagnostics."""

from __future__ import annotations

import random

import pytest

from compile_outcomes import assert_clean_outcome
from conftest import SPECS
from streamc.compiler import decode
from streamc.diagnostics import Diagnostics


def truncations(text: str, count: int) -> list[str]:
    step = max(1, len(text) // count)
    return [text[:i] for i in range(0, len(text), step)]


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_every_truncation_of_a_spec_compiles_or_reports(spec):
    text = spec.read_text(encoding="utf-8")
    for cut in truncations(text, 60):
        assert_clean_outcome(cut)


def test_random_bytes_and_token_soup():
    rng = random.Random(1234)
    words = ["pipeline", "source", "model", "{", "}", "(", ")", '"x"', '"""', "select", "5m", "100/s", "1KB",
             "columns", "id", "bigint", "primary", "key", ",", "..", "->", "#", "\n", "sql", "expect", "unique"]
    for _ in range(150):
        soup = " ".join(rng.choice(words) for _ in range(rng.randint(1, 60)))
        assert_clean_outcome(soup)
    for _ in range(100):
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
        diags = Diagnostics()
        text = decode(raw, "bytes.stream", diags)
        if text is not None:
            assert_clean_outcome(text)
        else:
            assert diags.items and diags.items[0].span is not None


def base_spec(body: str) -> str:
    return ('pipeline p { owner "x" }\nconnection db postgres\n'
            'source s from db {\n  table public.s\n  columns {\n    id bigint primary key\n  }\n}\n'
            f'{body}\nexpect s {{ unique id }}\n')


@pytest.mark.parametrize("text", [
    "{" * 10000,
    "pipeline p {" * 2000,
    base_spec('model m { sql """select ' + "(" * 1000 + "1" + ")" * 1000 + ' from s""" }'),
    base_spec('model m { sql """select ' + "1 + " * 3000 + '1 as x from s""" }'),
    base_spec("model m from s { select " + ", ".join(["id"] * 3000) + " }"),
    base_spec("model " + "m" * 5000 + " from s { select id }"),
    base_spec('model m from s { select id\n  where id in (' + ",".join(["1"] * 5000) + ") }"),
    "pipeline p { owner \"" + "x" * 100000 + "\" }",
    "\ufeffpipeline p { owner \"x\" }\r\nconnection db postgres\r\n",
    "pipeline p { latency < 99999999999999999999999999999d }",
    "pipeline p { latency < 1e400 }",
])
def test_pathological_inputs(text):
    assert_clean_outcome(text)


def test_cli_never_prints_a_traceback(streamc, tmp_path):
    for i, text in enumerate(["pipeline {", "\x00\x01", "model m { sql \"\"\"select ((((\"\"\" }", "{" * 5000]):
        path = tmp_path / f"case{i}.stream"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        proc = streamc("check", str(path))
        assert proc.returncode == 1, (text[:40], proc.stderr)
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
