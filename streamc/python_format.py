"""Formats every generated Python file with black, statement by statement, through an on-disk cache.

Backends emit Python as their templates render it; the build formats each `*.py` file here, so plugin
backends get the same formatting for free. black is imported only when a file is not in the cache: an
unchanged spec rebuilds without importing or running black, and a changed one re-formats only the top-level
statements that changed (streamc.python_chunks). black is a pure function of (its version, the mode, the
text), so a cached result is byte-identical to formatting again.

The cache is streamc's per-user cache (streamc.user_cache, like black's own); `STREAMC_NO_CACHE=1` turns it
off. A cache entry that cannot be read, written or verified is skipped silently.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from importlib import metadata
from pathlib import Path

from . import python_chunks
from .user_cache import cache_dir

LINE_LENGTH = 120
TARGET = "py311"  # Airflow 3 and Dagster both run on Python 3.10+; generated code uses 3.10+ syntax
PYTHON_SUFFIX = ".py"


@functools.cache
def _mode():
    """black's mode, built once per process (formatting runs once per statement)."""
    import black

    return black.Mode(line_length=LINE_LENGTH, target_versions={black.TargetVersion[TARGET.upper()]})


def format_python(text: str) -> str:
    """black over one module's text (no cache): the result is black-stable."""
    import black

    return black.format_str(text, mode=_mode())


def format_python_files(files: dict[str, str]) -> dict[str, str]:
    """The files with every `*.py` one formatted (no cache): what a build writes for a backend's output."""
    return {path: format_python(text) if path.endswith(PYTHON_SUFFIX) else text for path, text in files.items()}


class PythonFormatter:
    """Formats generated modules; remembers results in memory for the run and on disk across runs."""

    def __init__(self, root: Path | None = None):
        self.root = root if root is not None else cache_dir()
        self.memory: dict[str, str] = {}
        self.formatted = 0  # files black actually ran on (cache misses), for --profile
        self._folder: Path | None = None

    def folder(self) -> Path | None:
        if self.root is None:
            return None
        if self._folder is None:
            try:
                version = metadata.version("black")
            except metadata.PackageNotFoundError:
                return None
            self._folder = self.root / f"black-{version}-{LINE_LENGTH}-{TARGET}"
        return self._folder

    def __call__(self, text: str) -> str:
        """The module formatted: from the cache when this exact text was seen, else statement by statement."""
        return self._cached(text, self._by_statement)

    def _cached(self, text: str, compute) -> str:
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if key in self.memory:
            return self.memory[key]
        folder = self.folder()
        cached = _read(folder / f"{key}.py") if folder is not None else None
        if cached is None:
            cached = compute(text)
            if folder is not None:
                _write(folder, f"{key}.py", hashlib.sha256(cached.encode("utf-8")).hexdigest() + "\n" + cached)
        self.memory[key] = cached
        return cached

    def _black(self, text: str) -> str:
        self.formatted += 1
        return format_python(text)

    def _by_statement(self, text: str) -> str:
        """black per top-level statement (each cached), joined by the blank lines black gives the skeleton."""
        chunks = python_chunks.split(text)
        if chunks is None or len(chunks) < 3:
            return self._black(text)
        blanks = python_chunks.blank_lines_between(chunks, self._black(python_chunks.skeleton(chunks)))
        if blanks is None or blanks[0] != 0:
            return self._black(text)
        return "".join("\n" * b + self._cached(c.text, self._black) for b, c in zip(blanks, chunks))

    def format_files(self, files: dict[str, str]) -> dict[str, str]:
        """The same files, every `*.py` one formatted; order and other files unchanged."""
        return {path: self(text) if path.endswith(PYTHON_SUFFIX) else text for path, text in files.items()}


def _read(path: Path) -> str | None:
    """An entry's text if it is intact: its first line is the SHA-256 of the rest (a damaged entry is a miss)."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            digest, sep, text = fh.read().partition("\n")
    except (OSError, UnicodeDecodeError):
        return None
    if not sep or hashlib.sha256(text.encode("utf-8")).hexdigest() != digest:
        return None
    return text


def _write(folder: Path, name: str, text: str) -> None:
    """Atomic: a reader sees the whole entry or none; a failure leaves no partial file."""
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, folder / name)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
