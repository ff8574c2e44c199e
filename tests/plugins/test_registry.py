"""The backend registry: entry points found per run, loaded lazily, one name per backend, clear usage errors."""

from __future__ import annotations

from importlib import metadata
from types import SimpleNamespace

import pytest

from streamc.backend_api import ENTRY_POINT_GROUP, Backend, Registry, UsageError
from streamc.backends.ir_json import IrJsonBackend


class Named(Backend):
    name = "named"

    def emit(self, ir, options):
        return {}


class WrongName(Backend):
    name = "something-else"


class NotABackend:
    name = "plain"


def ep(name: str, value: str, dist: str | None = "acme-backends", version: str = "1.2.3") -> metadata.EntryPoint:
    point = metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)
    if dist is None:
        return point
    return point._for(SimpleNamespace(name=dist, version=version))  # what importlib.metadata does per distribution


def test_duplicate_name_names_both_distributions():
    points = [ep("dbt", "streamc.backends.dbt:DbtBackend", "streamc", "0.1.0"),
              ep("dbt", "acme_dbt:Backend", "acme-dbt", "2.0")]
    with pytest.raises(UsageError) as err:
        Registry(points)
    message = str(err.value)
    assert "backend name 'dbt' is registered twice" in message
    assert "streamc (streamc.backends.dbt:DbtBackend)" in message and "acme-dbt (acme_dbt:Backend)" in message


def test_the_same_distribution_seen_twice_is_not_a_duplicate():
    value = f"{__name__}:Named"
    reg = Registry([ep("named", value), ep("named", value)])
    assert reg.names() == ["named"]


def test_loading_is_lazy_and_a_broken_plugin_is_a_usage_error():
    reg = Registry([ep("broken", "no_such_module_anywhere:Backend"), ep("named", f"{__name__}:Named")])
    assert reg.names() == ["broken", "named"]  # listing imports nothing
    assert isinstance(reg.get("named"), Named)
    with pytest.raises(UsageError, match="backend 'broken' from acme-backends failed to load: ModuleNotFoundError"):
        reg.get("broken")


@pytest.mark.parametrize(("value", "message"), [
    (f"{__name__}:NotABackend", "is not a streamc Backend subclass"),
    (f"{__name__}:WrongName", "declares name 'something-else'"),
])
def test_entry_point_must_be_a_backend_of_that_name(value, message):
    name = "plain" if "NotABackend" in value else "wrong"
    with pytest.raises(UsageError, match=message):
        Registry([ep(name, value)]).get(name)


def test_unknown_name_suggests_the_closest():
    reg = Registry([ep("named", f"{__name__}:Named"), ep("ir", "streamc.backends.ir_json:IrJsonBackend")])
    with pytest.raises(UsageError, match="did you mean 'named'"):
        reg.get("nmaed")
    with pytest.raises(UsageError, match="installed backends: ir, named"):
        reg.get("zzzzzz")


def test_a_registry_per_run():
    a, b = Registry(), Registry()
    assert a.get("ir") is a.get("ir")  # loaded once per registry
    assert a.get("ir") is not b.get("ir")  # no state shared between runs
    assert isinstance(a.get("ir"), IrJsonBackend)


def test_distribution_and_version_come_from_the_package_metadata():
    reg = Registry()
    info = reg.infos["ir"]
    assert info.distribution == "streamc" and info.version == metadata.version("streamc")


def test_backends_lists_name_version_distribution_features(streamc):
    import json

    proc = streamc("backends", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows)
    ir = next(r for r in rows if r["name"] == "ir")
    assert ir["distribution"] == "streamc" and ir["version"] == metadata.version("streamc")
    assert set(ir) >= {"name", "version", "distribution", "entry_point", "features", "delegated", "options"}
    assert "model" in ir["features"]
