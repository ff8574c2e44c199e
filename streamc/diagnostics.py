"""Diagnostic codes and their wording (one registry), collection, and text / JSON rendering."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Iterable, Literal

from .ir import Span
from .limits import MAX_NAME

SeverityName = Literal["error", "warning"]


@dataclass(frozen=True)
class Code:
    code: str
    slug: str
    severity: SeverityName
    message: str  # str.format template
    hint: str  # str.format template; one line


def _codes(*codes: Code) -> dict[str, Code]:
    return {c.code: c for c in codes}


# The single registry of diagnostic wording. Tests check every code here is documented and exercised.
REGISTRY: dict[str, Code] = _codes(
    # --- syntax
    Code("E001", "syntax-error", "error", "unexpected {found}; expected {expected}",
         "{hint}"),
    Code("E002", "unexpected-character", "error", "unexpected character {char!r}",
         "{hint}"),
    Code("E003", "unterminated", "error", "unterminated {what}",
         "close it with {closer}"),
    Code("E004", "bad-encoding", "error", "the file is not valid UTF-8 (byte {byte} at offset {offset})",
         "save the spec as UTF-8"),
    # --- names and structure
    Code("E100", "unknown-name", "error", "unknown {kind} '{name}'",
         "{hint}"),
    Code("E101", "duplicate-definition", "error", "{kind} '{name}' is defined twice (first at {first})",
         "rename one of them or remove the duplicate"),
    Code("E102", "dependency-cycle", "error", "dependency cycle: {cycle}",
         "break the cycle: a model cannot read (directly or indirectly) from itself"),
    Code("E103", "unknown-column", "error", "'{node}' has no column '{column}'",
         "{hint}"),
    Code("E104", "type-misuse", "error", "{message}",
         "{hint}"),
    Code("E105", "sql-syntax", "error", "SQL syntax error: {message}",
         "fix the SQL; it is parsed at compile time and emitted in each target's dialect"),
    Code("E106", "pii-unhandled", "error", "PII column '{column}' has no handling strategy",
         "write pii(hash), pii(mask), pii(drop), pii(encrypt) or pii(keep \"reason\")"),
    Code("E107", "no-quality-gate", "error", "pipeline '{pipeline}' has no quality gate",
         "add an `expect NODE {{ ... }}` block, e.g. `expect {example} {{ unique id }}`"),
    Code("E108", "sink-not-idempotent", "error", "sink '{sink}' cannot be written idempotently: {reason}",
         "{hint}"),
    Code("E109", "secret-literal", "error", "'{key}' looks like a credential and is written as a literal",
         "reference a named secret instead: `{key} secret <name>`"),
    Code("E110", "window-without-event-time", "error",
         "windowed metric '{metric}' reads '{source}', which has no event_time column",
         "mark the column that carries event time: `created_at timestamp event_time lateness 1m`"),
    Code("E111", "import-cycle", "error", "import cycle: {cycle}",
         "remove one of the imports"),
    Code("E112", "invalid-value", "error", "invalid {what} '{value}'",
         "{hint}"),
    Code("E113", "wrong-quantity", "error", "expected {expected}, got '{value}'",
         "{hint}"),
    Code("E114", "missing-field", "error", "{what} is missing {field}",
         "{hint}"),
    Code("E115", "import-not-found", "error", "cannot read import '{path}': {reason}",
         "imports are resolved relative to the importing file"),
    Code("E116", "unsafe-name", "error", "name '{name}' {reason}",
         f"use a snake_case name of letters, digits and underscores, at most {MAX_NAME} characters"),
    Code("E117", "no-pipeline", "error", "no `pipeline` block",
         "start the spec with `pipeline NAME {{ owner \"team\"  tier standard  latency < 1h }}`"),
    Code("E118", "conflicting-fields", "error", "{message}",
         "{hint}"),
    Code("E120", "unsupported-by-backend", "error", "backend '{backend}' cannot express {what}",
         "{hint}"),
    # --- hostile input
    Code("E140", "bidi-control-character", "error",
         "invisible bidirectional control character {char} in the spec",
         "remove it: it makes text display in another order than it is read (\"Trojan Source\"), in the spec "
         "and in every file generated from it"),
    # --- resource limits (streamc/limits.py, docs/limits.md)
    Code("E150", "spec-too-large", "error", "'{path}' is too large: {reason}",
         "a spec and its imports hold at most {limit} together: split the pipeline into several specs"),
    Code("E151", "too-many-nodes", "error",
         "more than {limit} nodes (sources, models, metrics, sinks and expect blocks, imports included)",
         "split the pipeline into several specs"),
    Code("E152", "sql-too-deep", "error", "the SQL is nested too deeply: {reason}",
         "flatten it: move inner parts into CTEs (`with part as (...)`) or models of their own"),
    Code("E153", "too-many-tokens", "error", "{what} has more than {limit} tokens",
         "{hint}"),
    Code("E154", "too-many-imports", "error", "{message}",
         "{hint}"),
    # --- values the language accepts but no target can hold (fuzzing)
    Code("E160", "number-out-of-range", "error", "the number {value} is too large",
         "{hint}"),
    Code("E999", "internal-error", "error", "internal error: {message}",
         "this is a streamc bug: please report it with the spec that triggered it"),
    # --- warnings
    Code("W201", "mode-override", "warning", "mode {chosen} contradicts the rules, which give {derived}: {reason}",
         "remove `mode` to let streamc decide, or keep it knowingly"),
    Code("W202", "ask-first", "warning", "{condition}: a design decision to confirm with its owners",
         "confirm, then acknowledge it in the pipeline block: `acknowledge {ack}`"),
    Code("W203", "naming-convention", "warning", "model '{name}' does not follow the {layer} naming convention",
         "{hint}"),
    Code("W204", "probable-pii", "warning", "column '{column}' looks like personal data but is not marked pii",
         "mark it pii(hash|mask|drop|encrypt|keep \"reason\"), or ignore this warning if it is not PII"),
    # --- `streamc import`: reading an incoming handoff (the span is in the YAML file)
    Code("E130", "handoff-unknown-kind", "error", "not a handoff streamc imports: {found}",
         "a handoff has one of the top-level keys source_models (SCHEMA_TO_STREAM), analytics_requirements "
         "(PULSE_TO_STREAM) or api_integration (BUILDER_TO_STREAM)"),
    Code("E131", "handoff-unknown-field", "error", "unknown field '{field}' in {where}",
         "{hint}"),
    Code("E132", "handoff-missing-field", "error", "{where} is missing '{field}'",
         "{hint}"),
    Code("E133", "handoff-invalid-value", "error", "invalid {what}: '{value}'",
         "{hint}"),
    Code("E134", "handoff-yaml-syntax", "error", "the handoff is not valid YAML: {problem}",
         "fix the YAML at this position"),
    Code("E135", "handoff-spec-rejected", "error", "the spec written from this handoff does not compile: "
         "{code} {message}",
         "this is a streamc bug or a handoff value the importer misread: please report it with the handoff"),
)


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    hint: str
    span: Span | None
    severity: SeverityName

    @property
    def slug(self) -> str:
        return REGISTRY[self.code].slug

    def sort_key(self) -> tuple:
        s = self.span
        return (s.file, s.line, s.column, self.code) if s else ("", 0, 0, self.code)


SHOWN_ARGUMENT = 1000  # characters of one value quoted in a message (a 1 MB name is shown by its start and length)


def make(code: str, span: Span | None, **args: object) -> Diagnostic:
    entry = REGISTRY[code]
    args = {k: _shown_name(v) if isinstance(v, str) and len(v) > SHOWN_ARGUMENT else v for k, v in args.items()}
    return Diagnostic(code=code, message=entry.message.format(**args), hint=entry.hint.format(**args),
                      span=span, severity=entry.severity)


class CompileError(Exception):
    """Raised to stop compilation once errors have been collected."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__(f"{len(diagnostics)} diagnostic(s)")
        self.diagnostics = diagnostics


@dataclass
class Diagnostics:
    items: list[Diagnostic] = field(default_factory=list)

    def add(self, code: str, span: Span | None, **args: object) -> None:
        self.items.append(make(code, span, **args))

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.items.extend(diags)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        seen: set[tuple] = set()
        out = []
        for d in sorted(self.items, key=Diagnostic.sort_key):
            key = (d.code, d.message, d.sort_key())
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out

    def raise_if_errors(self) -> None:
        if self.has_errors():
            raise CompileError(self.sorted())


def _shown_name(name: str) -> str:
    return name if len(name) <= 64 else f"{name[:40]}... ({len(name)} characters)"


def did_you_mean(name: str, candidates: Iterable[str], what: str = "") -> str:
    """A one-line hint naming the closest candidate, or listing the options.

    Each hint compares the name with every candidate: past MAX_SUGGESTIONS hints in one compile (streamc/limits.py)
    the rest only say what is expected, so thousands of unknown names among thousands of nodes stay quick.
    """
    from .limits import current_budget

    budget = current_budget()
    if budget.suggestions <= 0:
        return f"check the {what or 'name'}: no suggestions after the first ones in a spec with this many errors"
    budget.suggestions -= 1
    options = sorted(set(candidates))
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{_shown_name(close[0])}'?"
    if not options:
        return f"define the {what} first" if what else "no candidates are defined"
    shown = ", ".join(_shown_name(o) for o in options[:8]) + (", ..." if len(options) > 8 else "")
    return f"expected one of: {shown}"


# ------------------------------------------------------------------ rendering


_SHOWN_AS_REPLACEMENT = re.compile("[\u202a-\u202e\u2066-\u2069\r\x0b\x0c\x85\u2028\u2029]")


SHOWN_LINE = 160  # characters of a source line shown under a diagnostic: a longer line is cut around the caret


def _shown_line(line: str, column: int) -> tuple[str, int]:
    """The part of a long line around `column` (1-based), marked '...' where cut, and the caret's column in it."""
    if len(line) <= SHOWN_LINE:
        return line, column
    start = max(0, min(column - 1 - SHOWN_LINE // 3, len(line) - SHOWN_LINE))
    head = "..." if start > 0 else ""
    tail = "..." if start + SHOWN_LINE < len(line) else ""
    return head + line[start:start + SHOWN_LINE] + tail, column - start + len(head)


def render_text(diags: list[Diagnostic], sources: dict[str, str]) -> str:
    """`file:line:col: error[CODE]: message`, the source line, a caret, and the hint."""
    out: list[str] = []
    lines_of: dict[str, list[str]] = {}  # each file split once: a large spec can have thousands of diagnostics
    for d in diags:
        if d.span is None:
            out.append(f"{d.severity}[{d.code}]: {d.message}")
        else:
            s = d.span
            out.append(f"{s.file}:{s.line}:{s.column}: {d.severity}[{d.code}]: {d.message}")
            text = sources.get(s.file)
            if text is not None:
                lines = lines_of.get(s.file)
                if lines is None:  # the compiler counts lines at LF only (not U+2028, NEL, FF)
                    lines = lines_of[s.file] = text.split("\n")
                if 1 <= s.line <= len(lines):
                    shown, column = _shown_line(lines[s.line - 1], s.column)
                    # shown as one visible character each: bidi controls would reorder the line on the terminal
                    line = _SHOWN_AS_REPLACEMENT.sub("\ufffd", shown.replace("\t", " "))
                    gutter = f"{s.line:>4} | "
                    width = max(1, (s.end_column - s.column) if s.end_line == s.line else len(line) - column + 1)
                    out.append(gutter + line)
                    out.append(" " * (len(gutter) + column - 1) + "^" + "~" * min(width - 1, 80))
        if d.hint:
            out.append(f"     = hint: {d.hint}")
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = len(diags) - errors
    if diags:
        out.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(out) + ("\n" if out else "")


def to_json_obj(diags: list[Diagnostic]) -> list[dict]:
    return [
        {
            "code": d.code,
            "slug": d.slug,
            "severity": d.severity,
            "message": d.message,
            "hint": d.hint,
            "file": d.span.file if d.span else None,
            "line": d.span.line if d.span else None,
            "column": d.span.column if d.span else None,
            "end_line": d.span.end_line if d.span else None,
            "end_column": d.span.end_column if d.span else None,
        }
        for d in diags
    ]


def render_json(diags: list[Diagnostic]) -> str:
    return json.dumps({"diagnostics": to_json_obj(diags)}, indent=2, sort_keys=True) + "\n"


def render_github(diags: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands: diagnostics show inline on the pull request."""

    def esc(text: str, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    out = []
    for d in diags:
        level = "error" if d.severity == "error" else "warning"
        where = ""
        if d.span:
            where = (f" file={esc(d.span.file, True)},line={d.span.line},col={d.span.column},"
                     f"endLine={d.span.end_line},endColumn={d.span.end_column},")
            where += f"title={esc(f'{d.code} {d.slug}', True)}"
        else:
            where = f" title={esc(f'{d.code} {d.slug}', True)}"
        out.append(f"::{level}{where}::{esc(d.message + ' (hint: ' + d.hint + ')')}")
    return "\n".join(out) + ("\n" if out else "")


def render_sarif(diags: list[Diagnostic]) -> str:
    """SARIF 2.1.0, the format code-review tools read for inline annotations."""
    from . import __version__

    used = sorted({d.code for d in diags})
    rules = [{"id": c, "name": REGISTRY[c].slug, "shortDescription": {"text": REGISTRY[c].slug.replace("-", " ")},
              "defaultConfiguration": {"level": "error" if REGISTRY[c].severity == "error" else "warning"}}
             for c in used]
    results = []
    for d in diags:
        r: dict = {"ruleId": d.code, "ruleIndex": used.index(d.code),
                   "level": "error" if d.severity == "error" else "warning",
                   "message": {"text": f"{d.message}\nhint: {d.hint}"}}
        if d.span:
            r["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": d.span.file.replace("\\", "/")},
                "region": {"startLine": d.span.line, "startColumn": d.span.column,
                           "endLine": d.span.end_line, "endColumn": d.span.end_column}}}]
        results.append(r)
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "streamc", "version": __version__,
                                         "informationUri": "https://streamc.dev", "rules": rules}},
                     "results": results}]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
