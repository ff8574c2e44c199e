"""The pre-commit hook definitions: valid for pre-commit's manifest schema, and each entry runs the real CLI."""

from __future__ import annotations

import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from streamc.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
SPEC = ROOT / "specs" / "payments_api_sync.stream"

# pre-commit's manifest schema (pre_commit/clientlib.py MANIFEST_HOOK_DICT): required and optional keys
REQUIRED = {"id": str, "name": str, "entry": str, "language": str}
OPTIONAL = {"alias": str, "files": str, "exclude": str, "types": list, "types_or": list, "exclude_types": list,
            "additional_dependencies": list, "args": list, "always_run": bool, "fail_fast": bool,
            "pass_filenames": bool, "description": str, "language_version": str, "log_file": str,
            "minimum_pre_commit_version": str, "require_serial": bool, "stages": list, "verbose": bool}
STAGES = {"commit-msg", "post-checkout", "post-commit", "post-merge", "post-rewrite", "pre-commit",
          "pre-merge-commit", "pre-push", "pre-rebase", "prepare-commit-msg", "manual"}


def test_manifest_schema():
    assert isinstance(HOOKS, list) and HOOKS
    assert len({h["id"] for h in HOOKS}) == len(HOOKS)
    for hook in HOOKS:
        for key, kind in REQUIRED.items():
            assert isinstance(hook.get(key), kind), (hook.get("id"), key)
        for key, value in hook.items():
            assert key in REQUIRED or key in OPTIONAL, f"{hook['id']}: unknown key {key}"
            assert key in REQUIRED or isinstance(value, OPTIONAL[key]), (hook["id"], key)
        assert hook["language"] == "python"  # pre-commit installs this repository (and its `streamc` script)
        re.compile(hook.get("files", ""))
        assert set(hook.get("stages", [])) <= STAGES


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h["id"])
def test_entry_is_the_real_cli(hook):
    argv = shlex.split(hook["entry"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert argv[0] in scripts and scripts[argv[0]] == "streamc.cli:run"
    files = ["specs/a.stream", "specs/b.stream"] if hook.get("pass_filenames", True) else []
    if files:
        assert re.search(hook["files"], files[0])
    args = build_parser().parse_args(argv[1:] + hook.get("args", []) + files)  # exits 2 if the CLI rejects them
    assert args.command in ("fmt", "build")


def run_hook(streamc, hook_id: str, cwd: Path, files: list[str]):
    """What pre-commit does: the entry, its args, then the matching staged files (when pass_filenames)."""
    hook = next(h for h in HOOKS if h["id"] == hook_id)
    argv = shlex.split(hook["entry"])[1:] + hook.get("args", [])
    if hook.get("pass_filenames", True):
        argv += [f for f in files if re.search(hook.get("files", ""), f)]
    return streamc(*argv, cwd=cwd)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs").mkdir()
    shutil.copy(SPEC, tmp_path / "specs" / SPEC.name)
    (tmp_path / "streamc.toml").write_text('specs = ["specs/*.stream"]\noutput = "generated"\ntargets = ["ir"]\n')
    return tmp_path


def test_fmt_hooks(streamc, repo):
    spec = repo / "specs" / SPEC.name
    staged = ["README.md", f"specs/{SPEC.name}"]
    assert run_hook(streamc, "streamc-fmt-check", repo, staged).returncode == 0
    assert run_hook(streamc, "streamc-fmt", repo, staged).returncode == 0
    spec.write_text(re.sub(r'\n\s+owner\s+"finance-data"', '\nowner "finance-data"', spec.read_text()))
    messy = spec.read_text()
    assert messy != SPEC.read_text()
    proc = run_hook(streamc, "streamc-fmt-check", repo, staged)
    assert proc.returncode == 1 and f"would reformat specs/{SPEC.name}" in proc.stdout
    assert spec.read_text() == messy
    run_hook(streamc, "streamc-fmt", repo, staged)  # rewrites the file: pre-commit fails the commit on the change
    assert spec.read_text() == SPEC.read_text()


def test_build_check_hook(streamc, repo):
    assert run_hook(streamc, "streamc-build-check", repo, []).returncode == 1  # nothing generated yet
    assert streamc("build", cwd=repo).returncode == 0
    assert run_hook(streamc, "streamc-build-check", repo, []).returncode == 0
    spec = repo / "specs" / SPEC.name
    spec.write_text(spec.read_text().replace('"finance-data"', '"finance-platform"'))
    proc = run_hook(streamc, "streamc-build-check", repo, [])
    assert proc.returncode == 1 and "differs: generated/payments_sync/ir/ir.json" in proc.stdout
