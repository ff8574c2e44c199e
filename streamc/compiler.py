"""The compiler driver: read files and imports, parse, lower, analyse, run the passes; never raises on bad input."""

from __future__ import annotations

import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import Analyzer
from .diagnostics import Diagnostic, Diagnostics, make
from .ir import Span, Spec
from .lower import FileItems, Lowerer
from .parser import parse

MAX_SPEC_BYTES = 16 * 1024 * 1024
# errors after which semantic analysis would only add noise (the text could not be read or parsed)
BLOCKING_CODES = frozenset({"E001", "E002", "E003", "E004", "E111", "E115"})


@dataclass
class CompileResult:
    spec: Spec | None
    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)  # display path -> text, for rendering carets
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds, for `build --profile`

    @property
    def ok(self) -> bool:
        return self.spec is not None and not any(d.severity == "error" for d in self.diagnostics)


def decode(data: bytes, display: str, diags: Diagnostics) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        prefix = data[: e.start]
        line = prefix.count(b"\n") + 1
        col = e.start - (prefix.rfind(b"\n") + 1) + 1
        diags.add("E004", Span(file=display, line=line, column=col, end_line=line, end_column=col + 1),
                  byte=f"0x{data[e.start]:02x}", offset=e.start)
        return None
    if "\x00" in text:
        i = text.index("\x00")
        line = text.count("\n", 0, i) + 1
        col = i - (text.rfind("\n", 0, i) + 1) + 1
        diags.add("E002", Span(file=display, line=line, column=col, end_line=line, end_column=col + 1), char="\x00",
                  hint="remove the NUL byte; specs are text")
        return None
    return text


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR line breaks become LF: lines are counted (and SQL lines and comments end) the way editors show them."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


# Characters that reorder how text is displayed (Unicode bidi embeddings, overrides and isolates): in a spec they
# can make a string, a comment or SQL read differently from what is compiled, and they would be copied into code.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def report_bidi_controls(text: str, display: str, diags: Diagnostics) -> None:
    for m in BIDI_CONTROLS.finditer(text):
        i = m.start()
        line = text.count("\n", 0, i) + 1
        col = i - (text.rfind("\n", 0, i) + 1) + 1
        diags.add("E140", Span(file=display, line=line, column=col, end_line=line, end_column=col + 1),
                  char=f"U+{ord(m.group(0)):04X}")


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class Loader:
    """Reads a root spec and its imports (depth-first, each file once), reporting import cycles."""

    def __init__(self, diags: Diagnostics):
        self.d = diags
        self.items: list[FileItems] = []
        self.texts: dict[str, str] = {}
        self.done: set[Path] = set()

    def load(self, path: Path, stack: list[tuple[Path, str]], at: Span | None = None) -> None:
        try:
            path = path.resolve()
        except (OSError, RuntimeError, ValueError) as e:  # a symlink loop is a RuntimeError before Python 3.13
            self.d.add("E115", at, path=str(path), reason=getattr(e, "strerror", None) or str(e))
            return
        chain = [p for p, _ in stack]
        if path in chain:
            names = [d for _, d in stack[chain.index(path):]] + [display_path(path)]
            self.d.add("E111", at, cycle=" --> ".join(names))
            return
        if path in self.done:
            return
        display = display_path(path)
        too_big = f"larger than {MAX_SPEC_BYTES // (1024 * 1024)} MB"
        try:
            if not stat.S_ISREG(path.stat().st_mode):  # a device, FIFO or directory could block or never end
                self.d.add("E115", at, path=display, reason="not a regular file")
                return
            with path.open("rb") as fh:
                data = fh.read(MAX_SPEC_BYTES + 1)  # bounded: the file may grow after stat
            if len(data) > MAX_SPEC_BYTES:
                self.d.add("E115", at, path=display, reason=too_big)
                return
        except (OSError, ValueError) as e:
            self.d.add("E115", at, path=display, reason=getattr(e, "strerror", None) or str(e))
            return
        self.done.add(path)
        text = decode(data, display, self.d)
        if text is None:
            return
        self.load_text(text, display, path, stack)

    def load_text(self, text: str, display: str, path: Path | None, stack: list[tuple[Path, str]]) -> None:
        text = normalize_newlines(text)
        self.texts[display] = text
        report_bidi_controls(text, display, self.d)
        tree, syntax = parse(text, display)
        self.d.extend(syntax)
        if tree is None:
            return
        items = Lowerer(display, self.d).lower(tree)
        if path is not None:
            for rel, span in items.imports:
                target = (path.parent / rel)
                self.load(target, stack + [(path, display)], span)
        self.items.append(items)


def compile_files(paths: list[Path], env: str | None = None, run_passes: bool = True) -> CompileResult:
    diags = Diagnostics()
    loader = Loader(diags)
    start = time.perf_counter()
    for p in paths:
        loader.load(Path(p), [])
    parsed = time.perf_counter()
    result = _finish(loader, diags, env, run_passes)
    result.timings = {"parse + lower": parsed - start, **result.timings}
    return result


def compile_text(text: str, name: str = "<input>.stream", env: str | None = None,
                 run_passes: bool = True) -> CompileResult:
    diags = Diagnostics()
    loader = Loader(diags)
    loader.load_text(text, name, None, [])
    return _finish(loader, diags, env, run_passes)


def _finish(loader: Loader, diags: Diagnostics, env: str | None, run_passes: bool) -> CompileResult:
    spec = None
    timings: dict[str, float] = {}
    blocking = any(d.code in BLOCKING_CODES for d in diags.items)
    if not blocking and loader.items:
        # imported files are appended before their importer: restore the reading order (root first)
        items = list(reversed(loader.items))
        start = time.perf_counter()
        spec = Analyzer(items, diags).run()
        timings["analysis (IR)"] = time.perf_counter() - start
        if spec is not None and env is not None and env not in {e.name for e in spec.environments}:
            known = sorted(e.name for e in spec.environments)
            diags.add("E100", spec.pipeline.span, kind="environment", name=env,
                      hint=f"environments in this spec: {', '.join(known) or 'none'}")
        if spec is not None and run_passes and not diags.has_errors():
            from .passes import run_passes as _run

            start = time.perf_counter()
            spec = _run(spec, diags)
            timings["passes"] = time.perf_counter() - start
    result = CompileResult(spec=None if diags.has_errors() else spec, diagnostics=diags.sorted(),
                           sources=loader.texts, timings=timings)
    return result


def internal_error_diagnostic(exc: BaseException) -> Diagnostic:
    return make("E999", None, message=f"{type(exc).__name__}: {exc}")
