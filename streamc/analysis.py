"""Semantic analysis of merged spec items: names, duplicates, cycles, columns, types, secrets, PII, gates."""

from __future__ import annotations

import re
from dataclasses import dataclass

import networkx as nx
from sqlglot import exp

from .diagnostics import Diagnostics, did_you_mean
from .ir import (CheckKind, Column, ColumnLineage, ColumnType, Connection, Expectation, Metric, Model, Reference,
                 Sink, Source, Span, Spec, SqlText)
from .limits import MAX_NAME
from .lower import FileItems
from .sql_analysis import (column_position, expression_columns, identifier_span, is_aggregate_query, join_count,
                           parse_sql, query_shape, uses_ctes_or_subqueries)

SECRET_KEY = re.compile(r"(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|credential|private[_-]?key|auth|"
                        r"(access|account|signing|encryption|session|client|master|shared)[_-]?key$)", re.I)
# a credential inside a value: `scheme://user:password@host`, `Password=...;` / `pwd=...` (ODBC, JDBC, ADO.NET)
SECRET_IN_VALUE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@|(?<![A-Za-z])(password|pwd)\s*=\s*[^;&\s]",
                             re.I)
PII_NAMES = re.compile(r"^(e?mail|email_address|phone(_number)?|mobile|ssn|social_security(_number)?|"
                       r"first_name|last_name|full_name|date_of_birth|dob|birth_date|address|street|"
                       r"ip_address|passport(_number)?|credit_card(_number)?|card_number|iban|tax_id)$", re.I)
NUMERIC_TYPES = {"bigint", "integer", "smallint", "numeric", "double", "real"}
DEVICE_NAME = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])", re.I)  # Windows reserves them in every folder


@dataclass
class NodeColumn:
    name: str
    type: ColumnType | None
    event_time: bool
    inputs: tuple[Reference, ...]


def node_id(kind: str, name: str) -> str:
    return f"{kind}:{name}"


def lineage_graph(spec: Spec) -> nx.DiGraph:
    """Node ids only; the pydantic models hold the data. Edges point downstream."""
    g = nx.DiGraph()
    for s in spec.sources:
        g.add_node(node_id("source", s.name), kind="source")
    for m in spec.models:
        g.add_node(node_id("model", m.name), kind="model")
    for m in spec.metrics:
        g.add_node(node_id("metric", m.name), kind="metric")
    for s in spec.sinks:
        g.add_node(node_id("sink", s.name), kind="sink")
    for m in spec.models:
        for dep in m.depends_on:
            kind = spec.kind_of(dep)
            if kind:
                g.add_edge(node_id(kind, dep), node_id("model", m.name))
    for m in spec.metrics:
        kind = spec.kind_of(m.from_)
        if kind:
            g.add_edge(node_id(kind, m.from_), node_id("metric", m.name))
    for s in spec.sinks:
        for name in s.inputs:
            kind = spec.kind_of(name)
            if kind:
                g.add_edge(node_id(kind, name), node_id("sink", s.name))
    for e in spec.expectations:
        kind = spec.kind_of(e.target)
        if kind:
            g.nodes[node_id(kind, e.target)].setdefault("checks", 0)
            g.nodes[node_id(kind, e.target)]["checks"] += len(e.checks)
    return g


class Analyzer:
    def __init__(self, items: list[FileItems], diags: Diagnostics):
        self.items = items
        self.d = diags
        self.sources: dict[str, Source] = {}
        self.models: dict[str, Model] = {}
        self.metrics: dict[str, Metric] = {}
        self.sinks: dict[str, Sink] = {}
        self.connections: dict[str, Connection] = {}
        self.columns: dict[str, dict[str, NodeColumn]] = {}  # node name -> columns
        self.first: dict[str, tuple[str, Span]] = {}
        self.folded: dict[str, str] = {}  # lower-cased name -> the first name registered with that spelling
        self.pending_refs: list[tuple[str, Column]] = []  # column references, checked once models resolve

    # ------------------------------------------------------------ registration
    def register(self, kind: str, name: str, span: Span, table: dict, item) -> None:
        if name in self.first:
            first_kind, first_span = self.first[name]
            self.d.add("E101", span, kind=kind, name=name, first=first_span.at())
            return
        clash = self.folded.setdefault(name.lower(), name)  # a dict, not a scan: specs have thousands of names
        if clash != name:
            self.d.add("E116", span, name=name,
                       reason=f"differs from '{clash}' only by case; generated file names would collide")
            return
        self.check_file_name(name, span)
        self.first[name] = (kind, span)
        table[name] = item

    def check_file_name(self, name: str, span: Span) -> None:
        """Names become file and folder names of the output: none may be longer than a file system (or a database
        identifier) allows, nor a device name of Windows."""
        if len(name) > MAX_NAME:
            self.d.add("E116", span, name=name[:40] + "...", reason=f"is longer than {MAX_NAME} characters")
        if DEVICE_NAME.fullmatch(name):
            self.d.add("E116", span, name=name, reason="is a reserved device name on Windows (con, prn, aux, nul, "
                       "com1-9, lpt1-9): a file or folder named after it cannot be created there")

    def check_column_names(self, items) -> None:
        """Column names become SQL identifiers (63 characters in PostgreSQL) and parts of generated file names
        (tests named after the column); `items` yields (name, span)."""
        for name, span in items:
            if len(name) > MAX_NAME:
                self.d.add("E116", span, name=name[:40] + "...", reason=f"is longer than {MAX_NAME} characters")

    def check_case_clash(self, kind: str, items, where: str = "") -> None:
        """Two names of one kind that differ only by case (their generated files, folders or SQL columns
        would collide); `items` yields (name, span)."""
        seen: dict[str, tuple[str, Span]] = {}
        for name, span in items:
            first = seen.setdefault(name.lower(), (name, span))
            if first[0] != name:
                self.d.add("E116", span, name=name, reason=f"differs from {kind} '{first[0]}'{where} (at "
                           f"{first[1].at()}) only by case; generated names would collide")

    def run(self) -> Spec | None:
        pipelines = [p for f in self.items for p in f.pipelines]
        if not pipelines:
            first_file = self.items[0].file if self.items else "<input>"
            self.d.add("E117", Span(file=first_file, line=1, column=1, end_line=1, end_column=2))
            return None
        for extra in pipelines[1:]:
            self.d.add("E101", extra.span, kind="pipeline", name=extra.name, first=pipelines[0].span.at())
        self.check_file_name(pipelines[0].name, pipelines[0].span)
        conn_first: dict[str, Span] = {}
        for f in self.items:
            for c in f.connections:
                if c.name in conn_first:
                    self.d.add("E101", c.span, kind="connection", name=c.name, first=conn_first[c.name].at())
                    continue
                conn_first[c.name] = c.span
                self.connections[c.name] = c
        envs = {}
        for f in self.items:
            for e in f.environments:
                if e.name in envs:
                    self.d.add("E101", e.span, kind="environment", name=e.name, first=envs[e.name].span.at())
                    continue
                envs[e.name] = e
        for named in (*self.connections.values(), *envs.values()):
            self.check_file_name(named.name, named.span)
        self.check_case_clash("connection", ((c.name, c.span) for c in self.connections.values()))
        self.check_case_clash("environment", ((e.name, e.span) for e in envs.values()))
        for f in self.items:
            for s in f.sources:
                self.register("source", s.name, s.span, self.sources, s)
            for m in f.models:
                self.register("model", m.name, m.span, self.models, m)
            for m in f.metrics:
                self.register("metric", m.name, m.span, self.metrics, m)
            for s in f.sinks:
                self.register("sink", s.name, s.span, self.sinks, s)
        expectations = [e for f in self.items for e in f.expectations]

        self.check_connections(list(envs.values()))
        for s in self.sources.values():
            self.check_source(s)
        models = self.resolve_models()
        for m in self.metrics.values():
            self.check_metric(m)
        for s in self.sinks.values():
            self.check_sink(s)
        for e in expectations:
            self.check_expectation(e)
        custom = [c for e in expectations for c in e.checks if c.kind == CheckKind.custom_sql and c.name]
        for c in custom:
            self.check_file_name(c.name, c.span)
        self.check_case_clash("custom check", ((c.name, c.span) for c in custom))
        if not expectations:
            example = next(iter(self.models), next(iter(self.sources), "orders"))
            self.d.add("E107", pipelines[0].span, pipeline=pipelines[0].name, example=example)

        files = tuple(f.file for f in self.items)
        return Spec(files=files, pipeline=pipelines[0], connections=tuple(self.connections.values()),
                    environments=tuple(envs.values()), sources=tuple(self.sources.values()), models=models,
                    metrics=tuple(self.metrics.values()), sinks=tuple(self.sinks.values()),
                    expectations=tuple(expectations))

    # ------------------------------------------------------------ connections and secrets
    def check_connections(self, envs) -> None:
        for c in self.connections.values():
            for st in c.settings:
                if st.value.kind != "secret" and (SECRET_KEY.search(st.key) or SECRET_IN_VALUE.search(st.value.text)):
                    self.d.add("E109", st.value.span, key=st.key)
        known_targets = set(self.connections) | {"kafka", "warehouse", "pipeline"}
        for env in envs:
            for o in env.overrides:
                if o.target not in known_targets:
                    self.d.add("E100", o.span, kind="connection", name=o.target,
                               hint=did_you_mean(o.target, known_targets))
                if o.value.kind != "secret" and (SECRET_KEY.search(o.key) or SECRET_IN_VALUE.search(o.value.text)):
                    self.d.add("E109", o.value.span, key=f"{o.target}.{o.key}")

    def connection_ref(self, name: str, span: Span) -> Connection | None:
        c = self.connections.get(name)
        if c is None:
            self.d.add("E100", span, kind="connection", name=name, hint=did_you_mean(name, self.connections, "connection"))
        return c

    # ------------------------------------------------------------ sources
    def check_source(self, s: Source) -> None:
        conn = self.connection_ref(s.connection, s.connection_span or s.span)
        if not s.columns:
            self.d.add("E114", s.span, what=f"source '{s.name}'", field="its `columns { ... }` contract",
                       hint="declare the columns with types: they are the data contract")
        seen: dict[str, Span] = {}
        for c in s.columns:
            if c.name in seen:
                self.d.add("E101", c.span, kind="column", name=f"{s.name}.{c.name}", first=seen[c.name].at())
            seen[c.name] = c.span
            if c.pii is None and PII_NAMES.match(c.name):
                self.d.add("W204", c.span, column=f"{s.name}.{c.name}")
            if c.accepted_values and c.type.name == "enum" and set(c.accepted_values) - set(c.type.values):
                self.d.add("E104", c.span, message=f"accepted values of '{c.name}' are not members of its enum",
                           hint="make `in (...)` a subset of the enum members, or drop one of them")
            for chk in c.checks:
                tree, err = parse_sql(_as_query(chk))
                if err is not None:
                    self.d.extend([err])
        self.check_case_clash("column", ((c.name, c.span) for c in s.columns), where=f" of source '{s.name}'")
        self.check_column_names((c.name, c.span) for c in s.columns)
        event_times = [c for c in s.columns if c.event_time]
        for extra in event_times[1:]:
            self.d.add("E118", extra.span, message=f"source '{s.name}' has two event_time columns",
                       hint=f"keep event_time on one column (first: '{event_times[0].name}')")
        for c in event_times[:1]:
            if c.type.name not in ("timestamp", "timestamptz", "date"):
                self.d.add("E104", c.type.span, message=f"event_time column '{c.name}' has type {c.type.name}",
                           hint="event time must be a timestamp")
        if s.capture and s.capture.column and s.columns:
            col = s.column(s.capture.column)
            if col is None:
                self.d.add("E103", s.capture.span, node=s.name, column=s.capture.column,
                           hint=did_you_mean(s.capture.column, [c.name for c in s.columns]))
            elif col.type.name not in ("timestamp", "timestamptz", "date", "bigint", "integer"):
                self.d.add("E104", s.capture.span, message=f"incremental column '{col.name}' is {col.type.name}",
                           hint="an incremental cursor must be a timestamp or an increasing integer")
        if conn is not None and s.location is not None:
            expected = {"postgres": "table", "mysql": "table", "sqlserver": "table", "kafka": "topic",
                        "http": "endpoint", "s3": "path", "gcs": "path", "snowflake": "table", "bigquery": "table",
                        "duckdb": "table"}.get(conn.kind.value)
            if expected and s.location.kind != expected:
                self.d.add("E118", s.location.span,
                           message=f"a {conn.kind.value} source reads a `{expected}`, not a `{s.location.kind}`",
                           hint=f"write `{expected} ...` for source '{s.name}'")
        if conn is not None and s.capture and s.capture.mode.value == "cdc" and conn.kind.value not in (
                "postgres", "mysql", "sqlserver"):
            self.d.add("E118", s.capture.span, message=f"log-based CDC needs a database source, not {conn.kind.value}",
                       hint="use `capture incremental(col)` or `capture full`")
        self.columns[s.name] = {c.name: NodeColumn(c.name, c.type, c.event_time, ()) for c in s.columns}
        for c in s.columns:
            if c.references is not None:
                self.pending_refs.append((s.name, c))

    # ------------------------------------------------------------ models
    def resolve_models(self) -> tuple[Model, ...]:
        parsed: dict[str, tuple] = {}
        g = nx.DiGraph()
        for m in self.models.values():
            g.add_node(m.name)
            tree, err = parse_sql(m.sql)
            if err is not None:
                self.d.extend([err])
                continue
            shape = query_shape(tree)
            parsed[m.name] = (tree, shape)
            for t in shape.tables:
                if t in self.models:
                    g.add_edge(t, m.name)
                elif t not in self.sources:
                    self.d.add("E100", _table_span(m, tree, t), kind="model or source", name=t,
                               hint=did_you_mean(t, list(self.models) + list(self.sources), "model or source"))
        cyclic: set[str] = set()
        for cycle in _cycles(g):
            cyclic.update(cycle)
            first = self.models[cycle[0]]
            self.d.add("E102", first.span, cycle=" --> ".join(cycle + [cycle[0]]))
        order = [n for n in nx.topological_sort(g.subgraph(set(g) - cyclic))] if g else []
        resolved: dict[str, Model] = {}
        for name in order:
            m = self.models[name]
            if name not in parsed:
                resolved[name] = m
                continue
            tree, shape = parsed[name]
            resolved[name] = self.model_lineage(m, tree, shape)
        for name in self.models:
            resolved.setdefault(name, self.models[name])
        for src_name, c in self.pending_refs:
            self.check_reference(c.references, f"{src_name}.{c.name}")
        return tuple(resolved[n] for n in self.models)

    def model_lineage(self, m: Model, tree, shape) -> Model:
        available: dict[str, dict[str, NodeColumn]] = {}
        for t in shape.tables:
            if t in self.columns:
                available[t] = self.columns[t]
        out: dict[str, NodeColumn] = {}
        lineage: list[ColumnLineage] = []
        complete = all(t in available for t in shape.tables)
        for star in shape.star_tables:
            tables = [shape.alias_to_table.get(star, star)] if star else shape.tables
            for t in tables:
                for c in available.get(t, {}).values():
                    ref = (Reference(span=m.span, node=t, column=c.name),)
                    out[c.name] = NodeColumn(c.name, c.type, c.event_time, ref)
                    lineage.append(ColumnLineage(name=c.name, inputs=ref, expression=f"{t}.{c.name}"))
        for name, e in shape.outputs:
            inputs = []
            for qual, col in expression_columns(e):
                t = shape.alias_to_table.get(qual) if qual else (shape.tables[0] if len(shape.tables) == 1 else
                                                                 next((tb for tb in shape.tables
                                                                       if col in available.get(tb, {})), None))
                if t:
                    inputs.append(Reference(span=m.span, node=t, column=col))
            inner = e.this if isinstance(e, exp.Alias) else e
            ctype, etime = None, False
            if isinstance(inner, exp.Column) and inputs and inputs[0].node in available:
                src = available[inputs[0].node].get(inputs[0].column)
                if src:
                    ctype, etime = src.type, src.event_time
            elif isinstance(inner, exp.Cast):
                ctype = ColumnType(span=m.span, name=inner.to.this.value.lower() if hasattr(inner.to.this, "value")
                                   else "text")
            elif isinstance(inner, exp.Count):
                ctype = ColumnType(span=m.span, name="bigint")
            elif isinstance(inner, (exp.Sum, exp.Avg)):
                ctype = ColumnType(span=m.span, name="numeric")
            out[name] = NodeColumn(name, ctype, etime, tuple(inputs))
            lineage.append(ColumnLineage(name=name, inputs=tuple(inputs), expression=e.sql(dialect="postgres")))
        # check column references against what the inputs provide
        if complete and not uses_ctes_or_subqueries(tree):
            output_names = set(out)
            for qual, col, node, in_projection in shape.column_refs:
                if qual:
                    t = shape.alias_to_table.get(qual)
                    if t is None:
                        self.d.add("E100", column_position(m.sql, node), kind="table alias", name=qual,
                                   hint=did_you_mean(qual, shape.alias_to_table))
                        continue
                    if col not in available[t]:
                        self.d.add("E103", column_position(m.sql, node), node=t, column=col,
                                   hint=did_you_mean(col, available[t]))
                else:
                    if (col in output_names and not in_projection) or any(col in available[t] for t in shape.tables):
                        continue
                    where = shape.tables[0] if len(shape.tables) == 1 else " / ".join(shape.tables)
                    every = [c for t in shape.tables for c in available[t]]
                    self.d.add("E103", column_position(m.sql, node), node=where, column=col,
                               hint=did_you_mean(col, every))
        self.columns[m.name] = out
        self.check_column_names((name, m.sql.span) for name in out)
        model = m.model_copy(update={"depends_on": tuple(shape.tables), "columns": tuple(lineage),
                                     "joins": join_count(tree), "aggregates": is_aggregate_query(tree)})
        for field_name, cols in (("grain", m.grain), ("cluster", m.cluster)):
            for c in cols:
                if complete and c not in out:
                    self.d.add("E103", m.span, node=m.name, column=c, hint=did_you_mean(c, out))
        if m.partition and complete and m.partition.column not in out:
            self.d.add("E103", m.partition.span, node=m.name, column=m.partition.column,
                       hint=did_you_mean(m.partition.column, out))
        if m.history and complete:
            for c in ((m.history.updated_at,) if m.history.updated_at else m.history.check_columns):
                if c not in out:
                    self.d.add("E103", m.history.span, node=m.name, column=c, hint=did_you_mean(c, out))
            if not m.grain:
                self.d.add("E114", m.history.span, what=f"SCD type 2 model '{m.name}'", field="a `grain`",
                           hint="history is kept per key: add `grain customer_id`")
        return model

    # ------------------------------------------------------------ metrics, sinks, expectations
    def node_columns(self, name: str, span: Span, kinds=("source", "model")) -> dict[str, NodeColumn] | None:
        if name in self.sources or name in self.models:
            return self.columns.get(name)
        candidates = list(self.sources) + list(self.models)
        self.d.add("E100", span, kind=" or ".join(kinds), name=name, hint=did_you_mean(name, candidates))
        return None

    def check_metric(self, m: Metric) -> None:
        cols = self.node_columns(m.from_, m.span)
        if cols is None:
            return
        for d in m.dimensions:
            if d not in cols:
                self.d.add("E103", m.span, node=m.from_, column=d, hint=did_you_mean(d, cols))
        for meas in m.measures:
            if meas.column is None:
                continue
            col = cols.get(meas.column)
            if col is None:
                self.d.add("E103", meas.span, node=m.from_, column=meas.column, hint=did_you_mean(meas.column, cols))
                continue
            if meas.function in ("sum", "avg") and col.type is not None and col.type.name not in NUMERIC_TYPES:
                self.d.add("E104", meas.span, message=f"{meas.function}({meas.column}) over a {col.type.name} column",
                           hint=f"{meas.function} needs a numeric column; use count or cast the column")
        if m.window is not None and not any(c.event_time for c in cols.values()):
            self.d.add("E110", m.window.span, metric=m.name, source=m.from_)

    def check_sink(self, s: Sink) -> None:
        conn = self.connection_ref(s.connection, s.connection_span or s.span)
        for kind, names, table in (("model", s.models, self.models), ("metric", s.metrics, self.metrics),
                                   ("source", s.sources, self.sources)):
            for n in names:
                if n not in table:
                    self.d.add("E100", s.input_spans.get(n, s.span), kind=kind, name=n,
                               hint=did_you_mean(n, table, kind))
        if not s.inputs:
            self.d.add("E114", s.span, what=f"sink '{s.name}'", field="what it receives",
                       hint="add `models ...`, `metrics ...` or `sources ...`")
        if conn is not None and conn.kind.value in ("postgres", "mysql", "sqlserver", "http") and not conn.is_warehouse:
            self.d.add("E118", s.span, message=f"sink '{s.name}' writes to {conn.kind.value} connection "
                       f"'{conn.name}', which is not a warehouse", hint=f"declare `connection {conn.name} "
                       f"{conn.kind.value} as warehouse` if it is one")
        if s.partition is not None:
            for n in s.inputs:
                cols = self.columns.get(n)
                if cols is not None and s.partition.column not in cols:
                    self.d.add("E103", s.partition.span, node=n, column=s.partition.column,
                               hint=did_you_mean(s.partition.column, cols))

    def check_expectation(self, e: Expectation) -> None:
        if e.target in self.metrics or e.target in self.sinks:
            cols = None
        else:
            cols = self.node_columns(e.target, e.span, ("source", "model", "metric", "sink"))
            if cols is None and e.target not in self.sources and e.target not in self.models:
                return
        for c in e.checks:
            for col in c.columns:
                if cols is not None and col not in cols:
                    self.d.add("E103", c.span, node=e.target, column=col, hint=did_you_mean(col, cols))
            if c.kind == CheckKind.range and cols is not None and c.columns and c.columns[0] in cols:
                t = cols[c.columns[0]].type
                if t is not None and t.name not in NUMERIC_TYPES:
                    self.d.add("E104", c.span, message=f"range check on '{c.columns[0]}', a {t.name} column",
                               hint="ranges apply to numeric columns; use accepted_values or regex for text")
            if c.kind == CheckKind.relationships and c.reference is not None:
                self.check_reference(c.reference, f"{e.target}.{c.columns[0]}")
            if c.kind == CheckKind.reconcile and c.against is not None:
                if c.against not in self.sources and c.against not in self.models:
                    self.d.add("E100", c.span, kind="source or model", name=c.against,
                               hint=did_you_mean(c.against, list(self.sources) + list(self.models)))
            if c.kind == CheckKind.custom_sql and c.sql is not None:
                _, err = parse_sql(c.sql)
                if err is not None:
                    self.d.extend([err])

    def check_reference(self, ref: Reference, what: str) -> None:
        cols = self.columns.get(ref.node)
        if ref.node not in self.sources and ref.node not in self.models:
            self.d.add("E100", ref.span, kind="source or model", name=ref.node,
                       hint=did_you_mean(ref.node, list(self.sources) + list(self.models)))
        elif cols is not None and ref.column not in cols:
            self.d.add("E103", ref.span, node=ref.node, column=ref.column, hint=did_you_mean(ref.column, cols))


def _as_query(chk: SqlText) -> SqlText:
    """A column check `(expr)` as a query, so it is parsed like any spec SQL."""
    return SqlText(span=chk.span, text=f"select 1 where {chk.text}", prefix=len("select 1 where "))


def _table_span(m: Model, tree, name: str) -> Span:
    """Where a table is named in a model's SQL (the SQL's start when sqlglot kept no position)."""
    table = next((tb for tb in tree.find_all(exp.Table) if tb.name == name), None)
    return (identifier_span(m.sql, table, len(name)) if table is not None else None) or m.sql.span


def _cycles(g: nx.DiGraph) -> list[list[str]]:
    """One representative cycle per strongly connected component, rotated to start at its smallest name."""
    out = []
    for comp in sorted(nx.strongly_connected_components(g), key=lambda c: sorted(c)):
        if len(comp) == 1 and not g.has_edge(next(iter(comp)), next(iter(comp))):
            continue
        sub = g.subgraph(comp)
        cycle = [u for u, _ in nx.find_cycle(sub, source=min(comp))]
        i = cycle.index(min(cycle))
        out.append(cycle[i:] + cycle[:i])
    return out
