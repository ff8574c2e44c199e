"""Project configuration: `streamc.toml` or `[tool.streamc]` in pyproject.toml, found from the working directory up.

Discovery: from the current directory upward, the first directory holding a `streamc.toml`, or a
`pyproject.toml` with a `[tool.streamc]` table, wins (streamc.toml first when a directory has both).
The search stops at the repository root (a directory containing `.git`), so a checkout never picks up
a configuration from outside itself. `--config FILE` names the file instead; `--no-config` ignores any.
Relative paths in the file (`specs`, `output`) are relative to the file's directory.
The command line wins over the file: `--target`, `-o`, `--env`, and each `--opt BACKEND.KEY=VALUE`.
"""

from __future__ import annotations

import difflib
import glob
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .backend_api import Backend, UsageError

CONFIG_NAME = "streamc.toml"
PYPROJECT = "pyproject.toml"


class FileModel(BaseModel):
    """The keys of `[tool.streamc]` (pyproject.toml) or of the top level of streamc.toml."""

    model_config = ConfigDict(extra="forbid")

    specs: list[str] = []  # globs, relative to the file, e.g. ["specs/*.stream"]
    targets: list[str] | None = None  # default backends for `streamc build`
    output: str | None = None  # default output directory
    env: str | None = None  # default environment
    backends: dict[str, dict[str, Any]] = {}  # backend name -> its options


@dataclass
class Config:
    path: Path | None = None  # absolute; None: no configuration file
    shown: str = ""  # the file as messages name it (relative to the directory streamc was started in)
    prefix: str = ""  # "tool.streamc." in pyproject.toml, "" in streamc.toml
    specs: list[str] = field(default_factory=list)
    targets: list[str] | None = None
    output: str | None = None
    env: str | None = None
    backends: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return (self.path.parent if self.path is not None else Path.cwd()).resolve()

    def relative(self, path: Path) -> Path:
        """`path` (relative to the working directory) as seen from the root: relative when inside it."""
        full = Path(path).resolve()
        try:
            return full.relative_to(self.root)
        except ValueError:
            return full

    def where(self, *keys: str) -> str:
        """`pyproject.toml, key tool.streamc.backends.dbt.profile` (the file as given, the full dotted key)."""
        return f"{self.shown}, key {self.prefix}{'.'.join(keys)}"

    def spec_paths(self) -> list[Path]:
        """The `specs` globs expanded (sorted, each file once); a glob matching nothing is an error."""
        found: list[Path] = []
        for i, pattern in enumerate(self.specs):
            matches = sorted(glob.glob(pattern, root_dir=self.root, recursive=True))
            if not matches:
                raise UsageError(f"{self.where('specs')}[{i}]: '{pattern}' matches no file under {self.root}")
            found += [self.root / m for m in matches]  # absolute; the CLI re-expresses them with relative()
        return list(dict.fromkeys(found))


def find_config(start: Path) -> tuple[Path, str] | None:
    """(file, key prefix) of the configuration that applies in `start`, or None."""
    here = start.resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate, ""
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and "streamc" in _read_toml(pyproject).get("tool", {}):
            return pyproject, "tool.streamc."
        if (folder / ".git").exists():
            return None
    return None


def _read_toml(path: Path, shown: str | None = None) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{shown or path}: invalid TOML: {e}") from None
    except OSError as e:
        raise UsageError(f"cannot read {shown or path}: {e.strerror or e}") from None


def load_config(explicit: Path | None = None, disabled: bool = False, start: Path | None = None) -> Config:
    if disabled:
        return Config()
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"no such configuration file: {explicit}")
        found = (explicit, "tool.streamc." if explicit.name == PYPROJECT else "")
    else:
        found = find_config(start or Path.cwd())
        if found is None:
            return Config()
    path, prefix = found
    path = path.resolve()
    try:
        shown = str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(path)
    data = _read_toml(path, shown)
    table: Any = data.get("tool", {}).get("streamc", {}) if prefix else data
    if not isinstance(table, dict):
        raise UsageError(f"{shown}: [{prefix.rstrip('.')}] must be a table")
    try:
        model = FileModel.model_validate(table)
    except ValidationError as e:
        raise UsageError(_explain(e, shown, prefix, FileModel)) from None
    return Config(path=path, shown=shown, prefix=prefix, specs=model.specs, targets=model.targets, output=model.output,
                  env=model.env, backends=model.backends)


def _explain(e: ValidationError, path: str, prefix: str, model: type[BaseModel]) -> str:
    problems = []
    for err in e.errors():
        key = ".".join(str(p) for p in err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][0]), model.model_fields, n=1)
            msg = "unknown key" + (f"; did you mean '{close[0]}'?" if close else
                                   f"; known: {', '.join(model.model_fields)}")
        problems.append(f"{path}, key {prefix}{key}: {msg}")
    return "; ".join(problems)


# ------------------------------------------------------------------ backend options: file, then command line


def option_fields(backend: Backend) -> set[str]:
    fields = set()
    for name, info in backend.options_model.model_fields.items():
        fields.add(name)
        if info.alias:
            fields.add(info.alias)
    return fields


def resolve_options(backend: Backend, config: Config, cli: dict[str, object]) -> BaseModel:
    """The backend's options from the file, overridden key by key by `--opt`; errors name the file and key or
    the `--opt` they came from (a UsageError: exit 2)."""
    from_file = dict(config.backends.get(backend.name, {}))
    merged = {**from_file, **cli}

    def origin(key: str) -> str:
        if key in cli:
            return f"--opt {backend.name}.{key}={cli[key]}"
        return config.where("backends", backend.name, key)

    known = option_fields(backend)
    unknown = sorted(k for k in merged if k not in known)
    if unknown:
        problems = []
        for k in unknown:
            close = difflib.get_close_matches(k, sorted(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"options: {', '.join(sorted(known)) or 'none'}"
            problems.append(f"unknown option '{k}' ({origin(k)}); {hint}")
        raise UsageError(f"invalid options for backend '{backend.name}': " + "; ".join(problems))
    try:
        return backend.options_model.model_validate(merged)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            key = str(err["loc"][0]) if err["loc"] else ""
            where = f" ({origin(key)})" if key in merged else ""
            problems.append(f"{'.'.join(map(str, err['loc'])) or '(options)'}: {err['msg']}{where}")
        fields = ", ".join(backend.options_model.model_fields) or "none"
        raise UsageError(f"invalid options for backend '{backend.name}': {'; '.join(problems)} (options: {fields})")
