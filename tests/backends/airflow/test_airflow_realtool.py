"""The generated DAGs on a real Airflow 3: DagBag loads them with no import error, and the loaded task graph,
retries, schedule and run limits equal what the compiled IR and its plan say (expectations computed from the IR).

Uses tests/realtools/batch/harness.py `airflow_load` (Airflow 3.3 with the standard, common-sql, amazon, google,
postgres and snowflake providers; no metadata database).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from airflow_cases import BACKEND, OPTIONS, ROOT, SPECS, compiled, emitted

from streamc.compiler import compile_text
from streamc.ir import CheckKind, Engine, Spec
from streamc.python_format import format_python_files
from streamc.testing.probes import probe

pytestmark = pytest.mark.realtools

HARNESS = ROOT / "tests" / "realtools" / "batch" / "harness.py"
RENDER = Path(__file__).resolve().parent / "airflow_render.py"
SECURITY = ROOT / "tests" / "security"  # the hostile payloads and the carrier specs with a slot per kind of text
BATCH_ENGINES = (Engine.warehouse_sql, Engine.orchestrator)
WINDOWED = {"timestamp_incremental", "api_incremental", "file_arrival"}
STAGES = ("extract", "source_gate", "transform", "transform_gate", "load", "reconcile")


def harness():
    name = "streamc_realtools_batch_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HARNESS)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> dict:
    """Every reference spec's airflow/ folder in one DAG folder, parsed once by a real DagBag."""
    dags = tmp_path_factory.mktemp("dags")
    for name in SPECS:
        for path, text in emitted(name).items():
            if path.endswith(".py"):
                target = dags / compiled(name).pipeline.name / Path(path).relative_to("airflow")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
    # files landed into a non-BigQuery warehouse (S3ToSqlOperator path): the conformance kit's probe spec
    ir = compile_text(probe("batch_files").text, "batch_files.stream").spec
    for path, text in format_python_files(BACKEND.emit(ir, OPTIONS)).items():
        if path.endswith(".py") and "/plugins/" not in path:
            (dags / "probe_files.py").write_text(text)
    result = harness().airflow_load(dags)
    harness().assert_airflow_ok(result)
    return result


# ------------------------------------------------------------------------------------------ expectations


def node(node_id: str) -> str:
    return node_id.split(":", 1)[-1]


def batch_sinks(ir: Spec) -> list[str]:
    plans = {p.sink: p for p in ir.plan.sinks}
    in_batch = {node(n) for n in ir.plan.mode.batch_nodes}
    return [s.name for s in ir.sinks if s.name in in_batch or plans[s.name].engine in BATCH_ENGINES]


def ancestors(ir: Spec, names: list[str]) -> set[str]:
    out, todo = set(), list(names)
    while todo:
        n = todo.pop()
        m = ir.model(n)
        parents = (list(m.depends_on) + ([m.from_] if m.from_ else [])) if m else []
        for p in parents:
            if p not in out:
                out.add(p)
                todo.append(p)
    return out


def gate_id(check) -> str:
    """The documented task id of a gate: `<target>__<kind>[_<columns>][_vs_<against>]`, `<target>__<name>`."""
    if check.kind == CheckKind.custom_sql:
        return f"{check.target}__{check.name}"
    text = f"{check.target}__{check.kind.value}" + ("_" + "_".join(check.columns) if check.columns else "")
    return text + (f"_vs_{check.against}" if check.kind == CheckKind.reconcile else "")


@lru_cache(maxsize=None)
def expected(name: str) -> dict:
    """Task ids per stage, and the DAG settings, as the IR and its plan give them."""
    ir = compiled(name)
    sinks = batch_sinks(ir)
    written = [m for s in sinks for m in ir.sink(s).models + ir.sink(s).metrics]
    needed = ancestors(ir, written) | set(written)
    feeding = ancestors(ir, written)
    transform = [m.name for m in ir.models if m.name in feeding and m.name not in written]
    sources = [s for s in ir.sources if s.name in needed]
    caps = {c.source: c for c in ir.plan.captures}
    stages: dict[str, set[str]] = {s: set() for s in STAGES}
    chains: list[tuple[str, str]] = []
    sensors: dict[str, float] = {}
    for s in sources:
        cap = caps[s.name]
        if cap.raw_load == "from_topic":
            stages["extract"].add(f"{s.name}_landed")
            sensors[f"{s.name}_landed"] = s.freshness.seconds
        elif cap.method == "file_arrival":
            steps = [f"{s.name}_wait"] + ([f"{s.name}_copy"] if ir.connection(s.connection).kind.value == "s3"
                                          else []) + [f"{s.name}_load"]
            stages["extract"].update(steps)
            chains += list(zip(steps, steps[1:]))
            sensors[f"{s.name}_wait"] = s.arrival.timeout.seconds
        else:
            stages["extract"].update({f"{s.name}_fetch", f"{s.name}_merge"})
            chains.append((f"{s.name}_fetch", f"{s.name}_merge"))
    if transform:
        stages["transform"].add("dbt_build")
    stages["load"].update(sinks)
    on_side = {s.name for s in sources} | needed
    for gate in ir.plan.gates:
        if gate.check.target not in on_side:
            continue  # the hot path's gates (streaming side)
        if gate.boundary == "source":
            stage = "source_gate"
        elif gate.boundary == "transform" and gate.check.target not in written:
            stage = "transform_gate"
        else:
            stage = "reconcile"  # sink gates, and gates on the models dbt writes into the sinks
        stages[stage].add(gate_id(gate.check))
    catchup = any(caps[s.name].raw_load == "extract" and caps[s.name].method in WINDOWED for s in sources)
    return {"stages": {k: v for k, v in stages.items() if v}, "chains": chains, "sensors": sensors,
            "catchup": catchup}


def cron_of(ir: Spec) -> str:
    s = ir.pipeline.schedule
    if s.kind == "daily":
        hour, minute = s.time.split(":")
        return f"{int(minute)} {int(hour)} * * *"
    if s.kind == "every":
        return f"*/{int(s.every.seconds // 60)} * * * *"
    raise AssertionError(f"no expectation written for schedule kind {s.kind}")


# ------------------------------------------------------------------------------------------ tests


def test_dagbag_has_exactly_the_batch_pipelines(loaded: dict) -> None:
    assert loaded["import_errors"] == {}
    want = sorted(compiled(n).pipeline.name for n in SPECS if batch_sinks(compiled(n)))
    assert sorted(loaded["dags"]) == sorted([*want, "probe_files"])
    assert "orders_cdc" not in loaded["dags"]  # streaming only: no DAG
    assert loaded["airflow_version"].startswith("3.")


@pytest.mark.parametrize("name", sorted(n for n in SPECS if n != "orders_cdc_kafka"))
def test_loaded_dag_matches_the_ir(loaded: dict, name: str) -> None:
    ir = compiled(name)
    dag = loaded["dags"][ir.pipeline.name]
    exp = expected(name)
    rel = ir.plan.reliability
    assert dag["serialization_error"] is None
    # schedule: a data-interval timetable on the spec's schedule
    assert dag["timetable"] == "CronDataIntervalTimetable"
    assert dag["timetable_summary"] == cron_of(ir)
    assert dag["catchup"] is exp["catchup"]
    assert dag["max_active_runs"] == rel.max_active_runs
    assert dag["start_date"].startswith("2025-01-01")
    assert ir.pipeline.domain in dag["tags"]
    tasks = dag["tasks"]
    # the task graph: every stage's tasks, plus notify
    want = {f"{stage}.{tid}" for stage, ids in exp["stages"].items() for tid in ids} | {"notify"}
    assert set(tasks) == want
    # stage order: each stage's first tasks wait for every last task of the stage before
    order = [s for s in STAGES if s in exp["stages"]] + ["notify"]
    members = {s: {t for t in tasks if t.split(".")[0] == s} for s in order}
    for before, after in zip(order, order[1:]):
        leaves = {t for t in members[before] if not set(tasks[t]["downstream"]) & members[before]}
        roots = {t for t in members[after] if not set(tasks[t]["upstream"]) & members[after]}
        for t in roots:
            assert set(tasks[t]["upstream"]) == leaves, f"{t} should wait for {sorted(leaves)}"
    for a, b in exp["chains"]:
        assert tasks[f"extract.{a}"]["downstream"] == [f"extract.{b}"]
    # reliability from the plan, on every task
    for tid, t in tasks.items():
        assert t["retries"] == rel.retries, tid
        assert t["retry_delay"] == rel.retry_delay.seconds, tid
        assert t["retry_exponential_backoff"] == (2.0 if rel.exponential_backoff else 0.0), tid
        assert t["owner"] == ir.pipeline.owner, tid
    # sensors wait in reschedule mode, as long as the spec allows
    for tid, timeout in exp["sensors"].items():
        t = tasks[f"extract.{tid}"]
        assert t["is_sensor"] and t["mode"] == "reschedule" and t["timeout"] == timeout
        assert 0 < t["poke_interval"] <= timeout
    # gates: warn-only checks are marked so; every gate reads the warehouse connection by id
    for gate in ir.plan.gates:
        for stage in ("source_gate", "transform_gate", "reconcile"):
            t = tasks.get(f"{stage}.{gate_id(gate.check)}")
            if t is not None:
                assert t["operator"] == "_PythonDecoratedOperator"
                kwargs = t["template_fields"]["op_kwargs"]
                assert kwargs["severity"] == gate.check.severity.value
                assert re.fullmatch(rf"{ir.pipeline.name}_\w+", kwargs["conn_id"])
    # dbt tasks run the generated project with the plan's models
    for sink in ir.plan.sinks:
        t = tasks.get(f"load.{sink.sink}")
        if t is not None:
            for model in ir.sink(sink.sink).models:
                assert f"+{model}" in t["template_fields"]["bash_command"]


def test_files_into_a_sql_warehouse(loaded: dict) -> None:
    tasks = loaded["dags"]["probe_files"]["tasks"]
    chain = ["extract.drops_wait", "extract.drops_prepare", "extract.drops_load", "extract.drops_merge"]
    assert [tasks[t]["operator"] for t in chain] == ["S3KeySensor", "SQLExecuteQueryOperator", "S3ToSqlOperator",
                                                     "SQLExecuteQueryOperator"]
    for a, b in zip(chain, chain[1:]):
        assert tasks[a]["downstream"] == [b]


# ------------------------------------------------------------------------------------------ hostile spec text


def hostile_specs():
    if str(SECURITY) not in sys.path:
        sys.path.insert(0, str(SECURITY))
    import hostile_specs

    return hostile_specs


def literal_forms(text: str) -> set[str]:
    """How a warehouse's SQL writes `text` inside a string literal (quotes doubled or backslash-escaped)."""
    import sqlglot.expressions as exp

    return {text, text.replace("'", "''")} | {exp.Literal.string(text).sql(dialect=d)[1:-1]
                                              for d in ("postgres", "snowflake", "bigquery", "duckdb")}


def strings_in(value, where: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(item, f"{where}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings_in(item, f"{where}/{i}")
    elif isinstance(value, str):
        yield where, value


@pytest.mark.parametrize("payload", ["jinja", "all"])
def test_spec_text_in_templated_fields_renders_as_written(tmp_path: Path, payload: str) -> None:
    """Every carrier spec (Postgres, Snowflake, DuckDB with an API, BigQuery with files) with hostile text in
    every slot: Airflow renders each task's templated fields (SQL, gate descriptions, the API endpoint, file
    paths) without a template error, streamc's own Jinja is live (Variables read) and the spec's text comes out
    exactly as written."""
    hs = harness()
    specs = hostile_specs()
    dags = tmp_path / "dags"
    dags.mkdir()
    for carrier in specs.CARRIERS:
        result = compile_text(carrier.render(specs.PAYLOADS[payload]), f"{carrier.name}.stream")
        assert result.ok, carrier.name
        files = format_python_files(BACKEND.emit(result.spec, OPTIONS))
        (dags / f"{carrier.name}.py").write_text(files[f"airflow/{carrier.name}.py"])
    py = hs.tool_python("batch-airflow")
    home = tmp_path / "home"
    home.mkdir()
    proc = hs.toolenv.run_in_env(py, [str(RENDER), *sorted(map(str, dags.glob("*.py")))], cwd=home,
                                 env=hs.airflow_env(home, dags), timeout=600)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    rendered = json.loads(lines[-1])
    assert "error" not in rendered, rendered.get("traceback", rendered)
    assert sorted(rendered) == sorted(c.name for c in specs.CARRIERS)
    forms = set().union(*(literal_forms(slot.value(specs.PAYLOADS[payload])) for slot in specs.SLOTS.values()))
    found = [(where, text) for where, text in strings_in(rendered) if specs.MARKER in text]
    assert len(found) >= 20, "the carriers put spec text into templated fields of every kind"
    for where, text in found:
        assert any(form in text for form in forms), f"{where}: the spec's text changed when rendered: {text[:300]!r}"
    assert all(any("VAR." in text for _, text in strings_in(tasks)) for tasks in rendered.values()), \
        "streamc's own Jinja (the Variable lookups) is rendered"
    paths = [text for where, text in found if where.endswith(("bucket_key", "prefix", "source_objects/0", "object"))]
    assert paths and all("/2026-01-02/" in text for text in paths), paths
