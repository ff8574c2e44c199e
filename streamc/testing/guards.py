"""A context manager that fails any file write, network, subprocess or environment access while a backend runs."""

from __future__ import annotations

import builtins
import io
import os
import pathlib
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock


class IOViolation(RuntimeError):
    """Raised (and recorded) when code under guard does I/O. Recorded too, so a broad `except` cannot hide it."""


WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

# os functions that change the file system or start processes; each is replaced by a function that fails
OS_FORBIDDEN = (
    "remove", "unlink", "rmdir", "removedirs", "rename", "renames", "replace", "mkdir", "makedirs", "symlink",
    "link", "truncate", "chmod", "chown", "lchown", "utime", "mkfifo", "mknod", "system", "popen", "fork", "forkpty",
    "execv", "execve", "execl", "execle", "execlp", "execlpe", "execvp", "execvpe", "spawnv", "spawnve", "spawnl",
    "spawnle", "spawnlp", "spawnlpe", "spawnvp", "spawnvpe", "posix_spawn", "posix_spawnp", "kill", "putenv",
    "unsetenv", "chdir",
)
PATH_FORBIDDEN = ("write_text", "write_bytes", "touch", "mkdir", "unlink", "rmdir", "rename", "replace",
                  "symlink_to", "hardlink_to", "chmod")
SOCKET_FORBIDDEN = ("socket", "create_connection", "create_server", "getaddrinfo", "gethostbyname", "socketpair")
SUBPROCESS_FORBIDDEN = ("Popen", "run", "call", "check_call", "check_output", "getoutput", "getstatusoutput")


def default_read_roots(*extra: Path) -> list[Path]:
    """Installed code and data (the interpreter's prefixes, sys.path directories): reading a package's own
    templates is fine; reading the working directory, a home directory or /etc is not."""
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    cwd = Path.cwd().resolve()
    for entry in sys.path:
        if not entry or entry == ".":
            continue
        p = Path(entry).resolve()
        if p.is_dir() and p != cwd and p not in cwd.parents:
            roots.add(p)
    roots.update(Path(e).resolve() for e in extra)
    return sorted({r.resolve() for r in roots})


def _caller_file() -> str:
    """The file of the first frame outside os, the mapping machinery and this module: who asked."""
    skip = {"os", "_collections_abc", "collections.abc", __name__}  # by module: os is frozen ("<frozen os>")
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") in skip:
        frame = frame.f_back
    return frame.f_code.co_filename if frame is not None else ""


class _WatchedEnviron(MutableMapping):
    """os.environ, recording reads made by code under `attributable` roots (libraries' own knobs are theirs)."""

    def __init__(self, real: MutableMapping, record, attributable: list[Path] | None):
        self._real = real
        self._attributable = attributable
        self._note = record

    def _record(self, what: str) -> None:
        if self._attributable is not None:
            caller = Path(_caller_file()).resolve()
            if not any(r in caller.parents for r in self._attributable):
                return
        self._note(what)

    def __getitem__(self, key):
        self._record(f"reads environment variable {key!r}")
        return self._real[key]

    def get(self, key, default=None):
        self._record(f"reads environment variable {key!r}")
        return self._real.get(key, default)

    def __contains__(self, key):
        self._record(f"reads environment variable {key!r}")
        return key in self._real

    def __setitem__(self, key, value):
        self._record(f"sets environment variable {key!r}")
        raise IOViolation(f"sets environment variable {key!r}")

    def __delitem__(self, key):
        self._record(f"deletes environment variable {key!r}")
        raise IOViolation(f"deletes environment variable {key!r}")

    def __iter__(self):
        self._record("lists the environment")
        return iter(self._real)

    def __len__(self):
        return len(self._real)

    def copy(self):
        self._record("copies the environment")
        return dict(self._real)


@contextmanager
def no_io(read_roots: Iterable[Path] | None = None, watch_environment: bool = True,
          env_attributable: Iterable[Path] | None = None) -> Iterator[list[str]]:
    """Within the block, writes, processes and sockets fail (IOViolation); they and environment reads are recorded
    in the yielded list. Reads of files are allowed only under `read_roots` (default: installed code, see
    default_read_roots). Environment reads count when made from code under `env_attributable` (default: any code);
    a library reading its own settings (pydantic's PYDANTIC_DISABLE_PLUGINS) is not the backend's doing."""
    violations: list[str] = []
    roots = [Path(r).resolve() for r in (read_roots if read_roots is not None else default_read_roots())]

    def record(what: str) -> None:
        if what not in violations:
            violations.append(what)

    def fail(what: str):
        record(what)
        raise IOViolation(f"I/O during emit/check: {what}")

    def readable(path) -> bool:
        try:
            p = Path(os.fsdecode(path)).resolve()
        except (TypeError, ValueError, OSError):
            return False
        return any(p == r or r in p.parents for r in roots)

    real_open = builtins.open
    real_os_open = os.open

    def guarded_open(file, mode="r", *args, **kwargs):
        if isinstance(file, int):
            fail(f"opens file descriptor {file}")
        if any(c in mode for c in "wax+"):
            fail(f"opens {os.fsdecode(file)!s} for writing (mode {mode!r})")
        if not readable(file):
            fail(f"reads {os.fsdecode(file)!s}, outside the installed packages")
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        if flags & WRITE_FLAGS:
            fail(f"os.open({os.fsdecode(path)!s}) for writing")
        if not readable(path):
            fail(f"os.open({os.fsdecode(path)!s}), outside the installed packages")
        return real_os_open(path, flags, *args, **kwargs)

    def forbidden(label: str):
        def guard(*args, **kwargs):
            shown = ", ".join(repr(a) for a in args[:2])
            fail(f"calls {label}({shown})")
        return guard

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(builtins, "open", guarded_open))
        stack.enter_context(mock.patch.object(io, "open", guarded_open))
        stack.enter_context(mock.patch.object(os, "open", guarded_os_open))
        for name in OS_FORBIDDEN:
            if hasattr(os, name):
                stack.enter_context(mock.patch.object(os, name, forbidden(f"os.{name}")))
        for name in PATH_FORBIDDEN:
            if hasattr(pathlib.Path, name):
                stack.enter_context(mock.patch.object(pathlib.Path, name, forbidden(f"Path.{name}")))
        for name in SOCKET_FORBIDDEN:
            if hasattr(socket, name):
                stack.enter_context(mock.patch.object(socket, name, forbidden(f"socket.{name}")))
        for name in SUBPROCESS_FORBIDDEN:
            if hasattr(subprocess, name):
                stack.enter_context(mock.patch.object(subprocess, name, forbidden(f"subprocess.{name}")))
        if watch_environment:
            attributable = None if env_attributable is None else [Path(p).resolve() for p in env_attributable]
            stack.enter_context(mock.patch.object(os, "environ", _WatchedEnviron(os.environ, record, attributable)))
        yield violations
