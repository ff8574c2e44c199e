"""The property every hostile input must satisfy: compiling it never raises, and a failure says where and why."""

from __future__ import annotations

from streamc.compiler import CompileResult, compile_text


def assert_positioned(result: CompileResult) -> None:
    """A failed compile has errors, none of them internal, each at a line and column inside its file."""
    if result.ok:
        return
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert errors, "a failed compile must say why"
    for d in errors:
        assert d.code != "E999", d
        assert d.span is not None, f"unpositioned diagnostic {d}"
        assert d.span.line >= 1 and d.span.column >= 1, d
        text = result.sources.get(d.span.file)
        if text is not None:  # the position is inside the file, counting lines the way the parser does
            assert d.span.line <= text.count("\n") + 1, f"{d} points past the last line"


def assert_clean_outcome(text: str, name: str = "fuzz.stream") -> CompileResult:
    result = compile_text(text, name)  # must not raise
    assert_positioned(result)
    return result
