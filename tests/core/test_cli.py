"""The command line: exit codes, nothing written on errors, atomic output, stale files, --check, backends."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import ROOT
from streamc.output import OutputError, check_relative_path, validate_tree, write_tree

SPEC = ROOT / "specs" / "orders_analytics.stream"
BROKEN = ROOT / "specs" / "errors" / "unknown_names.stream"


def test_version(streamc):
    proc = streamc("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("streamc ")


def test_usage_error_exits_2(streamc):
    proc = streamc("build")
    assert proc.returncode == 2
    proc = streamc("check", "does/not/exist.stream")
    assert proc.returncode == 2 and "no such spec file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_backend_gets_a_closest_match(streamc, tmp_path):
    proc = streamc("build", str(SPEC), "-o", str(tmp_path / "out"), "--target", "iir")
    assert proc.returncode == 2
    assert "unknown backend 'iir'" in proc.stderr and "did you mean 'ir'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_bad_backend_option_is_a_usage_error(streamc, tmp_path):
    proc = streamc("build", str(SPEC), "-o", str(tmp_path / "o"), "--target", "ir", "--opt", "ir.indent=wide")
    assert proc.returncode == 2 and "invalid options for backend 'ir'" in proc.stderr
    proc = streamc("build", str(SPEC), "-o", str(tmp_path / "o"), "--target", "ir", "--opt", "indent=2")
    assert proc.returncode == 2 and "BACKEND.OPTION=VALUE" in proc.stderr


def test_build_writes_nothing_when_the_spec_has_errors(streamc, tmp_path):
    out = tmp_path / "out"
    proc = streamc("build", str(BROKEN), "-o", str(out))
    assert proc.returncode == 1
    assert "nothing was written" in proc.stderr
    assert not out.exists()


def test_build_then_check_then_stale_files(streamc, tmp_path):
    out = tmp_path / "out"
    proc = streamc("build", str(SPEC), "-o", str(out), "--target", "ir")
    assert proc.returncode == 0, proc.stderr
    ir_file = out / "orders_analytics" / "ir" / "ir.json"
    data = json.loads(ir_file.read_text())
    assert data["ir_version"] and data["pipeline"]["name"] == "orders_analytics"

    # unchanged: --check is clean
    proc = streamc("build", str(SPEC), "-o", str(out), "--target", "ir", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # a hand edit is reported, with a diff on request
    ir_file.write_text("{}\n")
    proc = streamc("build", str(SPEC), "-o", str(out), "--target", "ir", "--check", "--diff")
    assert proc.returncode == 1
    assert "differs:" in proc.stdout and "orders_analytics/ir/ir.json" in proc.stdout
    assert "--- a/orders_analytics/ir/ir.json" in proc.stdout
    assert ir_file.read_text() == "{}\n"  # --check writes nothing

    # a file generated earlier and no longer produced is stale, and a rebuild removes it;
    # files streamc did not generate are left alone
    manifest = json.loads((out / ".streamc-manifest.json").read_text())
    manifest["files"].append("orders_analytics/old/gone.txt")
    (out / ".streamc-manifest.json").write_text(json.dumps(manifest))
    (out / "orders_analytics" / "old").mkdir()
    (out / "orders_analytics" / "old" / "gone.txt").write_text("old")
    (out / "NOTES.md").write_text("mine")
    proc = streamc("build", str(SPEC), "-o", str(out), "--target", "ir", "--check")
    assert proc.returncode == 1 and "stale:" in proc.stdout
    proc = streamc("build", str(SPEC), "-o", str(out), "--target", "ir")
    assert proc.returncode == 0
    assert not (out / "orders_analytics" / "old" / "gone.txt").exists()
    assert (out / "NOTES.md").read_text() == "mine"
    assert json.loads(ir_file.read_text())["pipeline"]["name"] == "orders_analytics"


def test_json_diagnostics_on_stdout(streamc):
    proc = streamc("check", "--format", "json", str(BROKEN))
    assert proc.returncode == 1
    diags = json.loads(proc.stdout)["diagnostics"]
    assert {"code", "slug", "severity", "message", "hint", "file", "line", "column"} <= set(diags[0])


def test_unknown_environment_is_reported(streamc):
    proc = streamc("check", "--env", "qa", str(SPEC))
    assert proc.returncode == 1 and "unknown environment 'qa'" in proc.stderr


def test_backends_lists_name_distribution_and_features(streamc):
    proc = streamc("backends", "--format", "json")
    assert proc.returncode == 0
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert rows["ir"]["distribution"] == "streamc"
    assert rows["ir"]["features"]


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../b", "con", "dbt/aux.sql", "a\\b", "C:x", "",
                                  "a//b/..", ".hidden/../x"])
def test_unsafe_output_paths_are_rejected(path):
    with pytest.raises(OutputError):
        check_relative_path(path)


def test_case_colliding_output_paths_are_rejected():
    with pytest.raises(OutputError):
        validate_tree({"dbt/Orders.sql": "", "dbt/orders.sql": ""})


def test_interrupted_write_leaves_previous_output_intact(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_tree(out, {"p/a.txt": "v1", "p/b.txt": "v1"})
    import streamc.output as output

    real_open = open
    calls = {"n": 0}

    def failing_open(path, *args, **kwargs):
        if str(path).endswith("b.txt"):
            calls["n"] += 1
            raise KeyboardInterrupt("simulated interrupt mid-write")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(output, "open", failing_open, raising=False)
    with pytest.raises(KeyboardInterrupt):
        write_tree(out, {"p/a.txt": "v2", "p/b.txt": "v2"})
    monkeypatch.undo()
    assert calls["n"] == 1
    assert (out / "p" / "a.txt").read_text() == "v1" and (out / "p" / "b.txt").read_text() == "v1"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert leftovers == []
    shutil.rmtree(out)


def test_sarif_output_locates_every_diagnostic(streamc):
    proc = streamc("check", "--format", "sarif", str(BROKEN))
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(run["results"]) >= 4
    for r in run["results"]:
        assert rule_ids[r["ruleIndex"]] == r["ruleId"]
        region = r["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_github_annotations_one_line_per_diagnostic(streamc):
    proc = streamc("check", "--format", "github", str(BROKEN))
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert len(lines) >= 4
    assert all(ln.startswith("::error file=") or ln.startswith("::warning file=") for ln in lines)
    assert any(",line=24,col=26," in ln and "ammount" in ln for ln in lines)
