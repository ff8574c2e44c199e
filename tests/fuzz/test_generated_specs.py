"""Grammar-aware fuzzing: generated valid specs compile without internal errors, and build through every backend."""

from __future__ import annotations

import traceback

from hypothesis import HealthCheck, given, settings

from compile_outcomes import assert_positioned
from fuzz_budget import Tally, budget, hang_guard, scaled
from spec_strategies import valid_specs
from streamc.backend_api import Registry
from streamc.build import backend_options, generate
from streamc.compiler import compile_text
from streamc.config import Config

COMPILE_EXAMPLES = 100
BACKEND_EXAMPLES = 6
MIN_CLEAN_FRACTION = 0.8  # the generator writes valid specs: most of them must compile


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


def test_generated_specs_compile_cleanly():
    tally = Tally("generated_specs_compile")
    rejected_codes: dict[str, int] = {}

    @fuzz_settings(budget(COMPILE_EXAMPLES))
    @given(valid_specs())
    def compiles(generated):
        with hang_guard("compiling a generated spec"):
            result = compile_text(generated.text, "generated.stream")
        assert_positioned(result)
        tally.count(result.ok)
        for d in result.diagnostics:
            if d.severity == "error":
                rejected_codes[d.code] = rejected_codes.get(d.code, 0) + 1

    try:
        compiles()
    finally:
        tally.extra.update({f"error {code}": n for code, n in rejected_codes.items()})
        tally.report()
    assert tally.ran >= budget(COMPILE_EXAMPLES) // 2, "hypothesis ran far fewer examples than asked"
    assert tally.compiled / tally.ran >= MIN_CLEAN_FRACTION, (
        f"only {tally.compiled} of {tally.ran} generated specs compiled; errors by code: {rejected_codes}")


def test_generated_specs_build_through_every_backend():
    registry = Registry()
    targets = registry.names()
    options = backend_options(registry, targets, {}, Config())
    tally = Tally("generated_specs_backends")
    crashes: list[str] = []

    @fuzz_settings(scaled(BACKEND_EXAMPLES, COMPILE_EXAMPLES))
    @given(valid_specs())
    def builds(generated):
        result = compile_text(generated.text, "generated.stream")
        assert_positioned(result)
        tally.count(result.ok)
        if not result.ok:
            return
        for name in targets:  # each backend on its own: one backend's E120 must not hide another's crash
            try:
                with hang_guard(f"backend {name}"):
                    files, diags = generate(result.spec, registry, [name], options)
            except Exception:  # noqa: BLE001 - collected, reported together below
                crashes.append(f"backend {name} raised on:\n{generated.text}\n{traceback.format_exc(limit=-4)}")
                continue
            if any(d.severity == "error" for d in diags):
                tally.add(f"{name} E120")
            else:
                tally.add("backend builds")
                tally.add("files emitted", len(files))

    try:
        builds()
    finally:
        tally.report()
    assert not crashes, f"{len(crashes)} backend crash(es); first:\n{crashes[0]}"
    assert tally.extra.get("backend builds", 0) > 0, "no generated spec was built by any backend"
