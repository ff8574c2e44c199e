"""Project configuration: streamc.toml / [tool.streamc] discovery, defaults, backend options, precedence, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from streamc.backend_api import UsageError
from streamc.config import find_config, load_config

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "specs" / "payments_api_sync.stream"


@pytest.fixture
def repo(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs").mkdir()
    shutil.copy(SPEC, tmp_path / "specs" / SPEC.name)
    return tmp_path


def ir_json(root: Path, out: str = "generated") -> str:
    return (root / out / "payments_sync" / "ir" / "ir.json").read_text()


# ------------------------------------------------------------------ discovery


def test_found_from_a_subdirectory_up_to_the_repository_root(repo):
    (repo / "streamc.toml").write_text('output = "generated"\n')
    sub = repo / "specs" / "deeper"
    sub.mkdir()
    assert find_config(sub) == (repo / "streamc.toml", "")
    assert load_config(start=sub).output == "generated"


def test_the_search_stops_at_the_repository_root(tmp_path):
    (tmp_path / "streamc.toml").write_text('output = "outside"\n')
    inner = tmp_path / "checkout"
    (inner / ".git").mkdir(parents=True)
    assert find_config(inner) is None
    assert load_config(start=inner).path is None


def test_pyproject_table_and_precedence_of_streamc_toml(repo):
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.streamc]\nenv = "prod"\n')
    assert find_config(repo) == (repo / "pyproject.toml", "tool.streamc.")
    assert load_config(start=repo).env == "prod"
    (repo / "streamc.toml").write_text('env = "dev"\n')
    assert find_config(repo) == (repo / "streamc.toml", "")


def test_a_pyproject_without_the_table_is_skipped(repo):
    (repo / "streamc.toml").write_text('env = "dev"\n')
    pkg = repo / "package"
    pkg.mkdir()
    (pkg / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert find_config(pkg) == (repo / "streamc.toml", "")


def test_explicit_and_disabled(repo, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("cfg") / "ci.toml"
    elsewhere.write_text('targets = ["ir"]\n')
    assert load_config(explicit=elsewhere).targets == ["ir"]
    (repo / "streamc.toml").write_text('targets = ["dbt"]\n')
    assert load_config(disabled=True, start=repo).targets is None
    with pytest.raises(UsageError, match="no such configuration file"):
        load_config(explicit=repo / "missing.toml")


# ------------------------------------------------------------------ defaults and precedence (through the CLI)


def test_file_defaults_then_command_line_wins(streamc, repo):
    (repo / "streamc.toml").write_text('specs = ["specs/*.stream"]\ntargets = ["ir"]\noutput = "generated"\n'
                                       'env = "prod"\n\n[backends.ir]\nindent = 4\n')
    proc = streamc("build", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (repo / "generated" / "payments_sync").iterdir()) == ["ir"]
    text = ir_json(repo)
    assert text.startswith('{\n    "')  # indent 4, from the file
    assert "https://api.payments.example.com" in text  # env prod applied... and recorded in the IR

    proc = streamc("build", "--opt", "ir.indent=1", "-o", "elsewhere", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert ir_json(repo, "elsewhere").startswith('{\n "')  # --opt wins, key by key
    assert not (repo / "elsewhere" / "payments_sync" / "dbt").exists()


def test_env_from_the_file_and_from_the_command_line(streamc, repo):
    (repo / "streamc.toml").write_text('specs = ["specs/*.stream"]\ntargets = ["ir"]\nenv = "nope"\n')
    proc = streamc("check", cwd=repo)
    assert proc.returncode == 1 and "unknown environment 'nope'" in proc.stderr
    assert streamc("check", "--env", "dev", cwd=repo).returncode == 0


def test_targets_from_the_command_line_replace_the_file(streamc, repo):
    (repo / "streamc.toml").write_text('specs = ["specs/*.stream"]\ntargets = ["ir"]\noutput = "g"\n')
    proc = streamc("build", "--target", "dbt", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (repo / "g" / "payments_sync").iterdir()) == ["dbt"]


def test_pyproject_backend_options(streamc, repo):
    (repo / "pyproject.toml").write_text('[tool.streamc]\nspecs = ["specs/*.stream"]\ntargets = ["dbt"]\n'
                                         'output = "g"\n\n[tool.streamc.backends.dbt]\nprofile = "analytics"\n')
    proc = streamc("build", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    lines = (repo / "g" / "payments_sync" / "dbt" / "dbt_project.yml").read_text().splitlines()
    assert any(ln.replace("'", "").replace('"', "") == "profile: analytics" for ln in lines)


def test_paths_in_the_output_do_not_depend_on_the_directory(streamc, repo):
    (repo / "streamc.toml").write_text('specs = ["specs/*.stream"]\ntargets = ["ir"]\noutput = "generated"\n')
    assert streamc("build", cwd=repo).returncode == 0
    first = ir_json(repo)
    assert streamc("build", cwd=repo / "specs").returncode == 0  # found upward; runs at the project root
    assert ir_json(repo) == first
    assert json.loads(first)["files"] == [f"specs/{SPEC.name}"]
    assert streamc("build", "--check", f"{SPEC.name}", cwd=repo / "specs").returncode == 0


# ------------------------------------------------------------------ errors name the file and the key (exit 2)


@pytest.mark.parametrize(("name", "text", "messages"), [
    ("streamc.toml", 'specs = ["specs/*.stream"]\ntarget = ["ir"]\n',
     ["streamc.toml, key target: unknown key; did you mean 'targets'?"]),
    ("pyproject.toml", '[tool.streamc]\nspecs = ["specs/*.stream"]\noutput = 3\n',
     ["pyproject.toml, key tool.streamc.output: Input should be a valid string"]),
    ("streamc.toml", 'specs = ["specs/*.stream"]\ntargets = ["ir"]\n[backends.ir]\nindent = "wide"\n',
     ["invalid options for backend 'ir'", "streamc.toml, key backends.ir.indent"]),
    ("streamc.toml", 'specs = ["specs/*.stream"]\ntargets = ["ir"]\n[backends.ir]\nindnt = 2\n',
     ["unknown option 'indnt' (streamc.toml, key backends.ir.indnt); did you mean 'indent'?"]),
    ("pyproject.toml", '[tool.streamc]\nspecs = ["specs/*.stream"]\n[tool.streamc.backends.dbtt]\nprofile = "x"\n',
     ["pyproject.toml, key tool.streamc.backends.dbtt: unknown backend 'dbtt'; did you mean 'dbt'?"]),
    ("streamc.toml", 'specs = ["specs/*.stream"]\ntargets = ["irr"]\n',
     ["streamc.toml, key targets[0]: unknown backend 'irr'; did you mean 'ir'?"]),
    ("streamc.toml", 'specs = ["nowhere/*.stream"]\n',
     ["streamc.toml, key specs[0]: 'nowhere/*.stream' matches no file"]),
    ("streamc.toml", 'specs = ["specs/*.stream"\n', ["streamc.toml: invalid TOML"]),
])
def test_configuration_errors(streamc, repo, name, text, messages):
    (repo / name).write_text(text)
    proc = streamc("build", cwd=repo)
    assert proc.returncode == 2, proc.stderr
    for m in messages:
        assert m in proc.stderr
    assert "Traceback" not in proc.stderr and not (repo / "out").exists()


def test_an_unknown_option_on_the_command_line_is_named_too(streamc, repo):
    (repo / "streamc.toml").write_text('specs = ["specs/*.stream"]\ntargets = ["ir"]\n')
    proc = streamc("build", "--opt", "ir.indnt=2", cwd=repo)
    assert proc.returncode == 2
    assert "unknown option 'indnt' (--opt ir.indnt=2); did you mean 'indent'?" in proc.stderr


def test_no_spec_and_no_configuration_is_a_usage_error(streamc, repo):
    proc = streamc("build", cwd=repo)
    assert proc.returncode == 2 and "no spec given" in proc.stderr
