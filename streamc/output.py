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
# ASCII letters, digits, '_', '-', '.', not ending in '.' (Windows drops a trailing dot: `a.` would be `a`)
SAFE_PART = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")


class OutputError(Exception):
    """A generated path that would be unsafe to write (a streamc or backend bug, or a hostile name)."""


def check_relative_path(path: str) -> str:
    p = PurePosixPath(path)
    if not path or p.is_absolute() or "\\" in path or ":" in path:
        raise OutputError(f"generated path '{path}' is not a relative POSIX path")
    for part in p.parts:
        if part in ("..", ".") or not SAFE_PART.fullmatch(part) or RESERVED.fullmatch(part):
            raise OutputError(f"generated path '{path}' has an unsafe part '{part}'")
    if str(p) != path:  # `a/./b`, `a//b`, `a/b/` name the file `a/b` too: two keys, one file
        raise OutputError(f"generated path '{path}' is not in canonical form ('{p}')")
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

    Files in `out` that streamc did not generate (not in the previous manifest) are carried over; a symbolic link
    among them is carried as a link, never followed (nothing is read or written through it). An interruption at
    any point leaves either the previous tree or the new one in `out`, and no temporary folder.
    """
    validate_tree(files)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_old_trees(out)
    previous = set(read_manifest(out)) | {MANIFEST}
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.streamc-", dir=out.parent))
    old: Path | None = None
    try:
        if out.is_dir() and not out.is_symlink():
            _carry_over(out, staging, previous, files)
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
            os.replace(staging, out)  # the commit point
        else:
            os.replace(staging, out)
    except BaseException:
        if old is not None and old.exists() and not out.exists():
            os.replace(old, out)  # interrupted between the two renames: the previous tree goes back
        _remove_tree(staging)
        raise
    finally:
        if old is not None:
            _remove_tree(old)


def _remove_tree(path: Path) -> None:
    """rmtree that a single interruption does not stop: it is retried once before the interruption goes on."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def _remove_old_trees(out: Path) -> None:
    """A previous tree set aside by a build that was stopped after its commit (while removing it)."""
    for leftover in out.parent.glob(f".{out.name}.old-*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)


def _ancestors(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _carry_over(out: Path, staging: Path, previous: set[str], files: dict[str, str]) -> None:
    """Copy what the user keeps in `out` into the new tree: regular files as files, links as links (never
    followed, never descended into); what the new tree generates itself, file or folder, wins."""
    generated_dirs = {a for rel in files for a in _ancestors(rel)}
    for dirpath, dirnames, filenames in os.walk(out):  # os.walk does not descend into linked folders
        base = Path(dirpath)
        for name in sorted(dirnames + filenames):
            src = base / name
            link = src.is_symlink()
            if name in dirnames and not link:
                continue  # a real folder: its files come as os.walk descends
            rel = src.relative_to(out).as_posix()
            if rel in previous or rel in files or rel in generated_dirs or any(a in files for a in _ancestors(rel)):
                continue
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if link:
                os.symlink(os.readlink(src), dest)
            else:
                shutil.copy2(src, dest, follow_symlinks=False)
