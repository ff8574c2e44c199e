"""Long and many things: a 1 MB name, 100,000 comment lines, import chains and fans, thousands of errors."""

from __future__ import annotations

from bounded_run import assert_clean, run_bounded
from compile_outcomes import assert_positioned
from limit_specs import BASE, MB, generated, import_chain, import_fan, long_name, padded_with_comments, with_model
from streamc.compiler import compile_files, compile_text
from streamc.diagnostics import SHOWN_LINE, render_text
from streamc.limits import MAX_IMPORT_DEPTH, MAX_IMPORT_FILES, MAX_SUGGESTIONS


def error_codes(result) -> list[str]:
    return [d.code for d in result.diagnostics if d.severity == "error"]


def test_a_1_mb_name_is_an_error_and_its_report_stays_short():
    result = compile_text(long_name(MB), "name.stream")
    assert_positioned(result)
    assert "E116" in error_codes(result)
    report = render_text(result.diagnostics, result.sources)
    assert len(report) < 20 * SHOWN_LINE  # the name and its source line are cut, not printed whole
    assert max(len(line) for line in report.splitlines()) < 2 * SHOWN_LINE


def test_a_100000_line_comment_block_compiles():
    text = BASE + "".join(f"# note {i}: a comment line kept by fmt\n" for i in range(100_000))
    assert compile_text(text, "comments.stream").ok


def test_fmt_formats_100000_comment_lines(tmp_path):
    spec = tmp_path / "comments.stream"
    spec.write_text(padded_with_comments(5 * MB).replace("# padding", "#   padding"), encoding="utf-8")
    run = run_bounded(tmp_path, "fmt", str(spec))  # the comment scan counted lines from the start: 4 minutes
    assert_clean(run, 0)
    assert spec.read_text(encoding="utf-8").count("\n") > 40_000


def test_an_import_chain_within_the_depth_limit_compiles(tmp_path):
    result = compile_files([import_chain(tmp_path, MAX_IMPORT_DEPTH)])
    assert result.ok, error_codes(result)
    assert len(result.spec.connections) == 2 + MAX_IMPORT_DEPTH


def test_an_import_chain_100_deep_is_an_error_at_the_import_too_deep(tmp_path):
    result = compile_files([import_chain(tmp_path, 100)])
    assert_positioned(result)
    [error] = [d for d in result.diagnostics if d.severity == "error"]
    assert error.code == "E154"
    assert error.span.file.endswith(f"link{MAX_IMPORT_DEPTH}.stream") and (error.span.line, error.span.column) == (1, 8)


def test_an_import_fan_within_the_file_limit_compiles(tmp_path):
    result = compile_files([import_fan(tmp_path, MAX_IMPORT_FILES - 1)])  # and the root
    assert result.ok, error_codes(result)


def test_an_import_fan_over_the_file_limit_is_one_error_at_the_first_import_too_many(tmp_path):
    result = compile_files([import_fan(tmp_path, MAX_IMPORT_FILES + 50)])
    assert_positioned(result)
    [error] = [d for d in result.diagnostics if d.severity == "error"]
    assert error.code == "E154"
    assert (error.span.line, error.span.column) == (MAX_IMPORT_FILES, 8)  # line n imports the (n+1)th file


def test_thousands_of_unknown_names_among_thousands_of_nodes_stay_quick(tmp_path):
    text = generated(2_000).replace("models fct_m_", "models missing_fct_m_").replace("expect int_m_", "expect zz_m_")
    spec = tmp_path / "unknown.stream"
    spec.write_text(text, encoding="utf-8")
    run = run_bounded(tmp_path, "check", str(spec))  # a did-you-mean per name over every node was quadratic
    assert_clean(run, 1)
    unknown = run.stderr.count("error[E100]")
    assert unknown > MAX_SUGGESTIONS
    assert run.stderr.count("did you mean") <= MAX_SUGGESTIONS


def test_sql_over_the_token_limit_is_reported_once():
    wide = "select a as x from s where a in (" + ", ".join(["1"] * 60_000) + ")"  # 120,000 tokens: 3 run out
    text = BASE
    for i in range(5):
        text = with_model(f"wide_{i}", wide, text)
    result = compile_text(text, "wide.stream")
    assert_positioned(result)
    assert error_codes(result) == ["E153"]
