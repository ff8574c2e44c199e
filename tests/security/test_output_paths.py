"""Output stays inside -o: unsafe generated paths are refused before anything is written, links in -o are never
followed, colliding names are spec diagnostics, and a build stopped at any step leaves the previous tree intact.

Extends tests/core/test_cli.py (which holds the first path cases and one interrupted write)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from streamc import output
from streamc.output import MANIFEST, OutputError, check_relative_path, write_tree

# ------------------------------------------------------------------ paths a backend must never get written


@pytest.mark.parametrize("path", [
    "C:\\x", "c:/x", "\\\\server\\share\\x", "//server/share", "~/x", "a/./b", "a/b/", "a/x\ny", "a/x\n", "a/\x00x",
    "NUL", "nul.txt", "Com1.txt", "lpt1.tar.gz", "CON.json", "x/prn.sql", "dbt/AUX", "x/com9",
    "aux.", "a/x.", "a/x ", "a/ x", "a/\u2028x", "caf\u00e9.sql", "-rf", ".git/config", "a/.hidden", "..",
])
def test_more_unsafe_output_paths_are_rejected(path):
    with pytest.raises(OutputError):
        check_relative_path(path)


@pytest.mark.parametrize("path", ["dbt/models/staging/stg_orders.sql", "a-b/c_d.e.yml", "x/console.sql",
                                  "x/nullable.sql", "x/com10.sql", "x/lpt.sql", "README.md"])
def test_names_that_only_resemble_device_names_are_fine(path):
    assert check_relative_path(path) == path


def test_an_unsafe_path_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"p/a.txt": "v1"})
    before = snapshot(out)
    for bad in ({"p/a.txt": "v2", "../escape.txt": "x"}, {"p/a.txt": "v2", "p/Con.sql": "x"},
                {"p/a.txt": "v2", "p/A.txt": "x"}, {"p/a.txt": "v2", MANIFEST: "{}"}):
        with pytest.raises(OutputError):
            write_tree(out, bad)
        assert snapshot(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ------------------------------------------------------------------ names that would collide are spec errors


SPEC = """\
pipeline shop {
  owner "team"
  tier standard
  latency < 24h
  schedule daily at 06:00 UTC
}

connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }

source orders from db {
  table public.orders
  capture incremental(updated_at)
  columns {
    id         bigint    primary key
    updated_at timestamp not null
  }
}

model stg_orders from orders {
  select id, updated_at
}

model %s from orders {
  select id, updated_at
}

sink marts to dwh { models stg_orders }

expect orders { unique id }
"""


@pytest.mark.parametrize("name, reason", [("Stg_Orders", "only by case"), ("con", "device name"),
                                          ("LPT1", "device name")])
def test_a_colliding_or_reserved_name_fails_the_build_as_a_positioned_diagnostic(streamc, tmp_path, name, reason):
    spec = tmp_path / "shop.stream"
    spec.write_text(SPEC % name)
    out = tmp_path / "out"
    proc = streamc("build", str(spec), "-o", str(out))
    assert proc.returncode == 1, proc.stderr  # a spec error, not a usage error (2) from the output layer
    line = (SPEC % name).splitlines().index(f"model {name} from orders {{") + 1
    assert f"shop.stream:{line}:7: error[E116]" in proc.stderr and reason in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


# ------------------------------------------------------------------ symbolic links inside -o


def snapshot(root: Path) -> dict[str, object]:
    """Every entry under `root`, not following links: file bytes, link targets, folders."""
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir",)
            else:
                out[rel] = ("file", p.read_bytes())
    return out


@pytest.fixture
def outside(tmp_path):
    """A folder outside -o with a file that must never change, and a file of its own."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.txt").write_text("outside content")
    return d


FILES_V1 = {"p/dbt/models/a.sql": "select 1\n", "p/README.md": "v1\n"}
FILES_V2 = {"p/dbt/models/a.sql": "select 2\n", "p/dbt/models/b.sql": "select 3\n", "p/README.md": "v2\n"}


def assert_outside_untouched(outside: Path):
    assert snapshot(outside) == {"secret.txt": ("file", b"outside content")}


def test_a_generated_folder_replaced_by_a_link_is_not_written_through(tmp_path, outside):
    out = tmp_path / "out"
    write_tree(out, FILES_V1)
    shutil.rmtree(out / "p" / "dbt")
    (out / "p" / "dbt").symlink_to(outside, target_is_directory=True)
    write_tree(out, FILES_V2)
    assert_outside_untouched(outside)
    assert not (out / "p" / "dbt").is_symlink()
    assert (out / "p" / "dbt" / "models" / "b.sql").read_text() == "select 3\n"


def test_a_generated_file_replaced_by_a_link_is_not_written_through(tmp_path, outside):
    out = tmp_path / "out"
    write_tree(out, FILES_V1)
    (out / "p" / "README.md").unlink()
    (out / "p" / "README.md").symlink_to(outside / "secret.txt")
    write_tree(out, FILES_V2)
    assert_outside_untouched(outside)
    assert not (out / "p" / "README.md").is_symlink() and (out / "p" / "README.md").read_text() == "v2\n"


def test_a_users_link_is_carried_as_a_link_and_never_followed(tmp_path, outside):
    out = tmp_path / "out"
    write_tree(out, FILES_V1)
    (out / "notes").symlink_to(outside, target_is_directory=True)
    (out / "p" / "key.txt").symlink_to(outside / "secret.txt")
    write_tree(out, FILES_V2)
    assert_outside_untouched(outside)
    tree = snapshot(out)
    assert tree["notes"] == ("link", str(outside)) and tree["p/key.txt"] == ("link", str(outside / "secret.txt"))
    assert not any(isinstance(v, tuple) and v[0] == "file" and v[1] == b"outside content" for v in tree.values())


def test_a_users_link_where_the_new_tree_generates_a_folder_gives_way(tmp_path, outside):
    out = tmp_path / "out"
    write_tree(out, {"p/README.md": "v1\n"})
    (out / "p" / "dbt").symlink_to(outside, target_is_directory=True)  # not generated before: the user's
    write_tree(out, FILES_V2)
    assert_outside_untouched(outside)
    assert not (out / "p" / "dbt").is_symlink() and (out / "p" / "dbt" / "models" / "b.sql").is_file()


# ------------------------------------------------------------------ interrupted at every step


class Interrupt(BaseException):
    """Stands for Ctrl-C or a failing disk at one file-system step."""


FS_STEPS = [(os, "replace"), (os, "rmdir"), (os, "symlink"), (shutil, "copy2"), (shutil, "rmtree"),
            (tempfile, "mkdtemp"), (Path, "mkdir"), (Path, "write_text")]


def instrument(monkeypatch, fail_at: int | None) -> list[str]:
    """Count (and at step `fail_at`, interrupt) every file-system step write_tree takes."""
    steps: list[str] = []

    def wrap(owner, name, real):
        def step(*args, **kwargs):
            steps.append(f"{getattr(owner, '__name__', owner)}.{name}")
            if fail_at is not None and len(steps) == fail_at:
                raise Interrupt(f"step {fail_at}: {steps[-1]}")
            return real(*args, **kwargs)
        return step

    for owner, name in FS_STEPS:
        monkeypatch.setattr(owner, name, wrap(owner, name, getattr(owner, name)))
    real_open = open
    monkeypatch.setattr(output, "open", wrap(output, "open", real_open), raising=False)
    return steps


def previous_tree(out: Path, outside: Path) -> None:
    write_tree(out, FILES_V1)
    (out / "NOTES.md").write_text("mine\n")  # a user's file, carried over
    (out / "notes").symlink_to(outside, target_is_directory=True)  # a user's link, carried as a link


def test_a_build_interrupted_at_any_step_leaves_the_previous_tree_or_the_new_one(tmp_path, monkeypatch, outside):
    reference = tmp_path / "reference"
    previous_tree(reference, outside)
    before = snapshot(reference)
    write_tree(reference, FILES_V2)
    after = snapshot(reference)
    shutil.rmtree(reference)

    with monkeypatch.context() as m:
        out = tmp_path / "counted"
        previous_tree(out, outside)
        steps = instrument(m, None)
        write_tree(out, FILES_V2)
    total = len(steps)
    shutil.rmtree(out)
    assert total >= 10, steps

    for k in range(1, total + 1):
        out = tmp_path / "out"
        previous_tree(out, outside)
        with monkeypatch.context() as m:
            instrument(m, k)
            with pytest.raises(Interrupt):
                write_tree(out, FILES_V2)
        state = snapshot(out)
        assert state in (before, after), f"step {k}: -o holds a mixed tree"
        if k <= total - 1 - steps[::-1].index("os.replace"):
            assert state == before, f"step {k} ({steps[k - 1]}) is before the commit: the previous tree stays"
        leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name not in ("out", "outside"))
        assert leftovers == [], f"step {k} ({steps[k - 1]}) left {leftovers}"
        assert_outside_untouched(outside)
        shutil.rmtree(out)
