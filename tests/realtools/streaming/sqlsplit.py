"""Split a Flink SQL script into statements (pure Python, used by flink_runner.py and by tests).

';' ends a statement except inside '...' strings ('' escapes a quote), "..." or `...` identifiers,
-- line comments and /* */ block comments, and except inside an
`EXECUTE STATEMENT SET BEGIN ... END;` block, which stays one statement. Comments are kept in the
statement text only when inside it; a statement of comments alone is dropped.
"""

from __future__ import annotations

import re

__all__ = ["Statement", "split_statements", "strip_comments"]


class Statement(str):
    """The statement text (no trailing ';'), with the 1-based line it starts on."""

    line: int

    def __new__(cls, text: str, line: int):
        obj = super().__new__(cls, text)
        obj.line = line
        return obj


_STMT_SET = re.compile(r"^\s*EXECUTE\s+STATEMENT\s+SET\s+BEGIN\b", re.I)
_END = re.compile(r"\bEND\s*$", re.I)


def strip_comments(sql: str) -> str:
    out = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if c == "'" and j + 1 < n and sql[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _lstrip_comments(text: str) -> tuple[str, int]:
    """Drop leading whitespace and comments; return (rest, number of newlines dropped)."""
    i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            break
    return text[i:], text[:i].count("\n")


def split_statements(script: str) -> list[Statement]:
    stmts: list[Statement] = []
    buf: list[str] = []
    start_line = 1
    line = 1
    i, n = 0, len(script)

    def flush():
        nonlocal buf
        text = "".join(buf)
        buf = []
        if strip_comments(text).strip():
            body, skipped_lines = _lstrip_comments(text)
            stmts.append(Statement(body.rstrip(), start_line + skipped_lines))

    while i < n:
        c = script[i]
        if not buf:
            start_line = line
        if c in "'\"`":
            j = i + 1
            while j < n:
                if script[j] == c:
                    if c == "'" and j + 1 < n and script[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            chunk = script[i:j + 1]
        elif script.startswith("--", i):
            j = script.find("\n", i)
            j = n - 1 if j < 0 else j - 1
            chunk = script[i:j + 1]
        elif script.startswith("/*", i):
            j = script.find("*/", i + 2)
            j = n - 1 if j < 0 else j + 1
            chunk = script[i:j + 1]
        elif c == ";":
            current = strip_comments("".join(buf))
            if _STMT_SET.match(current) and not _END.search(current.strip()):
                buf.append(c)  # inside EXECUTE STATEMENT SET BEGIN ... END
            else:
                flush()
            i += 1
            continue
        else:
            chunk = c
        buf.append(chunk)
        line += chunk.count("\n")
        i += len(chunk)
    flush()
    return stmts
