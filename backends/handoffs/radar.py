"""STREAM_TO_RADAR_HANDOFF: unit tests of computed columns and metrics, integration tests per sink, quality tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlglot
from sqlglot import exp
from sqlglot.executor import execute

from streamc.ir import Check, CheckKind, ColumnType, Engine, GatePlan, Metric, Model, SinkPlan, Spec
from streamc.sql_analysis import READ_DIALECT

from .facts import dag_id

BASE_TIME = datetime(2025, 1, 1, 6, 0, 0)


# ------------------------------------------------------------------ sample values


def sample(t: ColumnType | None, name: str, values: tuple[str, ...] = ()) -> object:
    """A typical value of a column: its first accepted value, else one per type that exercises casing and spaces."""
    if values:
        return values[0]
    kind = t.name if t else "text"
    if t is not None and t.values:
        return t.values[0]
    if kind in ("bigint", "integer", "int", "smallint"):
        return 2
    if kind in ("numeric", "decimal", "double", "float", "real"):
        return 12.5
    if kind in ("timestamp", "timestamptz", "datetime"):
        return BASE_TIME.strftime("%Y-%m-%d %H:%M:%S")
    if kind == "date":
        return BASE_TIME.strftime("%Y-%m-%d")
    if kind in ("boolean", "bool"):
        return True
    return f" Sample {name} "


def _column_info(ir: Spec, node: str, column: str) -> tuple[ColumnType | None, tuple[str, ...], bool]:
    """(type, accepted values, nullable) of a column, followed back through pass-through model columns."""
    for _ in range(64):
        src = ir.source(node)
        if src is not None:
            c = src.column(column)
            if c is None:
                return None, (), True
            return c.type, c.accepted_values or c.type.values, not (c.not_null or c.primary_key)
        m = ir.model(node)
        lin = next((c for c in m.columns if c.name == column), None) if m else None
        if lin is None or len(lin.inputs) != 1:
            return None, (), True
        node, column = lin.inputs[0].node, lin.inputs[0].column
    return None, (), True


def _strip_qualifiers(expression: str) -> exp.Expression:
    tree = sqlglot.parse_one(expression, read=READ_DIALECT)
    for col in tree.find_all(exp.Column):
        col.set("table", None)
    return tree


def _run(select: str, rows: list[dict]) -> list[dict] | None:
    try:
        result = execute(sqlglot.parse_one(select, read=READ_DIALECT), tables={"t": rows})
    except Exception:  # noqa: BLE001 - the executor covers common SQL only; no unit test is derived otherwise
        return None
    return [dict(zip(result.columns, r)) for r in result.rows]


def _plain(v: object) -> object:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, float):
        return round(v, 6)
    return v


# ------------------------------------------------------------------ unit tests


def model_unit_tests(ir: Spec, m: Model) -> list[dict]:
    out = []
    for lin in m.columns:
        try:
            tree = _strip_qualifiers(lin.expression)
        except sqlglot.errors.ParseError:
            continue
        inner = tree.this if isinstance(tree, exp.Alias) else tree
        if isinstance(inner, exp.Column) or inner.find(exp.AggFunc) or not lin.inputs:
            continue  # a copy, an aggregate (tested end to end) or a constant
        cases = _cases(ir, lin.inputs)
        select = f"SELECT {inner.sql(READ_DIALECT)} AS {lin.name} FROM t"
        for label, row in cases:
            got = _run(select, [row])
            if not got:
                break
            out.append({
                "name": f"{m.name}_{lin.name}{label}",
                "description": f"{m.name}.{lin.name} = {inner.sql(READ_DIALECT)}"
                               + (" with a null input" if label else ""),
                "input": {k: _plain(v) for k, v in row.items()},
                "expected": {lin.name: _plain(got[0][lin.name])},
            })
    return out


def _cases(ir: Spec, inputs) -> list[tuple[str, dict]]:
    typical: dict[str, object] = {}
    nullable: list[str] = []
    for ref in inputs:
        t, values, can_be_null = _column_info(ir, ref.node, ref.column)
        typical[ref.column] = sample(t, ref.column, values)
        if can_be_null:
            nullable.append(ref.column)
    cases = [("", typical)]
    if nullable:
        cases.append(("_null_" + nullable[0], {**typical, nullable[0]: None}))
    return cases


def metric_unit_tests(ir: Spec, m: Metric) -> list[dict]:
    """Two events in the same window and group: the metric's measures over them."""
    size = m.window.size.seconds if m.window else 60
    types = {}
    for col in [*m.dimensions, *(x.column for x in m.measures if x.column)]:
        t, values, _ = _column_info(ir, m.from_, col)
        types[col] = (t, values)
    wm = next((w for w in ir.plan.watermarks if w.metric == m.name), None)
    time_col = wm.input_column or wm.event_time if wm else None
    rows = []
    for i, factor in enumerate((1, 3)):
        row: dict[str, object] = {}
        for col, (t, values) in types.items():
            v = sample(t, col, values)
            row[col] = v * factor if isinstance(v, (int, float)) and col not in m.dimensions else v
        if time_col:
            row[time_col] = (BASE_TIME + timedelta(seconds=min(size - 1, 10 + 20 * i))).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(row)
    measures = ", ".join(f"{x.expression} AS {x.alias}" for x in m.measures)
    dims = ", ".join(m.dimensions)
    select = f"SELECT {dims + ', ' if dims else ''}{measures} FROM t" + (f" GROUP BY {dims}" if dims else "")
    got = _run(select, rows)
    if not got or len(got) != 1:
        return []
    expected = {k: _plain(v) for k, v in got[0].items()}
    if m.window is not None and m.window.kind == "tumbling":
        expected["window_start"] = BASE_TIME.strftime("%Y-%m-%d %H:%M:%S")
    window = f"{m.window.kind} {m.window.size.text} window" if m.window else "aggregation"
    return [{
        "name": f"{m.name}_one_window",
        "description": f"two events of one group inside one {window} give one result row",
        "input": {"rows": [{k: _plain(v) for k, v in r.items()} for r in rows]},
        "expected": expected,
    }]


# ------------------------------------------------------------------ integration tests


def integration_tests(ir: Spec) -> list[dict]:
    out: list[dict] = []
    for sp in ir.plan.sinks:
        sink = ir.sink(sp.sink)
        if sink is None:
            continue
        roots = _roots(ir, sink.inputs)
        streaming = sp.engine in (Engine.flink, Engine.kafka_consumer, Engine.debezium)
        wait = (f"Wait for the stream: at most {ir.plan.reliability.hot_stale_alert_after.text} "
                f"(1.5 x the latency target)" if streaming and ir.plan.reliability
                and ir.plan.reliability.hot_stale_alert_after
                else f"Trigger a run of DAG {dag_id(ir)} (airflow dags trigger {dag_id(ir)}) and wait for it")
        test: dict = {
            "name": f"end_to_end_{sp.sink}",
            "description": f"{', '.join(roots)} to sink {sp.sink} ({sp.engine.value})",
            "steps": [f"Insert a test record into source {r} ({_where(ir, r)})" for r in roots]
                     + [wait, f"Verify the record in sink {sp.sink} ({_strategy(sp)})"],
        }
        if streaming and ir.plan.reliability and ir.plan.reliability.hot_stale_alert_after:
            test["timeout"] = ir.plan.reliability.hot_stale_alert_after.text
        out.append(test)
        out.append({
            "name": f"idempotent_rerun_{sp.sink}",
            "description": f"writing the same input twice leaves sink {sp.sink} unchanged ({_strategy(sp)})",
            "steps": ["Load a batch of test records through the pipeline",
                      "Deliver the same records again (re-run the interval, or replay the offsets)",
                      f"Verify the row count and content of {sp.sink} did not change"],
        })
        if sp.dead_letter_topic:
            out.append({
                "name": f"dead_letter_{sp.sink}",
                "description": f"a record sink {sp.sink} rejects goes to {sp.dead_letter_topic}",
                "steps": [f"Publish a malformed record to the input of {sp.sink}",
                          f"Verify it arrives in topic {sp.dead_letter_topic} and the pipeline keeps running"],
            })
    for c in ir.plan.captures:
        if c.method == "log_cdc":
            src = ir.source(c.source)
            topic = next((t.name for t in ir.plan.topics if t.node == f"source:{c.source}" and t.purpose == "cdc"), None)
            out.append({
                "name": f"cdc_changes_{c.source}",
                "description": f"inserts, updates and deletes of {src.location.value if src and src.location else c.source} "
                               f"reach {topic or 'the change topic'} (replica identity {c.replica_identity or 'default'})",
                "steps": [f"Insert, update, then delete one row of {c.source}",
                          f"Verify three change events in {topic or 'the change topic'}, the update with its before image"
                          if c.replica_identity == "full" else
                          f"Verify three change events in {topic or 'the change topic'}",
                          f"Restart the connector; verify no event is lost or duplicated (slot {c.slot_name})"],
            })
        if c.excluded_columns:
            out.append({
                "name": f"pii_dropped_{c.source}",
                "description": f"{', '.join(c.excluded_columns)} of {c.source} is never captured (pii drop)",
                "steps": [f"Insert a row of {c.source} with {', '.join(c.excluded_columns)} filled",
                          "Verify no landed copy of it (raw table, topic) holds those columns"],
            })
    for b in ir.plan.backfill:
        steps = {
            "reprocess_window": ["Record the row counts of the affected window", "Run the backfill of that window",
                                 "Verify the row counts match and nothing outside the window changed"],
            "reprocess_all": ["Record the row counts of every sink", "Run the reprocess of all history",
                              "Verify the row counts match the raw data"],
            "full_historical": ["Record the row counts of every sink", "Run the full historical reprocess",
                                "Verify the row counts match and the changed logic is applied to old rows"],
            "incremental_from_start": ["Add the new source's history", "Run the load from the source's start",
                                       "Verify every existing sink kept its rows"],
        }.get(b.strategy, ["Run the backfill", "Verify the row counts"])
        out.append({"name": f"backfill_{b.change}", "description": f"{b.change.replace('_', ' ')}: {b.strategy}",
                    "steps": steps})
    return out


def _roots(ir: Spec, inputs: tuple[str, ...]) -> list[str]:
    """The sources a set of nodes reads, transitively, in spec order."""
    seen: set[str] = set()
    stack = list(inputs)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        m = ir.model(n)
        if m is not None:
            stack += list(m.depends_on)
        met = ir.metric(n)
        if met is not None:
            stack.append(met.from_)
    return [s.name for s in ir.sources if s.name in seen]


def _where(ir: Spec, source: str) -> str:
    s = ir.source(source)
    if s is None or s.location is None:
        return s.connection if s else source
    return f"{s.location.kind} {s.location.value} on {s.connection}"


def _strategy(sp: SinkPlan) -> str:
    key = f" on {', '.join(sp.key)}" if sp.key else ""
    part = f" partition {sp.partition.column}" if sp.partition else ""
    return f"{sp.strategy}{key}{part}"


# ------------------------------------------------------------------ data quality tests


CHECK_NAME = {
    CheckKind.unique: "uniqueness", CheckKind.not_null: "not_null", CheckKind.range: "accepted_range",
    CheckKind.accepted_values: "accepted_values", CheckKind.regex: "regex", CheckKind.relationships: "relationships",
    CheckKind.freshness: "freshness", CheckKind.row_count: "row_count", CheckKind.volume_anomaly: "volume_anomaly",
    CheckKind.reconcile: "reconciliation", CheckKind.custom_sql: "custom_sql", CheckKind.schema: "schema",
}


def quality_test(g: GatePlan) -> dict:
    c: Check = g.check
    entry: dict = {"check": CHECK_NAME[c.kind]}
    if len(c.columns) == 1 and c.kind != CheckKind.not_null:
        entry["column"] = c.columns[0]
    elif c.columns:
        entry["columns"] = list(c.columns)
    if c.min is not None:
        entry["min"] = _plain(c.min)
    if c.max is not None:
        entry["max"] = _plain(c.max)
    if c.values:
        entry["values"] = list(c.values)
    if c.pattern:
        entry["pattern"] = c.pattern
    if c.reference:
        entry["references"] = f"{c.reference.node}.{c.reference.column}"
    if c.max_age:
        entry["max_age"] = c.max_age.text
    if c.kind in (CheckKind.row_count, CheckKind.volume_anomaly):
        entry["condition"] = f"row_count {c.comparison} {_plain(c.threshold)}" + (
            f" x {c.baseline}" if c.baseline else "")
    if c.kind == CheckKind.reconcile:
        entry["against"] = c.against
        entry["measure"] = c.measure or "count"
        entry["tolerance"] = c.tolerance.text if c.tolerance else "0%"
    if c.kind == CheckKind.custom_sql and c.sql:
        entry["name"] = c.name
        entry["sql"] = " ".join(c.sql.text.split())
    entry["table"] = c.target
    entry["boundary"] = g.boundary
    entry["severity"] = c.severity.value
    return entry


def radar(ir: Spec) -> dict:
    unit = []
    for m in ir.models:
        unit += model_unit_tests(ir, m)
    for m in ir.metrics:
        unit += metric_unit_tests(ir, m)
    return {"test_requirements": {
        "pipeline_name": ir.pipeline.name,
        "unit_tests": unit,
        "integration_tests": integration_tests(ir),
        "data_quality_tests": [quality_test(g) for g in ir.plan.gates],
    }}
