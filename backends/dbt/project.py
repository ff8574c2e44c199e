"""The typed dbt project read off the IR: scope, warehouse, sources, models with their plan decisions, checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from streamc.derive_once import once_per_ir
from streamc.ir import (
    Check,
    CheckKind,
    Column,
    ColumnType,
    Connection,
    Engine,
    History,
    Model,
    Partition,
    PiiStrategy,
    Severity,
    Source,
    Spec,
)
from streamc.sql_analysis import READ_DIALECT

from .jinja_text import Template
from .warehouse import WAREHOUSES, Warehouse
from streamc.backend_api import Unsupported as Problem

# plan layer -> models/ folder
LAYER_FOLDERS = {
    "staging": "staging",
    "intermediate": "intermediate",
    "mart": "marts",
    "bronze": "bronze",
    "silver": "silver",
    "gold": "gold",
}
UNPLANNED = "unplanned"  # folder of models the passes have not placed yet (a visible gap, never a guess)
PARTITION_OVERWRITE = {"insert_overwrite", "overwrite_partition"}




@dataclass(frozen=True)
class PiiRule:
    column: str
    strategy: PiiStrategy
    reason: str | None = None


@dataclass(frozen=True)
class DbtSource:
    source: Source
    group: str  # dbt source name: the connection the raw table came from
    columns: tuple[Column, ...]  # the raw table's columns (minus those never captured)
    excluded: tuple[str, ...] = ()  # pii(drop) columns never captured (CapturePlan.excluded_columns)


@dataclass(frozen=True)
class Incremental:
    input: str  # the input node the filter applies to
    input_column: str  # its column
    column: str  # the model's own column compared with max() of the existing table


@dataclass(frozen=True)
class DbtModel:
    model: Model
    folder: str
    materialization: str  # view | table | incremental | ephemeral | snapshot
    unique_key: tuple[str, ...] = ()
    incremental_strategy: str | None = None
    incremental: Incremental | None = None
    partition: Partition | None = None
    planned: bool = True
    pii: dict[str, tuple[PiiRule, ...]] = field(default_factory=dict)  # source name -> rules applied here
    history: History | None = None

    @property
    def name(self) -> str:
        return self.model.name

    # a history (SCD2) model is three dbt resources: the current state, its snapshot, the dimension view
    @property
    def current_name(self) -> str:
        return f"{self.name}_current"

    @property
    def snapshot_name(self) -> str:
        return f"{self.name}_history"


@dataclass
class Project:
    ir: Spec
    warehouse: Warehouse
    sources: dict[str, DbtSource]
    models: dict[str, DbtModel]
    checks: list[Check]
    problems: list[Problem]

    @property
    def name(self) -> str:
        return self.ir.pipeline.name

    def relation(self, name: str) -> str | None:
        """The dbt jinja that names node `name` (None when dbt does not own it)."""
        if name in self.models:
            return "{{ ref('" + name + "') }}"
        if name in self.sources:
            return "{{ source('" + self.sources[name].group + "', '" + name + "') }}"
        return None

    def relation_arg(self, name: str) -> str | None:
        """`ref('x')` / `source('g', 'x')` as a generic test argument."""
        if name in self.models:
            return Template(f"ref('{name}')")
        if name in self.sources:
            return Template(f"source('{self.sources[name].group}', '{name}')")
        return None

    def column_type(self, node: str, column: str) -> ColumnType | None:
        src = self.ir.source(node)
        if src is not None:
            col = src.column(column)
            return col.type if col else None
        origin = self.trace(node, column)
        return self.column_type(*origin) if origin and origin[0] != node else None

    def trace(self, node: str, column: str) -> tuple[str, str] | None:
        """Follow pure pass-through columns (`x`, `t.x`, `x AS y`) back to the source column they copy."""
        seen = 0
        while seen < 64:
            seen += 1
            m = self.ir.model(node)
            if m is None:
                return (node, column) if self.ir.source(node) else None
            lin = next((c for c in m.columns if c.name == column), None)
            if lin is None or len(lin.inputs) != 1 or not is_passthrough(lin.expression):
                return None
            node, column = lin.inputs[0].node, lin.inputs[0].column
        return None


def is_passthrough(expression: str) -> bool:
    try:
        tree = sqlglot.parse_one(expression, read=READ_DIALECT)
    except sqlglot.errors.ParseError:
        return False
    if isinstance(tree, exp.Alias):
        tree = tree.this
    return isinstance(tree, exp.Column)


def _strip(node_id: str) -> str:
    return node_id.split(":", 1)[1] if ":" in node_id else node_id


# ---------------------------------------------------------------------- scope


def batch_models(ir: Spec) -> list[Model]:
    """Models dbt builds: those the mode plan puts on the warehouse (plus what they read); all when unplanned."""
    mode = ir.plan.mode
    if mode is None:
        return list(ir.models)
    chosen = {_strip(n) for n in mode.batch_nodes}
    chosen |= {_strip(n) for n, e in mode.engines.items() if e == Engine.warehouse_sql}
    chosen &= {m.name for m in ir.models}
    stack = list(chosen)
    while stack:
        m = ir.model(stack.pop())
        for dep in m.depends_on if m else ():
            if ir.model(dep) is not None and dep not in chosen:
                chosen.add(dep)
                stack.append(dep)
    return [m for m in ir.models if m.name in chosen]


def batch_sources(ir: Spec, models: list[Model]) -> list[Source]:
    names = {d for m in models for d in m.depends_on if ir.source(d) is not None}
    for sink in ir.sinks:
        conn = ir.connection(sink.connection)
        if conn is not None and conn.is_warehouse:
            names |= set(sink.sources)
    return [s for s in ir.sources if s.name in names]


def has_batch_side(ir: Spec) -> bool:
    models = batch_models(ir)
    return bool(models) or bool(batch_sources(ir, models))


# ---------------------------------------------------------------------- building


def warehouse_of(ir: Spec, scope: set[str], local: bool) -> tuple[Warehouse | None, list[Problem]]:
    conns: dict[str, Connection] = {}
    for sink in ir.sinks:
        conn = ir.connection(sink.connection)
        if conn is not None and conn.is_warehouse and scope & set(sink.inputs):
            conns[conn.name] = conn
    if not conns:
        candidates = [c for c in ir.connections if c.is_warehouse]
        if len(candidates) == 1:
            conns[candidates[0].name] = candidates[0]
    if len(conns) != 1:
        what = (
            "models without a warehouse sink"
            if not conns
            else f"one project writing to several warehouses ({', '.join(sorted(conns))})"
        )
        return None, [Problem(ir.pipeline.span, what, "sink the batch models into exactly one warehouse connection")]
    conn = next(iter(conns.values()))
    kind = conn.kind.value
    if kind not in WAREHOUSES:
        return None, [
            Problem(
                conn.span,
                f"a {kind} warehouse",
                f"dbt targets here are {', '.join(WAREHOUSES)}; use target_warehouse=duckdb to try "
                "the project locally",
            )
        ]
    return Warehouse("duckdb" if local else kind, conn, local=local and kind != "duckdb"), []


def pii_rules(
    ir: Spec, models: list[Model], sources: list[Source]
) -> tuple[dict[tuple[str, str], list[PiiRule]], dict[str, tuple[str, ...]]]:
    """(model, source) -> rules to apply in that model; source -> columns excluded at capture.

    Read from ir.plan.pii. Where the plan has no entry yet for a PII column, its spec strategy is applied
    in every model that reads the source directly (PII is never passed through unhandled).
    """
    applied: dict[tuple[str, str], list[PiiRule]] = {}
    excluded: dict[str, list[str]] = {}
    planned = {(p.source, p.column) for p in ir.plan.pii}
    readers = {s.name: [m.name for m in models if s.name in m.depends_on] for s in sources}
    for p in ir.plan.pii:
        if p.source not in readers:
            continue
        if p.applied_in == "capture":
            if p.strategy == PiiStrategy.drop:
                excluded.setdefault(p.source, []).append(p.column)
            continue
        applied.setdefault((p.applied_in, p.source), []).append(PiiRule(p.column, p.strategy, p.reason))
    for s in sources:
        for c in s.columns:
            if c.pii is None or (s.name, c.name) in planned:
                continue
            for model in readers[s.name]:
                applied.setdefault((model, s.name), []).append(PiiRule(c.name, c.pii.strategy, c.pii.reason))
    for cap in ir.plan.captures:
        if cap.source in readers and cap.excluded_columns:
            excluded.setdefault(cap.source, []).extend(cap.excluded_columns)
    return applied, {k: tuple(sorted(set(v))) for k, v in excluded.items()}


def incremental_of(project: Project, m: Model, by_partition: Partition | None) -> Incremental | None:
    """The column `is_incremental()` filters on: the partition column when whole partitions are replaced,
    else the column copied from the source's incremental/CDC column (updated_at), else its event time."""
    ir = project.ir
    decided = next((p.incremental_column for p in ir.plan.models if p.model == m.name and p.incremental_column), None)
    if decided is not None:
        lin = next((c for c in m.columns if c.name == decided), None)
        if lin is not None and len(lin.inputs) == 1:
            return Incremental(input=lin.inputs[0].node, input_column=lin.inputs[0].column, column=decided)
    wanted = [by_partition.column] if by_partition else []
    candidates: list[tuple[int, str]] = []
    for lin in m.columns:
        if len(lin.inputs) != 1 or not is_passthrough(lin.expression):
            continue
        if lin.name in wanted:
            candidates.append((0, lin.name))
            continue
        origin = project.trace(m.name, lin.name)
        if origin is None or wanted:
            continue
        src = ir.source(origin[0])
        cap = next((c for c in ir.plan.captures if c.source == origin[0]), None)
        inc_col = (cap.incremental_column if cap else None) or (src.capture.column if src and src.capture else None)
        col = src.column(origin[1]) if src else None
        if inc_col == origin[1]:
            candidates.append((1, lin.name))
        elif col is not None and col.event_time:
            candidates.append((2, lin.name))
    if not candidates:
        return None
    chosen = min(candidates)[1]
    lin = next(c for c in m.columns if c.name == chosen)
    return Incremental(input=lin.inputs[0].node, input_column=lin.inputs[0].column, column=chosen)


def gather_checks(ir: Spec, scope: set[str]) -> list[Check]:
    """The quality gates on dbt-owned nodes: the plan's gates, else the spec's expectations."""
    checks = (
        [g.check for g in sorted(ir.plan.gates, key=lambda g: g.priority)]
        if ir.plan.gates
        else [c for e in ir.expectations for c in e.checks]
    )
    seen: set[str] = set()
    out = []
    for c in checks:
        if c.target not in scope:
            continue
        key = c.model_dump_json(exclude={"span", "sql"}) + (c.sql.text if c.sql else "")
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


@once_per_ir
def build_project(ir: Spec, local: bool = False) -> Project | None:
    """None when the spec has no batch side (nothing for dbt to do)."""
    if not has_batch_side(ir):
        return None
    models = batch_models(ir)
    sources = batch_sources(ir, models)
    scope = {m.name for m in models} | {s.name for s in sources}
    warehouse, problems = warehouse_of(ir, scope, local)
    if warehouse is None:
        warehouse = Warehouse(
            "duckdb",
            ir.connections[0] if ir.connections else Connection(span=ir.pipeline.span, name="warehouse", kind="duckdb"),
        )
    applied, excluded = pii_rules(ir, models, sources)
    dbt_sources = {
        s.name: DbtSource(
            s,
            s.connection,
            tuple(c for c in s.columns if c.name not in excluded.get(s.name, ())),
            excluded.get(s.name, ()),
        )
        for s in sources
    }
    project = Project(ir, warehouse, dbt_sources, {}, gather_checks(ir, scope), problems)
    plans = {p.model: p for p in ir.plan.models}
    sink_partition = {
        name: (sp.partition or (ir.sink(sp.sink).partition if ir.sink(sp.sink) else None))
        for sp in ir.plan.sinks
        for name in (ir.sink(sp.sink).models if ir.sink(sp.sink) else ())
    }
    for sink in ir.sinks:
        for name in sink.models:
            sink_partition.setdefault(name, sink.partition)
    for m in models:
        plan = plans.get(m.name)
        partition = m.partition or sink_partition.get(m.name)
        if plan is not None:
            folder = LAYER_FOLDERS[plan.layer]
            materialization = plan.materialization
            unique_key, strategy = plan.unique_key, plan.incremental_strategy
        else:  # GAP: no ModelPlan from the passes yet; only what the spec itself pins is used
            folder = LAYER_FOLDERS.get(m.layer or "", UNPLANNED)
            materialization = m.materialized or ("snapshot" if m.history else "view")
            unique_key, strategy = m.grain, None
        history = m.history if materialization == "snapshot" or m.history else None
        if history is not None:
            materialization = "snapshot"
        if strategy in PARTITION_OVERWRITE and warehouse.partition_overwrite_strategy() != "insert_overwrite":
            strategy = "delete+insert"  # replaces the partitions a run touches: delete by partition key, insert
            unique_key = (partition.column,) if partition else unique_key
        elif strategy in PARTITION_OVERWRITE:
            strategy = "insert_overwrite"
        dm = DbtModel(
            m,
            folder,
            materialization,
            tuple(unique_key),
            strategy,
            None,
            partition,
            plan is not None,
            {src: tuple(rules) for (model, src), rules in sorted(applied.items()) if model == m.name},
            history,
        )
        if materialization == "incremental":
            by_partition = (
                partition
                if strategy == "insert_overwrite"
                or (strategy == "delete+insert" and partition is not None and unique_key == (partition.column,))
                else None
            )
            dm = DbtModel(**{**dm.__dict__, "incremental": incremental_of(project, m, by_partition)})
        project.models[m.name] = dm
    problems += model_problems(project)
    return project


def model_problems(project: Project) -> list[Problem]:
    out = []
    for dm in project.models.values():
        m = dm.model
        for src, rules in dm.pii.items():
            used = used_columns(m, src, project.ir.source(src))
            for r in rules:
                if r.column not in used:
                    continue
                if r.strategy == PiiStrategy.drop:
                    out.append(
                        Problem(
                            m.sql.span,
                            f"model '{m.name}' reading PII column {src}.{r.column}, " "which is pii(drop)",
                            "remove the column from the model",
                        )
                    )
                if r.strategy == PiiStrategy.encrypt and project.warehouse.encrypt_sql(r.column) is None:
                    out.append(
                        Problem(
                            m.sql.span,
                            f"encrypting {src}.{r.column} in a {project.warehouse.kind} "
                            "warehouse (it has no symmetric encryption function)",
                            "encrypt at capture, or choose hash/mask for this column",
                        )
                    )
        if dm.materialization == "incremental" and dm.incremental is None:
            out.append(
                Problem(
                    m.span,
                    f"an incremental model '{m.name}' without a column to filter new rows on",
                    "copy the source's incremental (updated_at) or event-time column into the model",
                )
            )
    for c in project.checks:
        if c.kind == CheckKind.freshness and c.target in project.sources and not c.columns:
            out.append(Problem(c.span, "source freshness without a timestamp column", "write `freshness 1h by col`"))
    return out


def used_columns(m: Model, source_name: str, source: Source | None) -> set[str]:
    """Columns of `source_name` that model `m` reads (every column when it selects `*`)."""
    if source is None:
        return set()
    tree = sqlglot.parse_one(m.sql.text, read=READ_DIALECT)
    names = {c.name for c in source.columns}
    for select in tree.find_all(exp.Select):
        if any(
            isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
            for p in select.expressions
        ):
            return names
    return {c.name for c in tree.find_all(exp.Column)} & names


def severity_config(check: Check) -> dict[str, object]:
    return {"config": {"severity": "warn"}} if check.severity == Severity.warn else {}
