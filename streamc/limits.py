"""Resource limits of one compile (a spec and its imports): each a named constant, documented in docs/limits.md."""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator

# Every value below is a row of the table in docs/limits.md; tests/limits/test_limits_doc.py keeps them in step.
# Together they keep `streamc check` of any input under LIMIT_MEMORY_MB of memory (measured figures in the doc).

MAX_SPEC_BYTES = 16 * 1024 * 1024  # bytes of a spec and all its imports together
MAX_NODES = 10_000  # sources, models, metrics, sinks and expect blocks, imports included
MAX_SPEC_TOKENS = 250_000  # tokens of spec syntax (a name, number, symbol or string; a SQL body counts as one)
MAX_SQL_TOKENS = 250_000  # tokens of all the SQL in the spec together (bodies, select/where lines, checks)
# tokens read again after syntax errors, to report further ones (each retry parses from the start): a large spec
# full of mistakes costs at most about three parses
MAX_REPARSE_TOKENS = 2 * MAX_SPEC_TOKENS
# Levels of one SQL expression tree: printing it (sqlglot, backends) recurses up to ~4 frames a level, so 100 levels
# stay within ~400 of Python's default 1000 frames. Every operator of a chain `a + b + ...` / `x and y and ...` is a
# level.
MAX_SQL_DEPTH = 100
# Parentheses inside each other in one SQL text, as written and as printed again (a function call or a cast is
# one: `a::int::int` prints as `CAST(CAST(a AS INT) AS INT)`): each costs sqlglot's parser ~22 frames.
MAX_SQL_PARENS = 16
# Python frames parsing one SQL text may take (sqlglot's parser recurses ~20 frames a parenthesis): what compiles
# also parses again in a backend with ~600 of Python's default 1000 frames to spare.
MAX_SQL_PARSE_FRAMES = 400
MAX_NAME = 63  # characters of a name (PostgreSQL's identifier length; names become files and identifiers)
MAX_IMPORT_DEPTH = 32  # imports inside imports, counted from the spec named on the command line
MAX_IMPORT_FILES = 256  # files in one compile: the spec and every file it imports
# "did you mean" hints per compile: each compares a name with every candidate (10,000 nodes: ~30 ms), so a spec
# with thousands of unknown names would take minutes; the hints after these say only what kind of name is expected.
MAX_SUGGESTIONS = 50
# Fixed by the grammar (grammar/stream.lark), not checked in code: a deeper input is a syntax error (E001).
MAX_BLOCK_DEPTH = 2  # `{ }` blocks inside each other: `source s from db { columns { ... } }`
MAX_CHECK_PAREN_DEPTH = 3  # parentheses inside each other in a column's `check (...)`

# The bound the limits above are chosen for (not itself enforced: the limits keep a compile under it).
LIMIT_MEMORY_MB = 1024


@dataclass
class Budget:
    """What is left of the limits in one compile; the loader, the parser and the SQL reader draw on it."""

    bytes: int = MAX_SPEC_BYTES
    files: int = MAX_IMPORT_FILES
    nodes: int = MAX_NODES
    spec_tokens: int = MAX_SPEC_TOKENS
    sql_tokens: int = MAX_SQL_TOKENS
    sql_exhausted: object | None = None  # the diagnostic reported when the SQL ran out: reported once, reused
    suggestions: int = MAX_SUGGESTIONS


_CURRENT: ContextVar[Budget | None] = ContextVar("streamc_budget", default=None)


@contextmanager
def compile_budget() -> Iterator[Budget]:
    """One budget for everything read inside the block (compile_files / compile_text open one per compile)."""
    budget = Budget()
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def current_budget() -> Budget:
    """The budget of the compile in progress; outside one (a direct call), a fresh budget for that call alone."""
    return _CURRENT.get() or Budget()


def _frames_in_use() -> int:
    depth, frame = 0, sys._getframe(1)
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


class _FrameCounter:
    """A profile function that raises RecursionError once calls nest `frames` deeper than where it was set."""

    def __init__(self, frames: int):
        self.frames, self.depth = frames, 0

    def __call__(self, frame, event: str, arg) -> None:
        if event == "call":
            self.depth += 1
            if self.depth > self.frames:
                raise RecursionError(f"more than {self.frames} frames")  # also ends profiling (CPython)
        elif event == "return":
            self.depth -= 1


@contextmanager
def recursion_budget(frames: int) -> Iterator[None]:
    """Let the block recurse at most `frames` deeper than where it starts, wherever that is: a deep input fails
    the same way from the command line, a test or a plugin (give or take a level: C calls on the stack count against
    the limit too), and what passes leaves room to every later reader.

    Alone, the thread sets the recursion limit for the block. The limit is shared by all threads, so with others
    running it is left alone (lowering it could fail one of them) and a profile function of this thread only
    counts the frames instead, slower but to the same effect.
    """
    if threading.active_count() > 1:
        previous_profile = sys.getprofile()
        sys.setprofile(_FrameCounter(frames))
        try:
            yield
        finally:
            sys.setprofile(previous_profile)
        return
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(_frames_in_use() + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def megabytes(n: int) -> str:
    """A byte count as it is shown in a message: '16 MB', '17.3 MB'."""
    mb = n / (1024 * 1024)
    return f"{mb:.0f} MB" if mb == int(mb) else f"{mb:.1f} MB"
