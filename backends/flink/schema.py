"""Flink column types of every spec node: source contracts, model SQL (inferred) and metric outputs."""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from streamc.ir import ColumnType, Metric, Model, Spec
from streamc.sql_analysis import READ_DIALECT, query_shape

MAX_DECIMAL = 38


@dataclass(frozen=True)
class FType:
    """A Flink SQL type; `family` drives the arithmetic and aggregate rules below (Flink's, not Postgres')."""

    family: str  # tinyint smallint int bigint decimal float double string boolean date time timestamp ltz bytes
    precision: int = 0
    scale: int = 0
    length: int = 0  # varchar / char

    @property
    def sql(self) -> str:
        f = self.family
        if f == "decimal":
            return f"DECIMAL({self.precision}, {self.scale})"
        if f == "timestamp":
            return f"TIMESTAMP({self.precision})"
        if f == "ltz":
            return f"TIMESTAMP_LTZ({self.precision})"
        if f == "time":
            return f"TIME({self.precision})"
        if f in ("varchar", "char"):
            return f"{f.upper()}({self.length})"
        return {"int": "INT"}.get(f, f.upper())

    @property
    def integral(self) -> bool:
        return self.family in INTEGRAL


INTEGRAL = {"tinyint": 3, "smallint": 5, "int": 10, "bigint": 19}  # as DECIMAL(p, 0) in decimal arithmetic
BIGINT = FType("bigint")
STRING = FType("string")
BOOLEAN = FType("boolean")
WINDOW_BOUND = FType("timestamp", 3)


def decimal(precision: int, scale: int) -> FType:
    """Flink's LogicalTypeMerging.adjustPrecisionScale: keep integral digits, give up scale down to 6."""
    if precision <= MAX_DECIMAL:
        return FType("decimal", precision, scale)
    integral_digits = precision - scale
    min_scale = min(scale, 6)
    return FType("decimal", MAX_DECIMAL, max(MAX_DECIMAL - integral_digits, min_scale))


def from_column_type(t: ColumnType) -> FType:
    """The Flink type declared for a spec column."""
    name, params = t.name, t.params
    if name == "numeric":
        if len(params) == 2:
            return FType("decimal", params[0], params[1])
        if len(params) == 1:
            return FType("decimal", params[0], 0)
        return FType("decimal", MAX_DECIMAL, 18)
    if name == "varchar" and params:
        return FType("varchar", length=params[0])
    if name == "char" and params:
        return FType("char", length=params[0])
    simple = {"bigint": "bigint", "integer": "int", "smallint": "smallint", "double": "double", "real": "float",
              "boolean": "boolean", "date": "date", "bytes": "bytes"}
    if name in simple:
        return FType(simple[name])
    if name == "timestamp":
        return FType("timestamp", 3)  # millisecond precision: what event-time attributes need
    if name == "timestamptz":
        return FType("ltz", 3)
    if name == "time":
        return FType("time", 0)
    return STRING  # text, varchar, char, enum, uuid, json


_SQLGLOT_TYPES = {
    exp.DataType.Type.TINYINT: FType("tinyint"), exp.DataType.Type.SMALLINT: FType("smallint"),
    exp.DataType.Type.INT: FType("int"), exp.DataType.Type.BIGINT: BIGINT,
    exp.DataType.Type.FLOAT: FType("float"), exp.DataType.Type.DOUBLE: FType("double"),
    exp.DataType.Type.BOOLEAN: BOOLEAN, exp.DataType.Type.DATE: FType("date"),
    exp.DataType.Type.TEXT: STRING, exp.DataType.Type.VARCHAR: STRING, exp.DataType.Type.CHAR: STRING,
    exp.DataType.Type.NVARCHAR: STRING, exp.DataType.Type.UUID: STRING, exp.DataType.Type.JSON: STRING,
    exp.DataType.Type.JSONB: STRING, exp.DataType.Type.TIMESTAMP: FType("timestamp", 3),
    exp.DataType.Type.TIMESTAMPTZ: FType("ltz", 3), exp.DataType.Type.VARBINARY: FType("bytes"),
}


def from_sqlglot_type(dt: exp.DataType) -> FType | None:
    if dt.this == exp.DataType.Type.DECIMAL:
        params = [int(p.this.name) for p in dt.expressions if isinstance(p, exp.DataTypeParam)]
        if len(params) == 2:
            return FType("decimal", params[0], params[1])
        if len(params) == 1:
            return FType("decimal", params[0], 0)
        return FType("decimal", 10, 0)  # Flink's DECIMAL default
    if dt.this == exp.DataType.Type.VARCHAR and dt.expressions:
        return STRING
    return _SQLGLOT_TYPES.get(dt.this)


def _as_decimal(t: FType) -> FType | None:
    if t.family == "decimal":
        return t
    if t.integral:
        return FType("decimal", INTEGRAL[t.family], 0)
    return None


def arithmetic(op: str, a: FType | None, b: FType | None) -> FType | None:
    """Result type of a op b under Flink's rules (LogicalTypeMerging)."""
    if a is None or b is None:
        return None
    if a.family in ("double", "float") or b.family in ("double", "float"):
        return FType("double")
    if a.integral and b.integral:
        if op == "/":
            return a if INTEGRAL[a.family] >= INTEGRAL[b.family] else b
        return a if INTEGRAL[a.family] >= INTEGRAL[b.family] else b
    da, db = _as_decimal(a), _as_decimal(b)
    if da is None or db is None:
        return None
    p1, s1, p2, s2 = da.precision, da.scale, db.precision, db.scale
    if op in ("+", "-"):
        scale = max(s1, s2)
        return decimal(max(p1 - s1, p2 - s2) + scale + 1, scale)
    if op == "*":
        return decimal(p1 + p2 + 1, s1 + s2)
    if op == "/":
        scale = max(6, s1 + p2 + 1)
        return decimal(p1 - s1 + s2 + scale, scale)
    if op == "%":
        scale = max(s1, s2)
        return decimal(min(p1 - s1, p2 - s2) + scale, scale)
    return None


def aggregate(function: str, arg: FType | None) -> FType | None:
    """Result type of Flink's built-in aggregates."""
    if function in ("count", "count_distinct"):
        return BIGINT
    if arg is None:
        return None
    if function in ("min", "max"):
        return arg
    if function == "sum":
        if arg.family == "decimal":
            return FType("decimal", MAX_DECIMAL, arg.scale)
        return arg
    if function == "avg":
        if arg.family == "decimal":
            return decimal(MAX_DECIMAL, max(arg.scale, 6))
        return arg
    return None


_STRING_FUNCS = (exp.Lower, exp.Upper, exp.Trim, exp.Concat, exp.DPipe, exp.Substring, exp.Initcap, exp.Left,
                 exp.Right, exp.MD5, exp.SHA2, exp.RegexpReplace, exp.ConcatWs)
_BOOL_EXPRS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not, exp.Is, exp.In,
               exp.Like, exp.ILike, exp.Between, exp.Boolean, exp.Exists)
_ARITH = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}
_AGGS = {exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max"}


class Schemas:
    """Column names and Flink types of nodes, computed on demand and cached. None: not inferable."""

    def __init__(self, ir: Spec, dropped: dict[str, frozenset[str]]):
        self.ir = ir
        self.dropped = dropped  # source -> columns never captured (pii drop)
        self._cache: dict[str, list[tuple[str, FType | None]]] = {}

    def columns(self, node: str) -> list[tuple[str, FType | None]]:
        if node not in self._cache:
            self._cache[node] = self._compute(node)
        return self._cache[node]

    def type_of(self, node: str, column: str) -> FType | None:
        return next((t for n, t in self.columns(node) if n == column), None)

    def _compute(self, node: str) -> list[tuple[str, FType | None]]:
        ir = self.ir
        if (src := ir.source(node)) is not None:
            gone = self.dropped.get(node, frozenset())
            return [(c.name, from_column_type(c.type)) for c in src.columns if c.name not in gone]
        if (model := ir.model(node)) is not None:
            return self._model(model)
        if (metric := ir.metric(node)) is not None:
            return self.metric_columns(metric)
        return []

    def metric_columns(self, metric: Metric) -> list[tuple[str, FType | None]]:
        out: list[tuple[str, FType | None]] = []
        if metric.window is not None:
            out += [("window_start", WINDOW_BOUND), ("window_end", WINDOW_BOUND)]
        out += [(d, self.type_of(metric.from_, d)) for d in metric.dimensions]
        for m in metric.measures:
            arg = self.type_of(metric.from_, m.column) if m.column else None
            out.append((m.alias, aggregate(m.function, arg)))
        return out

    def _model(self, model: Model) -> list[tuple[str, FType | None]]:
        try:
            tree = sqlglot.parse_one(model.sql.text, read=READ_DIALECT)
        except sqlglot.errors.SqlglotError:
            return [(c.name, None) for c in model.columns]
        shape = query_shape(tree)
        scope = {alias: table for alias, table in shape.alias_to_table.items()}
        inferred: dict[str, FType | None] = {}
        for name, expression in shape.outputs:
            inferred[name] = self._infer(expression, scope, shape.tables)
        for qualifier in shape.star_tables:
            tables = [scope.get(qualifier, qualifier)] if qualifier else shape.tables
            for t in tables:
                for col, ftype in self.columns(t):
                    inferred.setdefault(col, ftype)
        return [(c.name, inferred.get(c.name)) for c in model.columns]

    def _infer(self, e: exp.Expression, scope: dict[str, str], tables: list[str]) -> FType | None:
        if isinstance(e, (exp.Alias, exp.Paren)):
            return self._infer(e.this, scope, tables)
        if isinstance(e, exp.Column):
            if e.table:
                t = scope.get(e.table)
                return self.type_of(t, e.name) if t else None
            for t in tables:
                found = self.type_of(t, e.name)
                if found is not None:
                    return found
            return None
        if isinstance(e, (exp.Cast, exp.TryCast)):
            return from_sqlglot_type(e.to)
        if isinstance(e, exp.Count):
            return BIGINT
        for cls, fn in _AGGS.items():
            if isinstance(e, cls):
                return aggregate(fn, self._infer(e.this, scope, tables))
        for cls, op in _ARITH.items():
            if isinstance(e, cls):
                return arithmetic(op, self._infer(e.this, scope, tables), self._infer(e.expression, scope, tables))
        if isinstance(e, exp.Neg):
            return self._infer(e.this, scope, tables)
        if isinstance(e, exp.Coalesce):
            return self._infer(e.this, scope, tables)
        if isinstance(e, (exp.Case, exp.If)):
            branches = [i.args.get("true") for i in e.args.get("ifs") or []] + [e.args.get("default")]
            if isinstance(e, exp.If):
                branches = [e.args.get("true"), e.args.get("false")]
            types = [self._infer(b, scope, tables) for b in branches if b is not None and not isinstance(b, exp.Null)]
            non_literal = [self._infer(b, scope, tables) for b in branches
                           if b is not None and not isinstance(b, (exp.Literal, exp.Null))]
            return (non_literal or types or [None])[0]
        if isinstance(e, _STRING_FUNCS):
            return STRING
        if isinstance(e, _BOOL_EXPRS):
            return BOOLEAN
        if isinstance(e, exp.Literal):
            if e.is_string:
                return STRING
            text = e.name
            if "." in text:
                whole, frac = text.split(".", 1)
                return FType("decimal", max(len(whole.lstrip("-")) + len(frac), 1), len(frac))
            return FType("int") if abs(int(text)) < 2**31 else BIGINT
        if isinstance(e, exp.CurrentTimestamp):
            return FType("ltz", 3)
        if isinstance(e, exp.CurrentDate):
            return FType("date")
        if isinstance(e, (exp.DateTrunc, exp.TimestampTrunc)):
            return self._infer(e.this, scope, tables)
        return None
