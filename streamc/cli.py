"""The `streamc` command line: build, check, explain, graph, fmt, backends. Exit 0 ok, 1 spec errors, 2 usage/IO."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_SPEC, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's default exits 2 with usage: keep that, it is a usage error
        self.print_usage(sys.stderr)
        print(f"streamc: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="streamc", description="Compile .stream pipeline specs into runnable artefacts.")
    p.add_argument("--version", action="version", version=f"streamc {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    def specs(sp, many=True):
        sp.add_argument("specs", nargs="+" if many else None, type=Path, metavar="SPEC", help=".stream file(s)")
        sp.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text",
                        help="diagnostics format: text, json, sarif (code review tools), github (annotations)")
        sp.add_argument("--env", default=None, help="environment whose overrides apply (e.g. dev, prod)")

    b = sub.add_parser("build", help="compile specs and write the generated files")
    specs(b)
    b.add_argument("-o", "--output", type=Path, default=Path("out"), help="output directory (default: out)")
    b.add_argument("--target", action="append", default=[], help="backend name(s), comma-separated; default all")
    b.add_argument("--opt", action="append", default=[], metavar="BACKEND.OPTION=VALUE", help="backend option")
    b.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files on disk differ")
    b.add_argument("--diff", action="store_true", help="with --check, show a unified diff of what differs")
    b.add_argument("--profile", action="store_true", help="print the time spent in each phase to stderr")

    c = sub.add_parser("check", help="report diagnostics only")
    specs(c)

    e = sub.add_parser("explain", help="print every design decision and why")
    specs(e, many=False)

    g = sub.add_parser("graph", help="print the Mermaid data-flow diagram")
    specs(g, many=False)

    f = sub.add_parser("fmt", help="format specs canonically (comments kept)")
    f.add_argument("specs", nargs="+", type=Path, metavar="SPEC")
    f.add_argument("--check", action="store_true", help="write nothing; exit 1 listing files that would change")

    bk = sub.add_parser("backends", help="list installed backends")
    bk.add_argument("--format", choices=("text", "json"), default="text")
    return p


MACHINE_FORMATS = ("json", "sarif", "github")


def render_diagnostics(diags, sources: dict[str, str], fmt: str) -> str:
    from .diagnostics import render_github, render_json, render_sarif, render_text

    renderers = {"json": render_json, "sarif": render_sarif, "github": render_github}
    return renderers[fmt](diags) if fmt in renderers else render_text(diags, sources)


def report(result, fmt: str, stream=None) -> None:
    stream = stream or (sys.stdout if fmt in MACHINE_FORMATS else sys.stderr)
    stream.write(render_diagnostics(result.diagnostics, result.sources, fmt))


def compile_or_exit(args) -> tuple[object, int]:
    from .compiler import compile_files

    missing = [p for p in args.specs if not Path(p).is_file()]
    if missing:
        print(f"streamc: error: no such spec file: {', '.join(map(str, missing))}", file=sys.stderr)
        return None, EXIT_USAGE
    result = compile_files(list(args.specs), env=args.env)
    report(result, args.format)
    return result, (EXIT_OK if result.ok else EXIT_SPEC)


def cmd_check(args) -> int:
    result, code = compile_or_exit(args)
    return code


def cmd_build(args) -> int:
    from .build import run_build

    return run_build(args)


def cmd_explain(args) -> int:
    from .explain import render_explain

    args.specs = [args.specs]
    result, code = compile_or_exit(args)
    if code != EXIT_OK:
        return code
    sys.stdout.write(render_explain(result.spec, args.format))
    return EXIT_OK


def cmd_graph(args) -> int:
    from .backend_api import Registry, parse_options

    args.specs = [args.specs]
    result, code = compile_or_exit(args)
    if code != EXIT_OK:
        return code
    backend = Registry().get("mermaid")
    files = backend.emit(result.spec, parse_options(backend, {}))
    text = next(v for k, v in sorted(files.items()) if k.endswith(".mmd"))
    sys.stdout.write(text)
    return EXIT_OK


def cmd_fmt(args) -> int:
    from .formatter import format_file

    changed, failed = [], False
    for path in args.specs:
        try:
            original = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            print(f"streamc: error: cannot read {path}: {e}", file=sys.stderr)
            return EXIT_USAGE
        formatted, diags = format_file(original, str(path))
        if formatted is None:
            from .diagnostics import render_text

            sys.stderr.write(render_text(diags, {str(path): original}))
            failed = True
            continue
        if formatted != original:
            changed.append(str(path))
            if not args.check:
                Path(path).write_text(formatted, encoding="utf-8")
    if args.check and changed:
        for p in changed:
            print(f"would reformat {p}")
        return EXIT_SPEC
    for p in changed:
        print(f"reformatted {p}")
    return EXIT_SPEC if failed else EXIT_OK


def cmd_backends(args) -> int:
    from .backend_api import Registry

    reg = Registry()
    rows = []
    for name in reg.names():
        info = reg.infos[name]
        backend = reg.get(name)
        rows.append({"name": name, "version": info.version, "distribution": info.distribution,
                     "description": backend.description, "features": sorted(backend.features),
                     "options": sorted(backend.options_model.model_fields)})
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:<10} {r['distribution']} {r['version']}  {r['description']}")
            print(f"{'':<10} features: {', '.join(r['features']) or '-'}; options: {', '.join(r['options']) or '-'}")
    return EXIT_OK


COMMANDS = {"build": cmd_build, "check": cmd_check, "explain": cmd_explain, "graph": cmd_graph, "fmt": cmd_fmt,
            "backends": cmd_backends}


def main(argv: list[str] | None = None) -> int:
    from .backend_api import UsageError
    from .output import OutputError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as e:
        print(f"streamc: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OutputError as e:
        print(f"streamc: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:
        print(f"streamc: error: {e.strerror or e}: {getattr(e, 'filename', '') or ''}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except RecursionError:
        print("streamc: error: the spec is nested too deeply to compile", file=sys.stderr)
        return EXIT_SPEC
    except Exception as e:  # noqa: BLE001 - no traceback reaches the user
        print(f"streamc: internal error: {type(e).__name__}: {e}\n"
              "this is a streamc bug: please report it with the spec that triggered it", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
