"""Contract tests of the Airflow backend: what it emits for each reference spec, and what it refuses."""

from __future__ import annotations

import ast
import re
from datetime import datetime, timezone

import jinja2
import pytest
import sqlglot
from airflow_cases import BACKEND, OPTIONS, SPECS, compiled, emitted

from streamc.backends.airflow import code_span
from streamc.backends.airflow.naming import INTERVAL_END, SqlWriter, jinja_text

from streamc.compiler import compile_files
from streamc.ir import Engine, Mode
from streamc.python_format import format_python
from streamc.sql_render import DIALECTS
from streamc.testing import conformance_checks

BATCH = sorted(n for n in SPECS if compiled(n).plan.mode.mode != Mode.streaming)


def dag_source(name: str) -> str:
    ir = compiled(name)
    return emitted(name)[f"airflow/{ir.pipeline.name}.py"]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_reference_spec_is_accepted(name: str) -> None:
    assert BACKEND.check(compiled(name), OPTIONS) == []


def test_streaming_only_pipeline_gets_no_dag() -> None:
    ir = compiled("orders_cdc_kafka")
    assert ir.plan.mode.mode == Mode.streaming
    assert BACKEND.emit(ir, OPTIONS) == {}


def test_hybrid_pipeline_gets_its_batch_side_only() -> None:
    ir = compiled("orders_analytics")
    assert ir.plan.mode.mode == Mode.hybrid
    source = dag_source("orders_analytics")
    assert "warehouse_marts" in source and "fct_orders" in source
    # the hot path (Flink metric, Redis sink) is not orchestrated
    assert "live_revenue" not in source and "revenue_per_minute" not in source
    # orders arrive through CDC (landed by the streaming side): the DAG waits for them instead of extracting
    assert 'task_id="orders_landed"' in source and 'task_id="orders_fetch"' not in source


@pytest.mark.parametrize("name", BATCH)
def test_dag_files_emitted(name: str) -> None:
    ir = compiled(name)
    files = emitted(name)
    assert {f"airflow/{ir.pipeline.name}.py", "airflow/BACKFILL.md", "airflow/README.md"} <= set(files)


@pytest.mark.parametrize("name", BATCH)
def test_python_parses_and_is_black_stable(name: str) -> None:
    for path, text in emitted(name).items():
        if path.endswith(".py"):
            ast.parse(text, filename=path)
            assert format_python(text) == text, f"{path} changes when formatted again"


@pytest.mark.parametrize("name", BATCH)
def test_only_todays_airflow_api(name: str) -> None:
    source = dag_source(name)
    for removed in ("schedule_interval", "from airflow import DAG", "airflow.operators.", "sla=",
                    "sla_miss_callback", "days_ago", "datetime.now", "pendulum.now", "pendulum.today"):
        assert removed not in source, f"{name}: {removed}"
    assert "from airflow.sdk import" in source


@pytest.mark.parametrize("name", BATCH)
def test_no_secret_or_environment_value_is_a_literal(name: str) -> None:
    ir = compiled(name)
    files = emitted(name)
    dag = files[f"airflow/{ir.pipeline.name}.py"]
    values = [s.value for c in ir.connections for s in c.settings]
    values += [o.value for e in ir.environments for o in e.overrides]
    values = [v.text for v in values if v.kind != "number"]
    # a value may coincide with a name the DAG rightly uses (database "finance" = sink finance, domain tag)
    names = {n.name for group in (ir.sources, ir.models, ir.metrics, ir.sinks, ir.connections) for n in group}
    names.add(ir.pipeline.domain)
    for value in set(values) - names:
        # as a word of its own: "shop" may be part of the connection id "customer_marts_shop_db"
        assert not re.search(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])", dag), \
            f"{name}: environment value {value!r} written into the DAG"
    secrets = [s.value.text for c in ir.connections for s in c.settings if s.value.kind == "secret"]
    secrets += [src.api.auth_secret for src in ir.sources if src.api and src.api.auth_secret]
    for secret in secrets:
        assert secret not in dag
    # connections are referenced by id only
    conn_ids = set(re.findall(r'conn_id="([^"]+)"', dag))
    assert conn_ids and all(cid.startswith(f"{ir.pipeline.name}_") for cid in conn_ids)


@pytest.mark.parametrize("name", BATCH)
def test_emit_is_deterministic(name: str) -> None:
    ir = compiled(name)
    assert BACKEND.emit(ir, OPTIONS) == BACKEND.emit(ir, OPTIONS)


@pytest.mark.parametrize("name", BATCH)
def test_generated_sql_parses_in_the_warehouse_dialect(name: str) -> None:
    """Every SQL string of the DAG, its Jinja replaced by sample values, parses in the warehouse's dialect."""
    ir = compiled(name)
    wh = next(c for c in ir.connections if c.is_warehouse)
    dialect = DIALECTS[wh.kind.value]
    tree = ast.parse(dag_source(name))
    checked = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.keyword) or node.arg not in ("sql", "preoperator"):
            continue
        values = node.value.elts if isinstance(node.value, ast.List) else [node.value]
        for value in values:
            if not isinstance(value, ast.Constant) or not isinstance(value.value, str):
                continue
            text = re.sub(r"\{\{[^}]*\}\}", "2026_01_01", value.value)
            text = text.replace("2026_01_01.", "raw_schema.")
            read = dialect
            if "public." in text:  # the extract query runs in the source database (postgres here)
                read = "postgres"
            for statement in sqlglot.parse(text, read=read):
                assert statement is not None
            checked += 1
    assert checked > 5


def test_retries_and_schedule_come_from_the_plan() -> None:
    ir = compiled("payments_api_sync")
    rel = ir.plan.reliability
    source = dag_source("payments_api_sync")
    assert f'"retries": {rel.retries},' in source
    assert "retry_delay" in source and "timedelta(minutes=5)" in source
    assert '"retry_exponential_backoff": 2.0' in source
    assert f"max_active_runs={rel.max_active_runs}," in source
    assert 'CronDataIntervalTimetable("*/15 * * * *", timezone="UTC")' in source


def test_file_arrival_becomes_a_reschedule_sensor_with_the_spec_timeout() -> None:
    ir = compiled("daily_file_drop")
    source = dag_source("daily_file_drop")
    timeout = int(ir.source("raw_orders").arrival.timeout.seconds)
    assert "S3KeySensor(" in source and 'mode="reschedule"' in source and f"timeout={timeout}," in source
    assert 'bucket_key=FilePath("raw/orders/{date}/data.parquet")' in source
    assert 'write_disposition="WRITE_TRUNCATE"' in source  # the day's raw partition is replaced, not appended


def test_file_path_placeholders_are_filled_per_run() -> None:
    """The DAG's FilePath (what Airflow resolves instead of rendering the path as Jinja) fills in the run's date
    parts and keeps the rest of the path as written, braces and Jinja delimiters included."""
    source = dag_source("daily_file_drop")
    namespace: dict = {}
    helper = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "FilePath")
    exec(compile(ast.Module(body=[*ast.parse("import re").body, helper], type_ignores=[]), "dag", "exec"), namespace)
    start = datetime(2026, 3, 4, 5, tzinfo=timezone.utc)
    context = {"ds": "2026-03-04", "ds_nodash": "20260304", "data_interval_start": start}
    path = namespace["FilePath"]("in/{year}/{month}/{day}/{hour}/{ds_nodash}_{date} {{ ds }} {% x %}.csv")
    assert path.resolve(context) == "in/2026/03/04/05/20260304_2026-03-04 {{ ds }} {% x %}.csv"


@pytest.mark.parametrize("text", ["{{ x }} {% if %} {# c #}", "{{{", "{{{{ '{{' }}", "a{", "{%- raw %}{% endraw -%}",
                                  "}} %} #} {", "{__streamc_ref_0__"])
def test_spec_text_renders_back_through_jinja(text: str) -> None:
    assert jinja2.Environment().from_string(jinja_text(text)).render() == text


def test_sql_keeps_streamc_jinja_live_and_spec_text_as_data() -> None:
    """Relations and interval times are streamc's Jinja; a literal of the spec (even one that looks like streamc's
    own placeholder tokens) reaches the warehouse as written."""
    literal = "{{ var.value.x }} {% raw %} __streamc_ts_0__ __streamc_ref_0__"
    writer = SqlWriter("postgres", avoid=literal)
    sql = writer.render(f"SELECT COUNT(*) FROM t WHERE note = '{literal}' AND at < {writer.ts(INTERVAL_END)}",
                        {"t": "{{ var.json.streamc_p.dwh_schema }}.t"})

    class Var:
        def __getattr__(self, name):
            return self

        def __str__(self):
            return "marts"

    end = datetime(2026, 1, 2, tzinfo=timezone.utc)
    rendered = jinja2.Environment().from_string(sql).render(var=Var(), data_interval_end=end)
    assert "FROM marts.t" in rendered
    assert f"note = '{literal}'" in rendered
    assert "CAST('2026-01-02 00:00:00' AS TIMESTAMP)" in rendered


@pytest.mark.parametrize("text, span", [("a|b", "`a|b`"), ("x `y` z", "``x `y` z``"), ("`a`", "`` `a` ``"),
                                        ("``", "``` `` ```")])
def test_code_span_holds_any_backticks(text: str, span: str) -> None:
    assert code_span(text) == span


def test_api_source_pages_with_the_planned_cursor() -> None:
    ir = compiled("payments_api_sync")
    cap = next(c for c in ir.plan.captures if c.source == "transactions")
    source = dag_source("payments_api_sync")
    assert f'incremental_column="{cap.incremental_column}"' in source
    assert 'pagination="cursor"' in source and 'http_conn_id="payments_sync_payments_api"' in source
    assert "initial_load_seconds=7776000" in source  # 90d


def test_warn_gates_do_not_stop_the_run() -> None:
    source = dag_source("daily_file_drop")
    block = source[source.index('task_id="raw_orders__volume_anomaly"'):]
    assert 'severity="warn"' in block[:600]


def test_deadline_alert_replaces_sla() -> None:
    ir = compiled("customer_marts")
    files = emitted("customer_marts")
    source = dag_source("customer_marts")
    assert "DeadlineAlert(" in source and "DeadlineReference.DAGRUN_LOGICAL_DATE" in source
    assert ir.plan.reliability.stale_alert_after.text == "36h" and "interval=timedelta(hours=36)" in source
    assert "airflow/plugins/streamc_alerts.py" in files


def test_backfill_runbook_has_the_airflow_3_commands() -> None:
    ir = compiled("customer_marts")
    text = emitted("customer_marts")["airflow/BACKFILL.md"]
    assert "airflow backfill create --dag-id customer_marts --from-date" in text
    assert "--reprocess-behavior completed" in text and "--dry-run" in text
    for b in ir.plan.backfill:
        assert f"| {b.change} |" in text
    for heading in ("## 1. Scope", "## 2. Pre-checks", "## 3. Run", "## 4. Verify", "## 5. Rollback"):
        assert heading in text
    assert "airflow dags backfill" not in text  # the Airflow 2 command


def test_without_a_mode_decision_the_backend_says_so() -> None:
    result = compile_files([SPECS["customer_marts"]], run_passes=False)
    assert result.spec is not None and result.spec.plan.mode is None
    diags = BACKEND.check(result.spec, OPTIONS)
    assert [d.code for d in diags] == ["E120"]
    assert "mode" in diags[0].message


def test_batch_sink_outside_the_warehouse_is_reported() -> None:
    ir = compiled("orders_analytics")
    plan = ir.plan
    sinks = tuple(s.model_copy(update={"engine": Engine.warehouse_sql}) if s.sink == "live_revenue" else s
                  for s in plan.sinks)
    changed = ir.model_copy(update={"plan": plan.model_copy(update={"sinks": sinks})})
    diags = BACKEND.check(changed, OPTIONS)
    assert any("batch sink to redis" in d.message for d in diags)


@pytest.mark.parametrize("check", conformance_checks(type(BACKEND), sorted(SPECS.values())), ids=str)
def test_conformance(check) -> None:
    check()
