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
from .limits import MAX_IMPORT_DEPTH, MAX_IMPORT_FILES, MAX_SPEC_BYTES, compile_budget, current_budget, megabytes
from .lower import FileItems, Lowerer
from .parser import parse

# errors after which semantic analysis would only add noise (the text could not be read or parsed)
BLOCKING_CODES = frozenset({"E001", "E002", "E003", "E004", "E111", "E115", "E150", "E151", "E153", "E154"})


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
    """CRLF and lone CR line breaks become LF: lines are counted (and SQL lines and comments end) as editors show."""
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
        self.budget = current_budget()  # bytes and files of the whole compile (streamc/limits.py)

    def too_large(self, display: str, at: Span | None, size: int) -> None:
        """E150 at the import that brings the total over MAX_SPEC_BYTES, or at the start of a root spec."""
        if at is None:
            at = Span(file=display, line=1, column=1, end_line=1, end_column=2)
            reason = f"{megabytes(size)}, over the limit of {megabytes(MAX_SPEC_BYTES)}"
        else:
            total = MAX_SPEC_BYTES - self.budget.bytes + size
            reason = f"with it the spec and its imports would hold {megabytes(total)}, over {megabytes(MAX_SPEC_BYTES)}"
        self.d.add("E150", at, path=display, reason=reason, limit=megabytes(MAX_SPEC_BYTES))

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
        if len(stack) > MAX_IMPORT_DEPTH:  # also keeps the recursion load -> load_text -> load shallow
            self.d.add("E154", at, message=f"imports nest more than {MAX_IMPORT_DEPTH} levels deep (at '{display}')",
                       hint="import shared files from the root spec instead of through a chain of imports")
            return
        if self.budget.files <= 0:
            if self.budget.files == 0:  # reported at the first file too many; -1 keeps the later ones quiet
                self.d.add("E154", at, message=f"more than {MAX_IMPORT_FILES} files in one spec (at '{display}')",
                           hint="merge small imported files, or split the pipeline into several specs")
                self.budget.files = -1
            return
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):  # a device, FIFO or directory could block or never end
                self.d.add("E115", at, path=display, reason="not a regular file")
                return
            with path.open("rb") as fh:
                data = fh.read(self.budget.bytes + 1)  # bounded: the file may grow after stat
            if len(data) > self.budget.bytes:
                self.too_large(display, at, max(st.st_size, len(data)))
                return
        except (OSError, ValueError) as e:
            self.d.add("E115", at, path=display, reason=getattr(e, "strerror", None) or str(e))
            return
        self.budget.files -= 1
        self.budget.bytes -= len(data)
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
    with compile_budget():  # one set of limits (streamc/limits.py) for the files and everything they import
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
    with compile_budget():
        diags = Diagnostics()
        loader = Loader(diags)
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > loader.budget.bytes:
            loader.too_large(name, None, size)
        else:
            loader.budget.files -= 1
            loader.budget.bytes -= size
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
