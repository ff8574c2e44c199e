"""What a build may import and what it may redo: black lazily and cached, sqlfluff never, only selected backends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from streamc.python_format import PythonFormatter, format_python

SPEC = ROOT / "specs" / "customer_marts.stream"
PROBE = r"""
import json, sys
from streamc.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if m.split(".")[0] in
      ("black", "sqlfluff", "streamc"))}))
"""


def build_in_child(tmp_path: Path, cache: Path, *args: str) -> dict:
    env = {"STREAMC_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", PROBE, "build", str(SPEC), "-o", str(tmp_path / "out"), *args],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["code"] == 0
    return data


def test_black_runs_on_a_cold_cache_and_is_not_even_imported_on_a_warm_one(tmp_path):
    cache = tmp_path / "cache"
    cold = build_in_child(tmp_path, cache)
    assert "black" in cold["modules"]
    assert list(cache.rglob("*.py")), "the cold build filled the cache"
    first = {p.relative_to(tmp_path / "out"): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    warm = build_in_child(tmp_path, cache)
    assert "black" not in warm["modules"]
    second = {p.relative_to(tmp_path / "out"): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert first == second, "a cached format is byte-identical to running black"


def test_sqlfluff_is_never_imported_and_unselected_backends_are_not_loaded(tmp_path):
    data = build_in_child(tmp_path, tmp_path / "cache", "--target", "dbt")
    assert not [m for m in data["modules"] if m.startswith("sqlfluff")]
    loaded = {m.split(".")[2] for m in data["modules"] if m.startswith("streamc.backends.") and m.count(".") >= 2}
    assert loaded == {"dbt"}, loaded
    assert "black" not in data["modules"], "dbt emits no Python: black is not needed"


def test_formatter_cache_round_trip_and_corruption_is_ignored(tmp_path):
    raw = "x = {  'a':1,\n'b':2 }\n"
    fmt = PythonFormatter(tmp_path)
    assert fmt(raw) == format_python(raw) == 'x = {"a": 1, "b": 2}\n'
    assert fmt.formatted == 1
    again = PythonFormatter(tmp_path)
    assert again(raw) == format_python(raw) and again.formatted == 0, "second process reads the cache"
    (entry,) = [p for p in tmp_path.rglob("*.py")]
    for damage in (b"\xff\xfe not utf-8", entry.read_bytes()[:-3], entry.read_bytes() + b"import os\n", b""):
        entry.write_bytes(damage)  # a torn, tampered or undecodable entry is a miss: formatted again, no error
        third = PythonFormatter(tmp_path)
        assert third(raw) == format_python(raw) and third.formatted == 1


def test_unwritable_or_disabled_cache_still_formats(tmp_path, monkeypatch):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    fmt = PythonFormatter(blocked / "cache")  # cannot create a folder under a file
    assert fmt("y=1\n") == "y = 1\n"
    monkeypatch.setenv("STREAMC_NO_CACHE", "1")
    assert PythonFormatter().root is None
    assert PythonFormatter()("y=1\n") == "y = 1\n"


def test_format_files_only_touches_python():
    files = {"a.py": "a=1\n", "b.sql": "select  1\n", "c.md": "x  y\n"}
    out = PythonFormatter(None).format_files(files)
    assert out == {"a.py": "a = 1\n", "b.sql": "select  1\n", "c.md": "x  y\n"}
    assert json.dumps(list(out)) == json.dumps(list(files)), "order kept"
