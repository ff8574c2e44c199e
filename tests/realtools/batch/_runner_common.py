"""Shared helpers for the runner scripts. Imported INSIDE the tool envs (stdlib only).

Each runner prints exactly one JSON document on the real stdout. Tools (dbt, Airflow, Dagster)
log to stdout freely, so `json_stdout()` points file descriptor 1 at stderr for the duration of
the run and writes the final document to the saved original stdout.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import decimal
import json
import os
import sys
import traceback
import uuid
from typing import Any, Callable, Iterator


def jsonable(value: Any, *, depth: int = 0) -> Any:
    """Best-effort conversion of tool objects to JSON-safe values (stable, comparable)."""
    if depth > 8:
        return repr(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, depth=depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [jsonable(v, depth=depth + 1) for v in value]
        return sorted(items, key=lambda x: json.dumps(x, sort_keys=True, default=str))
    return str(value)


def error_info(exc: BaseException) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


@contextlib.contextmanager
def json_stdout() -> Iterator[Callable[[Any], None]]:
    """Point fd 1 at stderr for good; yield `emit(doc)`; write the last doc to the original stdout.

    fd 1 is never restored, so whatever a tool prints later (atexit hooks, threads) cannot
    corrupt the document: the harness reads exactly one JSON line from stdout.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    emitted: list[Any] = []
    try:
        yield emitted.append
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        if emitted:
            data = (json.dumps(jsonable(emitted[-1]), sort_keys=True) + "\n").encode()
            while data:
                data = data[os.write(saved, data) :]
        os.close(saved)


def run_main(main: Callable[[list[str]], Any]) -> None:
    """Run `main(argv) -> doc`, print the doc as JSON; on an uncaught error print {"harness_error": ...}."""
    code = 0
    with json_stdout() as emit:
        try:
            emit(main(sys.argv[1:]))
        except SystemExit as exc:  # argparse errors etc.
            code = exc.code if isinstance(exc.code, int) else 2
            emit({"harness_error": {"type": "SystemExit", "message": str(exc.code), "traceback": ""}})
        except BaseException as exc:  # noqa: BLE001 - report everything as JSON
            code = 3
            emit({"harness_error": error_info(exc)})
    sys.exit(code)
