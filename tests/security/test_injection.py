"""Hostile text in every kind of slot of a spec, built by every backend: each emitted file keeps it as data.

For each (carrier spec, payload, backend) the carrier is built twice, with the payload and with benign text in
every slot, and every emitted file of the hostile build is checked by its type against the benign one
(emitted_checks). A backend may instead refuse the text with a positioned error (E120). Every payload runs on
every carrier (about 20 s); STREAMC_SECURITY_QUICK=1 keeps every payload on the batch carrier and the combined
payload on the others.
"""

from __future__ import annotations

import os
from functools import lru_cache

import pytest

from backend_runs import BackendRun, backend_names, compile_or_fail, dialects, run_backend
from emitted_checks import BuildContext, file_problems
from hostile_specs import BATCH, BENIGN, CARRIERS, PAYLOADS

QUICK = os.environ.get("STREAMC_SECURITY_QUICK") == "1"

# Known failures, per (backend, payload) -> (reason, carriers it fails on; None: every carrier), run as strict
# xfails: a fix turns the case into an XPASS, and its entry goes. None today.
KNOWN: dict[tuple[str, str], tuple[str, tuple[str, ...] | None]] = {}


def combinations() -> list[tuple[str, str]]:
    """(carrier, payload id) pairs of this run."""
    if not QUICK:
        return [(c.name, p) for c in CARRIERS for p in PAYLOADS]
    return [(BATCH.name, p) for p in PAYLOADS] + [(c.name, "all") for c in CARRIERS if c is not BATCH]


def cases():
    out = []
    for carrier, payload in combinations():
        for backend in backend_names():
            marks = []
            known = KNOWN.get((backend, payload))
            if known and (known[1] is None or carrier in known[1]):
                marks.append(pytest.mark.xfail(strict=True, reason=f"{known[0]} (payload {payload!r})"))
            out.append(pytest.param(carrier, payload, backend, id=f"{carrier}-{payload}-{backend}", marks=marks))
    return out


CARRIER_BY_NAME = {c.name: c for c in CARRIERS}


@lru_cache(maxsize=None)
def compiled(carrier: str, payload: str):
    text = CARRIER_BY_NAME[carrier].render(BENIGN if payload == "" else PAYLOADS[payload])
    return compile_or_fail(text, carrier)


@lru_cache(maxsize=None)
def built(carrier: str, payload: str, backend: str) -> BackendRun:
    return run_backend(compiled(carrier, payload), backend)


@pytest.mark.parametrize("carrier, payload, backend", cases())
def test_hostile_text_stays_data(carrier, payload, backend):
    benign = built(carrier, "", backend)
    assert benign.crash is None and not [d for d in benign.diagnostics if d.severity == "error"], \
        f"the benign carrier {carrier} must build with {backend}: {benign.crash or benign.diagnostics}"
    run = built(carrier, payload, backend)
    assert run.crash is None, f"{backend} crashed on payload {payload!r}: {run.crash}"
    errors = [d for d in run.diagnostics if d.severity == "error"]
    if errors:
        # refusing the text is safe, if the spec author is shown where
        assert not run.files
        for d in errors:
            assert d.span is not None and d.span.file == f"{carrier}.stream" and d.span.line >= 1, d
        return
    assert set(run.files) == set(benign.files), f"files differ from the benign build: " \
                                                f"{sorted(set(run.files) ^ set(benign.files))}"
    spec = compiled(carrier, payload)
    warehouse, source = dialects(spec)
    roots = tuple(p.rsplit("/", 1)[0] for p in run.files if p.endswith("dbt_project.yml"))
    ctx = BuildContext(payload=PAYLOADS[payload], warehouse_dialect=warehouse, source_dialect=source,
                       dbt_roots=roots)
    problems = [f"{path}: {p}" for path in sorted(run.files)
                for p in file_problems(path, run.files[path], benign.files[path], ctx, backend)]
    assert not problems, "\n".join(problems)


def test_every_payload_reaches_every_kind_of_emitted_file():
    """The carriers are worth their cost: the payload lands in every file type the backends write text to."""
    reached: set[str] = set()
    for carrier in CARRIERS:
        for backend in backend_names():
            for path, text in built(carrier.name, "all", backend).files.items():
                if "PWN" in text:
                    reached.add(path.rsplit(".", 1)[-1])
    assert {"py", "sql", "json", "yml", "yaml", "md", "mmd"} <= reached, reached


def test_refused_text_is_refused_only_where_a_tool_would_read_it():
    """Soda replaces `${var.X}` in contract values: the quality backend refuses it with positioned errors, and
    every other backend still builds the same spec."""
    run = built(BATCH.name, "soda_variable", "quality")
    assert run.files == {} and run.diagnostics
    assert all(d.code == "E120" and d.span is not None for d in run.diagnostics)
    for backend in backend_names():
        if backend != "quality":
            other = built(BATCH.name, "soda_variable", backend)
            assert not other.diagnostics and set(other.files) == set(built(BATCH.name, "", backend).files), backend
