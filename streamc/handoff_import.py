"""`streamc import HANDOFF.yaml`: turn an incoming handoff (schema, analytics, API) into a formatted .stream spec."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic, Diagnostics, make
from .ir import Span

EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2

# the top-level key that tells each handoff apart
KINDS = {"source_models": "SCHEMA_TO_STREAM", "analytics_requirements": "PULSE_TO_STREAM",
         "api_integration": "BUILDER_TO_STREAM"}


@dataclass
class ImportResult:
    text: str | None  # the formatted spec; None when the handoff has errors
    kind: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.text is not None and not any(d.severity == "error" for d in self.diagnostics)


def import_handoff(text: str, file: str = "handoff.yaml", spec_name: str = "imported.stream") -> ImportResult:
    """Read a handoff; return the spec text (canonical form) that `streamc check` accepts, or the diagnostics."""
    from .compiler import compile_text
    from .formatter import format_file
    from .handoffs import builder_handoff, pulse_handoff, schema_handoff
    from .handoffs.yaml_nodes import HandoffError, compose

    diags = Diagnostics()
    root = compose(text, file, diags)
    if root is None:
        return ImportResult(None, None, diags.sorted())
    present = [k for k in KINDS if root.has(k)]
    if len(present) != 1:
        found = ("keys " + ", ".join(name for name, _, _ in root.keys())) if not present else \
            "several handoffs in one file (" + ", ".join(present) + ")"
        diags.add("E130", root.span, found=found)
        return ImportResult(None, None, diags.sorted())
    kind = KINDS[present[0]]
    converter = {"SCHEMA_TO_STREAM": schema_handoff, "PULSE_TO_STREAM": pulse_handoff,
                 "BUILDER_TO_STREAM": builder_handoff}[kind]
    try:
        draft = converter.convert(root, Path(file).name)
    except HandoffError:
        return ImportResult(None, kind, diags.sorted())
    if diags.has_errors():
        return ImportResult(None, kind, diags.sorted())
    formatted, fmt_diags = format_file(draft.text(), spec_name)
    if formatted is None:
        return ImportResult(None, kind, diags.sorted() + _as_import_errors(root.span, fmt_diags))
    result = compile_text(formatted, spec_name)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    if errors:
        return ImportResult(None, kind, diags.sorted() + _as_import_errors(root.span, errors))
    return ImportResult(formatted, kind, diags.sorted())


def _as_import_errors(span: Span, diags: list[Diagnostic]) -> list[Diagnostic]:
    """The spec streamc wrote does not compile: a streamc bug or a handoff the importer misread."""
    return [make("E135", span, code=d.code, message=d.message) for d in diags if d.severity == "error"]


# ------------------------------------------------------------------ command line


def add_import_parser(subparsers) -> None:
    p = subparsers.add_parser("import", help="turn a SCHEMA/PULSE/BUILDER_TO_STREAM handoff (YAML) into a .stream spec")
    p.add_argument("handoff", type=Path, metavar="HANDOFF.yaml")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="SPEC.stream",
                   help="where to write the spec (default: print it)")
    p.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text",
                   help="diagnostics format")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")


def cmd_import(args) -> int:
    from .diagnostics import render_github, render_json, render_sarif, render_text

    path: Path = args.handoff
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"streamc: error: cannot read {path}: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.output is not None and args.output.exists() and not getattr(args, "force", False):
        print(f"streamc: error: {args.output} exists; pass --force to overwrite it", file=sys.stderr)
        return EXIT_USAGE
    spec_name = str(args.output) if args.output is not None else f"{path.stem}.stream"
    result = import_handoff(text, str(path), spec_name)
    renderers = {"json": render_json, "sarif": render_sarif, "github": render_github}
    fmt = getattr(args, "format", "text")
    if result.diagnostics or fmt in renderers:
        out = renderers[fmt](result.diagnostics) if fmt in renderers else render_text(result.diagnostics,
                                                                                      {str(path): text})
        (sys.stdout if fmt in renderers and args.output is not None else sys.stderr).write(out)
    if not result.ok:
        return EXIT_SPEC
    if args.output is None:
        sys.stdout.write(result.text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(result.text, encoding="utf-8")
        print(f"wrote {args.output} ({result.kind}_HANDOFF)", file=sys.stderr)
    return EXIT_OK
