"""The `streamc` command line: build, check, diff, explain, graph, fmt, backends. Exit 0 ok, 1 spec/diff, 2 usage."""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
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

    def specs(sp, many=True, optional=False):
        sp.add_argument("specs", nargs="*" if optional else "+" if many else None, type=Path, metavar="SPEC",
                        help=".stream file(s)" + ("; default: the configuration's `specs`" if optional else ""))
        sp.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text",
                        help="diagnostics format: text, json, sarif (code review tools), github (annotations)")
        sp.add_argument("--env", default=None, help="environment whose overrides apply (e.g. dev, prod)")

    def config(sp):
        sp.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="configuration file (default: streamc.toml or [tool.streamc] in pyproject.toml, "
                             "searched from the current directory up to the repository root)")
        sp.add_argument("--no-config", action="store_true", help="ignore any configuration file")

    def optional_specs(sp):
        specs(sp, optional=True)
        config(sp)

    b = sub.add_parser("build", help="compile specs and write the generated files")
    optional_specs(b)
    b.add_argument("-o", "--output", type=Path, default=None,
                   help="output directory (default: the configuration's `output`, else out)")
    b.add_argument("--target", action="append", default=[], help="backend name(s), comma-separated; default all")
    b.add_argument("--opt", action="append", default=[], metavar="BACKEND.OPTION=VALUE", help="backend option")
    b.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files on disk differ")
    b.add_argument("--diff", action="store_true", help="with --check, show a unified diff of what differs")
    b.add_argument("--profile", action="store_true", help="print the time spent in each phase to stderr")

    c = sub.add_parser("check", help="report diagnostics only")
    optional_specs(c)

    d = sub.add_parser("diff", help="classify contract changes between two versions of a spec; exit 1 if breaking")
    d.add_argument("old", type=Path, metavar="OLD.stream")
    d.add_argument("new", type=Path, metavar="NEW.stream")
    d.add_argument("--format", choices=("text", "json"), default="text")
    d.add_argument("--allow-breaking", action="store_true",
                   help="acknowledge the breaking changes: report them, exit 0")
    d.add_argument("--bug-fix-window", default=None, metavar="DURATION",
                   help="the logic changes fix a bug in this recent window (e.g. 3d): reprocess only that window")
    d.add_argument("--env", default=None, help="environment whose overrides apply")

    e = sub.add_parser("explain", help="print every design decision and why")
    specs(e, many=False)

    g = sub.add_parser("graph", help="print the Mermaid data-flow diagram")
    specs(g, many=False)

    f = sub.add_parser("fmt", help="format specs canonically (comments kept)")
    f.add_argument("specs", nargs="+", type=Path, metavar="SPEC")
    f.add_argument("--check", action="store_true", help="write nothing; exit 1 listing files that would change")

    bk = sub.add_parser("backends", help="list installed backends")
    bk.add_argument("--format", choices=("text", "json"), default="text")

    from .handoff_import import add_import_parser

    add_import_parser(sub)
    return p


MACHINE_FORMATS = ("json", "sarif", "github")


def render_diagnostics(diags, sources: dict[str, str], fmt: str) -> str:
    from .diagnostics import render_github, render_json, render_sarif, render_text

    renderers = {"json": render_json, "sarif": render_sarif, "github": render_github}
    return renderers[fmt](diags) if fmt in renderers else render_text(diags, sources)


def report(result, fmt: str, stream=None) -> None:
    stream = stream or (sys.stdout if fmt in MACHINE_FORMATS else sys.stderr)
    stream.write(render_diagnostics(result.diagnostics, result.sources, fmt))


def compile_or_exit(args, diagnostics_format: str | None = None) -> tuple[object, int]:
    """Compile each SPEC as its own program (a spec and its imports); report diagnostics of all of them."""
    from .compiler import CompileResult, compile_files

    missing = [p for p in args.specs if not Path(p).is_file()]
    if missing:
        print(f"streamc: error: no such spec file: {', '.join(map(str, missing))}", file=sys.stderr)
        return None, EXIT_USAGE
    results = [compile_files([spec], env=args.env) for spec in args.specs]
    merged = CompileResult(spec=results[0].spec if len(results) == 1 else None,
                           diagnostics=[d for r in results for d in r.diagnostics],
                           sources={k: v for r in results for k, v in r.sources.items()})
    report(merged, diagnostics_format or args.format)
    ok = all(r.ok for r in results)
    return (results[0] if len(results) == 1 else merged), (EXIT_OK if ok else EXIT_SPEC)


def apply_config(args, output: bool = False):
    """Fill what the command line left out from the configuration file; the command line wins.

    With a configuration file, paths are re-expressed relative to its directory (the project root), where the
    command then runs (see `anchored`): the generated files name specs the same way from any directory.
    """
    from .backend_api import UsageError
    from .config import load_config

    config = load_config(args.config, args.no_config)
    if config.path is not None:
        args.specs = [config.relative(p) for p in args.specs]
        if output and args.output is not None:
            args.output = config.relative(args.output)
    if not args.specs:
        args.specs = [config.relative(p) for p in config.spec_paths()]
        if not args.specs:
            raise UsageError("no spec given: name .stream files, or list them in `specs` of streamc.toml / "
                             "[tool.streamc] in pyproject.toml")
    if args.env is None:
        args.env = config.env
    if output and args.output is None:
        args.output = Path(config.output) if config.output is not None else Path("out")
    return config


@contextmanager
def anchored(config):
    """Run in the configuration file's directory (paths were made relative to it by apply_config)."""
    if config.path is None:
        yield
        return
    previous = os.getcwd()
    os.chdir(config.root)
    try:
        yield
    finally:
        os.chdir(previous)


def cmd_check(args) -> int:
    config = apply_config(args)
    with anchored(config):
        result, code = compile_or_exit(args)
    return code


def cmd_build(args) -> int:
    from .build import run_build

    config = apply_config(args, output=True)
    with anchored(config):
        return run_build(args, config)


def cmd_diff(args) -> int:
    from .contract_diff import run_diff

    return run_diff(args)


def cmd_explain(args) -> int:
    from .explain import render_explain

    args.specs = [args.specs]
    # with --format json, stdout carries only the explain document (its warnings are inside it)
    result, code = compile_or_exit(args, diagnostics_format="text")
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
    options = parse_options(backend, {})
    problems = backend.check(result.spec, options)
    if problems:
        sys.stderr.write(render_diagnostics(problems, result.sources, "text"))
        if any(d.severity == "error" for d in problems):
            return EXIT_SPEC
    files = backend.emit(result.spec, options)
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
                     "entry_point": info.entry_point.value, "description": backend.description,
                     "features": sorted(map(str, backend.features)),
                     "delegated": sorted(map(str, getattr(backend, "delegated", ()))),
                     "options": sorted(backend.options_model.model_fields)})
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    else:
        width = max([10] + [len(r["name"]) + 1 for r in rows])
        for r in rows:
            print(f"{r['name']:<{width}} {r['distribution']} {r['version']}  {r['description']}")
            line = f"features: {', '.join(r['features']) or '-'}"
            if r["delegated"]:
                line += f"; delegated: {', '.join(r['delegated'])}"
            print(f"{'':<{width}} {line}; options: {', '.join(r['options']) or '-'}")
    return EXIT_OK


def cmd_import(args) -> int:
    from .handoff_import import cmd_import as run

    return run(args)


COMMANDS = {"import": cmd_import, "build": cmd_build, "check": cmd_check, "diff": cmd_diff, "explain": cmd_explain, "graph": cmd_graph,
            "fmt": cmd_fmt, "backends": cmd_backends}


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


def run() -> None:
    """The `streamc` command: `main`, then a hard exit.

    Like mypy's `hard_exit`: every file is written and closed by now, so the process skips tearing down the
    interpreter's object graph (parsed SQL, the IR, imported modules), which costs a few hundred ms.
    """
    tune_garbage_collector(sys.argv[1:2])
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


COMPILING_COMMANDS = frozenset({"build", "check", "explain", "graph", "diff"})


def tune_garbage_collector(command: list[str]) -> None:
    """For a command that compiles: the modules it needs are imported first and frozen out of the collector's
    reach, and young collections run less often. A 10,000-node spec allocates millions of objects; with
    Python's defaults the collector re-scans the imported world hundreds of times (about a third of the run),
    at no gain in peak memory. Only the `streamc` process does this: in-process callers keep their settings."""
    if not COMPILING_COMMANDS.intersection(command):
        return
    import gc

    from . import compiler  # noqa: F401 - imported to be frozen with the rest of the start-up objects

    gc.freeze()
    gc.set_threshold(5000, 10, 10)


if __name__ == "__main__":
    run()
