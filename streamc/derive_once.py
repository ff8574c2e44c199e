"""Derivations computed once per IR object, so a backend's `check`, its `emit` and other readers share them."""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

T = TypeVar("T")

CACHE_SIZE = 8  # a run compiles one spec at a time; a few entries cover check + emit + docs per option set


def once_per_ir(fn: Callable[..., T]) -> Callable[..., T]:
    """Cache `fn(ir, *args)` by the IR's identity and the (hashable) other arguments.

    The IR is frozen, so a result derived from it stays valid while that object lives; the cache keeps a
    reference to it so the identity cannot be reused by another object. Callers must treat the result as
    read-only.
    """
    cache: dict[tuple, tuple[object, T]] = {}

    @functools.wraps(fn)
    def wrapper(ir, *args, **kwargs):
        key = (id(ir), args, tuple(sorted(kwargs.items())))
        hit = cache.get(key)
        if hit is not None and hit[0] is ir:
            return hit[1]
        value = fn(ir, *args, **kwargs)
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        cache[key] = (ir, value)
        return value

    wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
    return wrapper
