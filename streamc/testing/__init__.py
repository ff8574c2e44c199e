"""The backend conformance kit: the checks every streamc backend passes, built-in or third-party.

    from streamc.testing import conformance_checks

    @pytest.mark.parametrize("check", conformance_checks(MyBackend, ["specs/orders.stream"]), ids=str)
    def test_conformance(check):
        check()

See docs/backends.md for the walk-through and the meaning of each check.
"""

from __future__ import annotations

from .guards import IOViolation, no_io
from .kit import (
    ConformanceCheck,
    ConformanceFailure,
    Emission,
    SpecInput,
    assert_conformant,
    check_declared_feature,
    check_determinism,
    check_feature_names,
    check_hashseed_determinism,
    check_no_io,
    check_paths,
    check_text,
    check_unsupported_feature,
    compile_spec,
    conformance_checks,
    emit_files,
    probe_inputs,
    run_backend,
)
from .probes import PROBES, Probe
from .snapshots import assert_snapshots, snapshot_items

__all__ = [
    "PROBES", "ConformanceCheck", "ConformanceFailure", "Emission", "IOViolation", "Probe", "SpecInput",
    "assert_conformant", "assert_snapshots", "check_declared_feature", "check_determinism", "check_feature_names",
    "check_hashseed_determinism", "check_no_io", "check_paths", "check_text", "check_unsupported_feature",
    "compile_spec", "conformance_checks", "emit_files", "no_io", "probe_inputs", "run_backend", "snapshot_items",
]
