"""Spec text in the plain-text places backends write it: one-line comments and Markdown table cells."""

from __future__ import annotations

import re

# Everything some reader takes for the end of a line: LF / CR (every language), VT, FF and the file / group /
# record separators (Python's str.splitlines), NEL, LINE and PARAGRAPH SEPARATOR (YAML 1.1, JavaScript).
LINE_BREAKS = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` on a single line (line breaks become spaces): safe after `#`, `--` or `//`, whatever it holds."""
    return LINE_BREAKS.sub(" ", text)


def markdown_cell(text: str) -> str:
    """`text` inside one cell of a Markdown (GFM) table row: on one line, with its `|` escaped."""
    return one_line(text).replace("|", "\\|")


_DOCSTRING_HAZARDS = re.compile(r'\\|"(?="|\Z)|[\x00-\x08\x0b-\x1f\x7f]')


def docstring_text(text: str) -> str:
    """`text` inside a (non-raw) triple-quoted Python string that reads back exactly as `text`: backslashes are
    doubled, a quote that another quote (or the string's end) follows is escaped so no run of three ends the
    string early, and control characters other than tab and newline are written as `\\xNN`."""
    def escape(m: re.Match[str]) -> str:
        ch = m.group(0)
        if ch == "\\":
            return "\\\\"
        if ch == '"':
            return '\\"'
        return f"\\x{ord(ch):02x}"

    return _DOCSTRING_HAZARDS.sub(escape, text)
