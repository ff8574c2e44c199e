"""The backfill runbook and the deployment settings next to the DAG: commands and SQL computed from the plan."""

from __future__ import annotations

from dataclasses import dataclass

from streamc.ir import BackfillPlan, Spec

from .dagplan import DagModel


@dataclass(frozen=True)
class Scenario:
    title: str
    change: str
    strategy: str
    window: str
    why: str
    steps: tuple[str, ...]  # shell lines; comments start with #
    sql_before: tuple[str, ...]  # warehouse SQL to run first (empty when none)


@dataclass(frozen=True)
class TableSql:
    relation: str
    what: str
    snapshot: str
    count: str
    restore: tuple[str, ...]
    drop: str


@dataclass(frozen=True)
class Runbook:
    dag_id: str
    dag_file: str
    variable: str
    schedule: str
    catchup: bool
    start_date: str
    max_active_runs: int
    scenarios: tuple[Scenario, ...]
    raw: tuple[TableSql, ...]
    sinks: tuple[TableSql, ...]
    transform: tuple[str, ...]
    load: tuple[str, ...]
    connections: tuple[str, ...]
    gates: tuple[str, ...]
    gap: str


def runbook(ir: Spec, m: DagModel) -> Runbook:
    raw = tuple(_table_sql(m, r, "raw table, re-landed per interval") for r in m.raw_tables)
    sinks = tuple(_table_sql(m, w.relation, f"sink {w.sink}: {w.strategy}") for w in m.written)
    scenarios = tuple(_scenario(m, b, raw) for b in ir.plan.backfill)
    gap = "" if scenarios else "ir.plan.backfill is empty: no scenario is planned; only the general procedure applies"
    gates = tuple(f"{s.group_id}.{t.task_id}" for s in m.stages if s.group_id in ("source_gate", "transform_gate",
                                                                                   "reconcile") for t in s.tasks)
    return Runbook(
        dag_id=m.dag_id, dag_file=m.path.split("/", 1)[1], variable=m.variable, schedule=m.timetable.summary,
        catchup=m.catchup, start_date=m.start_date.isoformat(), max_active_runs=m.max_active_runs,
        scenarios=scenarios, raw=raw, sinks=sinks, transform=m.transform, load=m.load,
        connections=tuple(c for c, _, _ in m.connections), gates=gates, gap=gap,
    )


def _scenario(m: DagModel, b: BackfillPlan, raw: tuple[TableSql, ...]) -> Scenario:
    last = "<YYYY-MM-DD: logical date of the last completed run>"
    backfill = (f"airflow backfill create --dag-id {m.dag_id} --from-date \"$FROM_DATE\" --to-date \"$TO_DATE\" "
                f"--reprocess-behavior completed --max-active-runs {m.max_active_runs}")
    refresh = ["# then rebuild every dbt model from the corrected raw tables, through the DAG (gates included)",
               f"airflow dags trigger {m.dag_id} --conf '{{\"full_refresh\": true}}'"] if m.transform or m.load else []
    sql_before: tuple[str, ...] = ()
    match b.change:
        case "schema_change":
            title = "Schema change: reprocess all"
            dates = [f"FROM_DATE={m.start_date.isoformat()}  # the DAG's start_date", f"TO_DATE={last}"]
            sql_before = tuple(_rename(t.relation, m.warehouse_dialect) for t in raw)
            note = ["# the raw tables were moved aside (SQL above): extract recreates them with the new columns"]
        case "logic_change":
            title = "Logic change: full historical reprocess"
            dates, note = [], ["# raw data is kept and unchanged: rebuilding the models from it is the reprocess"]
        case "bug_fix_window":
            title = "Bug fix in a recent window: reprocess the affected window"
            dates = ["FROM_DATE=<YYYY-MM-DD: first affected logical date>",
                     "TO_DATE=<YYYY-MM-DD: last affected logical date>"]
            note = ["# re-land the affected intervals (idempotent: merge / partition replace)"]
        case _:
            title = "New source added: incremental from its start"
            dates = ["FROM_DATE=<YYYY-MM-DD: first logical date with data of the new source>", f"TO_DATE={last}"]
            note = ["# land the new source's history interval by interval"]
    steps = [*dates, *note]
    if dates:
        steps += ["# preview the runs the backfill would create", backfill + " --dry-run", backfill]
    steps += refresh
    window = b.replay_window.text if b.replay_window else ""
    return Scenario(title=title, change=b.change, strategy=b.strategy, window=window, why=b.why.reason,
                    steps=tuple(steps), sql_before=sql_before)


def _rename(relation: str, dialect: str) -> str:
    """Move a raw table aside (Snowflake resolves an unqualified new name in the session's schema)."""
    new = relation + "__pre_backfill" if dialect == "snowflake" else relation.rpartition(".")[2] + "__pre_backfill"
    return f"ALTER TABLE {relation} RENAME TO {new};"


def readable(relation: str, variable: str) -> str:
    """`{{ var.json.streamc_x.raw_schema }}.t` -> `<raw_schema>.t` for people."""
    prefix = "{{ var.json." + variable + "."
    out = relation
    while prefix in out:
        start = out.index(prefix)
        end = out.index(" }}", start)
        out = out[:start] + "<" + out[start + len(prefix):end] + ">" + out[end + 3:]
    return out


def _table_sql(m: DagModel, relation: str, what: str) -> TableSql:
    rel = readable(relation, m.variable)
    backup = rel + "__pre_backfill"
    d = m.warehouse_dialect
    if d == "snowflake":
        snap = f"CREATE OR REPLACE TABLE {backup} CLONE {rel};"
        restore: tuple[str, ...] = (f"ALTER TABLE {rel} SWAP WITH {backup};",)
    elif d == "bigquery":
        snap = f"CREATE SNAPSHOT TABLE {backup} CLONE {rel};"
        restore = (f"CREATE OR REPLACE TABLE {rel} CLONE {backup};",)
    else:
        snap = f"CREATE TABLE {backup} AS SELECT * FROM {rel};"
        restore = ("BEGIN;", f"DELETE FROM {rel};", f"INSERT INTO {rel} SELECT * FROM {backup};", "COMMIT;")
    drop = f"DROP {'SNAPSHOT TABLE' if d == 'bigquery' else 'TABLE'} {backup};"
    return TableSql(relation=rel, what=what, snapshot=snap, count=f"SELECT COUNT(*) AS row_count FROM {rel};",
                    restore=restore, drop=drop)


@dataclass(frozen=True)
class Setting:
    key: str
    what: str
    values: tuple[tuple[str, str], ...]  # (environment, value the spec gives)


def settings(ir: Spec, m: DagModel) -> tuple[Setting, ...]:
    """The Variable's keys, with the value the spec (or the dbt project's default) gives per environment."""
    envs = [e.name for e in ir.environments] or ["(all)"]
    out = []
    for key, what in m.config_keys:
        values: list[tuple[str, str]] = []
        conn_name, setting = None, None
        if key == "dbt_target" and ir.environments:
            values = [(e, e) for e in envs]
        elif key.endswith("_raw_schema"):
            conn = key[: -len("_raw_schema")]
            values = [(e, f"raw_{conn}") for e in envs]  # the dbt sources' default
        elif key == f"{m.warehouse}_schema" or key == f"{m.warehouse}_dataset":
            conn_name, setting = m.warehouse, key.rpartition("_")[2]
        elif key.endswith("_bucket") and key != "gcs_staging_bucket":
            conn_name, setting = key[: -len("_bucket")], "bucket"
        if conn_name is not None and setting is not None:
            conn = ir.connection(conn_name)
            base = conn.setting(setting) if conn else None
            for env in envs:
                value = next((o.value for e in ir.environments if e.name == env for o in e.overrides
                              if o.target == conn_name and o.key == setting), None) or base
                if value is not None and value.kind != "secret":
                    values.append((env, value.text))
        out.append(Setting(key, what, tuple(values)))
    return tuple(out)

