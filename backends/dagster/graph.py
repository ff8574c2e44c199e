"""Reads the batch side of a compiled spec and its plan into the typed asset graph the Dagster module renders."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

from streamc.derive_once import once_per_ir
from streamc.ir import (
    Check,
    CheckKind,
    Connection,
    GatePlan,
    Mode,
    Model,
    ModelPlan,
    PiiStrategy,
    Schedule,
    Source,
    Span,
    Spec,
)

from . import statements as sql
from .targets import STORAGE_KINDS, WAREHOUSE_KINDS, Target, env_name, storage_target, warehouse_target
from streamc.backend_api import Unsupported as Problem

COMPARISONS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "=": "==", "==": "==", "!=": "!=", "<>": "!="}
TIME_TYPES = ("date", "timestamp", "timestamptz", "datetime")
LAYER_ORDER = {"staging": 0, "intermediate": 1, "mart": 2}




@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    nullable: bool = True
    unique: bool = False
    description: str | None = None
    pii: str | None = None


@dataclass(frozen=True)
class Arrival:
    source: str
    path: str  # object path template with {date}
    by: str  # "06:00"
    timezone: str
    timeout_seconds: int


@dataclass(frozen=True)
class SourceAsset:
    name: str
    kind: str  # connection kind
    description: str
    location: str
    capture: str
    columns: tuple[ColumnInfo, ...]
    table: str  # where the raw rows land in the warehouse (default schema)


@dataclass(frozen=True)
class ModelAsset:
    name: str
    description: str
    layer: str
    materialization: str
    write: str  # how the table is written, in words
    deps: tuple[str, ...]
    partition_column: str | None
    statements: sql.Materialization
    columns: tuple[ColumnInfo, ...]
    lineage: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # column -> ((node, column), ...)
    sinks: tuple[str, ...]
    unique_key: tuple[str, ...]

    @property
    def code_version(self) -> str:
        text = "\n;\n".join((*self.statements.setup, *self.statements.write, self.statements.count or ""))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class GateCheck:
    asset: str
    name: str
    description: str
    test: str  # rows | freshness | row_count | volume | reconcile | schema
    severity: str  # error | warn
    boundary: str
    origin: str
    priority: int
    sql: str = ""
    deps: tuple[str, ...] = ()
    relation: str = ""
    expected_columns: tuple[str, ...] = ()
    comparison: str = ""
    threshold: float = 0.0
    max_age_seconds: float = 0.0
    tolerance_pct: float = 0.0

    @property
    def blocking(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class Partitioning:
    granularity: str  # day | hour | month | year
    start: date
    timezone: str


@dataclass(frozen=True)
class Cadence:
    """How often something runs: a cron expression when one fits, else a sensor interval."""

    cron: str | None
    seconds: int
    text: str


@dataclass(frozen=True)
class Reliability:
    tier: str
    retries: int
    retry_delay_seconds: int
    exponential_backoff: bool
    max_active_runs: int
    stale_after_seconds: int | None
    freshness_every: Cadence | None


@dataclass(frozen=True)
class Project:
    pipeline: str
    files: tuple[str, ...]
    owner: str | None
    mode: str
    warehouse: Target | None = None
    storage: Target | None = None
    sources: tuple[SourceAsset, ...] = ()
    models: tuple[ModelAsset, ...] = ()
    gates: tuple[GateCheck, ...] = ()
    partitioning: Partitioning | None = None
    reliability: Reliability | None = None
    schedule: Cadence | None = None
    schedule_timezone: str = "UTC"
    arrivals: tuple[Arrival, ...] = ()
    raw_schemas: tuple[tuple[str, str, str], ...] = ()  # (connection, env var, default schema)
    slots: sql.Slots = sql.Slots()  # the run-time placeholders in the SQL
    problems: tuple[Problem, ...] = ()

    @property
    def has_batch_side(self) -> bool:
        return bool(self.models or self.sources)


# ------------------------------------------------------------------ lineage


def lineage_of(model: Model) -> dict[str, tuple[tuple[str, str], ...]]:
    return {c.name: tuple((r.node, r.column) for r in c.inputs) for c in model.columns}


def trace(ir: Spec, node: str, column: str, to: str, depth: int = 0) -> str | None:
    """The column of `to` that `node.column` is computed from, following model lineage upstream."""
    if node == to:
        return column
    model = ir.model(node)
    if model is None or depth > 50:
        return None
    for name, inputs in lineage_of(model).items():
        if name != column:
            continue
        for up_node, up_column in inputs:
            found = trace(ir, up_node, up_column, to, depth + 1)
            if found:
                return found
    return None


def origins(ir: Spec, node: str, column: str, depth: int = 0) -> set[tuple[str, str]]:
    """Every source column `node.column` is computed from."""
    if ir.source(node) is not None:
        return {(node, column)}
    model = ir.model(node)
    if model is None or depth > 50:
        return set()
    out: set[tuple[str, str]] = set()
    for name, inputs in lineage_of(model).items():
        if name == column:
            for up_node, up_column in inputs:
                out |= origins(ir, up_node, up_column, depth + 1)
    return out


def passthrough_type(ir: Spec, node: str, column: str) -> str:
    """The contract type of a column copied unchanged from a source, else "unknown"."""
    model = ir.model(node)
    if model is None:
        source = ir.source(node)
        col = source.column(column) if source else None
        return col.type.sql() if col else "unknown"
    for c in model.columns:
        if c.name != column or len(c.inputs) != 1:
            continue
        bare = re.fullmatch(r"(?:\w+\.)?(\w+)(?:\s+as\s+\w+)?", c.expression.strip(), flags=re.IGNORECASE)
        if not c.expression.strip() or (bare and bare.group(1).lower() == c.inputs[0].column.lower()):
            return passthrough_type(ir, c.inputs[0].node, c.inputs[0].column)
    return "unknown"


# ------------------------------------------------------------------ cadence


def duration_cadence(seconds: float, text: str) -> Cadence:
    """A cron expression for intervals that divide an hour or a day evenly, else only the interval."""
    s = int(seconds)
    cron = None
    if s >= 60 and s % 60 == 0:  # under a minute (or under a second) has no cron form
        minutes = s // 60
        if minutes < 60 and 60 % minutes == 0:
            cron = "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
        elif minutes % 60 == 0 and 24 % (minutes // 60) == 0 and minutes // 60 < 24:
            hours = minutes // 60
            cron = "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
        elif minutes == 24 * 60:
            cron = "0 0 * * *"
    return Cadence(cron=cron, seconds=max(s, 1), text=text)


WEEKDAYS = {"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
            "sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


def schedule_cadence(s: Schedule) -> Cadence | None:
    hour, minute = (int(p) for p in (s.time or "00:00").split(":"))
    if s.kind == "daily":
        return Cadence(f"{minute} {hour} * * *", 86400, f"daily at {s.time or '00:00'} {s.timezone}")
    if s.kind == "hourly":
        return Cadence(f"{minute} * * * *", 3600, "hourly")
    if s.kind == "weekly":
        day = WEEKDAYS.get((s.weekday or "monday").lower())
        if day is None:
            return None
        return Cadence(f"{minute} {hour} * * {day}", 7 * 86400, f"weekly on {s.weekday} at {s.time or '00:00'}")
    if s.kind == "every" and s.every is not None:
        cadence = duration_cadence(s.every.seconds, f"every {s.every.text}")
        return cadence if cadence.cron else None
    if s.kind == "cron" and s.cron:
        return Cadence(s.cron, 0, f"cron {s.cron}")
    return None


# ------------------------------------------------------------------ the builder


@dataclass
class Builder:
    ir: Spec
    swap_warehouse: bool
    local_storage: bool
    partition_start: date
    problems: list[Problem] = field(default_factory=list)

    raw_tables: dict[str, str] = field(default_factory=dict)
    _sink_partitions: dict[tuple[str, ...], dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # every text of the spec (SQL, literals, descriptions) as one string: the slots avoid what it holds
        self.slots = sql.slots_for(self.ir.model_dump_json())

    def refs(self, name: str) -> str | None:
        """Where a node is read from in warehouse SQL: a source from its raw table, a model by its name."""
        return self.raw_tables.get(name)

    def problem(self, span: Span | None, what: str, hint: str) -> None:
        self.problems.append(Problem(span, what, hint))

    # -------------------------------------------------------------- which nodes are batch

    def batch_ids(self) -> set[str]:
        mode = self.ir.plan.mode
        assert mode is not None
        if mode.batch_nodes:
            return set(mode.batch_nodes)
        if mode.mode == Mode.batch:
            ir = self.ir
            return ({f"source:{s.name}" for s in ir.sources} | {f"model:{m.name}" for m in ir.models}
                    | {f"metric:{m.name}" for m in ir.metrics} | {f"sink:{s.name}" for s in ir.sinks})
        return set()

    def build(self) -> Project:
        ir = self.ir
        pipeline = ir.pipeline
        base = Project(pipeline=pipeline.name, files=ir.files, owner=pipeline.owner, mode="")
        if ir.plan.mode is None:
            self.problem(pipeline.span, "a spec without a mode decision (ir.plan.mode is empty)",
                         "run the optimizer passes before this backend (streamc build does)")
            return self.done(base)
        ids = self.batch_ids()
        names = {i.split(":", 1)[1] for i in ids}
        kinds = {i.split(":", 1)[0] for i in ids}
        mode = ir.plan.mode.mode.value
        base = Project(pipeline=pipeline.name, files=ir.files, owner=pipeline.owner, mode=mode)
        models = [m for m in ir.models if m.name in names and f"model:{m.name}" in ids]
        sources = [s for s in ir.sources if f"source:{s.name}" in ids]
        metrics = [m for m in ir.metrics if f"metric:{m.name}" in ids]
        sinks = [s for s in ir.sinks if f"sink:{s.name}" in ids]
        if not (models or sources) and "metric" not in kinds:
            return self.done(base)  # nothing on the batch side: no Dagster definitions
        for m in metrics:
            self.problem(m.span, f"metric '{m.name}' on the batch side",
                         "compute it in a model (a grouped select), or let the streaming side own it")
        # sources that only feed the streaming side are not assets here
        used = {d for m in models for d in m.depends_on} | {s for k in sinks for s in k.sources}
        used |= {c.target for e in ir.expectations for c in e.checks if f"source:{c.target}" in ids}
        sources = [s for s in sources if s.name in used or not models]
        warehouse = self.warehouse(models, sinks)
        if warehouse is None:
            return self.done(base)
        reliability = self.reliability()
        partitioning = self.partitioning(models)
        self.raw_tables = {s.name: f"{self.slots.raw_schema(s.connection)}.{s.name}" for s in sources}
        model_assets = tuple(self.model_asset(m, warehouse, sinks) for m in self.ordered(models))
        model_assets = tuple(a for a in model_assets if a is not None)
        source_assets = tuple(self.source_asset(s) for s in sources)
        asset_names = {a.name for a in model_assets} | {s.name for s in source_assets}
        for m in models:
            for dep in m.depends_on:
                if dep not in asset_names and self.ir.kind_of(dep) in ("source", "model"):
                    self.problem(m.span, f"model '{m.name}' reads '{dep}', which is not on the batch side",
                                 "the plan must place every input of a batch model on the batch side")
        gates = self.gates(asset_names, ids, {a.name: a for a in model_assets}, warehouse)
        arrivals = self.arrivals(sources)
        storage = self.storage(sources) if arrivals else None
        schedule = None
        if ir.pipeline.schedule is not None and not arrivals:
            schedule = schedule_cadence(ir.pipeline.schedule)
            if schedule is None:
                self.problem(ir.pipeline.schedule.span, f"the schedule '{ir.pipeline.schedule.kind}' as a cron",
                             "use daily/hourly/weekly, a cron expression, or `every` a divisor of 1h or 24h")
        tz = ir.pipeline.schedule.timezone if ir.pipeline.schedule else "UTC"
        return self.done(Project(
            pipeline=pipeline.name, files=ir.files, owner=pipeline.owner, mode=mode, warehouse=warehouse,
            storage=storage, sources=source_assets, models=model_assets, gates=gates, partitioning=partitioning,
            reliability=reliability, schedule=schedule, schedule_timezone=tz, arrivals=arrivals, slots=self.slots,
            raw_schemas=tuple(sorted({(s.connection, env_name(s.connection, "raw_schema"), f"raw_{s.connection}")
                                      for s in sources}))))

    def done(self, project: Project) -> Project:
        return Project(**{**project.__dict__, "problems": tuple(self.problems)})

    def ordered(self, models: list[Model]) -> list[Model]:
        """Upstream first (spec order breaks ties), so the module reads top to bottom."""
        by_name = {m.name: m for m in models}
        out: list[Model] = []
        seen: set[str] = set()

        def visit(m: Model) -> None:
            if m.name in seen:
                return
            seen.add(m.name)
            for dep in m.depends_on:
                if dep in by_name:
                    visit(by_name[dep])
            out.append(m)

        for m in models:
            visit(m)
        return out

    # -------------------------------------------------------------- warehouse and storage

    def warehouse(self, models: list[Model], sinks: list) -> Target | None:
        ir = self.ir
        conns: dict[str, Connection] = {}
        for s in sinks:
            conn = ir.connection(s.connection)
            if conn is None:
                continue
            if s.sources:
                self.problem(s.span, f"sink '{s.name}' receiving sources directly on the batch side",
                             "sources are external assets here; add a model that selects from the source")
            if not conn.is_warehouse:
                self.problem(s.connection_span or s.span,
                             f"batch sink '{s.name}' to a {conn.kind.value} connection",
                             "batch sinks must write to the warehouse the models are built in")
                continue
            conns[conn.name] = conn
        if not conns:
            candidates = [c for c in ir.connections if c.is_warehouse]
            if len(candidates) == 1:
                conns[candidates[0].name] = candidates[0]
        if len(conns) != 1:
            span = ir.pipeline.span
            if not conns:
                self.problem(span, "batch models without a warehouse connection",
                             "declare a warehouse connection (duckdb/snowflake/bigquery/postgres as warehouse)")
            else:
                self.problem(span, f"batch models in several warehouses ({', '.join(sorted(conns))})",
                             "build all batch models of one pipeline in one warehouse")
            return None
        conn = next(iter(conns.values()))
        if not self.swap_warehouse and conn.kind.value not in WAREHOUSE_KINDS:
            self.problem(conn.span, f"a {conn.kind.value} warehouse",
                         "use duckdb, postgres, snowflake or bigquery as the warehouse")
            return None
        return warehouse_target(ir.pipeline.name, conn, self.swap_warehouse)

    def storage(self, sources: list[Source]) -> Target | None:
        conns = {s.connection for s in sources if s.arrival is not None}
        if len(conns) != 1:
            self.problem(self.ir.pipeline.span, "file arrivals in several object stores",
                         "let the files of one pipeline arrive in one bucket")
            return None
        conn = self.ir.connection(next(iter(conns)))
        assert conn is not None
        return storage_target(self.ir.pipeline.name, conn, self.local_storage)

    # -------------------------------------------------------------- reliability, partitions, triggers

    def reliability(self) -> Reliability | None:
        r = self.ir.plan.reliability
        if r is None:
            self.problem(self.ir.pipeline.span, "a pipeline without a reliability decision (ir.plan.reliability)",
                         "run the optimizer passes before this backend")
            return None
        every = None
        if r.freshness_check_every is not None:
            every = duration_cadence(r.freshness_check_every.seconds, r.freshness_check_every.text)
        return Reliability(
            tier=r.tier.value, retries=r.retries, retry_delay_seconds=int(r.retry_delay.seconds),
            exponential_backoff=r.exponential_backoff, max_active_runs=r.max_active_runs,
            stale_after_seconds=int(r.stale_alert_after.seconds) if r.stale_alert_after else None,
            freshness_every=every)

    def model_partition(self, model: Model, sinks: list):
        """The model's own partition, else that of the first of `sinks` that overwrites it by partition."""
        if model.partition is not None:
            return model.partition
        key = tuple(s.name for s in sinks)
        by_model = self._sink_partitions.get(key)
        if by_model is None:  # once per sink selection: a lookup per model, not a scan (and deep compare) of sinks
            names = set(key)
            by_model = {}
            for sp in self.ir.plan.sinks:
                if sp.sink in names and sp.strategy == "overwrite_partition" and sp.partition:
                    for name in self.ir.sink(sp.sink).models:
                        by_model.setdefault(name, sp.partition)
            self._sink_partitions[key] = by_model
        return by_model.get(model.name)

    def partitioning(self, models: list[Model]) -> Partitioning | None:
        sinks = [s for s in self.ir.sinks]
        grains = set()
        for m in models:
            plan = self.model_plan(m, report=False)
            part = self.model_partition(m, sinks)
            if part is None or plan is None or plan.materialization not in ("table", "incremental"):
                continue
            if part.granularity is None:
                self.problem(part.span, f"partitioning '{m.name}' by the values of '{part.column}'",
                             "partition by day(...), hour(...), month(...) or year(...)")
                continue
            grains.add(part.granularity)
        if not grains:
            return None
        if len(grains) > 1:
            self.problem(self.ir.pipeline.span, f"models partitioned by {' and '.join(sorted(grains))} in one pipeline",
                         "one Dagster job runs one partition definition; use one granularity")
        tz = self.ir.pipeline.schedule.timezone if self.ir.pipeline.schedule else "UTC"
        return Partitioning(granularity=sorted(grains)[0], start=self.partition_start, timezone=tz)

    def arrivals(self, sources: list[Source]) -> tuple[Arrival, ...]:
        out = []
        for s in sources:
            if s.arrival is None:
                continue
            conn = self.ir.connection(s.connection)
            if conn is None or conn.kind not in STORAGE_KINDS or s.location is None or s.location.kind != "path":
                self.problem(s.arrival.span, f"waiting for '{s.name}' outside an s3/gcs path",
                             "`arrives` is supported for `path` sources on s3 or gcs connections")
                continue
            unknown = set(re.findall(r"{(\w*)}", s.location.value)) - {"date"}
            if unknown:
                self.problem(s.location.span, f"path placeholders {sorted(unknown)}",
                             "file paths may use {date} (the partition date, YYYY-MM-DD)")
                continue
            timeout = int(s.arrival.timeout.seconds) if s.arrival.timeout else 0
            out.append(Arrival(s.name, s.location.value, s.arrival.by, s.arrival.timezone, timeout))
        return tuple(out)

    # -------------------------------------------------------------- sources

    def source_asset(self, s: Source) -> SourceAsset:
        conn = self.ir.connection(s.connection)
        kind = conn.kind.value if conn else "unknown"
        loc = f"{s.location.kind} {s.location.value}" if s.location else "(no location)"
        if s.location and s.location.method:
            loc = f"{s.location.kind} {s.location.method} {s.location.value}"
        capture = next((c for c in self.ir.plan.captures if c.source == s.name), None)
        if capture is not None:
            cap = capture.method + (f" on {capture.incremental_column}" if capture.incremental_column else "")
        elif s.capture is not None:
            cap = s.capture.mode.value + (f"({s.capture.column})" if s.capture.column else "")
        else:
            cap = ""
        excluded = set(capture.excluded_columns) if capture else set()
        pk = set(s.primary_key)
        columns = tuple(
            ColumnInfo(name=c.name, type=c.type.sql(), nullable=not (c.not_null or c.primary_key),
                       unique=c.unique or (c.primary_key and len(pk) == 1), description=c.description,
                       pii=c.pii.strategy.value if c.pii else None)
            for c in s.columns if c.name not in excluded)
        description = s.description or f"Raw `{s.name}` from {kind} connection `{s.connection}` ({loc})."
        return SourceAsset(name=s.name, kind=kind, description=description, location=f"{loc} on {s.connection}",
                           capture=cap, columns=columns, table=f"raw_{s.connection}.{s.name}")

    # -------------------------------------------------------------- models

    def model_plan(self, m: Model, report: bool = True) -> ModelPlan | None:
        plan = next((p for p in self.ir.plan.models if p.model == m.name), None)
        if plan is None and report:
            self.problem(m.span, f"model '{m.name}' without a layer/materialization decision (ir.plan.models)",
                         "run the optimizer passes before this backend")
        return plan

    def pii_columns(self, m: Model) -> dict[str, str]:
        """Output columns of `m` that carry PII the plan says to handle in this model -> strategy."""
        handled: dict[str, str] = {}
        for p in self.ir.plan.pii:
            if p.applied_in != m.name or p.strategy == PiiStrategy.keep:
                continue
            for c in m.columns:
                if (p.source, p.column) in origins(self.ir, m.name, c.name):
                    if p.strategy == PiiStrategy.encrypt:
                        self.problem(m.span, f"encrypting PII column '{c.name}' in warehouse SQL",
                                     "encrypt at capture (the plan's applied_in) or hash/mask it in the model")
                        continue
                    handled[c.name] = p.strategy.value
        return handled

    def model_asset(self, m: Model, wh: Target, sinks: list) -> ModelAsset | None:
        plan = self.model_plan(m)
        if plan is None:
            return None
        dialect = wh.dialect
        try:
            select = sql.to_dialect(m.sql.text, dialect, self.refs)
        except Exception as e:  # noqa: BLE001 - sqlglot cannot write this SQL in the dialect
            self.problem(m.sql.span, f"the SQL of '{m.name}' in {dialect}", f"simplify the query ({e})")
            return None
        columns = tuple(c.name for c in m.columns)
        handled = self.pii_columns(m)
        if handled:
            select = sql.with_pii(select, columns, handled, dialect)
            columns = tuple(c for c in columns if handled.get(c) != "drop")
        relation = m.name
        part = self.model_partition(m, sinks)
        materialization = plan.materialization
        key = plan.unique_key or m.grain
        partition_column = None
        if materialization in ("view", "ephemeral"):
            stmts = sql.view(relation, select)
            write = "view" if materialization == "view" else "view (ephemeral models need a relation in Dagster)"
        elif materialization == "snapshot":
            history = m.history
            if not key or not columns:
                self.problem(m.span, f"history of '{m.name}' without a key or known columns",
                             "give the model a grain and an explicit select list")
                return None
            stmts = sql.scd2(relation, select, key, columns, history.updated_at if history else None,
                             history.check_columns if history else ())
            if history is None or (not history.updated_at and not history.check_columns):
                self.problem(m.span, f"snapshot '{m.name}' without `history ... by <column>`",
                             "say which column (or columns) detect a change")
                return None
            write = "type 2 history (valid_from / valid_to / is_current)"
        elif materialization in ("table", "incremental"):
            partitioned = part is not None and part.granularity is not None
            rows, scope = select, ""
            if partitioned:
                partition_column = part.column
                rows = sql.windowed(select, part.column, dialect, self.slots)
                scope = f", the run's {part.granularity} partition of {part.column}"
            strategy = plan.incremental_strategy if materialization == "incremental" else None
            if materialization == "incremental" and strategy is None:
                self.problem(m.span, f"incremental model '{m.name}' without an incremental strategy (ir.plan.models)",
                             "run the optimizer passes before this backend")
                return None
            if partitioned and strategy in (None, "insert_overwrite"):
                stmts = sql.overwrite_partition(relation, select, part.column, dialect, self.slots)
                write = f"overwrite the run's {part.granularity} partition of {part.column}"
            elif strategy is None:
                stmts = sql.table(relation, select, dialect)
                write = "table, rebuilt every run"
            elif strategy in ("merge", "upsert") and key and columns:
                stmts = sql.merge(relation, select, rows, key, columns)
                write = f"merge on {', '.join(key)}{scope}"
            elif strategy == "delete+insert" and key:
                stmts = sql.delete_insert(relation, select, rows, key)
                write = f"delete + insert on {', '.join(key)}{scope}"
            elif strategy == "append":
                stmts = sql.append(relation, select, rows)
                write = f"append{scope}"
            else:
                self.problem(m.span, f"incremental strategy '{strategy}' for '{m.name}'"
                             + ("" if key else " without a unique key") + ("" if partitioned else " or a partition"),
                             "the plan's strategy needs a grain (merge, delete+insert) or a partition"
                             " (insert_overwrite)")
                return None
            if partitioned:
                count = sql.partition_count(relation, part.column, dialect, self.slots)
                stmts = sql.Materialization(stmts.setup, stmts.write, count)
        else:
            self.problem(m.span, f"materialization '{materialization}' of '{m.name}'",
                         "use view, table, incremental, snapshot or ephemeral")
            return None
        lineage = lineage_of(m)
        infos = tuple(ColumnInfo(name=c, type=passthrough_type(self.ir, m.name, c), pii=handled.get(c))
                      for c in columns)
        if materialization == "snapshot":
            infos += tuple(ColumnInfo(name=c, type="timestamp" if c != "is_current" else "boolean")
                           for c in sql.SCD2_COLUMNS)
        in_sinks = tuple(sorted(s.name for s in self.ir.sinks if m.name in s.models))
        description = m.description or f"{plan.layer.capitalize()} model `{m.name}`: {write}."
        return ModelAsset(
            name=m.name, description=description, layer=plan.layer, materialization=materialization, write=write,
            deps=tuple(dict.fromkeys(m.depends_on)), partition_column=partition_column, statements=stmts,
            columns=infos, lineage=tuple((c, lineage.get(c, ())) for c in columns if c in lineage),
            sinks=in_sinks, unique_key=tuple(key))

    # -------------------------------------------------------------- quality gates

    def gates(self, assets: set[str], ids: set[str], models: dict[str, ModelAsset],
              wh: Target) -> tuple[GateCheck, ...]:
        ir = self.ir
        if not ir.plan.gates and any(e.checks for e in ir.expectations):
            self.problem(ir.pipeline.span, "expectations without gate decisions (ir.plan.gates is empty)",
                         "run the optimizer passes before this backend")
            return ()
        out: list[GateCheck] = []
        for gate in ir.plan.gates:
            target = gate.check.target
            if target not in assets:
                kind = ir.kind_of(target)
                if kind and f"{kind}:{target}" in ids and kind in ("source", "model"):
                    continue  # its asset was already reported
                if kind and f"{kind}:{target}" not in ids:
                    continue  # a streaming-side gate: the streaming backends run it
                self.problem(gate.check.span, f"a {gate.check.kind.value} check on '{target}'",
                             "checks run on batch sources and models")
                continue
            out.extend(self.gate_checks(gate, models.get(target), wh.dialect, assets))
        names: dict[tuple[str, str], int] = {}
        unique = []
        for g in sorted(out, key=lambda g: (g.asset, g.priority)):
            n = names.get((g.asset, g.name), 0) + 1
            names[(g.asset, g.name)] = n
            unique.append(g if n == 1 else GateCheck(**{**g.__dict__, "name": f"{g.name}_{n}"}))
        return tuple(sorted(unique, key=lambda g: (g.asset, g.priority, g.name)))

    def time_column(self, target: str, model: ModelAsset | None) -> str | None:
        """The column a daily row count is bucketed by."""
        source = self.ir.source(target)
        if source is not None:
            if source.event_time is not None:
                return source.event_time.name
            if source.capture and source.capture.column:
                return source.capture.column
            return next((c.name for c in source.columns if c.type.name in TIME_TYPES and c.not_null), None)
        if model is not None:
            if model.partition_column:
                return model.partition_column
            return next((c.name for c in model.columns if c.type in TIME_TYPES), None)
        return None

    def gate_checks(self, gate: GatePlan, model: ModelAsset | None, dialect: str, assets: set[str]) -> list[GateCheck]:
        c: Check = gate.check
        target = c.target
        window = model.partition_column if model else None
        scoped = sql.scoped(target, window, self.slots)

        def make(name: str, description: str, test: str, query: str = "", **kw) -> GateCheck:
            rendered = sql.check_query(query, dialect, self.refs) if query else ""
            return GateCheck(asset=target, name=name, description=description, test=test, severity=c.severity.value,
                             boundary=gate.boundary, origin=gate.origin, priority=gate.priority, sql=rendered, **kw)

        k = c.kind
        if k == CheckKind.unique:
            return [make("unique_" + "_".join(c.columns), f"{', '.join(c.columns)} is unique", "rows",
                         sql.failing_unique(target, c.columns))]
        if k == CheckKind.not_null:
            return [make(f"not_null_{col}", f"{col} is never null", "rows", sql.failing_not_null(scoped, col))
                    for col in c.columns]
        if k == CheckKind.range:
            low = "" if c.min is None else sql.number(c.min)
            high = "" if c.max is None else sql.number(c.max)
            return [make(f"range_{col}", f"{col} within {low} .. {high}".rstrip(), "rows",
                         sql.failing_range(scoped, col, c.min, c.max)) for col in c.columns]
        if k == CheckKind.accepted_values:
            listed = ", ".join(c.values)
            return [make(f"accepted_values_{col}", f"{col} in ({listed})", "rows",
                         sql.failing_accepted(scoped, col, c.values)) for col in c.columns]
        if k == CheckKind.regex:
            return [make(f"regex_{col}", f"{col} matches {c.pattern}", "rows",
                         sql.failing_regex(scoped, col, c.pattern or "")) for col in c.columns]
        if k == CheckKind.relationships:
            ref = c.reference
            if ref is None or ref.node not in assets:
                self.problem(c.span, f"a relationships check to '{ref.node if ref else '?'}'",
                             "the referenced node must be a batch source or model of this pipeline")
                return []
            child = sql.scoped(target, window, self.slots, "child")
            return [make(f"relationships_{col}", f"every {col} exists in {ref.node}.{ref.column}", "rows",
                         sql.failing_relationship(child, col, ref.node, ref.column), deps=(ref.node,))
                    for col in c.columns]
        if k == CheckKind.custom_sql:
            if c.sql is None:
                return []
            first = " ".join(c.sql.text.split())
            return [make(c.name or "custom_sql", f"no rows from: {first}", "rows", sql.failing_custom(c.sql.text))]
        if k == CheckKind.freshness:
            col = c.columns[0] if c.columns else self.time_column(target, model)
            if col is None or c.max_age is None:
                self.problem(c.span, f"freshness of '{target}' without a time column",
                             "write `freshness <age> by <column>`")
                return []
            return [make(f"freshness_{col}", f"newest {col} is at most {c.max_age.text} old", "freshness",
                         sql.latest(target, col), max_age_seconds=c.max_age.seconds)]
        if k == CheckKind.row_count:
            op = COMPARISONS.get(c.comparison or ">=")
            if op is None or c.threshold is None:
                self.problem(c.span, f"row count comparison '{c.comparison}'", "use >, >=, <, <=, = or !=")
                return []
            return [make("row_count", f"row count {c.comparison} {sql.number(c.threshold)}", "row_count",
                         sql.row_count(scoped), comparison=op, threshold=c.threshold)]
        if k == CheckKind.volume_anomaly:
            op = COMPARISONS.get(c.comparison or ">=")
            col = self.time_column(target, model)
            if c.baseline != "avg_7d" or op is None or c.threshold is None or col is None:
                self.problem(c.span,
                             f"volume anomaly check '{c.comparison} {c.threshold} * {c.baseline}' on '{target}'",
                             "use `row_count >= <factor> * avg_7d` on a node with a date or timestamp column")
                return []
            return [make("volume_anomaly", f"rows of the last complete day {c.comparison} {sql.number(c.threshold)} x"
                         f" the average of the 7 days before (by {col})", "volume", sql.daily_volume(target, col),
                         comparison=op, threshold=c.threshold)]
        if k == CheckKind.reconcile:
            return self.reconcile(c, model, make, assets)
        if k == CheckKind.schema:
            expected = self.contract_columns(target, model)
            return [make("schema_contract", "columns match the contract (no missing or unexpected column)", "schema",
                         relation=self.refs(target) or target, expected_columns=expected)]
        self.problem(c.span, f"a {k.value} check", "use one of the documented check kinds")
        return []

    def contract_columns(self, target: str, model: ModelAsset | None) -> tuple[str, ...]:
        if model is not None:
            return tuple(c.name for c in model.columns)
        source = self.ir.source(target)
        capture = next((p for p in self.ir.plan.captures if p.source == target), None)
        excluded = set(capture.excluded_columns) if capture else set()
        return tuple(c.name for c in source.columns if c.name not in excluded) if source else ()

    def reconcile(self, c: Check, model: ModelAsset | None, make, assets: set[str]) -> list[GateCheck]:
        target, against = c.target, c.against
        if against is None or against not in assets:
            self.problem(c.span, f"reconciling '{target}' with '{against}'",
                         "the other node must be a batch source or model of this pipeline")
            return []
        measure = (c.measure or "count").strip()
        if measure.lower() in ("count", "count(*)"):
            target_measure = against_measure = "COUNT(*)"
            slug = "count"
        else:
            found = re.fullmatch(r"(\w+)\s*\(\s*(\w+)\s*\)", measure)
            if not found:
                self.problem(c.span, f"reconcile measure '{measure}'", "use count or sum(<column>)")
                return []
            fn, col = found.group(1).upper(), found.group(2)
            other = trace(self.ir, target, col, against) or col
            target_measure, against_measure = f"{fn}({col})", f"{fn}({other})"
            slug = f"{fn.lower()}_{col}"
        target_rel, against_rel = target, against
        scope = ""
        if model is not None and model.partition_column:
            other = trace(self.ir, target, model.partition_column, against)
            if other is not None:
                target_rel = sql.scoped(target, model.partition_column, self.slots)
                against_rel = sql.scoped(against, other, self.slots)
                scope = " (the run's partition)"
        tolerance = c.tolerance.value if c.tolerance else 0.0
        text = c.tolerance.text if c.tolerance else "0%"
        return [make(f"reconcile_{slug}_{against}", f"{measure} within {text} of {against}{scope}", "reconcile",
                     sql.measures(target_rel, target_measure, against_rel, against_measure), deps=(against,),
                     tolerance_pct=tolerance)]


@once_per_ir
def build_project(ir: Spec, swap_warehouse: bool, local_storage: bool, partition_start: date) -> Project:
    return Builder(ir, swap_warehouse, local_storage, partition_start).build()
