"""Splits a module into its top-level statements so black can format (and cache) each one on its own.

black's running time grows faster than the module (one 25 MB module would take many minutes and gigabytes),
and any change to a spec would otherwise re-format the whole module. Formatting statement by statement is
linear and lets an unchanged statement come from the cache. What black decides *between* top-level
statements (blank lines) depends only on their kinds and the blank lines written between them, so a small
skeleton module (one stand-in line per statement, comments kept) is formatted with black and its blank lines
are reused. Tests check that the result equals black over the whole module for every generated module.

Assumes generated code: no `# fmt: off` regions and no statements joined by `;` at the top level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What can hide a newline or a bracket: strings (triple-quoted first), comments; then brackets, newlines and
# backslash continuations. Everything else is skipped by the regex engine.
_TOKEN = re.compile(
    r"""(?P<string>[rRbBuUfF]{0,2}(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^\\"\n])*"|'(?:\\.|[^\\'\n])*'))"""
    r"|(?P<comment>\#[^\n]*)"
    r"|(?P<open>[(\[{])|(?P<close>[)\]}])"
    r"|(?P<cont>\\\n)"
    r"|(?P<newline>\n)",
    re.DOTALL,
)
_CONTINUATION = re.compile(r"(else|elif|except|finally)\b")
_DEF = re.compile(r"(async\s+def|def|class)\b")
_COMPOUND = re.compile(r"(if|for|while|with|try|async\s+for|async\s+with|match)\b")
_IMPORT = re.compile(r"(import|from)\b")


@dataclass
class Chunk:
    """One top-level statement with its leading comments and decorators, as written."""

    text: str
    blank_before: int
    kind: str  # docstring | def | class | import | from | compound | statement | comment
    lead: list[str]  # before the statement: comment lines verbatim, "@" per decorator, "" per blank line


def statement_starts(text: str) -> list[int] | None:
    """Offsets of lines that start at column 0 outside any bracket, string or continuation (None: unbalanced)."""
    starts = [0]
    depth = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth < 0:
                return None
        elif kind == "newline" and depth == 0:
            starts.append(m.end())
    return starts if depth == 0 else None


def split(text: str) -> list[Chunk] | None:
    """The module's top-level chunks in order; None when the text is not one this splitter understands."""
    starts = statement_starts(text)
    if starts is None:
        return None
    lines = [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)]) if a < len(text)]
    chunks: list[Chunk] = []
    pending: list[str] = []  # the text of comments / decorators / blank lines waiting for their statement
    lead: list[str] = []
    blank = 0
    for line in lines:
        first = line[:1]
        if not line.strip():
            if pending:
                pending.append(line)
                lead.append("")
            else:
                blank += 1
            continue
        if first in (" ", "\t"):
            if not chunks or pending:
                return None  # indented text with no statement to belong to
            chunks[-1].text += "\n" * blank + line  # blank lines inside a block belong to it
            blank = 0
            continue
        if first == "#":
            if "@" in lead:
                return None  # a comment between decorators: keep it simple, format the module whole
            pending.append(line)
            lead.append(line.rstrip("\n"))
            continue
        if first == "@":
            pending.append(line)
            lead.append("@")
            continue
        if _CONTINUATION.match(line):
            if not chunks or pending:
                return None
            chunks[-1].text += "\n" * blank + line
            blank = 0
            continue
        if m := _DEF.match(line):
            kind = "class" if m.group(1) == "class" else "def"
        elif _IMPORT.match(line):
            kind = "from" if line.startswith("from") else "import"
        elif _COMPOUND.match(line) and line.rstrip().endswith(":"):
            kind = "compound"
        elif line.lstrip("rRbBuUfF")[:1] in ('"', "'"):
            if chunks or pending:
                return None  # a bare string after the first statement: black would take it for a docstring alone
            kind = "docstring"
        else:
            kind = "statement"
        if "@" in lead and kind not in ("def", "class"):
            return None
        chunks.append(Chunk("".join(pending) + line, blank, kind, lead))
        pending, lead, blank = [], [], 0
    if pending:  # trailing comments: a chunk of their own
        while lead and lead[-1] == "":
            lead.pop()
        chunks.append(Chunk("".join(pending), blank, "comment", lead))
    return chunks


_STAND_IN = {
    "docstring": '"""d"""\n',
    "def": "def f{i}():\n    pass\n",
    "class": "class C{i}:\n    pass\n",
    "import": "import m{i}\n",
    "from": "from m import n{i}\n",
    "compound": "if x{i}:\n    pass\n",
    "statement": "x{i} = 1\n",
    "comment": "",
}


def skeleton(chunks: list[Chunk]) -> str:
    """A small module with the same kinds of top-level statements, comments and blank lines as `chunks`."""
    out = []
    for i, c in enumerate(chunks):
        out.append("\n" * c.blank_before)
        out.extend("@d\n" if item == "@" else f"{item}\n" for item in c.lead)
        out.append(_STAND_IN[c.kind].format(i=i))
    return "".join(out)


def skeleton_lines(chunk: Chunk) -> int:
    """How many non-blank lines the chunk's stand-in has in the skeleton."""
    return sum(1 for item in chunk.lead if item) + _STAND_IN[chunk.kind].count("\n")


def blank_lines_between(chunks: list[Chunk], formatted_skeleton: str) -> list[int] | None:
    """Blank lines black puts before each chunk, read off the formatted skeleton (None: it does not line up)."""
    lines = formatted_skeleton.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    pos = 0
    for c in chunks:
        blanks = 0
        while pos < len(lines) and not lines[pos].strip():
            blanks += 1
            pos += 1
        out.append(blanks)
        pos += skeleton_lines(c)
        if pos > len(lines):
            return None
    return out if pos == len(lines) else None
