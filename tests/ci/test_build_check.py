"""`streamc build --check` as a CI gate: clean after a build, exit 1 listing what differs, is missing or stale."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "specs" / "payments_api_sync.stream"
TARGETS = "ir,dbt"


@pytest.fixture
def project(tmp_path, streamc):
    """A repository with a spec, a streamc.toml and its checked-in generated tree."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs").mkdir()
    shutil.copy(SPEC, tmp_path / "specs" / SPEC.name)
    (tmp_path / "streamc.toml").write_text(f'specs = ["specs/*.stream"]\noutput = "generated"\n'
                                           f'targets = {TARGETS.split(",")!r}\n'.replace("'", '"'))
    proc = streamc("build", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path


def snapshot_tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_clean_right_after_a_build(project, streamc):
    before = snapshot_tree(project / "generated")
    proc = streamc("build", "--check", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date" in proc.stderr and proc.stdout == ""
    assert snapshot_tree(project / "generated") == before  # --check writes nothing, touches nothing


def test_a_spec_change_makes_it_fail_with_a_diff(project, streamc):
    spec = project / "specs" / SPEC.name
    text, n = re.subn(r"(\n\s+)currency(\s+)string", r"\1region  \2string\1currency\2string", spec.read_text(), 1)
    assert n == 1
    spec.write_text(text)
    before = snapshot_tree(project / "generated")
    proc = streamc("build", "--check", cwd=project)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert "differs: generated/payments_sync/ir/ir.json" in lines
    assert any(ln.startswith("differs: generated/payments_sync/dbt/") for ln in lines)
    assert all(ln.split(": ", 1)[0] in ("differs", "missing", "stale") for ln in lines)

    proc = streamc("build", "--check", "--diff", cwd=project)
    assert proc.returncode == 1
    assert "--- a/payments_sync/ir/ir.json" in proc.stdout and "+++ b/payments_sync/ir/ir.json" in proc.stdout
    assert any(ln.startswith("+") and '"region"' in ln for ln in proc.stdout.splitlines())
    assert snapshot_tree(project / "generated") == before

    assert streamc("build", cwd=project).returncode == 0
    assert streamc("build", "--check", cwd=project).returncode == 0


def test_a_hand_edited_or_deleted_file_fails(project, streamc):
    ir_json = project / "generated" / "payments_sync" / "ir" / "ir.json"
    ir_json.write_text(ir_json.read_text().replace('"finance-data"', '"someone-else"'))
    schema = project / "generated" / "payments_sync" / "ir" / "ir.schema.json"
    schema.unlink()
    proc = streamc("build", "--check", cwd=project)
    assert proc.returncode == 1
    assert "differs: generated/payments_sync/ir/ir.json" in proc.stdout.splitlines()
    assert "missing: generated/payments_sync/ir/ir.schema.json" in proc.stdout.splitlines()


def test_output_of_a_removed_spec_is_stale(project, streamc):
    other = project / "specs" / "daily_file_drop.stream"
    shutil.copy(ROOT / "specs" / "daily_file_drop.stream", other)
    assert streamc("build", "--target", "ir", cwd=project).returncode == 0
    other.unlink()
    proc = streamc("build", "--target", "ir", "--check", cwd=project)
    assert proc.returncode == 1
    stale = [ln for ln in proc.stdout.splitlines() if ln.startswith("stale: ")]
    assert stale and all("partner_orders_daily/" in ln for ln in stale)


def test_no_checked_in_tree_at_all_is_all_missing(project, streamc):
    shutil.rmtree(project / "generated")
    proc = streamc("build", "--check", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout and all(ln.startswith("missing: ") for ln in proc.stdout.splitlines())
    assert not (project / "generated").exists()


def test_a_spec_with_errors_fails_the_check(project, streamc):
    spec = project / "specs" / SPEC.name
    spec.write_text(spec.read_text().replace("from stg_transactions", "from stg_transactionz"))
    proc = streamc("build", "--check", cwd=project)
    assert proc.returncode == 1
    assert "E100" in proc.stderr and "nothing was written" in proc.stderr


def test_check_from_another_directory_reads_the_same_tree(project, streamc):
    proc = streamc("build", "--check", "--config", str(project / "streamc.toml"), cwd=project.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date in generated" in proc.stderr
