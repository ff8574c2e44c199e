"""Where each quality gate runs: the table it reads (raw copy, source table or warehouse model), its columns and SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from streamc.ir import CapturePlan, Check, ColumnType, Connection, ConnectionKind, Engine, GatePlan, Spec
from streamc.sql_analysis import READ_DIALECT
from streamc.sql_render import DIALECTS, render_sql

# sqlglot dialect of the SQL a gate's query is written in, per connection kind
DIALECT_OF = {
    ConnectionKind.postgres: "postgres",
    ConnectionKind.mysql: "mysql",
    ConnectionKind.sqlserver: "tsql",
    ConnectionKind.snowflake: "snowflake",
    ConnectionKind.bigquery: "bigquery",
    ConnectionKind.duckdb: "duckdb",
}


def env_name(*parts: str) -> str:
    """`shop_db`, `raw_schema` -> `SHOP_DB_RAW_SCHEMA`: the same names the dbt project and the DAG read."""
    return "_".join(p.upper().replace("-", "_").replace(".", "_") for p in parts if p)


@dataclass(frozen=True)
class Variable:
    """A value a quality run is given (per environment or per run); `default` only when the spec fixes it."""

    name: str
    what: str
    default: str | None = None
    per_env: tuple[tuple[str, str], ...] = ()  # (environment, value) the spec gives


@dataclass(frozen=True)
class Dataset:
    node: str  # the spec node the gates are on
    kind: str  # source | model
    where: str  # human wording: "raw copy of source orders in warehouse (snowflake)"
    connection: Connection  # the connection the table is read through
    dialect: str
    namespace: tuple[str, ...]  # Soda's qualified-name parts between the data source and the table
    table: str
    columns: tuple[tuple[str, ColumnType | None], ...]
    gates: tuple[GatePlan, ...]
    variables: tuple[Variable, ...] = ()

    @property
    def relation(self) -> str:
        """`schema.table` with `${var.X}` placeholders (the form Soda substitutes)."""
        return ".".join((self.namespace[-1], self.table)) if self.namespace else self.table


@dataclass(frozen=True)
class Skipped:
    """A gate no table-level tool can run here, and why (listed in the README, never dropped silently)."""

    gate: GatePlan
    reason: str


@dataclass
class Layout:
    datasets: list[Dataset] = field(default_factory=list)  # the tables with gates, in spec order
    skipped: list[Skipped] = field(default_factory=list)
    places: dict[str, Dataset] = field(default_factory=dict)  # every source / model with a table, gated or not

    def dataset(self, node: str) -> Dataset | None:
        return next((d for d in self.datasets if d.node == node), None)


def warehouse_of(ir: Spec) -> Connection | None:
    found = [c for c in ir.connections if c.is_warehouse]
    return found[0] if len(found) == 1 else None


def _setting_values(ir: Spec, conn: Connection, key: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """(the one value every environment shares, or None; the value per environment the spec gives)."""
    base = conn.setting(key)
    per_env = []
    for e in ir.environments:
        value = next((o.value for o in e.overrides if o.target == conn.name and o.key == key), None) or base
        if value is not None and value.kind != "secret":
            per_env.append((e.name, value.text))
    values = {v for _, v in per_env}
    if base is not None and base.kind != "secret" and (not per_env or values == {base.text}):
        return base.text, tuple(per_env)
    return None, tuple(per_env)


def _var(ir: Spec, conn: Connection, key: str, what: str, fallback: str | None = None) -> Variable:
    shared, per_env = _setting_values(ir, conn, key)
    return Variable(env_name(conn.name, key), what, shared if shared is not None else fallback, per_env)


def _warehouse_namespace(ir: Spec, conn: Connection, schema_var: Variable) -> tuple[tuple[str, ...], list[Variable]]:
    """Soda's qualified name parts for a table in `conn`: duckdb schema/table; others database/schema/table."""
    kind = conn.kind
    if kind == ConnectionKind.duckdb:
        return (f"${{var.{schema_var.name}}}",), [schema_var]
    key, what = ("project", "the BigQuery project") if kind == ConnectionKind.bigquery else ("database", "the database")
    db = _var(ir, conn, key, f"{what} of connection {conn.name}")
    return (f"${{var.{db.name}}}", f"${{var.{schema_var.name}}}"), [db, schema_var]


def _schema_var(ir: Spec, conn: Connection) -> Variable:
    key = "dataset" if conn.kind == ConnectionKind.bigquery else "schema"
    return _var(ir, conn, key, f"the {key} the models are built in (connection {conn.name})",
                fallback="main" if conn.kind == ConnectionKind.duckdb else None)


def _trace_type(ir: Spec, node: str, column: str) -> ColumnType | None:
    """The declared type of a model column that copies a source column (`x`, `t.x`, `x AS y`), else None."""
    for _ in range(64):
        src = ir.source(node)
        if src is not None:
            col = src.column(column)
            return col.type if col else None
        m = ir.model(node)
        if m is None:
            return None
        lin = next((c for c in m.columns if c.name == column), None)
        if lin is None or len(lin.inputs) != 1:
            return None
        try:
            tree = sqlglot.parse_one(lin.expression, read=READ_DIALECT)
        except sqlglot.errors.ParseError:
            return None
        if isinstance(tree, exp.Alias):
            tree = tree.this
        if not isinstance(tree, exp.Column):
            return None
        node, column = lin.inputs[0].node, lin.inputs[0].column
    return None


def type_sql(t: ColumnType | None, dialect: str) -> str | None:
    """A spec column type in the table's SQL dialect (`numeric(10, 2)` -> `DECIMAL(10, 2)` in DuckDB)."""
    if t is None:
        return None
    try:
        cast = sqlglot.parse_one(f"CAST(x AS {t.sql()})", read=READ_DIALECT)
        return cast.args["to"].sql(dialect=DIALECTS.get(dialect, dialect))
    except (sqlglot.errors.ParseError, KeyError):
        return None


def layout(ir: Spec) -> Layout:
    """Place every planned gate on a dataset, or record why no table-level tool can run it."""
    plan = ir.plan
    captures: dict[str, CapturePlan] = {c.source: c for c in plan.captures}
    engines = plan.mode.engines if plan.mode else {}
    wh = warehouse_of(ir)
    by_node: dict[str, list[GatePlan]] = {}
    for g in plan.gates:
        by_node.setdefault(g.check.target, []).append(g)
    out = Layout()
    reasons: dict[str, str] = {}
    for s in ir.sources:
        ds, reasons[s.name] = _source_dataset(ir, s.name, tuple(by_node.get(s.name, ())), captures.get(s.name), wh)
        if ds is not None:
            out.places[s.name] = ds
    for m in ir.models:
        if engines.get(f"model:{m.name}") not in (Engine.warehouse_sql, None) or wh is None:
            reasons[m.name] = f"model {m.name} is computed in the stream processor, not in a warehouse table"
        else:
            out.places[m.name] = _model_dataset(ir, m.name, tuple(by_node.get(m.name, ())), wh)
    for node in sorted(by_node, key=lambda n: _order(ir, n)):
        if node in out.places:
            out.datasets.append(out.places[node])
            continue
        kind = ir.kind_of(node)
        reason = reasons.get(node) or (
            f"{kind or 'node'} {node} is computed on the stream (its results are Kafka records"
            f"{' and cache entries' if kind == 'metric' else ''}), not a table these tools can query")
        out.skipped += [Skipped(g, reason) for g in by_node[node]]
    return out


def _order(ir: Spec, node: str) -> tuple[int, int]:
    names = {"source": [s.name for s in ir.sources], "model": [m.name for m in ir.models],
             "metric": [m.name for m in ir.metrics], "sink": [s.name for s in ir.sinks]}
    kind = ir.kind_of(node) or "sink"
    order = ("source", "model", "metric", "sink").index(kind)
    return order, names[kind].index(node) if node in names[kind] else 0


def _source_dataset(ir: Spec, node: str, gates: tuple[GatePlan, ...], cap: CapturePlan | None,
                    wh: Connection | None) -> tuple[Dataset | None, str]:
    src = ir.source(node)
    conn = ir.connection(src.connection) if src else None
    if src is None or conn is None:
        return None, f"source {node} has no connection"
    if cap is not None and cap.raw_load is not None and wh is not None:
        names = cap.captured_columns or tuple(c.name for c in src.columns)
        dialect = DIALECT_OF.get(wh.kind, "postgres")
        raw = Variable(env_name(src.connection, "raw_schema"),
                       f"the schema of the raw tables loaded from connection {src.connection}",
                       default=f"raw_{src.connection}")
        ns, variables = _warehouse_namespace(ir, wh, raw)
        cols = tuple((n, src.column(n).type if src.column(n) else None) for n in names)
        return Dataset(node, "source", f"raw copy of source {node} in {wh.name} ({wh.kind.value})", wh, dialect,
                       ns, node, cols, gates, tuple(variables)), ""
    if conn.kind in DIALECT_OF and src.location is not None and src.location.kind == "table":
        schema, _, table = src.location.value.rpartition(".")
        db = _var(ir, conn, "database", f"the database of connection {conn.name}")
        ns = (f"${{var.{db.name}}}", schema or "public")
        cols = tuple((c.name, c.type) for c in src.columns)
        return Dataset(node, "source", f"source table {src.location.value} in {conn.name} ({conn.kind.value})", conn,
                       DIALECT_OF[conn.kind], ns, table, cols, gates, (db,)), ""
    what = src.location.kind if src.location else conn.kind.value
    return None, f"source {node} ({what} on {conn.kind.value}) has no raw copy in a warehouse to check"


def _model_dataset(ir: Spec, node: str, gates: tuple[GatePlan, ...], wh: Connection) -> Dataset:
    m = ir.model(node)
    ns, variables = _warehouse_namespace(ir, wh, _schema_var(ir, wh))
    cols = tuple((c.name, _trace_type(ir, node, c.name)) for c in m.columns)
    return Dataset(node, "model", f"model {node} in {wh.name} ({wh.kind.value})", wh, DIALECT_OF.get(wh.kind, "postgres"),
                   ns, node, cols, gates, tuple(variables))


def relation_of(lay: Layout, node: str) -> str | None:
    ds = lay.places.get(node)
    return ds.relation if ds else None


def render_query(ir: Spec, lay: Layout, ds: Dataset, text: str, self_ref: str | None = None) -> str | None:
    """Spec SQL in the dataset's dialect, nodes replaced by their relations (`self_ref` for the dataset itself);
    None when it reads a node that has no table here."""
    missing: list[str] = []

    def ref(name: str) -> str | None:
        if name == ds.node:
            return self_ref or ds.relation
        if ir.kind_of(name) is None:
            return None  # a table the spec does not define: left as written
        rel = relation_of(lay, name)
        if rel is None:
            missing.append(name)
        return rel

    out = render_sql(text.strip(), ds.dialect, ref, pretty=False)
    return None if missing else out


def nodes_read(ir: Spec, sql: str) -> list[str]:
    """The spec nodes a query reads, sorted."""
    tree = sqlglot.parse_one(sql, read=READ_DIALECT)
    return sorted({t.name for t in tree.find_all(exp.Table) if ir.kind_of(t.name) is not None})


def check_label(c: Check) -> str:
    """`unique(order_id)`, `range(total_amount 0..10000000)`: short, for names and tables."""
    cols = ", ".join(c.columns)
    match c.kind.value:
        case "range":
            lo = "" if c.min is None else _num(c.min)
            hi = "" if c.max is None else _num(c.max)
            return f"range({cols} {lo}..{hi})"
        case "accepted_values":
            return f"accepted_values({cols} in {', '.join(c.values)})"
        case "regex":
            return f"regex({cols} ~ {c.pattern})"
        case "relationships":
            ref = f"{c.reference.node}.{c.reference.column}" if c.reference else "?"
            return f"relationships({cols} -> {ref})"
        case "freshness":
            return f"freshness({cols or 'loaded'} within {c.max_age.text if c.max_age else '?'})"
        case "row_count":
            return f"row_count {c.comparison} {_num(c.threshold)}"
        case "volume_anomaly":
            return f"row_count {c.comparison} {_num(c.threshold)} x {c.baseline}"
        case "reconcile":
            return f"reconcile({c.measure} with {c.against} within {c.tolerance.text if c.tolerance else '0%'})"
        case "custom_sql":
            return f"custom_sql({c.name})"
        case "schema":
            return "schema(columns match the contract)"
        case kind:
            return f"{kind}({cols})"


def _num(v: float | None) -> str:
    if v is None:
        return "?"
    return str(int(v)) if float(v).is_integer() else repr(v)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
