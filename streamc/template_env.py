"""The Jinja environment backends render with: strict undefined, no autoescape, compiled templates cached on disk."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from .user_cache import cache_dir


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's own bytecode cache (keyed by template name and source checksum); a cache that cannot be
    written is skipped rather than failing the build."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    root = cache_dir()
    if root is None:
        return None
    folder = root / f"jinja-{jinja2.__version__}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _QuietBytecodeCache(str(folder))


@functools.cache
def template_environment(folder: Path, trim_blocks: bool = True) -> jinja2.Environment:
    """One environment per template folder and run: each template is compiled (or loaded) once."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), trim_blocks=trim_blocks,
                              lstrip_blocks=trim_blocks, keep_trailing_newline=True,
                              undefined=jinja2.StrictUndefined, autoescape=False, bytecode_cache=_bytecode_cache())
