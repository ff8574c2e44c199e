"""The project compiles its own specs in CI: generated/ must be exactly what streamc emits for specs/."""

from __future__ import annotations

from conftest import ROOT, SPECS


def test_checked_in_generated_tree_is_up_to_date(streamc):
    specs = [str(p.relative_to(ROOT)) for p in SPECS]
    proc = streamc("build", *specs, "-o", "generated", "--check", "--diff", cwd=ROOT, timeout=600)
    assert proc.returncode == 0, (
        "generated/ is stale: run `streamc build specs/*.stream -o generated` from the repository root and "
        "review the diff\n" + proc.stdout[-6000:] + proc.stderr[-2000:])
    assert "up to date" in proc.stderr
