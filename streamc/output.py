"""Writing generated files: path safety, atomic replacement of the output tree, stale-file removal, --check."""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST = ".streamc-manifest.json"
RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)
SAFE_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


class OutputError(Exception):
    """A generated path that would be unsafe to write (a streamc or backend bug, or a hostile name)."""


def check_relative_path(path: str) -> str:
    p = PurePosixPath(path)
    if not path or p.is_absolute() or "\\" in path or ":" in path:
        raise OutputError(f"generated path '{path}' is not a relative POSIX path")
    for part in p.parts:
        if part in ("..", ".") or not SAFE_PART.match(part) or RESERVED.match(part):
            raise OutputError(f"generated path '{path}' has an unsafe part '{part}'")
    return str(p)


def validate_tree(files: dict[str, str]) -> None:
    seen: dict[str, str] = {}
    for path in files:
        check_relative_path(path)
        folded = path.lower()
        if folded in seen and seen[folded] != path:
            raise OutputError(f"generated paths '{seen[folded]}' and '{path}' differ only by case")
        seen[folded] = path
    if MANIFEST in files:
        raise OutputError(f"a backend may not emit '{MANIFEST}'")


def read_manifest(out: Path) -> list[str]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        return [p for p in data.get("files", []) if isinstance(p, str)]
    except (OSError, ValueError, AttributeError):
        return []


def manifest_text(files: dict[str, str]) -> str:
    return json.dumps({"generator": "streamc", "files": sorted(files)}, indent=2) + "\n"


@dataclass
class Comparison:
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.stale)


def compare(out: Path, files: dict[str, str], with_diff: bool = False) -> Comparison:
    result = Comparison()
    for path in sorted(files):
        target = out / path
        if not target.is_file():
            result.missing.append(path)
            continue
        current = target.read_text(encoding="utf-8", errors="replace")
        if current != files[path]:
            result.changed.append(path)
            if with_diff:
                result.diffs[path] = "".join(difflib.unified_diff(
                    current.splitlines(keepends=True), files[path].splitlines(keepends=True),
                    fromfile=f"a/{path}", tofile=f"b/{path}"))
    result.stale = sorted(p for p in read_manifest(out) if p not in files and (out / p).exists())
    return result


def write_tree(out: Path, files: dict[str, str]) -> None:
    """Replace the generated files under `out` atomically: build a full copy aside, then swap directories.

    Files in `out` that streamc did not generate (not in the previous manifest) are carried over.
    """
    validate_tree(files)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    previous = set(read_manifest(out)) | {MANIFEST}
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.streamc-", dir=out.parent))
    try:
        if out.is_dir():
            for item in out.rglob("*"):
                rel = item.relative_to(out).as_posix()
                if item.is_file() and rel not in previous and rel not in files:
                    dest = staging / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(item, dest)
        for rel, text in files.items():
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        (staging / MANIFEST).write_text(manifest_text(files), encoding="utf-8")
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rmdir(old)
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
