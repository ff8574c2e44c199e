"""Where streamc keeps work it can reuse across runs (formatted modules, compiled templates): per user, optional."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path | None:
    """`$STREAMC_CACHE_DIR`, else `$XDG_CACHE_HOME/streamc`, else `~/.cache/streamc`; None when
    `STREAMC_NO_CACHE` is set. Never inside the output tree: a checked-in tree cannot vouch for itself."""
    if os.environ.get("STREAMC_NO_CACHE"):
        return None
    explicit = os.environ.get("STREAMC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "streamc"
