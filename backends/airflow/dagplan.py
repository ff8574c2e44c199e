"""The batch side of a compiled spec as an Airflow DAG model: stages, tasks, arguments (no text rendering here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from streamc.derive_once import once_per_ir
from streamc.ir import CapturePlan, ConnectionKind, Engine, GatePlan, Mode, PiiStrategy, Sink, Source, Span, Spec

from . import loads
from .gates import GateContext, GateError, TimeColumn, check_id, describe, failure_sql
from .naming import (INTERVAL_END, INTERVAL_START, WAREHOUSE_DIALECTS, Names, SqlWriter, column_type_sql, env_name,
                     jinja_text, warehouse_of)
from .pycode import Arg, Code, args, duration, identifier, literal
from .schedule import Timetable, timetable
from streamc.backend_api import Unsupported as Problem

BATCH_ENGINES = (Engine.warehouse_sql, Engine.orchestrator)
SQL_SOURCES = (ConnectionKind.postgres, ConnectionKind.mysql, ConnectionKind.sqlserver)
FILE_STORES = (ConnectionKind.s3, ConnectionKind.gcs)
STAGES = ("extract", "source_gate", "transform", "transform_gate", "load", "reconcile")
STAGE_TOOLTIPS = {
    "extract": "land raw source data in the warehouse's raw schemas, idempotently per data interval",
    "source_gate": "quality gates on the landed raw data",
    "transform": "dbt builds the models the sinks are computed from",
    "transform_gate": "quality gates on those models, before any sink is written",
    "load": "dbt writes the sinks' models, each the idempotent way the plan chose",
    "reconcile": "quality gates on the written sinks",
}
# Placeholders of a file path; the DAG's FilePath fills them in per run (dag.py.j2 says how).
PATH_PLACEHOLDERS = ("date", "ds", "ds_nodash", "hour", "year", "month", "day")
STRATEGY_WORDS = {
    "upsert": "upsert on {key}",
    "merge": "merge on {key}",
    "overwrite_partition": "overwrite of the rebuilt {part} partitions",
    "dedup_event_id": "insert of unseen {key}",
    "replace": "full rebuild",
}


def node_name(node_id: str) -> str:
    """Plan node ids are `kind:name` ("model:fct_orders"); bare names are accepted too."""
    return node_id.split(":", 1)[-1]




@dataclass(frozen=True)
class Task:
    """One task: `var = call(args...)`; `after` names tasks of the same stage it runs after."""

    var: str
    task_id: str
    call: str
    args: tuple[Arg, ...]
    comment: str = ""
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    group_id: str
    tooltip: str
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class Written:
    """A node a sink receives: where it lives and how dbt writes it."""

    sink: str
    node: str
    relation: str
    strategy: str


@dataclass(frozen=True)
class DagModel:
    """Everything the DAG template needs, already decided and formatted as Python source fragments."""

    dag_id: str
    path: str
    title: str
    spec_files: tuple[str, ...]
    imports: tuple[str, ...]
    helpers: tuple[str, ...]
    default_args: tuple[Arg, ...]
    dag_args: tuple[Arg, ...]
    dag_comments: dict[str, tuple[str, ...]]
    stages: tuple[Stage, ...]
    notify: Task
    gaps: tuple[str, ...]
    # facts reused by the runbook and the README
    variable: str
    config_keys: tuple[tuple[str, str], ...]  # (key, what it holds)
    dbt_env: tuple[tuple[str, str], ...]  # (env var of the dbt project, Variable key it is set from)
    connections: tuple[tuple[str, str, str], ...]  # (conn id, kind, used for)
    timetable: Timetable
    catchup: bool
    start_date: date
    warehouse: str  # connection name
    warehouse_dialect: str
    written: tuple[Written, ...]
    raw_tables: tuple[str, ...]  # relation text
    transform: tuple[str, ...]
    load: tuple[str, ...]
    max_active_runs: int


@dataclass
class BatchSide:
    sources: list[Source]
    transform: list[str]  # dbt nodes the sinks' inputs are built from
    load: list[str]  # dbt nodes written into sinks (and anything built after them)
    sinks: list[Sink]


@dataclass
class Builder:
    """Builds the DagModel and collects what cannot be expressed (reported by `check`)."""

    ir: Spec
    start_date: date
    problems: list[Problem] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)
    helpers: set[str] = field(default_factory=set)
    config_keys: dict[str, str] = field(default_factory=dict)
    connections: dict[str, tuple[str, str]] = field(default_factory=dict)
    written: list[Written] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.names = Names(self.ir.pipeline.name)

    # ------------------------------------------------------------------------------ entry point
    def build(self) -> DagModel | None:
        ir = self.ir
        side = self.batch_side()
        if side is None:
            return None
        wh = warehouse_of(ir)
        if wh is None:
            self.problem(ir.pipeline.span, "a batch pipeline without exactly one warehouse connection",
                         "declare one warehouse (snowflake, bigquery, duckdb, or `postgres as warehouse`)")
            return None
        dialect = WAREHOUSE_DIALECTS.get(wh.kind)
        if dialect is None:
            self.problem(wh.span, f"a {wh.kind.value} warehouse",
                         "supported warehouses: postgres, snowflake, bigquery, duckdb")
            return None
        sched = ir.pipeline.schedule
        tt = timetable(sched) if sched is not None else None
        if tt is None:
            self.problem(sched.span if sched else ir.pipeline.span, "a batch side without a batch schedule",
                         "add a schedule to the pipeline block, e.g. `schedule daily at 06:00 UTC`")
            return None
        self.wh, self.dialect, self.tt, self.side = wh, dialect, tt, side
        self.wh_conn = self.use_connection(wh.name, "warehouse: raw landing and quality gates (dbt uses its profile)")
        self.wh_setting = "dataset" if wh.kind == ConnectionKind.bigquery else "schema"
        self.wh_key = f"{wh.name}_{self.wh_setting}"
        self.captures = {c.source: c for c in ir.plan.captures}
        self.sink_plans = {s.sink: s for s in ir.plan.sinks}
        self.config_keys[self.wh_key] = (f"{self.wh_setting} of `{wh.name}` where dbt builds the models and the "
                                         "sinks' tables (the dbt target schema)")
        for conn in sorted({s.connection for s in side.sources}):
            self.config_keys[self.names.raw_schema_key(conn)] = (
                f"{'dataset' if self.dialect == 'bigquery' else 'schema'} of the raw tables from `{conn}` "
                "(extract writes them, dbt sources read them)")
        if side.transform or side.load:
            self.config_keys["dbt_project_dir"] = "path of the generated dbt project (`<pipeline>/dbt`) on the workers"
            self.config_keys["dbt_target"] = "dbt target (profile output) to run: the environment's name"

        stages: dict[str, list[Task]] = {s: [] for s in STAGES}
        for source in side.sources:
            stages["extract"] += self.extract(source)
        if side.transform:
            stages["transform"].append(self.dbt_task("dbt_build", side.transform, exclude=[],
                                                     comment="dbt builds the models the sinks are computed from"))
        stages["load"] += self.load_tasks()
        for stage, tasks in self.gate_tasks().items():
            stages[stage] += tasks
        notify = self.notify()
        dag_args, comments, catchup = self.dag_arguments()
        rel = ir.plan.reliability
        return DagModel(
            dag_id=ir.pipeline.name,
            path=f"airflow/{ir.pipeline.name}.py",
            title=self.title(),
            spec_files=ir.files,
            imports=tuple(sorted(self.imports)),
            helpers=tuple(sorted(self.helpers)),
            default_args=self.default_args(),
            dag_args=dag_args,
            dag_comments=comments,
            stages=tuple(Stage(s, STAGE_TOOLTIPS[s], tuple(stages[s])) for s in STAGES if stages[s]),
            notify=notify,
            gaps=tuple(self.gaps),
            variable=self.names.variable,
            config_keys=tuple(sorted(self.config_keys.items())),
            dbt_env=self.dbt_env(),
            connections=tuple(sorted((cid, kind, use) for cid, (kind, use) in self.connections.items())),
            timetable=tt,
            catchup=catchup,
            start_date=self.start_date,
            warehouse=wh.name,
            warehouse_dialect=dialect,
            written=tuple(self.written),
            raw_tables=tuple(self.names.raw(s.name, s.connection) for s in side.sources),
            transform=tuple(side.transform),
            load=tuple(side.load),
            max_active_runs=rel.max_active_runs if rel else 1,
        )

    def problem(self, span: Span | None, what: str, hint: str) -> None:
        self.problems.append(Problem(span, what, hint))

    def use(self, *lines: str) -> None:
        self.imports.update(lines)

    def as_written(self, text: str) -> Code:
        """Spec text for a templated argument, wrapped so Airflow passes it on as written instead of rendering it
        as Jinja."""
        self.use("from airflow.sdk import literal")
        return Code(f"literal({literal(text)})")

    def use_connection(self, name: str, purpose: str) -> str:
        conn = self.ir.connection(name)
        cid = self.names.conn_id(name)
        kind = conn.kind.value if conn else "?"
        old = self.connections.get(cid)
        self.connections[cid] = (kind, purpose if old is None or purpose in old[1] else f"{old[1]}; {purpose}")
        return cid

    def hook_params(self) -> dict[str, object] | None:
        """BigQuery hooks default to legacy SQL; everything streamc writes is standard SQL."""
        return {"use_legacy_sql": False} if self.dialect == "bigquery" else None

    # ------------------------------------------------------------------------------ which nodes
    def batch_side(self) -> BatchSide | None:
        ir = self.ir
        mode = ir.plan.mode
        if mode is None:
            self.problem(ir.pipeline.span, "a DAG without the mode decision",
                         "ir.plan.mode is empty: the optimizer passes decide batch/streaming/hybrid first")
            return None
        in_batch = {node_name(n) for n in mode.batch_nodes}
        in_batch |= {node_name(n) for n, engine in mode.engines.items() if engine in BATCH_ENGINES}
        plans = {s.sink: s for s in ir.plan.sinks}
        sinks = [s for s in ir.sinks
                 if s.name in in_batch or (s.name in plans and plans[s.name].engine in BATCH_ENGINES)]
        if not sinks:
            if mode.mode != Mode.streaming:
                self.problem(ir.pipeline.span, f"a {mode.mode.value} pipeline whose plan puts no sink on the batch side",
                             "ir.plan.mode.batch_nodes / engines name no sink for the orchestrator")
            return None
        sink_inputs = {n for s in sinks for n in s.inputs}
        extra = sorted(n for n in in_batch if ir.kind_of(n) in ("model", "metric"))
        needed = self.upstream(sorted(sink_inputs)) | self.upstream(extra)
        sources = [s for s in ir.sources if s.name in needed]
        dbt_nodes = [m.name for m in ir.models if m.name in needed] + [m.name for m in ir.metrics if m.name in needed]
        feeding = self.upstream(sorted(sink_inputs), include_self=False)
        transform = [n for n in dbt_nodes if n in feeding and n not in sink_inputs]
        for sink in sinks:
            for name in sink.sources:
                self.problem(sink.input_spans.get(name, sink.span), f"batch sink '{sink.name}' receiving the source "
                             f"'{name}' directly", "the raw table is already in the warehouse: read it through a model")
        return BatchSide(sources=sources, transform=transform, load=[n for n in dbt_nodes if n not in transform],
                         sinks=sinks)

    def upstream(self, names: list[str], include_self: bool = True) -> set[str]:
        """Every node the given ones are computed from (and the given ones unless include_self is False)."""
        ir = self.ir
        out: set[str] = set()
        todo = [(n, include_self) for n in names]
        while todo:
            name, keep = todo.pop()
            if keep:
                if name in out:
                    continue
                out.add(name)
            model, metric = ir.model(name), ir.metric(name)
            if model is not None:
                parents = list(model.depends_on) + ([model.from_] if model.from_ else [])
            else:
                parents = [metric.from_] if metric is not None else []
            todo += [(p, True) for p in parents]
        return out

    # ------------------------------------------------------------------------------ extract
    def extract(self, source: Source) -> list[Task]:
        cap = self.captures.get(source.name)
        if cap is None:
            self.problem(source.span, f"source '{source.name}' without a capture decision",
                         "ir.plan.captures has no entry for it (optimizer gap)")
            return []
        conn = self.ir.connection(source.connection)
        if conn is None:
            return []
        if cap.raw_load == "from_topic" or (cap.raw_load is None and cap.method in ("log_cdc", "topic")):
            return [self.wait_for_stream(source, cap)]
        if cap.raw_load is None:
            self.problem(source.span, f"source '{source.name}' on the batch side without a raw load decision",
                         "ir.plan.captures gives no raw_load for it (optimizer gap)")
            return []
        if cap.method in ("timestamp_incremental", "full") and conn.kind in SQL_SOURCES:
            return self.extract_table(source, cap)
        if cap.method == "api_incremental" and conn.kind == ConnectionKind.http:
            return self.extract_api(source, cap)
        if cap.method == "file_arrival" and conn.kind in FILE_STORES:
            return self.extract_file(source, cap)
        self.problem(source.connection_span or source.span,
                     f"extracting '{source.name}' ({cap.method}) from a {conn.kind.value} connection",
                     "supported: table capture from postgres/mysql/sqlserver, API capture over http, files on "
                     "s3/gcs into bigquery, and CDC/topic data landed by the streaming side")
        return []

    def captured(self, source: Source, cap: CapturePlan) -> list[tuple[str, bool]]:
        """(column, hashed at capture) for the captured columns; pii(drop) columns are never read."""
        excluded = set(cap.excluded_columns)
        names = list(cap.captured_columns) or [c.name for c in source.columns]
        pii = {p.column: p for p in self.ir.plan.pii if p.source == source.name and p.applied_in == "capture"}
        out = []
        for name in names:
            plan = pii.get(name)
            if name in excluded or (plan is not None and plan.strategy == PiiStrategy.drop):
                continue
            if plan is None or plan.strategy == PiiStrategy.keep:
                out.append((name, False))
            elif plan.strategy == PiiStrategy.hash:
                out.append((name, True))
            else:
                col = source.column(name)
                self.problem(col.span if col else source.span,
                             f"pii({plan.strategy.value}) of '{source.name}.{name}' applied at capture",
                             "the orchestrator can drop or hash at capture; apply this strategy in a staging model")
        return out

    def typed_columns(self, source: Source, names: list[str]) -> tuple[loads.TypedColumn, ...]:
        out = []
        for name in names:
            col = source.column(name)
            type_sql = "text" if col is None or col.type.name == "enum" else col.type.sql()
            if self.dialect == "bigquery" and type_sql == "timestamp":
                type_sql = "timestamptz"  # BigQuery TIMESTAMP: DATETIME compares with nothing the gates write
            out.append(loads.TypedColumn(name, jinja_text(column_type_sql(type_sql, self.dialect))))
        return tuple(out)

    def land_statements(self, source: Source, cap: CapturePlan, columns: list[str]) -> tuple[list[str], object]:
        """(statements that prepare the empty incoming table, statements that fold it into the raw table)."""
        raw = self.names.raw(source.name, source.connection)
        incoming = self.names.incoming(source.name, source.connection)
        typed = self.typed_columns(source, columns)
        prepare = [loads.create_table(raw, typed), loads.create_table(incoming, typed), loads.truncate(incoming)]
        if cap.method == "full":
            return prepare, loads.script(loads.replace_all(raw, incoming, tuple(columns), self.dialect), self.dialect)
        key = source.primary_key
        if not key:
            self.problem(source.span, f"incremental capture of '{source.name}' without a key",
                         "give the source a primary key (or `key col`) so re-runs upsert instead of duplicating")
            return prepare, ""
        latest = cap.incremental_column or (source.capture.column if source.capture else None)
        return prepare, loads.merge(raw, incoming, tuple(key), tuple(columns), latest_by=latest)

    def extract_table(self, source: Source, cap: CapturePlan) -> list[Task]:
        if source.location is None or source.location.kind != "table":
            self.problem(source.span, f"table capture of '{source.name}' without a table",
                         "write `table schema.name` in the source")
            return []
        conn = self.ir.connection(source.connection)
        assert conn is not None
        cols = self.captured(source, cap)
        src_dialect = {"postgres": "postgres", "mysql": "mysql", "sqlserver": "tsql"}[conn.kind.value]
        select = []
        for name, hashed in cols:
            if hashed and src_dialect != "postgres":
                self.problem(source.span, f"hashing '{source.name}.{name}' in a {conn.kind.value} source",
                             "hash it in a staging model instead")
            select.append(f"ENCODE(SHA256(CONVERT_TO({name}, 'UTF8')), 'hex') AS {name}" if hashed else name)
        writer = SqlWriter(src_dialect, avoid=source.location.value)
        where = ""
        if cap.method == "timestamp_incremental":
            col = cap.incremental_column or (source.capture.column if source.capture else None)
            if not col:
                self.problem(source.span, f"incremental capture of '{source.name}' without its column",
                             "write `capture incremental(updated_at)`")
                return []
            where = f" WHERE {col} >= {writer.ts(INTERVAL_START)} AND {col} < {writer.ts(INTERVAL_END)}"
        sql = writer.statement(f"SELECT {', '.join(select)} FROM {source.location.value}{where}")
        names = [c for c, _ in cols]
        prepare, fold = self.land_statements(source, cap, names)
        src_conn = self.use_connection(source.connection, f"source of {source.name}")
        self.use("from airflow.providers.common.sql.operators.generic_transfer import GenericTransfer")
        what = "the rows changed in the data interval" if where else "the whole table (full capture)"
        fetch = Task(
            var=identifier(f"{source.name}_fetch"), task_id=f"{source.name}_fetch", call="GenericTransfer",
            args=args(task_id=f"{source.name}_fetch", source_conn_id=src_conn, sql=_block(sql),
                      destination_conn_id=self.wh_conn, destination_hook_params=self.hook_params(),
                      destination_table=self.names.incoming(source.name, source.connection), preoperator=prepare),
            comment=f"{source.name}: copy {what} from {source.location.value} into its incoming table",
        )
        return [fetch, self.fold_task(source, cap, fold, after=fetch.var)]

    def fold_task(self, source: Source, cap: CapturePlan, fold: object, after: str) -> Task:
        self.use("from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator")
        how = "replace the raw table" if cap.method == "full" else \
            f"upsert into the raw table on {', '.join(source.primary_key)}, latest version per key"
        return Task(
            var=identifier(f"{source.name}_merge"), task_id=f"{source.name}_merge", call="SQLExecuteQueryOperator",
            args=args(task_id=f"{source.name}_merge", conn_id=self.wh_conn, sql=_sql_arg(fold),
                      hook_params=self.hook_params()),
            comment=f"{source.name}: {how} (re-running an interval changes nothing)", after=(after,),
        )

    def extract_api(self, source: Source, cap: CapturePlan) -> list[Task]:
        api, loc = source.api, source.location
        if loc is None or loc.kind != "endpoint":
            self.problem(source.span, f"API capture of '{source.name}' without an endpoint",
                         "write `endpoint GET \"/path\"`")
            return []
        pagination = (api.pagination if api else None) or "none"
        if pagination not in ("cursor", "page", "offset", "none"):
            self.problem(api.span if api else source.span, f"API pagination '{pagination}'",
                         "supported: cursor, page, offset")
        cols = self.captured(source, cap)
        names = [c for c, _ in cols]
        prepare, fold = self.land_statements(source, cap, names)
        incremental = cap.incremental_column or (source.capture.column if source.capture else None)
        self.helpers.add("fetch_api")
        self.gaps.append("the API's protocol field names (items list, next cursor, cursor and window query "
                         "parameters) are not in the spec: fetch_api uses the API_* constants")
        self.use("import hashlib", "import time", "from datetime import timedelta",
                 "from airflow.providers.http.hooks.http import HttpHook",
                 "from airflow.sdk import BaseHook, get_current_context, task")
        http_conn = self.use_connection(source.connection, f"API of {source.name} (base URL and auth)")
        initial = int(api.initial_load.seconds) if api and api.initial_load else None
        rate = round(api.rate_limit.per_second, 6) if api and api.rate_limit else None
        first = f" (first run: the last {api.initial_load.text})" if api and api.initial_load else ""
        limit = f", at most {api.rate_limit.text}" if api and api.rate_limit else ""
        fetch = Task(
            var=identifier(f"{source.name}_fetch"), task_id=f"{source.name}_fetch",
            call=f"fetch_api.override(task_id={literal(source.name + '_fetch')})",
            args=args(http_conn_id=http_conn, endpoint=self.as_written(loc.value), method=(loc.method or "GET").upper(),
                      pagination=pagination, incremental_column=incremental, requests_per_second=rate,
                      initial_load_seconds=initial, warehouse_conn_id=self.wh_conn,
                      warehouse_hook_params=self.hook_params(),
                      table=self.names.incoming(source.name, source.connection), columns=names,
                      hashed_columns=[c for c, hashed in cols if hashed], prepare=prepare),
            comment=(f"{source.name}: page ({pagination}) through {loc.value} for records whose "
                     f"{incremental or 'cursor'} falls in the data interval{first}{limit}"),
        )
        return [fetch, self.fold_task(source, cap, fold, after=fetch.var)]

    def extract_file(self, source: Source, cap: CapturePlan) -> list[Task]:
        conn = self.ir.connection(source.connection)
        assert conn is not None
        if self.dialect != "bigquery" and conn.kind != ConnectionKind.s3:
            self.problem(source.span, f"landing files of '{source.name}' from {conn.kind.value} into a "
                         f"{self.wh.kind.value} warehouse", "files on gcs are loaded into bigquery only")
            return []
        if source.location is None or source.location.kind != "path":
            self.problem(source.span, f"file source '{source.name}' without a path", "write `path \"dir/{date}/f\"`")
            return []
        fmt = {"JSON": "NEWLINE_DELIMITED_JSON"}.get((source.format or "parquet").upper(),
                                                      (source.format or "parquet").upper())
        if fmt not in ("PARQUET", "CSV", "AVRO", "ORC", "NEWLINE_DELIMITED_JSON"):
            self.problem(source.span, f"file format '{source.format}'", "supported: parquet, csv, avro, orc, json")
        for p in self.ir.plan.pii:
            if p.source == source.name and p.applied_in == "capture":
                self.problem(source.span, f"pii({p.strategy.value}) of '{source.name}.{p.column}' applied while "
                             "loading files", "a load job copies files as they are: apply it in a staging model")
        path = self.file_path(source)
        bucket_key = f"{conn.name}_bucket"
        self.config_keys[bucket_key] = f"bucket of the `{conn.name}` {conn.kind.value} connection"
        bucket = self.names.config(bucket_key)
        store_conn = self.use_connection(conn.name, f"file store of {source.name}")
        arrival = source.arrival
        if arrival and arrival.timeout:
            timeout = int(arrival.timeout.seconds)
        else:
            timeout = int(self.tt.interval_seconds or 86400)
            self.gaps.append(f"no arrival timeout for {source.name}: its sensor waits at most one schedule interval")
        poke = max(60, min(300, timeout // 12))
        by = f" by {arrival.by} {arrival.timezone}" if arrival else ""
        wait_id, tasks = f"{source.name}_wait", []
        sensing = dict(mode="reschedule", poke_interval=poke, timeout=timeout)
        wait_note = (f"{source.name}: the file arrives{by}; wait for it in reschedule mode (the worker slot is freed "
                     f"between pokes every {_human(poke)}), at most {_human(timeout)}, then fail")
        if conn.kind == ConnectionKind.s3:
            self.use("from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor",
                     "from airflow.providers.google.cloud.transfers.s3_to_gcs import S3ToGCSOperator")
            tasks.append(Task(var=identifier(wait_id), task_id=wait_id, call="S3KeySensor",
                              args=args(task_id=wait_id, aws_conn_id=store_conn, bucket_name=bucket, bucket_key=path,
                                        **sensing), comment=wait_note))
            if self.dialect != "bigquery":
                return self.land_file_rows(source, cap, path, bucket, store_conn, fmt, after=tasks[0].var, wait=tasks)
            self.config_keys["gcs_staging_bucket"] = "GCS bucket where S3 files are staged for BigQuery load jobs"
            staging = self.names.config("gcs_staging_bucket")
            copy_id = f"{source.name}_copy"
            tasks.append(Task(
                var=identifier(copy_id), task_id=copy_id, call="S3ToGCSOperator",
                args=args(task_id=copy_id, aws_conn_id=store_conn, gcp_conn_id=self.wh_conn, bucket=bucket,
                          prefix=path, dest_gcs=f"gs://{staging}/{self.ir.pipeline.name}/{source.name}/",
                          replace=True, return_gcs_uris=True),
                comment=f"{source.name}: BigQuery load jobs read from GCS, so the file is staged there first",
                after=(identifier(wait_id),),
            ))
            load_bucket, load_object = staging, self.file_path(source, f"{self.ir.pipeline.name}/{source.name}/")
        else:
            self.use("from airflow.providers.google.cloud.sensors.gcs import GCSObjectExistenceSensor")
            tasks.append(Task(var=identifier(wait_id), task_id=wait_id, call="GCSObjectExistenceSensor",
                              args=args(task_id=wait_id, google_cloud_conn_id=store_conn, bucket=bucket, object=path,
                                        **sensing), comment=wait_note))
            load_bucket, load_object = bucket, path
        self.use("from airflow.providers.google.cloud.transfers.gcs_to_bigquery import GCSToBigQueryOperator")
        load_id = f"{source.name}_load"
        tasks.append(Task(
            var=identifier(load_id), task_id=load_id, call="GCSToBigQueryOperator",
            args=args(task_id=load_id, gcp_conn_id=self.wh_conn, bucket=load_bucket, source_objects=[load_object],
                      destination_project_dataset_table=self.names.raw(source.name, source.connection)
                      + "${{ ds_nodash }}",
                      source_format=fmt, write_disposition="WRITE_TRUNCATE", create_disposition="CREATE_IF_NEEDED",
                      time_partitioning={"type": "DAY"}),
            comment=(f"{source.name}: load into the raw table's partition of the logical date, replacing it "
                     "(WRITE_TRUNCATE of table$YYYYMMDD): a re-run never duplicates"),
            after=(tasks[-1].var,),
        ))
        return tasks

    def land_file_rows(self, source: Source, cap: CapturePlan, path: Code, bucket: str, store_conn: str, fmt: str,
                       after: str, wait: list[Task]) -> list[Task]:
        """S3 file -> incoming table (S3ToSqlOperator, parsed on the worker) -> MERGE into the raw table on its key."""
        if fmt not in ("PARQUET", "CSV"):
            self.problem(source.span, f"loading {fmt.lower()} files of '{source.name}' into a "
                         f"{self.wh.kind.value} warehouse", "parquet and csv files are supported there")
        if not source.primary_key:
            self.problem(source.span, f"file source '{source.name}' without a key",
                         "give it `key col` so a re-loaded file upserts instead of duplicating")
            return wait
        names = [c for c, _ in self.captured(source, cap)]
        prepare, fold = self.land_statements(source, cap.model_copy(update={"method": "timestamp_incremental"}),
                                             names)
        self.helpers.add("file_rows")
        self.use("from functools import partial",
                 "from airflow.providers.amazon.aws.transfers.s3_to_sql import S3ToSqlOperator",
                 "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator")
        prep_id, load_id = f"{source.name}_prepare", f"{source.name}_load"
        prep = Task(var=identifier(prep_id), task_id=prep_id, call="SQLExecuteQueryOperator",
                    args=args(task_id=prep_id, conn_id=self.wh_conn, sql=_sql_arg(prepare)),
                    comment=f"{source.name}: create the raw and incoming tables, empty the incoming one",
                    after=(after,))
        load = Task(
            var=identifier(load_id), task_id=load_id, call="S3ToSqlOperator",
            args=(*args(task_id=load_id, aws_conn_id=store_conn, s3_bucket=bucket, s3_key=path,
                        sql_conn_id=self.wh_conn, table=self.names.incoming(source.name, source.connection),
                        column_list=names),
                  Arg("parser", f"partial(file_rows, file_format={fmt.lower()!r}, columns={literal(names)})")),
            comment=f"{source.name}: read the file's rows (columns of the contract) into the incoming table",
            after=(prep.var,),
        )
        fold_task = self.fold_task(source, cap.model_copy(update={"method": "timestamp_incremental"}), fold,
                                   after=load.var)
        return [*wait, prep, load, fold_task]

    def file_path(self, source: Source, prefix: str = "") -> Code:
        """The source's path as the spec writes it (after `prefix`), resolved per run by the DAG's FilePath: its
        placeholders become the run's date parts and the rest stays the spec's text (never read as Jinja)."""
        loc = source.location
        assert loc is not None
        for m in re.finditer(r"\{([A-Za-z_]+)\}", loc.value):
            if m.group(1) not in PATH_PLACEHOLDERS:
                self.problem(loc.span, f"the path placeholder {{{m.group(1)}}}",
                             f"use one of {', '.join('{' + k + '}' for k in sorted(PATH_PLACEHOLDERS))}")
        self.helpers.add("file_path")
        self.use("import re")
        return Code(f"FilePath({literal(prefix + loc.value)})")

    def wait_for_stream(self, source: Source, cap: CapturePlan) -> Task:
        """CDC / topic sources are landed by the streaming side; the batch run waits until they pass its end."""
        col = (source.event_time.name if source.event_time else None) or cap.incremental_column or \
            (source.capture.column if source.capture else None)
        if col is None:
            self.problem(source.span, f"waiting for streamed data of '{source.name}' without a time column",
                         "mark its event_time column, or capture incremental(col)")
            col = "updated_at"
        if source.freshness is not None:
            timeout, why = int(source.freshness.seconds), f"its freshness target (< {source.freshness.text})"
        else:
            timeout, why = int(self.tt.interval_seconds or 3600), "one schedule interval (no freshness target)"
        writer = SqlWriter(self.dialect)
        sql = writer.render(f"SELECT COUNT(*) FROM {source.name} WHERE {col} >= {writer.ts(INTERVAL_END)}",
                            {source.name: self.names.raw(source.name, source.connection)})
        self.use("from airflow.providers.common.sql.sensors.sql import SqlSensor")
        task_id = f"{source.name}_landed"
        return Task(
            var=identifier(task_id), task_id=task_id, call="SqlSensor",
            args=args(task_id=task_id, conn_id=self.wh_conn, sql=_block(sql), hook_params=self.hook_params(),
                      mode="reschedule",
                      poke_interval=max(30, min(300, timeout // 5)), timeout=timeout),
            comment=(f"{source.name}: {cap.method} capture, landed in its raw table by the streaming side; wait "
                     f"until rows past the interval end arrived, at most {why}"),
        )

    # ------------------------------------------------------------------------------ dbt: transform and load
    def dbt_env(self) -> tuple[tuple[str, str], ...]:
        """Env vars the dbt project reads, set from the same Variable keys the extract and gates use."""
        out = {"DBT_TARGET": "dbt_target", "DBT_PROFILES_DIR": "dbt_project_dir",
               env_name(self.wh.name, self.wh_setting): self.wh_key}
        for conn in sorted({s.connection for s in self.side.sources}):
            out[env_name(conn, "raw_schema")] = self.names.raw_schema_key(conn)
        return tuple(sorted(out.items()))

    def dbt_task(self, task_id: str, select: list[str], exclude: list[str], comment: str,
                 after: tuple[str, ...] = ()) -> Task:
        self.use("from airflow.providers.standard.operators.bash import BashOperator", "from airflow.sdk import Param")
        self.helpers.add("dbt")
        command = ["dbt build --target \"$DBT_TARGET\" --select", *select]
        if exclude:
            command += ["--exclude", *exclude]
        command += ["--exclude-resource-type test unit_test",
                    "{{ '--full-refresh' if params.full_refresh else '' }}"]
        return Task(
            var=identifier(task_id), task_id=task_id, call="BashOperator",
            args=(*args(task_id=task_id, bash_command=" ".join(command), cwd=self.names.config("dbt_project_dir")),
                  Arg("env", "DBT_ENV"), *args(append_env=True)),
            comment=comment, after=after,
        )

    def load_tasks(self) -> list[Task]:
        """One dbt task per sink: dbt writes the sink's models, each as the plan's idempotency strategy says."""
        tasks: list[Task] = []
        owner: dict[str, str] = {}
        for sink in self.side.sinks:
            plan = self.sink_plans.get(sink.name)
            if plan is None:
                self.problem(sink.span, f"sink '{sink.name}' without an idempotency decision",
                             "ir.plan.sinks has no entry for it (optimizer gap)")
                continue
            if sink.connection != self.wh.name:
                conn = self.ir.connection(sink.connection)
                self.problem(sink.connection_span or sink.span,
                             f"a batch sink to {conn.kind.value if conn else sink.connection}",
                             "batch sinks are tables dbt writes in the warehouse the models are built in")
                continue
            inputs = {node_name(i.node): i for i in plan.inputs}
            notes = []
            for node in sink.models + sink.metrics:
                ip = inputs.get(node)
                strategy = ip.strategy if ip else plan.strategy
                key = ", ".join(ip.key if ip else plan.key) or "its key"
                part = ip.partition if ip and ip.partition else plan.partition or sink.partition
                part_text = f"{part.granularity or 'day'}({part.column})" if part else "partition"
                notes.append(f"{node}: " + STRATEGY_WORDS.get(strategy, strategy).format(key=key, part=part_text))
                self.written.append(Written(sink.name, node, self.names.model(self.wh_key, node), strategy))
                owner[node] = sink.name
            nodes = list(sink.models + sink.metrics)
            task_id = sink.name
            after = tuple(sorted({identifier(f"load_{owner[n]}") for n in self.upstream(nodes, include_self=False)
                                  if n in owner and owner[n] != sink.name}))
            others = sorted(n for n in owner if owner[n] != sink.name)
            task = self.dbt_task(task_id, [f"+{n}" for n in nodes], exclude=sorted(self.side.transform) + others,
                                 comment=f"{sink.name}: dbt writes " + "; ".join(notes)
                                 + " (a re-run replaces, never appends)", after=after)
            tasks.append(Task(identifier(f"load_{sink.name}"), task.task_id, task.call, task.args, task.comment,
                              task.after))
        return tasks

    # ------------------------------------------------------------------------------ gates
    def gate_tasks(self) -> dict[str, list[Task]]:
        side_nodes = {s.name for s in self.side.sources} | set(self.side.transform) | set(self.side.load)
        gates = [g for g in self.ir.plan.gates if g.check.target in side_nodes]
        if not self.ir.plan.gates:
            self.gaps.append("ir.plan.gates is empty: the DAG has no quality gate task")
        out: dict[str, list[Task]] = {}
        if not gates:
            return out
        self.helpers.add("quality_gate")
        self.use("import logging", "from airflow.sdk import BaseHook, task",
                 "from airflow.sdk.exceptions import AirflowFailException")
        worst = max(g.priority for g in gates)
        used: set[tuple[str, str]] = set()
        for gate in sorted(gates, key=lambda g: (g.priority, check_id(g.check), g.check.severity.value)):
            stage = self.gate_stage(gate)
            task = self.gate_task(gate, stage, worst)
            if task is None:
                continue
            tid, n = task.task_id, 2
            while (stage, tid) in used:
                tid, n = f"{task.task_id}_{n}", n + 1
            used.add((stage, tid))
            if tid != task.task_id:
                task = Task(identifier(f"{stage}_{tid}"), tid, _gate_call(tid, worst, gate.priority), task.args,
                            task.comment)
            out.setdefault(stage, []).append(task)
        return out

    def gate_stage(self, gate: GatePlan) -> str:
        """source -> source_gate; transform -> transform_gate, except on a model dbt writes into a sink: that
        model is the sink table, so its gate runs right after the load, with the sink gates."""
        if gate.boundary == "source":
            return "source_gate"
        if gate.boundary == "transform" and gate.check.target not in self.side.load:
            return "transform_gate"
        return "reconcile"

    def gate_task(self, gate: GatePlan, stage: str, worst: int) -> Task | None:
        check = gate.check
        ctx = GateContext(dialect=self.dialect, relation=self.relation, schema_of=self.schema_of,
                          time_column=self.time_column, expected_columns=self.contract_columns,
                          interval_seconds=self.tt.interval_seconds)
        try:
            sql = failure_sql(check, ctx)
        except GateError as e:
            self.problem(check.span, f"the {check.kind.value} check on '{check.target}' as a gate", str(e))
            return None
        except KeyError as e:
            self.problem(check.span, f"the {check.kind.value} check on '{check.target}'",
                         f"it reads {e}, which is not on the batch side")
            return None
        tid = check_id(check)
        where = f"{gate.boundary} boundary" + (", after the load: the model is the sink's table"
                                               if gate.boundary == "transform" and stage == "reconcile" else "")
        return Task(
            var=identifier(f"{stage}_{tid}"), task_id=tid, call=_gate_call(tid, worst, gate.priority),
            args=args(conn_id=self.wh_conn, check=self.as_written(describe(check)), severity=check.severity.value,
                      sql=_block(sql), hook_params=self.hook_params()),
            comment=f"{describe(check)} [{check.severity.value}, priority {gate.priority}, {gate.origin}; {where}]",
        )

    def relation(self, node: str) -> str:
        ir = self.ir
        if (src := ir.source(node)) is not None:
            return self.names.raw(node, src.connection)
        if ir.kind_of(node) in ("model", "metric"):
            return self.names.model(self.wh_key, node)
        raise KeyError(node)

    def schema_of(self, node: str) -> tuple[str, str]:
        schema, _, table = self.relation(node).rpartition(".")
        return schema, table

    def contract_columns(self, node: str) -> tuple[str, ...]:
        ir = self.ir
        if (src := ir.source(node)) is not None:
            cap = self.captures.get(node)
            return tuple(c for c, _ in self.captured(src, cap)) if cap else tuple(c.name for c in src.columns)
        if (m := ir.model(node)) is not None:
            return tuple(c.name for c in m.columns)
        if (mt := ir.metric(node)) is not None:
            return tuple(mt.dimensions) + tuple(x.alias for x in mt.measures)
        return ()

    def time_column(self, node: str) -> TimeColumn | None:
        """The column that places rows of a node in time: partition, history or event column (or the load
        partition of a file-loaded BigQuery raw table)."""
        ir = self.ir
        if (src := ir.source(node)) is not None:
            cap = self.captures.get(node)
            if cap is not None and cap.method == "file_arrival" and self.dialect == "bigquery":
                return TimeColumn("_PARTITIONTIME")
            if src.event_time is not None:
                return TimeColumn(src.event_time.name, src.event_time.type.name == "date")
            col = (cap.incremental_column if cap else None) or (src.capture.column if src.capture else None)
            return self.column_time(node, col) if col else None
        if (m := ir.model(node)) is not None:
            for sink in self.side.sinks:
                plan = self.sink_plans.get(sink.name)
                for ip in plan.inputs if plan else ():
                    if node_name(ip.node) == node and ip.partition:
                        return self.column_time(node, ip.partition.column)
            if m.partition:
                return self.column_time(node, m.partition.column)
            if m.history and m.history.updated_at:
                return self.column_time(node, m.history.updated_at)
        return None

    def column_time(self, node: str, column: str) -> TimeColumn:
        """Whether a node's column holds dates or timestamps, traced through lineage to a source column."""
        seen: set[tuple[str, str]] = set()
        todo = [(node, column)]
        while todo:
            n, c = todo.pop()
            if (n, c) in seen:
                continue
            seen.add((n, c))
            if (src := self.ir.source(n)) is not None and (col := src.column(c)) is not None:
                return TimeColumn(column, is_date=col.type.name == "date")
            if (m := self.ir.model(n)) is not None:
                todo += [(i.node, i.column) for lin in m.columns if lin.name == c and len(lin.inputs) == 1
                         for i in lin.inputs]
        return TimeColumn(column)

    # ------------------------------------------------------------------------------ notify
    def notify(self) -> Task:
        self.use("from airflow.providers.standard.operators.empty import EmptyOperator",
                 "from airflow.sdk import Asset")
        p = self.ir.pipeline.name
        assets = [Code(f"Asset(name={literal(f'{p}.{w.sink}.{w.node}')}, "
                       f"uri={literal(f'x-streamc://{p}/{w.sink}/{w.node}')})") for w in self.written]
        return Task(
            var="notify", task_id="notify", call="EmptyOperator", args=args(task_id="notify", outlets=assets),
            comment="announce the written sink tables as Airflow assets: downstream DAGs can be scheduled on them",
        )

    # ------------------------------------------------------------------------------ DAG arguments
    def default_args(self) -> tuple[Arg, ...]:
        rel = self.ir.plan.reliability
        owner = self.ir.pipeline.owner or "streamc"
        if rel is None:
            self.gaps.append("ir.plan.reliability is empty: no retries, retry delay or backoff are set")
            return args(owner=owner)
        self.use("from datetime import timedelta")
        return (*args(owner=owner, retries=rel.retries), Arg("retry_delay", duration(rel.retry_delay.seconds)),
                *args(retry_exponential_backoff=2.0 if rel.exponential_backoff else 0.0))

    def dag_arguments(self) -> tuple[tuple[Arg, ...], dict[str, tuple[str, ...]], bool]:
        ir, tt = self.ir, self.tt
        rel = ir.plan.reliability
        self.use("import pendulum", "from airflow.sdk import DAG, TaskGroup, chain",
                 *(f"from airflow.sdk import {name}" for name in tt.imports))
        if "DeltaDataIntervalTimetable" in tt.code:
            self.use("from datetime import timedelta")
        catchup, reason = self.catchup()
        tz = ir.pipeline.schedule.timezone if ir.pipeline.schedule else "UTC"
        d = self.start_date
        comments: dict[str, tuple[str, ...]] = {
            "schedule": (f"{tt.summary}; each run covers one data interval [data_interval_start, data_interval_end)",),
            "start_date": ("fixed, never derived from the clock: every parse yields the same DAG",),
            "catchup": reason,
        }
        out = [*args(dag_id=ir.pipeline.name, description=self.title()), Arg("schedule", tt.code),
               Arg("start_date", f"pendulum.datetime({d.year}, {d.month}, {d.day}, tz={tz!r})"),
               *args(catchup=catchup)]
        if rel is not None:
            out += args(max_active_runs=rel.max_active_runs)
            comments["max_active_runs"] = (f"ordered loads: each run continues where the previous one stopped "
                                           f"(tier {rel.tier.value}, {rel.availability})",)
        out += args(default_args=Code("default_args"), tags=self.tags())
        if "dbt" in self.helpers:
            out.append(Arg("params", "{\"full_refresh\": Param(False, type=\"boolean\", description="
                           + literal("rebuild every dbt model from the raw tables (after a schema or logic change)")
                           + ")}"))
        out += args(doc_md=Code("__doc__"))
        if rel is not None and rel.stale_alert_after is not None:
            self.use("from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference",
                     "from datetime import timedelta")
            self.helpers.add("alerts_plugin")
            kwargs = {"pipeline": ir.pipeline.name, "owner": ir.pipeline.owner or "", "tier": rel.tier.value,
                      "stale_after": rel.stale_alert_after.text}
            out.append(Arg("deadline", (
                "DeadlineAlert(reference=DeadlineReference.DAGRUN_LOGICAL_DATE, "
                f"interval={duration(rel.stale_alert_after.seconds)}, "
                f"callback=AsyncCallback({literal('streamc_alerts.on_deadline_missed')}, kwargs={literal(kwargs)}))")))
            comments["deadline"] = (
                "Airflow 3 removed SLA misses; a deadline alert replaces them. The logical date is the start of",
                "the run's data interval, so the alert fires when the run has not finished by the time the newest",
                f"written data would be {rel.stale_alert_after.text} old (the plan's stale alert). The callback",
                "is plugins/streamc_alerts.py: the triggerer imports it from the plugins folder.",
            )
        elif rel is not None:
            self.gaps.append("ir.plan.reliability.stale_alert_after is empty: no deadline alert")
        return tuple(out), comments, catchup

    def catchup(self) -> tuple[bool, tuple[str, ...]]:
        methods = sorted({self.captures[s.name].method for s in self.side.sources if s.name in self.captures
                          and self.captures[s.name].raw_load == "extract"}
                         & {"timestamp_incremental", "api_incremental", "file_arrival"})
        if methods:
            return True, (f"catchup: extraction is addressed by the data interval ({', '.join(methods)}) and",
                          "re-runnable, so intervals the scheduler missed are run in order instead of leaving holes")
        return False, ("no catchup: no extract is addressed by its interval (full or streamed capture), so the next",
                       "run covers a missed one")

    def tags(self) -> list[str]:
        ir = self.ir
        rel = ir.plan.reliability
        tags = ["streamc", *([ir.pipeline.domain] if ir.pipeline.domain else []),
                f"tier:{(rel.tier if rel else ir.pipeline.tier).value}"]
        if ir.plan.mode:
            tags.append(f"mode:{ir.plan.mode.mode.value}")
        return tags

    def title(self) -> str:
        ir = self.ir
        hybrid = ir.plan.mode is not None and ir.plan.mode.mode == Mode.hybrid
        side = "the batch side of a hybrid pipeline" if hybrid else "a batch pipeline"
        return f"{ir.pipeline.name}: {side}" + (f" ({ir.pipeline.description})" if ir.pipeline.description else "")


def _gate_call(task_id: str, worst: int, priority: int) -> str:
    """The gate helper, named per check; the plan's priority 1 gets the highest absolute weight."""
    return (f"quality_gate.override(task_id={literal(task_id)}, priority_weight={worst + 1 - priority}, "
            "weight_rule=\"absolute\")")


# A templated SQL field whose text ends like a file name is read as the name of a template file
# (template_ext of the SQL operators and sensors): a table named `x.sql` must not end the text.
TEMPLATE_FILE_ENDINGS = (".sql", ".hql", ".json")


def _block(sql: str) -> str:
    """Multi-line SQL laid out as its own block inside the triple-quoted literal."""
    if "\n" in sql or sql.endswith(TEMPLATE_FILE_ENDINGS):
        return "\n" + sql.strip("\n") + "\n"
    return sql


def _sql_arg(sql: object) -> object:
    if isinstance(sql, list):
        return [_block(s) for s in sql]
    return _block(sql) if isinstance(sql, str) else sql


def _human(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@once_per_ir
def build_model(ir: Spec, start_date: date) -> tuple[DagModel | None, list[Problem]]:
    builder = Builder(ir, start_date)
    return builder.build(), builder.problems
