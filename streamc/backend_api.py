"""The backend contract (one class, typed options, pure emit) and the per-run registry of entry-point backends."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib import metadata
from typing import ClassVar

from pydantic import BaseModel, ValidationError

from .diagnostics import Diagnostic, make
from .ir import Span, Spec

ENTRY_POINT_GROUP = "streamc.backends"


class UsageError(Exception):
    """A command-line or configuration mistake (exit code 2)."""


class NoOptions(BaseModel):
    model_config = {"extra": "forbid"}


@dataclass(frozen=True)
class Unsupported:
    """Something a backend cannot express, gathered while it plans its output; `check` reports each as E120."""

    span: Span | None
    what: str
    hint: str


class Backend:
    """Subclass, set `name`, `options_model` and `features`, implement `emit`; optionally `check`.

    `emit` must be pure: it reads the IR (never the parse tree), does no I/O, and returns
    {relative posix path: file text}. Anything it cannot express is reported by `check` as
    diagnostics (see `unsupported`), never silently dropped.

    `features` names the IR features (streamc.features.Feature) the output expresses; `delegated` those the
    backend deliberately leaves to another backend (dbt leaves the `schedule` to the orchestrator). For any
    other feature a spec uses, `check` returns E120. streamc.testing checks all three claims.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    options_model: ClassVar[type[BaseModel]] = NoOptions
    features: ClassVar[frozenset[str]] = frozenset()
    delegated: ClassVar[frozenset[str]] = frozenset()

    def check(self, ir: Spec, options: BaseModel) -> list[Diagnostic]:
        return []

    def emit(self, ir: Spec, options: BaseModel) -> dict[str, str]:
        raise NotImplementedError

    # helper for subclasses
    def unsupported(self, span: Span | None, what: str, hint: str) -> Diagnostic:
        return make("E120", span, backend=self.name, what=what, hint=hint)


@dataclass(frozen=True)
class BackendInfo:
    name: str
    distribution: str
    version: str
    entry_point: metadata.EntryPoint


class Registry:
    """Backends found through the `streamc.backends` entry points; loaded lazily, created per run."""

    def __init__(self, entry_points: list[metadata.EntryPoint] | None = None):
        eps = entry_points if entry_points is not None else list(metadata.entry_points(group=ENTRY_POINT_GROUP))
        self.infos: dict[str, BackendInfo] = {}
        for ep in sorted(eps, key=lambda e: (e.name, e.value)):
            dist = ep.dist.name if ep.dist is not None else "unknown"
            version = ep.dist.version if ep.dist is not None else "unknown"
            if ep.name in self.infos:
                other = self.infos[ep.name]
                if other.entry_point.value == ep.value:
                    continue  # the same distribution seen twice on sys.path
                raise UsageError(f"backend name '{ep.name}' is registered twice: by {other.distribution} "
                                 f"({other.entry_point.value}) and by {dist} ({ep.value}); uninstall one")
            self.infos[ep.name] = BackendInfo(ep.name, dist, version, ep)
        self._loaded: dict[str, Backend] = {}

    def names(self) -> list[str]:
        return sorted(self.infos)

    def get(self, name: str) -> Backend:
        if name in self._loaded:
            return self._loaded[name]
        info = self.infos.get(name)
        if info is None:
            close = difflib.get_close_matches(name, self.infos, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else f"installed backends: {', '.join(self.names())}"
            raise UsageError(f"unknown backend '{name}'; {hint}")
        try:
            cls = info.entry_point.load()
        except Exception as e:  # noqa: BLE001 - a broken plugin is a usage problem, not a crash
            raise UsageError(f"backend '{name}' from {info.distribution} failed to load: {type(e).__name__}: {e}")
        if not (isinstance(cls, type) and issubclass(cls, Backend)):
            raise UsageError(f"backend '{name}' ({info.entry_point.value}) is not a streamc Backend subclass")
        if getattr(cls, "name", None) != name:
            raise UsageError(f"backend '{name}' ({info.entry_point.value}) declares name '{getattr(cls, 'name', None)}'")
        backend = cls()
        self._loaded[name] = backend
        return backend


def parse_options(backend: Backend, raw: dict[str, object]) -> BaseModel:
    try:
        return backend.options_model.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or '(options)'}: {err['msg']}" for err in e.errors())
        fields = ", ".join(backend.options_model.model_fields) or "none"
        raise UsageError(f"invalid options for backend '{backend.name}': {problems} (options: {fields})")


def split_opts(pairs: list[str]) -> dict[str, dict[str, object]]:
    """`dbt.profile=analytics` -> {"dbt": {"profile": "analytics"}}; values stay strings (pydantic coerces)."""
    out: dict[str, dict[str, object]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        backend, dot, option = key.partition(".")
        if not sep or not dot or not backend or not option:
            raise UsageError(f"--opt expects BACKEND.OPTION=VALUE, got '{pair}'")
        out.setdefault(backend, {})[option] = value
    return out
