"""The build command: compile, run the selected backends, then write (or --check) the output tree."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path

from .backend_api import Registry, UsageError, split_opts
from .config import Config, resolve_options
from .diagnostics import Diagnostic
from .python_format import PythonFormatter


class Profile:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.rows: list[tuple[str, float]] = []

    @contextmanager
    def phase(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.rows.append((name, time.perf_counter() - start))

    def add(self, name: str, seconds: float) -> None:
        self.rows.append((name, seconds))

    def print(self) -> None:
        if self.enabled:
            summed: dict[str, float] = {}
            for name, t in self.rows:  # repeated phases (several specs) add up
                summed[name] = summed.get(name, 0.0) + t
            total = sum(summed.values())
            for name, t in summed.items():
                print(f"profile: {name:<24} {t * 1000:9.1f} ms", file=sys.stderr)
            print(f"profile: {'total':<24} {total * 1000:9.1f} ms", file=sys.stderr)


def selected_targets(args, registry: Registry, config: Config | None = None) -> list[str]:
    """`--target` names, else the configuration's `targets`, else every installed backend."""
    names = [n.strip() for chunk in args.target for n in chunk.split(",") if n.strip()]
    if not names and config is not None and config.targets is not None:
        for i, n in enumerate(config.targets):
            if n not in registry.infos:
                try:
                    registry.get(n)
                except UsageError as e:
                    raise UsageError(f"{config.where('targets')}[{i}]: {e}") from None
        names = list(config.targets)
    if not names:
        return registry.names()
    for n in names:
        registry.get(n)  # raises a UsageError with a closest-match suggestion
    return list(dict.fromkeys(names))


def backend_options(registry: Registry, targets: list[str], raw_opts: dict, config: Config) -> dict:
    """Each selected backend's validated options (file, then command line); every configured backend must exist."""
    for name in sorted(config.backends):
        if name not in registry.infos:
            try:
                registry.get(name)
            except UsageError as e:
                raise UsageError(f"{config.where('backends', name)}: {e}") from None
    return {name: resolve_options(registry.get(name), config, raw_opts.get(name, {})) for name in targets}


def generate(spec, registry: Registry, targets: list[str], options_by_backend: dict,
             prof: "Profile | None" = None,
             formatter: PythonFormatter | None = None) -> tuple[dict[str, str], list[Diagnostic]]:
    """Run the backends' checks, then their emitters, then format Python; files are keyed `<pipeline>/<path>`."""
    prof = prof or Profile(False)
    formatter = formatter or PythonFormatter()
    diags: list[Diagnostic] = []
    prepared = []
    for name in targets:
        backend = registry.get(name)
        options = options_by_backend[name]
        with prof.phase(f"backend {name}"):
            diags.extend(backend.check(spec, options))
        prepared.append((backend, options))
    if any(d.severity == "error" for d in diags):
        return {}, diags
    files: dict[str, str] = {}
    for backend, options in prepared:
        with prof.phase(f"backend {backend.name}"):
            emitted = backend.emit(spec, options)
        with prof.phase("formatting (black)"):
            emitted = formatter.format_files(emitted)
        for rel, text in emitted.items():
            key = f"{spec.pipeline.name}/{rel}"
            if key in files and files[key] != text:
                raise UsageError(f"two backends emit '{key}' with different content")
            files[key] = text
    return files, diags


def run_build(args, config: Config | None = None) -> int:
    from .compiler import compile_files
    from .output import compare, write_tree

    config = config or Config()
    from . import IMPORTED_AT

    prof = Profile(args.profile)
    prof.add("import + start-up", time.perf_counter() - IMPORTED_AT)
    missing = [p for p in args.specs if not Path(p).is_file()]
    if missing:
        print(f"streamc: error: no such spec file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    registry = Registry()
    targets = selected_targets(args, registry, config)
    raw_opts = split_opts(args.opt)
    unknown = sorted(set(raw_opts) - set(targets))
    if unknown:
        raise UsageError(f"--opt for backend(s) not selected: {', '.join(unknown)}")
    options_by_backend = backend_options(registry, targets, raw_opts, config)

    all_files: dict[str, str] = {}
    all_diags: list[Diagnostic] = []
    sources: dict[str, str] = {}
    failed = False
    formatter = PythonFormatter()
    # the order specs are named in changes nothing: each is compiled on its own, in a fixed order
    for spec_path in sorted(dict.fromkeys(Path(p) for p in args.specs), key=lambda p: p.resolve().as_posix()):
        result = compile_files([spec_path], env=args.env)
        for phase, seconds in result.timings.items():
            prof.add(phase, seconds)
        all_diags.extend(result.diagnostics)
        sources.update(result.sources)
        if not result.ok:
            failed = True
            continue
        files, diags = generate(result.spec, registry, targets, options_by_backend, prof, formatter)
        all_diags.extend(diags)
        if any(d.severity == "error" for d in diags):
            failed = True
        for k in files:
            if k in all_files:
                raise UsageError(f"two specs generate '{k}': give their pipelines different names")
        all_files.update(files)

    from .cli import MACHINE_FORMATS, render_diagnostics

    stream = sys.stdout if args.format in MACHINE_FORMATS else sys.stderr
    stream.write(render_diagnostics(all_diags, sources, args.format))
    if failed:
        print("streamc: build failed; nothing was written", file=sys.stderr)
        prof.print()
        return 1
    if args.check:
        with prof.phase("compare"):
            cmp = compare(args.output, all_files, with_diff=args.diff)
        prof.print()
        if cmp.clean:
            print(f"streamc: {len(all_files)} file(s) up to date in {args.output}", file=sys.stderr)
            return 0
        for label, paths in (("differs", cmp.changed), ("missing", cmp.missing), ("stale", cmp.stale)):
            for p in paths:
                print(f"{label}: {args.output / p}")
        for p, d in cmp.diffs.items():
            sys.stdout.write(d)
        return 1
    with prof.phase("write"):
        write_tree(args.output, all_files)
    prof.print()
    print(f"streamc: wrote {len(all_files)} file(s) to {args.output}", file=sys.stderr)
    return 0
