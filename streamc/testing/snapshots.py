"""Snapshot helpers: one syrupy assertion per emitted file, named by its path, so a review shows file-level diffs."""

from __future__ import annotations

from collections.abc import Callable


def snapshot_items(files: dict[str, str], prefix: str = "") -> list[tuple[str, str]]:
    """[(snapshot name, text)] sorted by path.

    `for name, text in snapshot_items(files): assert snapshot(name=name) == text`
    """
    return [(f"{prefix}{path}", text) for path, text in sorted(files.items())]


def assert_snapshots(snapshot: Callable, files: dict[str, str], prefix: str = "") -> None:
    """Compare every file with its own snapshot (syrupy's `snapshot` fixture); `prefix` keeps several specs apart.

    Every file is compared before failing, so one run of `pytest --snapshot-update` records them all and a
    failing run names each file that changed.
    """
    mismatched = []
    for name, text in snapshot_items(files, prefix):
        if not snapshot(name=name) == text:
            mismatched.append(name)
    assert not mismatched, f"snapshots differ: {', '.join(mismatched)} (review, then pytest --snapshot-update)"
