"""The conformance kit catches each way a backend can break the contract, and passes one that keeps it."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
from pathlib import Path

import pytest
from pydantic import BaseModel

import streamc
from streamc.backend_api import Backend
from streamc.features import FEATURES, Feature, features_used
from streamc.testing import (
    PROBES,
    ConformanceFailure,
    SpecInput,
    assert_conformant,
    assert_snapshots,
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
    snapshot_items,
)
from streamc.testing.probes import compiled

PROBE = SpecInput(label="probe-batch_model", text=next(p.text for p in PROBES if p.name == "batch_model"))
WINDOW_PROBE = SpecInput(label="probe-streaming_window", text=next(p.text for p in PROBES
                                                                   if p.name == "streaming_window"))
ALL = frozenset(FEATURES)


class NoOpts(BaseModel):
    model_config = {"extra": "forbid"}


OPTS = NoOpts()


class Good(Backend):
    """Lists the nodes it sees; declares everything (it expresses every node by name)."""

    name = "good"
    features = ALL

    def emit(self, ir, options):
        names = [n.name for n in (*ir.sources, *ir.models, *ir.metrics, *ir.sinks)]
        return {"good/nodes.txt": "\n".join(sorted(names)) + "\n",
                "good/pipeline.txt": ir.pipeline.name + "\n"}


def one_file(name: str, emit_body, **attrs) -> type[Backend]:
    return type(name, (Backend,), {"name": "bad", "features": ALL, "emit": lambda self, ir, o: emit_body(ir),
                                   **attrs})


def fails(check, *args, match: str) -> str:
    with pytest.raises(ConformanceFailure, match=match) as err:
        check(*args)
    return str(err.value)


# ------------------------------------------------------------------ a backend keeping the contract


def test_a_conformant_backend_passes_everything():
    assert_conformant(Good, [PROBE])


def test_the_kit_is_a_list_of_named_checks():
    ids = [c.id for c in conformance_checks(Good, [PROBE])]
    assert ids[:5] == ["feature-names", "determinism[probe-batch_model]", "no-io[probe-batch_model]",
                       "paths[probe-batch_model]", "text[probe-batch_model]"]
    assert "hashseed-determinism" in ids
    assert {f"declared-feature[{f}]" for f in FEATURES} <= set(ids)


def test_a_spec_file_input(tmp_path):
    spec = tmp_path / "shop.stream"
    spec.write_text(PROBE.text)
    assert SpecInput.of(spec).label == "shop" and SpecInput.of(str(spec)).path == str(spec.resolve())
    assert SpecInput.of(PROBE.text).text == PROBE.text
    assert compile_spec(spec).pipeline.name == "probe_model"


# ------------------------------------------------------------------ purity


def test_writing_a_file_fails(tmp_path):
    target = tmp_path / "leak.txt"

    def emit(ir):
        with open(target, "w") as fh:
            fh.write("x")
        return {"bad/a.txt": "a\n"}

    fails(check_no_io, one_file("Writer", emit)(), PROBE, OPTS, match="for writing")
    assert not target.exists()


def test_pathlib_writes_and_deletes_fail(tmp_path):
    fails(check_no_io, one_file("PathWriter", lambda ir: (tmp_path / "x").write_text("x") and {})(), PROBE, OPTS,
          match=r"Path\.write_text")
    fails(check_no_io, one_file("Remover", lambda ir: os.remove(tmp_path / "x") or {})(), PROBE, OPTS,
          match=r"os\.remove")


def test_a_broad_except_cannot_hide_a_violation(tmp_path):
    def emit(ir):
        try:
            (tmp_path / "x").write_text("x")
        except Exception:  # noqa: BLE001 - the point of the test
            pass
        return {"bad/a.txt": "a\n"}

    fails(check_no_io, one_file("Swallower", emit)(), PROBE, OPTS, match=r"Path\.write_text")


def test_reading_outside_the_installed_packages_fails(tmp_path):
    secret = tmp_path / "profiles.yml"
    secret.write_text("password: hunter2\n")
    fails(check_no_io, one_file("Reader", lambda ir: {"bad/a.txt": secret.read_text()})(), PROBE, OPTS,
          match="outside the installed packages")


def test_reading_a_packaged_file_is_fine():
    schema = Path(streamc.__file__).parent / "schema" / "ir.schema.json"
    check_no_io(one_file("Templates", lambda ir: {"bad/a.txt": schema.read_text()[:10] + "\n"})(), PROBE, OPTS)


@pytest.mark.parametrize("emit", [lambda ir: {"bad/a.txt": os.environ.get("HOME", "") + "\n"},
                                  lambda ir: {"bad/a.txt": (os.getenv("WAREHOUSE_HOST") or "") + "\n"}],
                         ids=["environ", "getenv"])
def test_reading_the_environment_fails(emit):
    fails(check_no_io, one_file("EnvReader", emit)(), PROBE, OPTS, match="reads environment variable")


def test_network_and_processes_fail():
    fails(check_no_io, one_file("Net", lambda ir: socket.create_connection(("example.com", 80)))(), PROBE, OPTS,
          match=r"socket\.create_connection")
    fails(check_no_io, one_file("Proc", lambda ir: subprocess.run(["true"]))(), PROBE, OPTS,
          match=r"subprocess\.run")


# ------------------------------------------------------------------ determinism


def test_output_changing_between_calls_fails():
    counter = itertools.count()
    fails(check_determinism, one_file("Counter", lambda ir: {"bad/a.txt": f"{next(counter)}\n"})(), PROBE, OPTS,
          match="not deterministic within one process")


class HashOrdered(Backend):
    """Deterministic within a process, but a set of str iterates in hash order: another PYTHONHASHSEED differs."""

    name = "hashy"
    features = ALL

    def emit(self, ir, options):
        names = {f"{ir.pipeline.name}_{i}" for i in range(40)}
        return {"hashy/names.txt": "\n".join(names) + "\n"}


def test_set_iteration_order_is_caught_by_another_hash_seed():
    check_determinism(HashOrdered(), PROBE, OPTS)  # one process: the same order every time
    fails(check_hashseed_determinism, HashOrdered(), [PROBE], OPTS, ["7"], match="PYTHONHASHSEED=7")


# ------------------------------------------------------------------ paths and text


@pytest.mark.parametrize(("path", "match"), [
    ("/etc/cron.d/x", "not a relative POSIX path"),
    ("bad/../../x", "unsafe part '..'"),
    ("other/x.txt", "not inside the backend's own folder 'bad/'"),
    ("bad", "not inside the backend's own folder"),
    ("bad/c:x", "not a relative POSIX path"),
])
def test_unsafe_paths_fail(path, match):
    fails(check_paths, one_file("Paths", lambda ir: {path: "x\n"})(), PROBE, OPTS, match=match)


def test_paths_differing_only_by_case_fail():
    fails(check_paths, one_file("Case", lambda ir: {"bad/A.txt": "x\n", "bad/a.txt": "y\n"})(), PROBE, OPTS,
          match="differ only by case")


@pytest.mark.parametrize(("text", "match"), [("no newline", "does not end with a newline"),
                                             ("", "it is empty"), ("a\r\nb\r\n", "carriage return"),
                                             (b"bytes\n", "not str"), ("\udc80\n", "UTF-8")])
def test_bad_text_fails(text, match):
    fails(check_text, one_file("Text", lambda ir: {"bad/a.txt": text})(), PROBE, OPTS, match=match)


# ------------------------------------------------------------------ features


class MetricBlind(Backend):
    """Does not declare `metric` and silently leaves metrics out."""

    name = "blind"
    features = ALL - {Feature.metric, Feature.windows}

    def emit(self, ir, options):
        return {"blind/models.txt": "\n".join(m.name for m in ir.models) + "\n"}


class MetricHonest(MetricBlind):
    name = "honest"

    def check(self, ir, options):
        return [self.unsupported(m.span, f"metric '{m.name}'", "compute it in a model") for m in ir.metrics]

    def emit(self, ir, options):
        return {"honest/models.txt": "\n".join(m.name for m in ir.models) + "\n"}


class MetricDecliner(MetricBlind):
    name = "decliner"

    def emit(self, ir, options):
        return {} if ir.metrics else {"decliner/models.txt": "\n".join(m.name for m in ir.models) + "\n"}


def test_a_silently_dropped_feature_fails():
    message = fails(check_unsupported_feature, MetricBlind(), "metric", OPTS, match="does not declare the feature")
    assert "probe 'batch_metric'" in message and "blind/models.txt" in message
    assert "self.unsupported(span, what, hint)" in message


def test_reporting_e120_or_emitting_nothing_passes():
    for backend in (MetricHonest(), MetricDecliner()):
        check_unsupported_feature(backend, "metric", OPTS)
        check_unsupported_feature(backend, "windows", OPTS)


def test_delegated_features_are_not_probed():
    class Delegating(MetricBlind):
        name = "delegating"
        delegated = frozenset({Feature.metric, Feature.windows})

        def emit(self, ir, options):
            return {"delegating/x.txt": "x\n"}

    ids = {c.id for c in conformance_checks(Delegating, [PROBE])}
    assert "unsupported-feature[metric]" not in ids and "declared-feature[metric]" not in ids
    assert "unsupported-feature[metric]" in {c.id for c in conformance_checks(MetricBlind, [PROBE])}


def test_rejecting_with_another_code_fails():
    from streamc.diagnostics import make

    class WrongCode(MetricBlind):
        name = "wrongcode"

        def check(self, ir, options):
            return [make("E104", m.span, message="no", hint="no") for m in ir.metrics]

    fails(check_unsupported_feature, WrongCode(), "metric", OPTS, match="returned E104")


def test_a_declared_feature_never_expressed_fails():
    class Claims(MetricHonest):
        name = "claims"
        features = ALL  # claims metrics, but check() rejects every one

    message = fails(check_declared_feature, Claims(), "windows", OPTS, match="declares 'windows'")
    assert "'streaming_window' rejected (E120" in message


def test_feature_names_come_from_the_vocabulary():
    class Typo(Good):
        features = frozenset({"source", "windws"})

    fails(check_feature_names, Typo(), match="outside the vocabulary.*windws")

    class Both(Good):
        features = frozenset({"source"})
        delegated = frozenset({"source"})

    fails(check_feature_names, Both(), match="both expresses and delegates: source")
    check_feature_names(Good())


# ------------------------------------------------------------------ the probes themselves


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_each_probe_compiles_and_uses_exactly_its_features(probe):
    assert set(features_used(compiled(probe.name))) == set(probe.uses)


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_each_probe_is_canonical_text(probe):
    from streamc.formatter import format_file

    assert format_file(probe.text, f"{probe.name}.stream")[0] == probe.text


def test_every_feature_has_a_probe():
    assert set().union(*(p.uses for p in PROBES)) == set(FEATURES)


def test_features_used_points_at_the_spec():
    used = features_used(compiled("streaming_window"))
    (span,) = used["windows"]
    assert span is not None and span.line > 1 and "window" in WINDOW_PROBE.text.splitlines()[span.line - 1]


# ------------------------------------------------------------------ snapshot helpers


def test_snapshot_items_are_sorted_and_prefixed():
    assert snapshot_items({"b/y": "2\n", "a/x": "1\n"}, "spec/") == [("spec/a/x", "1\n"), ("spec/b/y", "2\n")]


def test_assert_snapshots_compares_every_file_then_names_the_mismatches():
    seen = []

    class FakeSnapshot:
        def __init__(self, name):
            self.name = name

        def __eq__(self, other):
            seen.append(self.name)
            return self.name != "b/y"

    with pytest.raises(AssertionError, match="snapshots differ: b/y"):
        assert_snapshots(FakeSnapshot, {"b/y": "2\n", "a/x": "1\n", "c/z": "3\n"})
    assert seen == ["a/x", "b/y", "c/z"]
