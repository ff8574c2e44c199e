"""The conformance checks every backend passes: determinism, purity, safe paths, text, honest feature declarations."""

from __future__ import annotations

import difflib
import importlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel

from ..backend_api import Backend, UsageError, parse_options
from ..diagnostics import Diagnostic, render_text
from ..features import DESCRIPTIONS, FEATURES, unknown_features
from ..ir import Spec
from ..output import OutputError, check_relative_path, validate_tree, write_tree
from . import probes as probe_specs
from .guards import default_read_roots, no_io


class ConformanceFailure(AssertionError):
    """A backend breaks the contract; the message says which rule, where, and what to change."""


# ------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class SpecInput:
    """A spec to run the backend on: a `.stream` file, a probe of the kit, or spec text."""

    label: str
    path: str | None = None
    text: str | None = None
    env: str | None = None

    @classmethod
    def of(cls, spec: SpecInput | Path | str, env: str | None = None) -> SpecInput:
        if isinstance(spec, SpecInput):
            return spec
        if isinstance(spec, Path) or ("\n" not in spec and spec.endswith(".stream")):
            p = Path(spec).resolve()
            return cls(label=p.stem, path=str(p), env=env)
        return cls(label="text", text=spec, env=env)

    def payload(self) -> dict:
        return {"label": self.label, "path": self.path, "text": self.text, "env": self.env}


def probe_inputs() -> list[SpecInput]:
    """The kit's own small specs, one per group of IR features (see streamc.testing.probes)."""
    return [SpecInput(label=f"probe-{p.name}", text=p.text) for p in probe_specs.PROBES]


_COMPILED: dict[SpecInput, Spec] = {}


def compile_spec(spec: SpecInput | Path | str, env: str | None = None) -> Spec:
    """Compile (cached per input); a spec that does not compile is a ConformanceFailure naming its diagnostics."""
    from ..compiler import compile_files, compile_text

    si = SpecInput.of(spec, env)
    if si not in _COMPILED:
        if si.path is not None:
            result = compile_files([Path(si.path)], env=si.env)
        else:
            result = compile_text(si.text or "", f"{si.label}.stream", env=si.env)
        if not result.ok or result.spec is None:
            raise ConformanceFailure(f"spec {si.label} does not compile:\n"
                                     + render_text(result.diagnostics, result.sources))
        _COMPILED[si] = result.spec
    return _COMPILED[si]


def instance(backend: Backend | type[Backend]) -> Backend:
    return backend() if isinstance(backend, type) else backend


def options_for(backend: Backend, options: BaseModel | dict | None) -> BaseModel:
    if isinstance(options, BaseModel):
        return options
    try:
        return parse_options(backend, dict(options or {}))
    except UsageError as e:
        raise ConformanceFailure(str(e)) from None


# ------------------------------------------------------------------ running a backend


@dataclass(frozen=True)
class Emission:
    diagnostics: tuple[Diagnostic, ...]
    files: dict[str, str] | None  # None: check() reported errors, emit was not called

    @property
    def rejected(self) -> bool:
        return self.files is None


def run_backend(backend: Backend, ir: Spec, options: BaseModel) -> Emission:
    """check(), then emit() when check() reports no error: what `streamc build` does."""
    diags = tuple(backend.check(ir, options))
    if any(d.severity == "error" for d in diags):
        return Emission(diags, None)
    files = backend.emit(ir, options)
    return Emission(diags, files)


_EMISSIONS: dict[tuple, Emission] = {}


def _key(backend: Backend, si: SpecInput, options: BaseModel) -> tuple:
    return (type(backend), si, options.model_dump_json())


def emission(backend: Backend, spec: SpecInput, options: BaseModel) -> Emission:
    """The first (unguarded) run, cached: later checks compare against it."""
    key = _key(backend, spec, options)
    if key not in _EMISSIONS:
        ir = compile_spec(spec)
        try:
            _EMISSIONS[key] = run_backend(backend, ir, options)
        except Exception as e:  # noqa: BLE001 - a crash is reported as the failure it is
            raise ConformanceFailure(f"{backend.name} on {spec.label}: check()/emit() raised "
                                     f"{type(e).__name__}: {e}") from e
    return _EMISSIONS[key]


def emit_files(backend: Backend | type[Backend], spec: SpecInput | Path | str,
               options: BaseModel | dict | None = None) -> dict[str, str]:
    """Compile, check and emit; a spec the backend rejects fails, naming the diagnostics (for snapshot tests)."""
    b = instance(backend)
    si = SpecInput.of(spec)
    em = emission(b, si, options_for(b, options))
    if em.rejected:
        raise ConformanceFailure(f"{b.name} rejects {si.label}: " + "; ".join(d.message for d in em.diagnostics))
    return dict(em.files or {})


# ------------------------------------------------------------------ the checks


def check_feature_names(backend: Backend) -> None:
    """`features` and `delegated` use the vocabulary of streamc.features and do not overlap."""
    delegated = getattr(backend, "delegated", frozenset())
    unknown = unknown_features(set(backend.features) | set(delegated))
    if unknown:
        raise ConformanceFailure(
            f"{backend.name} declares features outside the vocabulary (streamc.features.Feature): "
            f"{', '.join(unknown)}; known: {', '.join(sorted(FEATURES))}")
    both = sorted({str(f) for f in backend.features} & {str(f) for f in delegated})
    if both:
        raise ConformanceFailure(f"{backend.name} both expresses and delegates: {', '.join(both)}")


def check_determinism(backend: Backend, spec: SpecInput, options: BaseModel) -> None:
    first = emission(backend, spec, options)
    second = run_backend(backend, compile_spec(spec), options)
    if [d.message for d in first.diagnostics] != [d.message for d in second.diagnostics]:
        raise ConformanceFailure(f"{backend.name} on {spec.label}: check() gave different diagnostics on a second "
                                 "run with the same IR")
    problem = compare_trees(first.files, second.files)
    if problem:
        raise ConformanceFailure(f"{backend.name} on {spec.label}: emit() is not deterministic within one process "
                                 f"(timestamps, randomness, id()-ordering or state kept between calls?): {problem}")


def check_no_io(backend: Backend, spec: SpecInput, options: BaseModel) -> None:
    # no unguarded warm-up run: when this check comes first, a violating backend never gets to write anything.
    # (imports inside emit are fine: the import system writes .pyc files through posix, not the guarded os.)
    ir = compile_spec(spec)
    crashed = None
    roots = package_roots(backend)
    with no_io(default_read_roots(*roots), env_attributable=roots) as violations:
        try:
            run_backend(backend, ir, options)
        except Exception as e:  # noqa: BLE001 - a recorded violation explains the crash
            crashed = e
    if violations:
        raise ConformanceFailure(f"{backend.name} on {spec.label}: check()/emit() must do no I/O (no files, "
                                 "network, processes or environment): " + "; ".join(violations))
    if crashed is not None:
        raise ConformanceFailure(f"{backend.name} on {spec.label}: raised {type(crashed).__name__}: {crashed}")


def check_paths(backend: Backend, spec: SpecInput, options: BaseModel, folder: str | None = None) -> None:
    files = emission(backend, spec, options).files or {}
    where = f"{backend.name} on {spec.label}"
    folder = folder or backend.name
    problems = []
    for path in sorted(files):
        if not isinstance(path, str):
            problems.append(f"path {path!r} is not a str")
            continue
        try:
            check_relative_path(path)
        except OutputError as e:
            problems.append(str(e))
            continue
        if PurePosixPath(path).parts[0] != folder or len(PurePosixPath(path).parts) < 2:
            problems.append(f"'{path}' is not inside the backend's own folder '{folder}/'")
    if not problems:
        try:
            validate_tree(files)
        except OutputError as e:
            problems.append(str(e))
    if not problems and files:
        with tempfile.TemporaryDirectory(prefix="streamc-conformance-") as tmp:
            out = Path(tmp) / "out"
            write_tree(out, files)
            root = out.resolve()
            for path in files:
                written = (out / path).resolve()
                if root not in written.parents:
                    problems.append(f"'{path}' is written outside the output directory ({written})")
    if problems:
        raise ConformanceFailure(f"{where}: unsafe paths: " + "; ".join(problems))


def check_text(backend: Backend, spec: SpecInput, options: BaseModel) -> None:
    files = emission(backend, spec, options).files or {}
    problems = []
    for path, text in sorted(files.items(), key=lambda kv: str(kv[0])):
        if not isinstance(text, str):
            problems.append(f"'{path}' is {type(text).__name__}, not str")
        elif not text.endswith("\n"):
            problems.append(f"'{path}' does not end with a newline" + (" (it is empty)" if not text else ""))
        elif "\r" in text:
            problems.append(f"'{path}' contains a carriage return: emit '\\n' line endings only")
        else:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as e:
                problems.append(f"'{path}' cannot be written as UTF-8: {e}")
    if problems:
        raise ConformanceFailure(f"{backend.name} on {spec.label}: " + "; ".join(problems))


def check_unsupported_feature(backend: Backend, feature: str, options: BaseModel) -> None:
    """A spec using a feature the backend does not declare: check() reports E120 (or nothing at all is emitted)."""
    failures = []
    for p in probe_specs.probes_using(feature):
        si = SpecInput(label=f"probe-{p.name}", text=p.text)
        em = emission(backend, si, options)
        errors = [d for d in em.diagnostics if d.severity == "error"]
        if em.rejected:
            other = sorted({d.code for d in errors} - {"E120"})
            if other:
                failures.append(f"probe '{p.name}': check() returned {', '.join(other)}; a backend reports what it "
                                "cannot express as E120 (self.unsupported(span, what, hint))")
            elif any(d.span is None for d in errors):
                failures.append(f"probe '{p.name}': an E120 diagnostic has no span; point it at the spec "
                                "construct it is about")
            continue
        if em.files:
            failures.append(f"probe '{p.name}' uses '{feature}' ({DESCRIPTIONS[feature]}); check() returned no "
                            f"E120 and emit() wrote {len(em.files)} file(s) ({', '.join(sorted(em.files)[:3])}"
                            f"{', ...' if len(em.files) > 3 else ''})")
    if failures:
        raise ConformanceFailure(
            f"{backend.name} does not declare the feature '{feature}', yet: " + "; ".join(failures)
            + f". Add '{feature}' to {type(backend).__name__}.features (the output expresses it), or to its "
            "`delegated` (another backend expresses it, by design), or return self.unsupported(span, what, hint) "
            "from check() for it: never drop it silently")


def check_declared_feature(backend: Backend, feature: str, options: BaseModel) -> None:
    """A declared feature is expressed: at least one probe using it checks clean and emits files."""
    outcomes = []
    for p in probe_specs.probes_using(feature):
        em = emission(backend, SpecInput(label=f"probe-{p.name}", text=p.text), options)
        if not em.rejected and em.files:
            return
        if em.rejected:
            first = next(d for d in em.diagnostics if d.severity == "error")
            outcomes.append(f"'{p.name}' rejected ({first.code}: {first.message})")
        else:
            outcomes.append(f"'{p.name}' emitted nothing")
    raise ConformanceFailure(f"{backend.name} declares '{feature}' ({DESCRIPTIONS[feature]}) but expresses no probe "
                             f"that uses it: {'; '.join(outcomes) or 'no probe uses it'}")


def check_hashseed_determinism(backend: Backend, specs: Sequence[SpecInput], options: BaseModel,
                               seeds: Sequence[str] | None = None, timeout: float = 600) -> None:
    """Emit in fresh interpreters with other PYTHONHASHSEED values: the files are byte for byte the same."""
    expected = {si.label: emission(backend, si, options) for si in specs}
    parent_seed = os.environ.get("PYTHONHASHSEED", "random")
    for seed in seeds or (["1"] if parent_seed != "1" else ["2"]):
        got = emit_in_subprocess(backend, specs, options, seed, timeout)
        for si in specs:
            want, have = expected[si.label], got.get(si.label)
            if have is None:
                raise ConformanceFailure(f"{backend.name} on {si.label}: no result from the subprocess")
            if "error" in have:
                raise ConformanceFailure(f"{backend.name} on {si.label} (PYTHONHASHSEED={seed}): {have['error']}")
            if [d.message for d in want.diagnostics] != have["diagnostics"]:
                raise ConformanceFailure(f"{backend.name} on {si.label}: diagnostics differ with "
                                         f"PYTHONHASHSEED={seed} (iterating a set or dict of str?)")
            problem = compare_trees(want.files, have["files"])
            if problem:
                raise ConformanceFailure(f"{backend.name} on {si.label}: output differs with PYTHONHASHSEED={seed} "
                                         f"(iterating a set, or sorting by hash?): {problem}")


# ------------------------------------------------------------------ helpers


def compare_trees(a: dict[str, str] | None, b: dict[str, str] | None) -> str | None:
    """None when equal; else which paths differ and the start of a unified diff of the first."""
    if a == b:
        return None
    if a is None or b is None:
        return "one run rejected the spec and the other did not"
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    changed = sorted(p for p in set(a) & set(b) if a[p] != b[p])
    parts = []
    if only_a or only_b:
        parts.append(f"paths differ: only in the first run {only_a}, only in the second {only_b}")
    if list(a) != list(b) and not (only_a or only_b):
        parts.append("the same files in a different order (sort the dict emit() returns)")
    if changed:
        diff = "".join(list(difflib.unified_diff(a[changed[0]].splitlines(True), b[changed[0]].splitlines(True),
                                                 f"first/{changed[0]}", f"second/{changed[0]}"))[:40])
        parts.append(f"content differs in {', '.join(changed)}:\n{diff}")
    return "; ".join(parts) or None


def package_roots(backend: Backend) -> list[Path]:
    """Folders of the backend's packages and of streamc (their templates may be read during emit)."""
    roots: list[Path] = []
    names = [type(backend).__module__, "streamc", "streamc.backends"]
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            mod = sys.modules.get(".".join(parts[:i]))
            for entry in getattr(mod, "__path__", []) or []:
                roots.append(Path(entry))
            file = getattr(mod, "__file__", None)
            if file:
                roots.append(Path(file).parent)
    return roots


def backend_path(backend: Backend) -> str:
    cls = type(backend)
    return f"{cls.__module__}:{cls.__qualname__}"


def emit_in_subprocess(backend: Backend, specs: Sequence[SpecInput], options: BaseModel, seed: str,
                       timeout: float = 600) -> dict[str, dict]:
    payload = {"backend": backend_path(backend), "options": options.model_dump(mode="json"),
               "specs": [s.payload() for s in specs], "sys_path": [p for p in sys.path if p]}
    with tempfile.TemporaryDirectory(prefix="streamc-conformance-") as tmp:
        inp, out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inp.write_text(json.dumps(payload), encoding="utf-8")
        env = dict(os.environ, PYTHONHASHSEED=seed)
        # -P: no cwd on sys.path, so the child imports the same (installed) streamc as the parent
        proc = subprocess.run([sys.executable, "-P", "-c", "from streamc.testing.kit import child_main; child_main()",
                               str(inp), str(out)], capture_output=True, text=True, env=env, timeout=timeout)
        if proc.returncode != 0 or not out.is_file():
            raise ConformanceFailure(f"{backend.name}: the subprocess emitting with PYTHONHASHSEED={seed} failed "
                                     f"(exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
        return json.loads(out.read_text(encoding="utf-8"))


def child_main() -> None:
    """Entry of the subprocess: import the backend, compile each spec, run it; write JSON results."""
    inp, out = sys.argv[1], sys.argv[2]
    payload = json.loads(Path(inp).read_text(encoding="utf-8"))
    for p in reversed(payload["sys_path"]):
        if p not in sys.path:
            sys.path.insert(0, p)
    module, _, qual = payload["backend"].partition(":")
    obj = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    backend = obj()
    options = backend.options_model.model_validate(payload["options"])
    results = {}
    for s in payload["specs"]:
        si = SpecInput(**s)
        try:
            em = run_backend(backend, compile_spec(si), options)
            results[si.label] = {"diagnostics": [d.message for d in em.diagnostics], "files": em.files}
        except Exception as e:  # noqa: BLE001 - reported to the parent
            results[si.label] = {"error": f"{type(e).__name__}: {e}"}
    Path(out).write_text(json.dumps(results), encoding="utf-8")


# ------------------------------------------------------------------ the kit as a list of named checks


@dataclass(frozen=True)
class ConformanceCheck:
    """One named check; call it (or `.run()`) to run it: it raises ConformanceFailure on a violation."""

    id: str
    run: Callable[[], None]

    def __call__(self) -> None:
        self.run()

    def __str__(self) -> str:
        return self.id


def conformance_checks(backend: Backend | type[Backend], specs: Iterable[SpecInput | Path | str] | None = None,
                       options: BaseModel | dict | None = None, *, folder: str | None = None,
                       subprocess_seeds: Sequence[str] | None = None, hashseed: bool = True,
                       features: bool = True) -> list[ConformanceCheck]:
    """Every check for one backend. `specs`: the specs to run it on (default: the kit's probes); `folder`: the
    top-level folder its paths start with (default: its name). Use with pytest:

        @pytest.mark.parametrize("check", conformance_checks(MyBackend, ["specs/a.stream"]), ids=str)
        def test_conformance(check):
            check()
    """
    b = instance(backend)
    opts = options_for(b, options)
    inputs = [SpecInput.of(s) for s in specs] if specs is not None else probe_inputs()
    checks = [ConformanceCheck("feature-names", lambda: check_feature_names(b))]
    for si in inputs:
        checks += [
            ConformanceCheck(f"determinism[{si.label}]", lambda si=si: check_determinism(b, si, opts)),
            ConformanceCheck(f"no-io[{si.label}]", lambda si=si: check_no_io(b, si, opts)),
            ConformanceCheck(f"paths[{si.label}]", lambda si=si: check_paths(b, si, opts, folder)),
            ConformanceCheck(f"text[{si.label}]", lambda si=si: check_text(b, si, opts)),
        ]
    if hashseed and inputs:
        checks.append(ConformanceCheck("hashseed-determinism", lambda: check_hashseed_determinism(
            b, inputs, opts, subprocess_seeds)))
    if features:
        delegated = {str(x) for x in getattr(b, "delegated", ())}
        for f in sorted(FEATURES):
            if f in {str(x) for x in b.features}:
                checks.append(ConformanceCheck(f"declared-feature[{f}]",
                                               lambda f=f: check_declared_feature(b, f, opts)))
            elif f not in delegated:
                checks.append(ConformanceCheck(f"unsupported-feature[{f}]",
                                               lambda f=f: check_unsupported_feature(b, f, opts)))
    return checks


def assert_conformant(backend: Backend | type[Backend], specs: Iterable[SpecInput | Path | str] | None = None,
                      options: BaseModel | dict | None = None, **kwargs) -> None:
    """Run every check; raise one ConformanceFailure listing all that failed."""
    failed = []
    for check in conformance_checks(backend, specs, options, **kwargs):
        try:
            check()
        except ConformanceFailure as e:
            failed.append(f"- {check.id}: {e}")
    if failed:
        raise ConformanceFailure(f"{len(failed)} conformance check(s) failed:\n" + "\n".join(failed))
