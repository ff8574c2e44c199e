"""Names and text that cannot be made safe are refused at the spec, with a positioned diagnostic, never a traceback
or an OutputError at write time: device names, names equal but for case, look-alike letters, bidi controls."""

from __future__ import annotations

import re

import pytest

from hostile_specs import BATCH, BENIGN, STREAMING
from streamc.compiler import compile_text
from streamc.output import OutputError, validate_tree

BASE = BATCH.render(BENIGN)
STREAM_BASE = STREAMING.render(BENIGN)


def diagnostics(text: str):
    result = compile_text(text, "names.stream")
    assert not result.ok
    return [d for d in result.diagnostics if d.severity == "error"]


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the `occurrence`-th `needle` standing as a whole word."""
    matches = list(re.finditer(rf"(?<![\w]){re.escape(needle)}(?![\w])", text))
    i = matches[occurrence - 1].start()
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def assert_reported(text: str, code: str, needle: str, occurrence: int = 1, contains: str = "") -> None:
    line, column = position(text, needle, occurrence)
    found = [(d.code, d.span.line, d.span.column) for d in diagnostics(text)]
    assert (code, line, column) in found, f"expected {code} at {line}:{column}, got {found}"
    if contains:
        assert any(contains in d.message for d in diagnostics(text) if d.code == code)


# ------------------------------------------------------------------ device names (file and folder names)

DEVICES = ["con", "NUL", "Com1", "lpt9", "aux", "PRN"]
# (what is named, how the benign carrier spells the name, the spec text, where the diagnostic points: the text
# before the name in its declaration, and whether the caret is on the name or on that keyword)
NAMED = [
    ("pipeline", "hostile_batch", BASE, "pipeline ", True),
    ("connection", "shop_db", BASE, "connection ", True),
    ("environment", "dev", BASE, "env ", True),
    ("source", "customers", BASE, "source ", True),
    ("model", "stg_customers", BASE, "model ", True),
    ("sink", "marts", BASE, "sink ", True),
    ("custom check", "hostile_check", BASE, "sql ", False),
    ("metric", "clicks_per_page", STREAM_BASE, "metric ", True),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("what, name, base, keyword, on_name", NAMED, ids=[n[0] for n in NAMED])
def test_a_windows_device_name_is_refused_where_it_is_declared(what, name, base, keyword, on_name, device):
    text = re.sub(rf"(?<![\w]){name}(?![\w])", device, base)
    i = text.index(keyword + device) + (len(keyword) if on_name else 0)
    line, column = text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1
    found = [(d.code, d.span.line, d.span.column) for d in diagnostics(text)]
    assert ("E116", line, column) in found, f"{what} {device}: expected E116 at {line}:{column}, got {found}"
    assert any("device name" in d.message for d in diagnostics(text) if d.code == "E116")


def test_device_names_were_only_caught_at_write_time_before():
    """Why the spec check matters: the output layer refuses such paths, but only as a usage error, unpositioned."""
    with pytest.raises(OutputError):
        validate_tree({"p/dbt/models/staging/con.sql": ""})


# ------------------------------------------------------------------ names equal but for case

def test_models_differing_only_by_case_are_refused_at_the_second():
    text = BASE + "\nmodel Stg_Customers from customers {\n  select id\n}\n"
    assert_reported(text, "E116", "Stg_Customers", contains="only by case")


@pytest.mark.parametrize("kind, add", [
    ("column", ("    updated_at timestamp not null\n", "    updated_at timestamp not null\n    ID bigint\n")),
    ("environment", ("env prod { dwh.schema \"marts\" }\n", "env prod { dwh.schema \"marts\" }\nenv DEV { }\n")),
    ("connection", ("connection dwh ", "connection SHOP_DB postgres { credentials secret x }\nconnection dwh ")),
])
def test_other_names_differing_only_by_case_are_refused(kind, add):
    text = BASE.replace(add[0], add[1], 1)
    new = {"column": "ID", "environment": "DEV", "connection": "SHOP_DB"}[kind]
    assert_reported(text, "E116", new, contains="only by case")


def test_custom_checks_differing_only_by_case_are_refused():
    text = BASE + '\nexpect customers {\n  sql Hostile_Check """\n    select * from customers where id < 0\n  """\n}\n'
    found = [(d.code, d.span.line) for d in diagnostics(text)]
    line, _ = position(text, "Hostile_Check")
    assert ("E116", line) in found, found


# ------------------------------------------------------------------ look-alike and invisible characters

@pytest.mark.parametrize("name", ["st\u0433_customers", "\u0455tg_customers", "stg_\uff43ustomers", "stg\u200d_customers",
                                  "stg_custom\u00e9rs"])
def test_a_name_with_a_non_ascii_letter_is_a_syntax_error_at_that_letter(name):
    """Names are ASCII (grammar NAME): a Cyrillic, fullwidth or zero-width character cannot pass for a letter."""
    text = BASE.replace("model stg_customers", f"model {name}", 1)
    bad = next(ch for ch in name if ord(ch) > 127)
    i = text.index(bad)
    line, col = text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1
    found = [(d.code, d.span.line, d.span.column) for d in diagnostics(text)]
    assert any(code in ("E001", "E002") and (ln, c) == (line, col) for code, ln, c in found), found


@pytest.mark.parametrize("char", ["\u202e", "\u202a", "\u202d", "\u2066", "\u2067", "\u2069"])
@pytest.mark.parametrize("where", ["string", "comment", "sql"])
def test_a_bidi_control_character_is_refused_where_it_stands(char, where):
    if where == "string":
        text = BASE.replace('description "PWN benign"', f'description "admin{char}nimda"', 1)
    elif where == "comment":
        text = f"# reviewed {char}ok\n" + BASE
    else:
        text = BASE.replace("where kind <> 'PWN benign'", f"where kind <> 'a{char}b'", 1)
    i = text.index(char)
    line, col = text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1
    found = [(d.code, d.span.line, d.span.column) for d in diagnostics(text)]
    assert ("E140", line, col) in found, found
    assert f"U+{ord(char):04X}" in next(d.message for d in diagnostics(text) if d.code == "E140")


def test_invisible_but_harmless_characters_stay_allowed_in_text():
    """A zero-width joiner or a non-breaking space in a description is data (emoji, typography), not an attack."""
    text = BASE.replace('description "PWN benign"', 'description "\U0001f468\u200d\U0001f4bb\u00a0ok"', 1)
    assert compile_text(text, "names.stream").ok


# ------------------------------------------------------------------ text that names something outside the spec

@pytest.mark.parametrize("cron", ["0 5 * * $(touch${IFS}pwned)", "0 5 * * 1;reboot", "0 5 * * `id`",
                                  "0 5 * * {{x}}", "0 5 * * '1'"])
def test_a_cron_schedule_with_foreign_characters_is_refused(cron):
    text = BASE.replace("schedule    daily at 05:00 UTC", f'schedule    cron "{cron}"', 1)
    line, col = position(text, f'"{cron}"'.split(" ")[0])
    found = [(d.code, d.span.line) for d in diagnostics(text)]
    assert ("E112", line) in found, found


@pytest.mark.parametrize("cron", ["*/15 * * * *", "0 5 * * MON-FRI", "0 0 1,15 * ?", "0 0 L * *", "0 0 * * 5#3"])
def test_ordinary_cron_schedules_still_compile(cron):
    text = BASE.replace("schedule    daily at 05:00 UTC", f'schedule    cron "{cron}"', 1)
    assert compile_text(text, "names.stream").ok


def test_the_diagnostic_shows_the_bidi_character_as_a_visible_mark_not_as_a_reordering(streamc, tmp_path):
    spec = tmp_path / "s.stream"
    spec.write_text(BASE.replace('description "PWN benign"', 'description "admin\u202enimda"', 1), encoding="utf-8")
    proc = streamc("check", str(spec))
    assert proc.returncode == 1 and "error[E140]" in proc.stderr
    assert "\u202e" not in proc.stderr and "admin\ufffdnimda" in proc.stderr


def test_a_line_separator_in_a_string_does_not_shift_the_lines_diagnostics_show():
    """The compiler counts lines at LF; the rendered source line must be the one the position names."""
    from streamc.diagnostics import render_text

    text = BASE.replace('owner       "PWN benign"', 'owner       "a\u2028b\x85c\x0cd"', 1).replace(
        "model dim_customers {", "model dim_customers {\n  bogus_property x", 1)
    result = compile_text(text, "names.stream")
    shown = render_text(result.diagnostics, result.sources)
    assert "bogus_property x" in shown.split("error[", 1)[1].splitlines()[1]
