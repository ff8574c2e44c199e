"""Mutation fuzzing of specs/: in process no mutant raises or hangs; the CLI exits 0 or 1 and writes only on 0."""

from __future__ import annotations

import shutil
import time
import traceback
from pathlib import Path

from compile_outcomes import assert_positioned
from conftest import ERROR_SPECS, SPECS, run_streamc
from fuzz_budget import Tally, budget, hang_guard, scaled
from spec_mutations import GENTLE, MUTATORS, mutants
from streamc.compiler import compile_files

IN_PROCESS_MUTANTS = 1000
CLI_MUTANTS = 4
CLI_TIMEOUT = 300  # seconds; a hang guard for one `streamc build`, far above its normal run time
SEED = 20240917


def corpus() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in [*SPECS, *ERROR_SPECS]}


def workspace(root: Path, files: dict[str, bytes]) -> Path:
    """A directory with the corpus files, so a mutant's imports resolve the way the original's do."""
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def test_mutants_compile_or_report(tmp_path):
    files = corpus()
    work = workspace(tmp_path / "work", files)
    target = work / "mutant.stream"
    tally = Tally("mutated_specs_in_process")
    failures: dict[str, str] = {}  # one example per distinct failure
    slowest = 0.0
    try:
        for i, mutant in enumerate(mutants(SEED, budget(IN_PROCESS_MUTANTS), files)):
            target.write_bytes(mutant.data)
            start = time.perf_counter()
            try:
                with hang_guard(mutant.describe()):
                    result = compile_files([target])
                assert_positioned(result)
            except Exception as e:  # noqa: BLE001 - every distinct failure (HangError too) is reported at the end
                kept = tmp_path / f"failing-{i}.stream"
                kept.write_bytes(mutant.data)
                where = traceback.extract_tb(e.__traceback__)[-1]
                signature = f"{type(e).__name__} at {Path(where.filename).name}:{where.lineno}"
                failures.setdefault(signature, f"{mutant.describe()} (input kept in {kept}): {str(e)[:300]}")
                tally.add("failures")
                continue
            finally:
                slowest = max(slowest, time.perf_counter() - start)
            tally.count(result.ok)
    finally:
        tally.extra["slowest input ms"] = round(slowest * 1000)
        tally.report()
    assert tally.ran + tally.extra.get("failures", 0) == budget(IN_PROCESS_MUTANTS)
    assert not failures, "\n".join(f"{sig}: {example}" for sig, example in failures.items())


def tree_state(root: Path) -> dict[str, bytes] | None:
    if not root.exists():
        return None
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def cli_mutants(count: int, files: dict[str, bytes]):
    """Half gentle edits of the shipped (valid) specs, expected to build; half anything, mostly rejected."""
    valid = {p.name: files[p.name] for p in SPECS}
    gentle = mutants(SEED + 1, (count + 1) // 2, valid, mutators=GENTLE, max_steps=1)
    wild = mutants(SEED + 2, count // 2, files, mutators=MUTATORS)
    for pair in zip(gentle, wild):
        yield from pair
    yield from gentle  # the odd one out


def test_cli_builds_mutants_or_writes_nothing(tmp_path):
    files = corpus()
    tally = Tally("mutated_specs_cli")
    count = scaled(CLI_MUTANTS, IN_PROCESS_MUTANTS)
    try:
        for i, mutant in enumerate(cli_mutants(count, files)):
            case = workspace(tmp_path / f"case{i}", files)
            (case / "mutant.stream").write_bytes(mutant.data)
            out = case / "out"
            if i % 4 >= 2:  # an output directory from before, with a file streamc did not generate
                (out / "notes").mkdir(parents=True)
                (out / "notes" / "keep.txt").write_text("hand-written\n")
            before = tree_state(out)
            proc = run_streamc("build", "mutant.stream", "-o", "out", "--no-config", cwd=case, timeout=CLI_TIMEOUT)
            what = f"{mutant.describe()}: exit {proc.returncode}\n{proc.stderr[-2000:]}"
            assert proc.returncode in (0, 1), what
            assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, what
            if proc.returncode == 1:
                assert tree_state(out) == before, f"a failed build changed the output directory: {what}"
            else:
                after = tree_state(out)
                assert after is not None and ".streamc-manifest.json" in after, what
                assert len(after) > 1 + len(before or {}), f"a successful build wrote no files: {what}"
                if before:
                    assert after["notes/keep.txt"] == before["notes/keep.txt"], what
            leftovers = [p.name for p in case.iterdir() if p.name.startswith(".out.")]
            assert not leftovers, f"staging directories left behind: {leftovers}"
            tally.count(proc.returncode == 0)
            shutil.rmtree(case)
    finally:
        tally.report()
    assert tally.compiled and tally.rejected, "the sample should include both a successful and a failed build"
