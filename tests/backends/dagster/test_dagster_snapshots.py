"""Snapshot tests of the Dagster backend: one syrupy snapshot per emitted file per reference spec, plus its contract."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from dagster_cases import ROOT, batch_models, compiled, emit, expected_checks, spec_names
from streamc.backends.dagster import DagsterBackend, DagsterOptions
from streamc.compiler import compile_files, compile_text
from streamc.ir import Duration


@pytest.mark.parametrize("name", spec_names())
def test_dagster_files(name: str, snapshot) -> None:
    files = emit(name)
    if not batch_models(compiled(name)):
        assert files == {}, "a spec without a batch side gets no Dagster definitions"
        return
    assert sorted(files) == ["dagster/definitions.py", "dagster/requirements.txt"]
    for path in sorted(files):
        assert snapshot(name=path) == files[path]


@pytest.mark.parametrize("name", ["daily_file_drop"])
def test_dagster_local_files(name: str, snapshot) -> None:
    """The DuckDB / local-directory stand-ins the real-tool test runs, for the spec with a sensor and partitions."""
    files = emit(name, target_warehouse="duckdb", target_storage="local")
    for path in sorted(files):
        assert snapshot(name=path) == files[path]


@pytest.mark.parametrize("name", spec_names())
def test_definitions_are_python_with_one_definitions_object(name: str) -> None:
    files = emit(name)
    if not files:
        return
    tree = ast.parse(files["dagster/definitions.py"])
    assigned = [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)]
    assert assigned.count("defs") == 1
    assert files == emit(name), "emit is deterministic"


@pytest.mark.parametrize("name", spec_names())
def test_every_gate_and_model_is_in_the_module(name: str) -> None:
    files = emit(name)
    if not files:
        return
    text = files["dagster/definitions.py"]
    ir = compiled(name)
    for model in batch_models(ir):
        assert f"def {model}(context: dg.AssetExecutionContext" in text
    for key, want in expected_checks(ir).items():
        asset, check = key.split(":")
        node = asset.split("/")[1]
        block = f'asset=dg.AssetKey(["{ir.pipeline.name}", "{node}"]),\n        name="{check}",'
        assert block in text, f"no gate {key}"
        after = text[text.index(block):]
        assert f"severity=dg.AssetCheckSeverity.{want['severity']},\n        blocking={want['blocking']}," in after


@pytest.mark.parametrize("name", spec_names())
def test_no_environment_value_or_secret_is_a_literal(name: str) -> None:
    files = emit(name)
    if not files:
        return
    text = "\n".join(files.values())
    ir = compiled(name)
    node_names = {n.name for group in (ir.sources, ir.models, ir.metrics, ir.sinks, ir.connections) for n in group}
    for env in ir.environments:
        for override in env.overrides:
            value = override.value
            if value.kind == "string" and value.text not in node_names:
                assert f'"{value.text}"' not in text, f"{env.name} value of {override.target}.{override.key}"
    for conn in ir.connections:
        for setting in conn.settings:
            if setting.value.kind in ("string", "secret") and setting.value.text not in node_names:
                assert f'"{setting.value.text}"' not in text, f"{conn.name}.{setting.key} is a literal"
    module = ast.parse(files["dagster/definitions.py"])
    defs = next(n.value for n in module.body if isinstance(n, ast.Assign) and n.targets[0].id == "defs")
    resources = next(k.value for k in defs.keywords if k.arg == "resources")
    for resource in resources.values:
        for field in resource.keywords:
            call = field.value
            assert isinstance(call, ast.Call) and ast.unparse(call.func) in ("dg.EnvVar", "dg.EnvVar.int"), \
                f"resource field {field.arg} is not read from the environment"


def test_duckdb_swap_keeps_resource_key_and_env_var_names() -> None:
    files = emit("orders_analytics", target_warehouse="duckdb")
    text = files["dagster/definitions.py"]
    assert "class Warehouse(DuckDBResource):" in text
    assert '"warehouse": Warehouse(\n            database=dg.EnvVar("ORDERS_ANALYTICS_WAREHOUSE_DATABASE"),' in text
    assert "snowflake" not in files["dagster/requirements.txt"]


def test_spec_without_plan_is_refused_not_dropped() -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = compile_files([Path("specs/customer_marts.stream")], run_passes=False)
    finally:
        os.chdir(cwd)
    problems = DagsterBackend().check(result.spec, DagsterOptions())
    assert [p.code for p in problems] == ["E120"]
    assert "ir.plan.mode" in problems[0].message


def test_streaming_only_spec_has_no_problems_and_no_files() -> None:
    ir = compiled("orders_cdc_kafka")
    assert DagsterBackend().check(ir, DagsterOptions()) == []
    assert DagsterBackend().emit(ir, DagsterOptions()) == {}


def problems(ir) -> list[str]:
    return [p.message for p in DagsterBackend().check(ir, DagsterOptions())]


def test_missing_plan_parts_are_reported_not_guessed() -> None:
    ir = compiled("payments_api_sync")
    plan = ir.plan.model_copy(update={"reliability": None, "models": ir.plan.models[:1]})
    found = problems(ir.model_copy(update={"plan": plan}))
    assert any("ir.plan.reliability" in m for m in found)
    assert any("'fct_transactions' without a layer/materialization decision" in m for m in found)


def test_batch_metric_and_uncronable_schedule_are_unsupported() -> None:
    ir = compiled("orders_analytics")
    mode = ir.plan.mode.model_copy(update={"batch_nodes": (*ir.plan.mode.batch_nodes, "metric:revenue_per_minute")})
    every = ir.pipeline.schedule.model_copy(update={"kind": "every", "every": Duration(seconds=420.0, text="7m")})
    ir = ir.model_copy(update={"plan": ir.plan.model_copy(update={"mode": mode}),
                               "pipeline": ir.pipeline.model_copy(update={"schedule": every})})
    found = problems(ir)
    assert any("metric 'revenue_per_minute' on the batch side" in m for m in found)
    assert any("schedule 'every' as a cron" in m for m in found)


def bind_of(module_text: str):
    """The generated module's bind() with what it reads (outside a partitioned run: no dagster needed)."""
    keep = {"RAW_SCHEMAS", "TIME_FORMAT", "UNBOUNDED", "SLOT"}
    body = [*ast.parse("import os\nimport re\nPARTITIONS = None").body]
    for node in ast.parse(module_text).body:
        if isinstance(node, ast.Assign) and {t.id for t in node.targets if isinstance(t, ast.Name)} & keep:
            body.append(node)
        elif isinstance(node, ast.FunctionDef) and node.name == "bind":
            body.append(node)
    namespace: dict = {}
    exec(compile(ast.Module(body=body, type_ignores=[]), "definitions", "exec"), namespace)
    return namespace["bind"]


def test_spec_literals_that_look_like_slots_stay_as_written() -> None:
    """A literal in the spec's SQL holding streamc's run-time slots (today's and the old `{partition_start}` /
    `{raw:<connection>}` forms) reaches the warehouse as written: the slots get another prefix, and bind() fills
    only those, in one pass."""
    text = (ROOT / "specs" / "customer_marts.stream").read_text()
    literal = "{streamc:partition_start} {streamc:raw:shop_db} {partition_start} {raw:shop_db}"
    changed = text.replace("select o.order_id, o.customer_id,",
                           f"select '{literal}' as note, o.order_id, o.customer_id,")
    assert changed != text
    result = compile_text(changed, "customer_marts.stream")
    assert result.ok, [d.message for d in result.diagnostics]
    files = DagsterBackend().emit(result.spec, DagsterOptions())
    module = files["dagster/definitions.py"]
    assert "{streamc1:partition_start}" in module and "{streamc1:raw:shop_db}" in module
    bind = bind_of(module)
    strings = [n.value for n in ast.walk(ast.parse(module)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    with_literal = [s for s in strings if f"'{literal}'" in s]
    assert with_literal, "the literal is in the model's statements"
    bound = [bind(s, None) for s in strings if "{streamc1:" in s and not s.startswith("\\{")]  # not SLOT itself
    assert all(f"'{literal}'" in bind(s, None) for s in with_literal)
    assert bound and not any("{streamc1:" in b for b in bound)
    assert any("raw_shop_db.orders" in b for b in bound) and any("'0001-01-01 00:00:00'" in b for b in bound)


def test_slots_are_filled_in_one_pass() -> None:
    """A raw schema whose value holds a slot is not read again."""
    bind = bind_of(emit("customer_marts")["dagster/definitions.py"])
    os.environ["SHOP_DB_RAW_SCHEMA"] = "{streamc:partition_end}"
    try:
        assert bind("SELECT * FROM {streamc:raw:shop_db}.t WHERE d < '{streamc:partition_end}'", None) == \
            "SELECT * FROM {streamc:partition_end}.t WHERE d < '9999-12-31 00:00:00'"
    finally:
        del os.environ["SHOP_DB_RAW_SCHEMA"]
