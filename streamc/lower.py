"""Lowering: turns one file's parse tree into IR nodes, validating names, units and enumerations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lark import Token, Tree

from . import quantities as q
from .diagnostics import Diagnostics, did_you_mean
from .ir import (Acknowledgement, ApiSettings, Arrival, Capture, CaptureMode, Check, CheckKind, Column,
                 ColumnType, Connection, ConnectionKind, Consumer, Environment, EnvOverride, Expectation, History,
                 Location, Measure, Metric, Mode, Model, Partition, Pii, PiiStrategy, Pipeline, Reference, Schedule,
                 Setting, Severity, Sink, Source, Span, SqlText, Tier, Value, Window)
from .parser import token_span, tree_span

TYPE_ALIASES = {
    "bigint": "bigint", "int8": "bigint", "long": "bigint",
    "int": "integer", "integer": "integer", "int4": "integer", "smallint": "smallint",
    "numeric": "numeric", "decimal": "numeric", "number": "numeric",
    "float": "double", "double": "double", "real": "real", "float8": "double",
    "text": "text", "string": "text", "varchar": "varchar", "char": "char", "uuid": "uuid",
    "boolean": "boolean", "bool": "boolean",
    "date": "date", "timestamp": "timestamp", "timestamptz": "timestamptz", "datetime": "timestamp",
    "iso8601": "timestamp", "time": "time",
    "json": "json", "jsonb": "json", "bytes": "bytes", "binary": "bytes", "enum": "enum",
}
TYPES_WITH_PARAMS = {"numeric": (0, 2), "varchar": (1, 1), "char": (1, 1), "timestamp": (0, 1)}
CONSTRAINT_WORDS = {"primary", "not", "unique", "references", "in", "check", "pii", "event_time", "lateness"}
FORMATS = ("parquet", "json", "csv", "avro", "orc", "jsonl")
PAGINATIONS = ("cursor", "offset", "page", "link", "none")
AUTHS = ("oauth2", "api_key", "basic", "bearer", "none")
MATERIALIZATIONS = ("view", "table", "incremental", "ephemeral", "snapshot")
LAYERS = ("staging", "intermediate", "mart", "bronze", "silver", "gold")
SINK_MODES = ("upsert", "merge", "append", "overwrite_partition", "exactly_once")
GRANULARITIES = ("day", "hour", "month", "year")
AGGREGATES = {"sum": "sum", "count": "count", "avg": "avg", "min": "min", "max": "max", "count_distinct": "count_distinct"}
CRON_FIELD = re.compile(r"[0-9A-Za-z*/,?#-]+")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass
class FileItems:
    """Everything one file declares, before files are merged and analysed."""

    file: str
    imports: list[tuple[str, Span]] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    environments: list[Environment] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    sinks: list[Sink] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)


# quoted parts as unrolled loops: a per-character alternation costs Python's re ~130 bytes a character
_SQL_QUOTED_OR_SPACE = re.compile(r"'[^']*(?:''[^']*)*'|\"[^\"]*(?:\"\"[^\"]*)*\"|\s+")


def squash_spaces(sql: str) -> str:
    """A one-line SQL fragment (continued over lines after a comma) with each run of whitespace as one space;
    string literals and quoted identifiers keep theirs: `'a  b'` is another value than `'a b'`."""
    return _SQL_QUOTED_OR_SPACE.sub(lambda m: " " if m.group(0)[0].isspace() else m.group(0), sql).strip()


_ESCAPE = re.compile(r"\\(.)", re.S)
_ESCAPED = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def unquote(tok: Token) -> str:
    """A STRING token's text: `\\n`, `\\t`, `\\"` and `\\\\` decoded, any other escape kept as written (one pass of
    re, not a Python loop per character: a description may be megabytes long)."""
    raw = str(tok)[1:-1]
    if "\\" not in raw:
        return raw
    return _ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(0)), raw)


class Lowerer:
    def __init__(self, file: str, diags: Diagnostics):
        self.file = file
        self.d = diags

    # ------------------------------------------------------------ helpers
    def sp(self, x: Tree | Token) -> Span:
        return token_span(x, self.file) if isinstance(x, Token) else tree_span(x, self.file)

    def tokens(self, tree: Tree, type_: str | None = None) -> list[Token]:
        return [c for c in tree.children if isinstance(c, Token) and (type_ is None or c.type == type_)]

    def names(self, tree: Tree) -> tuple[str, ...]:
        return tuple(str(t) for t in tree.children if isinstance(t, Token))

    def choice(self, tok: Token, options, what: str):
        value = str(tok)
        if value in options:
            return value
        self.d.add("E112", self.sp(tok), what=what, value=value, hint=did_you_mean(value, options))
        return None

    def quantity(self, tok: Token, parse, fallback=None):
        try:
            return parse(str(tok))
        except q.QuantityError as e:
            if e.code == "E160":
                self.d.add("E160", self.sp(tok), value=q.shorten(str(tok)), hint=e.hint)
            else:
                self.d.add("E113", self.sp(tok), expected=e.expected, value=q.shorten(str(tok)), hint=e.hint)
            return fallback

    def interval(self, tok: Token):
        """How often something runs (`every 15m`): at least a second, the finest grain schedulers run at."""
        d = self.quantity(tok, q.parse_duration)
        if d is not None and d.seconds < 1:
            self.d.add("E112", self.sp(tok), what="interval", value=str(tok),
                       hint="runs are at least a second apart; for a stream, write `schedule continuous`")
            return None
        return d

    def subtree(self, tree: Tree, data: str) -> Tree | None:
        return next((c for c in tree.children if isinstance(c, Tree) and c.data == data), None)

    def once(self, seen: dict[str, Span], key: str, span: Span, what: str) -> None:
        if key in seen:
            self.d.add("E118", span, message=f"{what} sets '{key}' twice (first at {seen[key].at()})",
                       hint="keep one")
        seen[key] = span

    # ------------------------------------------------------------ entry
    def lower(self, tree: Tree) -> FileItems:
        out = FileItems(file=self.file)
        for item in tree.children:
            kind = item.data
            if kind == "import_decl":
                tok = item.children[0]
                out.imports.append((unquote(tok), self.sp(tok)))
            elif kind == "pipeline":
                out.pipelines.append(self.pipeline(item))
            elif kind == "connection":
                c = self.connection(item)
                if c:
                    out.connections.append(c)
            elif kind == "env_block":
                out.environments.append(self.environment(item))
            elif kind == "source":
                out.sources.append(self.source(item))
            elif kind == "model":
                m = self.model(item)
                if m:
                    out.models.append(m)
            elif kind == "metric":
                m = self.metric(item)
                if m:
                    out.metrics.append(m)
            elif kind == "sink":
                out.sinks.append(self.sink(item))
            elif kind == "expect":
                out.expectations.append(self.expect(item))
        return out

    # ------------------------------------------------------------ pipeline
    def schedule(self, tree: Tree) -> Schedule:
        kind = tree.data
        span = self.sp(tree)
        toks = self.tokens(tree)
        if kind == "daily":
            tz = str(toks[1]) if len(toks) > 1 else "UTC"
            return Schedule(span=span, kind="daily", time=self.time(toks[0]), timezone=tz)
        if kind == "weekly":
            day = self.choice(toks[0], WEEKDAYS, "weekday") or "monday"
            tz = str(toks[2]) if len(toks) > 2 else "UTC"
            return Schedule(span=span, kind="weekly", weekday=day, time=self.time(toks[1]), timezone=tz)
        if kind == "every":
            return Schedule(span=span, kind="every", every=self.interval(toks[0]))
        if kind == "cron":
            expr = unquote(toks[0])
            if len(expr.split()) != 5:
                self.d.add("E112", self.sp(toks[0]), what="cron expression", value=expr,
                           hint="write five fields: minute hour day-of-month month day-of-week")
            elif not all(CRON_FIELD.fullmatch(f) for f in expr.split()):
                self.d.add("E112", self.sp(toks[0]), what="cron expression", value=expr,
                           hint="cron fields hold digits, names (MON, JAN) and * / , - ? # L W only")
            return Schedule(span=span, kind="cron", cron=expr)
        return Schedule(span=span, kind=kind)

    def time(self, tok: Token) -> str:
        hh, mm = str(tok).split(":")
        if int(hh) > 23 or int(mm) > 59:
            self.d.add("E112", self.sp(tok), what="time", value=str(tok), hint="write HH:MM between 00:00 and 23:59")
        return f"{int(hh):02d}:{mm}"

    def pipeline(self, tree: Tree) -> Pipeline:
        name_tok = tree.children[0]
        fields: dict = {"name": str(name_tok), "span": self.sp(name_tok)}
        seen: dict[str, Span] = {}
        for prop in tree.children[1:]:
            kind, toks, span = prop.data, self.tokens(prop), self.sp(prop)
            self.once(seen, kind, span, f"pipeline '{name_tok}'")
            if kind == "owner":
                fields["owner"] = unquote(toks[0])
            elif kind == "domain":
                fields["domain"] = str(toks[0])
            elif kind == "tier":
                t = self.choice(toks[0], [x.value for x in Tier], "tier")
                if t:
                    fields["tier"] = Tier(t)
            elif kind == "latency":
                cmp, val = toks
                d = self.quantity(val, q.parse_duration)
                if d is not None:
                    fields["latency"] = d
                    fields["latency_span"] = span
                    fields["latency_inclusive"] = str(cmp) == "<="
                if str(cmp) not in ("<", "<="):
                    self.d.add("E112", self.sp(cmp), what="latency bound", value=str(cmp),
                               hint="latency is an upper bound: write `latency < 1m`")
            elif kind == "schedule":
                fields["schedule"] = self.schedule(prop.children[0])
            elif kind == "mode":
                m = self.choice(toks[0], [x.value for x in Mode], "mode")
                if m:
                    fields["mode"] = Mode(m)
                    fields["mode_span"] = span
            elif kind == "replay":
                fields["replay"] = self.quantity(toks[0], q.parse_duration)
            elif kind == "acknowledge":
                acks = []
                for t in prop.children[0].children:
                    a = self.choice(t, [x.value for x in Acknowledgement], "acknowledgement")
                    if a:
                        acks.append(Acknowledgement(a))
                fields["acknowledged"] = tuple(acks)
            elif kind == "description":
                fields["description"] = unquote(toks[0])
        return Pipeline(**fields)

    # ------------------------------------------------------------ connections, environments
    def value(self, tree: Tree) -> Value:
        tok = tree.children[0]
        span = self.sp(tree)
        if tree.data == "string_value":
            return Value(span=span, kind="string", text=unquote(tok))
        if tree.data == "quantity_value":
            try:
                num = q.parse_number(str(tok))
            except q.QuantityError:
                num = None
            return Value(span=span, kind="number", text=str(tok), number=num)
        if tree.data == "secret_value":
            return Value(span=span, kind="secret", text=str(tok))
        return Value(span=span, kind="name", text=str(tok))

    def connection(self, tree: Tree) -> Connection | None:
        name_tok, kind_tok = tree.children[0], tree.children[1]
        kind = self.choice(kind_tok, [k.value for k in ConnectionKind], "connection kind")
        role = None
        settings: list[Setting] = []
        for extra in tree.children[2:]:
            if extra.data == "connection_role":
                r = self.choice(extra.children[0], ("warehouse", "source"), "connection role")
                role = r
            else:
                for st in extra.children:
                    key_tok = st.children[0]
                    settings.append(Setting(span=self.sp(st), key=str(key_tok), value=self.value(st.children[1])))
        if kind is None:
            return None
        if role == "warehouse" and kind != "postgres":
            self.d.add("E118", self.sp(kind_tok), message=f"only postgres can be declared `as warehouse`, not {kind}",
                       hint="snowflake, bigquery and duckdb are warehouses already; drop `as warehouse`")
        return Connection(span=self.sp(name_tok), name=str(name_tok), kind=ConnectionKind(kind), role=role,
                          settings=tuple(settings))

    def environment(self, tree: Tree) -> Environment:
        name_tok = tree.children[0]
        overrides = []
        for st in tree.children[1:]:
            parts = self.names(st.children[0])
            overrides.append(EnvOverride(span=self.sp(st), target=parts[0], key=".".join(parts[1:]),
                                         value=self.value(st.children[1])))
        return Environment(span=self.sp(name_tok), name=str(name_tok), overrides=tuple(overrides))

    # ------------------------------------------------------------ sources
    def source(self, tree: Tree) -> Source:
        name_tok, conn_tok = tree.children[0], tree.children[1]
        f: dict = {"name": str(name_tok), "connection": str(conn_tok), "span": self.sp(name_tok),
                   "connection_span": self.sp(conn_tok)}
        api: dict = {}
        api_span: Span | None = None
        seen: dict[str, Span] = {}
        timeout = None
        arrival = None
        for prop in tree.children[2:]:
            kind, toks, span = prop.data, self.tokens(prop), self.sp(prop)
            self.once(seen, kind if kind not in ("table", "topic", "endpoint", "path") else "location", span,
                      f"source '{name_tok}'")
            if kind == "table":
                f["location"] = Location(span=span, kind="table", value=".".join(self.names(prop.children[0])))
            elif kind == "topic":
                f["location"] = Location(span=span, kind="topic", value=unquote(toks[0]))
            elif kind == "path":
                f["location"] = Location(span=span, kind="path", value=unquote(toks[0]))
            elif kind == "endpoint":
                method = "GET"
                if len(toks) == 2:
                    method = self.choice(toks[0], ("GET", "POST"), "HTTP method") or "GET"
                f["location"] = Location(span=span, kind="endpoint", value=unquote(toks[-1]), method=method)
            elif kind == "format":
                f["format"] = self.choice(toks[0], FORMATS, "format")
            elif kind == "capture":
                c = prop.children[0]
                if c.data == "capture_incremental":
                    f["capture"] = Capture(span=span, mode=CaptureMode.incremental, column=str(c.children[0]))
                else:
                    f["capture"] = Capture(span=span, mode=CaptureMode(c.data.removeprefix("capture_")))
            elif kind == "incremental":
                self.once(seen, "capture", span, f"source '{name_tok}'")
                f["capture"] = Capture(span=span, mode=CaptureMode.incremental, column=str(toks[0]))
            elif kind == "volume":
                f["volume"] = self.quantity(toks[0], q.parse_rate)
            elif kind == "peak":
                f["peak"] = self.quantity(toks[0], q.parse_rate)
            elif kind == "avg_size":
                f["avg_size"] = self.quantity(toks[0], q.parse_size)
            elif kind == "retention":
                f["retention"] = self.quantity(toks[0], q.parse_duration)
            elif kind == "freshness":
                f["freshness"] = self.quantity(toks[-1], q.parse_duration)
            elif kind == "arrives":
                tz = str(toks[1]) if len(toks) > 1 else "UTC"
                arrival = (span, self.time(toks[0]), tz)
            elif kind == "timeout":
                timeout = self.quantity(toks[0], q.parse_duration)
            elif kind == "every":
                f["every"] = self.interval(toks[0])
            elif kind in ("auth", "pagination", "rate_limit", "initial_load"):
                api_span = api_span or span
                if kind == "auth":
                    api["auth"] = self.choice(toks[0], AUTHS, "auth method")
                    if len(toks) > 1:
                        api["auth_secret"] = str(toks[1])
                elif kind == "pagination":
                    api["pagination"] = self.choice(toks[0], PAGINATIONS, "pagination")
                elif kind == "rate_limit":
                    api["rate_limit"] = self.quantity(toks[0], q.parse_rate)
                else:
                    api["initial_load"] = self.quantity(toks[0], q.parse_duration)
            elif kind == "key":
                f["key"] = self.names(prop.children[0])
            elif kind == "description":
                f["description"] = unquote(toks[0])
            elif kind == "columns":
                f["columns"] = tuple(self.column(c, str(name_tok)) for c in prop.children)
        if arrival is not None:
            f["arrival"] = Arrival(span=arrival[0], by=arrival[1], timezone=arrival[2], timeout=timeout)
        elif timeout is not None:
            self.d.add("E118", seen["timeout"], message="`timeout` applies to `arrives`, which is missing",
                       hint="add `arrives daily by HH:MM UTC` or remove `timeout`")
        if api:
            f["api"] = ApiSettings(span=api_span, **api)
        return Source(**f)

    def column(self, tree: Tree, owner: str) -> Column:
        name_tok = tree.children[0]
        type_tree = tree.children[1]
        f: dict = {"name": str(name_tok), "span": self.sp(name_tok), "type": self.column_type(type_tree, str(name_tok))}
        checks = []
        seen: dict[str, Span] = {}
        for con in tree.children[2:]:
            kind, toks, span = con.data, self.tokens(con), self.sp(con)
            if kind != "check":
                self.once(seen, kind, span, f"column '{owner}.{name_tok}'")
            if kind in ("primary_key", "not_null", "unique", "event_time"):
                f[kind] = True
            elif kind == "references":
                f["references"] = Reference(span=span, node=str(toks[0]), column=str(toks[1]))
            elif kind == "accepted_values":
                f["accepted_values"] = tuple(unquote(t) for t in toks)
            elif kind == "check":
                tok = toks[0]
                checks.append(SqlText(span=self.sp(tok), text=str(tok)))
            elif kind == "pii":
                strategy = self.choice(toks[0], [p.value for p in PiiStrategy], "PII strategy")
                reason = unquote(toks[1]) if len(toks) > 1 else None
                if strategy == "keep" and not reason:
                    self.d.add("E106", span, column=f"{owner}.{name_tok}")
                if strategy:
                    f["pii"] = Pii(span=span, strategy=PiiStrategy(strategy), reason=reason)
            elif kind == "lateness":
                f["lateness"] = self.quantity(toks[0], q.parse_duration)
            elif kind == "description":
                f["description"] = unquote(toks[0])
        f["checks"] = tuple(checks)
        if f.get("lateness") is not None and not f.get("event_time"):
            self.d.add("E118", seen["lateness"], message=f"column '{name_tok}' has a lateness but is not event_time",
                       hint="add `event_time` before `lateness`")
        return Column(**f)

    def column_type(self, tree: Tree, col: str) -> ColumnType:
        name_tok = tree.children[0]
        raw = str(name_tok).lower()
        span = self.sp(tree)
        args = [a.children[0] for a in tree.children[1:]]
        canonical = TYPE_ALIASES.get(raw)
        if canonical is None:
            if raw in CONSTRAINT_WORDS:
                self.d.add("E114", self.sp(name_tok), what=f"column '{col}'", field="its type",
                           hint=f"write the type before the constraints, e.g. `{col} bigint {raw} ...`")
            else:
                self.d.add("E112", self.sp(name_tok), what="column type", value=str(name_tok),
                           hint=did_you_mean(raw, TYPE_ALIASES))
            return ColumnType(span=span, name="text")
        if canonical == "enum":
            values = tuple(unquote(a) for a in args if a.type == "STRING")
            if not values or len(values) != len(args):
                self.d.add("E112", span, what="enum", value=str(name_tok),
                           hint='list the members as strings: enum("a", "b")')
            return ColumnType(span=span, name="enum", values=values)
        params = []
        for a in args:
            try:
                n = q.parse_number(str(a)) if a.type == "QUANTITY" else None
            except q.QuantityError:
                n = None
            if n is None or n != int(n) or n < 0:
                self.d.add("E112", self.sp(a), what=f"{canonical} parameter", value=str(a),
                           hint="type parameters are whole numbers, e.g. numeric(10,2)")
                continue
            params.append(int(n))
        lo, hi = TYPES_WITH_PARAMS.get(canonical, (0, 0))
        if not lo <= len(params) <= hi and len(params) == len(args):
            self.d.add("E112", span, what=f"{canonical} type", value=f"{name_tok}({', '.join(map(str, params))})",
                       hint=f"{canonical} takes {lo}..{hi} parameters" if hi else f"{canonical} takes no parameters")
            params = []
        if canonical == "numeric" and len(params) == 2 and params[1] > params[0]:
            self.d.add("E112", span, what="numeric scale", value=str(params[1]),
                       hint="the scale cannot exceed the precision: numeric(precision, scale)")
        return ColumnType(span=span, name=canonical, params=tuple(params))

    # ------------------------------------------------------------ models, metrics
    def partition(self, tree: Tree) -> Partition:
        toks = self.tokens(tree)
        if tree.data == "partition_fn":
            g = self.choice(toks[0], GRANULARITIES, "partition granularity")
            return Partition(span=self.sp(tree), column=str(toks[1]), granularity=g)
        return Partition(span=self.sp(tree), column=str(toks[0]))

    def model(self, tree: Tree) -> Model | None:
        name_tok = tree.children[0]
        rest = tree.children[1:]
        from_ = None
        if rest and isinstance(rest[0], Token):
            from_ = str(rest[0])
            rest = rest[1:]
        f: dict = {"name": str(name_tok), "span": self.sp(name_tok), "from_": from_}
        select_tok = where_tok = sql_tok = None
        seen: dict[str, Span] = {}
        for prop in rest:
            kind, toks, span = prop.data, self.tokens(prop), self.sp(prop)
            self.once(seen, kind, span, f"model '{name_tok}'")
            if kind == "select":
                select_tok = toks[0]
            elif kind == "where":
                where_tok = toks[0]
            elif kind == "sql":
                sql_tok = toks[0]
            elif kind == "grain":
                f["grain"] = self.names(prop.children[0])
            elif kind == "partition":
                f["partition"] = self.partition(prop.children[0])
            elif kind == "cluster":
                f["cluster"] = self.names(prop.children[0])
            elif kind == "materialized":
                f["materialized"] = self.choice(toks[0], MATERIALIZATIONS, "materialization")
            elif kind == "layer":
                f["layer"] = self.choice(toks[0], LAYERS, "layer")
            elif kind == "history":
                track = prop.children[0]
                if track.data == "track_timestamp":
                    f["history"] = History(span=span, strategy="timestamp", updated_at=str(track.children[0]))
                else:
                    f["history"] = History(span=span, strategy="check", check_columns=self.names(track.children[0]))
            elif kind == "description":
                f["description"] = unquote(toks[0])
        if sql_tok is not None and select_tok is not None:
            self.d.add("E118", seen["select"], message=f"model '{name_tok}' has both `select` and `sql`",
                       hint="keep one: `select` is a shorthand for a single-source model")
            return None
        if sql_tok is not None:
            if from_ is not None or where_tok is not None:
                self.d.add("E118", self.sp(name_tok), message=f"model '{name_tok}' has an `sql` body and a "
                           "`from`/`where` shorthand", hint="write the FROM and WHERE inside the SQL")
            text = str(sql_tok)[3:-3]
            span = self.sp(sql_tok)
            span = Span(file=span.file, line=span.line, column=span.column + 3, end_line=span.end_line,
                        end_column=span.end_column)
            f["sql"] = SqlText(span=span, text=text)
        elif select_tok is not None:
            if from_ is None:
                self.d.add("E114", self.sp(name_tok), what=f"model '{name_tok}'", field="`from NODE`",
                           hint=f"the select shorthand reads one node: `model {name_tok} from SOURCE {{ select ... }}`")
                return None
            text = f"select {squash_spaces(str(select_tok))}\nfrom {from_}"
            if where_tok is not None:
                text += f"\nwhere {squash_spaces(str(where_tok))}"
            f["sql"] = SqlText(span=self.sp(select_tok), text=text, prefix=len("select "))
            f["shorthand"] = True
        else:
            self.d.add("E114", self.sp(name_tok), what=f"model '{name_tok}'", field="a body",
                       hint='write `select col, ...` (with `from` in the header) or `sql """..."""`')
            return None
        return Model(**f)

    def metric(self, tree: Tree) -> Metric | None:
        name_tok, from_tok = tree.children[0], tree.children[1]
        f: dict = {"name": str(name_tok), "span": self.sp(name_tok), "from_": str(from_tok)}
        seen: dict[str, Span] = {}
        measure_tok = None
        for prop in tree.children[2:]:
            kind, toks, span = prop.data, self.tokens(prop), self.sp(prop)
            self.once(seen, kind, span, f"metric '{name_tok}'")
            if kind == "measure":
                measure_tok = toks[0]
            elif kind == "dimensions":
                f["dimensions"] = self.names(prop.children[0])
            elif kind == "window":
                w = prop.children[0]
                wt = self.tokens(w)
                size = self.quantity(wt[0], q.parse_duration)
                slide = self.quantity(wt[1], q.parse_duration) if len(wt) > 1 else None
                if size is None or (len(wt) > 1 and slide is None):
                    continue
                if slide is not None and slide.seconds > size.seconds:
                    self.d.add("E112", self.sp(wt[1]), what=f"{w.data} step", value=slide.text,
                               hint=f"the step must not exceed the window size {size.text}")
                if size.seconds <= 0:
                    self.d.add("E112", self.sp(wt[0]), what="window size", value=size.text,
                               hint="a window must be longer than zero")
                f["window"] = Window(span=span, kind=w.data, size=size, slide=slide)
            elif kind == "where":
                f["where"] = SqlText(span=self.sp(toks[0]), text=str(toks[0]))
            elif kind == "description":
                f["description"] = unquote(toks[0])
        if measure_tok is None:
            self.d.add("E114", self.sp(name_tok), what=f"metric '{name_tok}'", field="a `measure`",
                       hint="e.g. `measure sum(total_amount) as revenue, count(*) as orders`")
            return None
        measures = self.measures(measure_tok)
        if measures is None:
            return None
        f["measures"] = measures
        return Metric(**f)

    def measures(self, tok: Token) -> tuple[Measure, ...] | None:
        """Measures are aggregate calls with aliases; parsed with sqlglot to find function and column."""
        from sqlglot import exp

        from .sql_analysis import parse_statements

        span = self.sp(tok)
        text = squash_spaces(str(tok))
        statements, err = parse_statements(SqlText(span=span, text=f"select {text}", prefix=len("select ")))
        if err is not None or len(statements) != 1 or not isinstance(statements[0], exp.Select):
            self.d.extend([err] if err else [])
            if err is None:
                self.d.add("E105", span, message="a measure list is one SELECT list")
            return None
        parsed = statements[0]
        out = []
        for proj in parsed.expressions:
            alias = proj.alias_or_name
            inner = proj.this if isinstance(proj, exp.Alias) else proj
            func, column = None, None
            if isinstance(inner, exp.Count):
                arg = inner.this
                if isinstance(arg, exp.Distinct):
                    func = "count_distinct"
                    cols = list(arg.find_all(exp.Column))
                    column = cols[0].name if cols else None
                else:
                    func = "count"
                    column = arg.name if isinstance(arg, exp.Column) else None
            elif isinstance(inner, (exp.Sum, exp.Avg, exp.Min, exp.Max)):
                func = type(inner).__name__.lower()
                cols = list(inner.find_all(exp.Column))
                column = cols[0].name if cols else None
            if func is None or not isinstance(proj, exp.Alias):
                self.d.add("E104", span, message=f"measure `{proj.sql()}` is not `aggregate(column) as name`",
                           hint="write e.g. `sum(total_amount) as revenue`; supported: sum, count, avg, min, max, "
                                "count(distinct col)")
                continue
            out.append(Measure(span=span, expression=inner.sql(), function=func, column=column, alias=alias))
        return tuple(out) if out else None

    # ------------------------------------------------------------ sinks
    def sink(self, tree: Tree) -> Sink:
        name_tok, conn_tok = tree.children[0], tree.children[1]
        f: dict = {"name": str(name_tok), "connection": str(conn_tok), "span": self.sp(name_tok),
                   "connection_span": self.sp(conn_tok)}
        input_spans: dict[str, Span] = {}
        consumers = []
        seen: dict[str, Span] = {}
        for prop in tree.children[2:]:
            kind, toks, span = prop.data, self.tokens(prop), self.sp(prop)
            if kind != "consumer":
                self.once(seen, kind, span, f"sink '{name_tok}'")
            if kind in ("models", "metrics", "sources", "key"):
                f[kind] = self.names(prop.children[0])
                if kind != "key":
                    input_spans.update({str(t): self.sp(t) for t in prop.children[0].children})
            elif kind == "mode":
                f["mode"] = self.choice(toks[0], SINK_MODES, "sink mode")
            elif kind == "partition":
                f["partition"] = self.partition(prop.children[0])
            elif kind == "ttl":
                f["ttl"] = self.quantity(toks[0], q.parse_duration)
            elif kind == "consumer":
                consumers.append(Consumer(span=span, service=str(toks[0]), purpose=str(toks[1])))
            elif kind == "description":
                f["description"] = unquote(toks[0])
        f["consumers"] = tuple(consumers)
        f["input_spans"] = input_spans
        return Sink(**f)

    # ------------------------------------------------------------ expectations
    def expect(self, tree: Tree) -> Expectation:
        target_tok = tree.children[0]
        target = str(target_tok)
        checks = []
        for stmt in tree.children[1:]:
            severity = Severity.error
            body = stmt.children[-1]
            if len(stmt.children) == 2:
                severity = Severity(stmt.children[0].data)
            c = self.check(body, target, severity)
            if c is not None:
                checks.append(c)
        return Expectation(span=self.sp(target_tok), target=target, checks=tuple(checks))

    def check(self, tree: Tree, target: str, severity: Severity) -> Check | None:
        kind, toks, span = tree.data, self.tokens(tree), self.sp(tree)
        base = {"span": span, "target": target, "severity": severity}
        if kind in ("unique", "not_null"):
            return Check(kind=CheckKind(kind), columns=self.names(tree.children[0]), **base)
        if kind == "range":
            values: dict[str, float | None] = {"min": None, "max": None}
            col_tok = toks[0]
            for b in tree.children[1:]:
                values[b.data.removeprefix("range_")] = self.quantity(b.children[0], q.parse_number)
            if values["min"] is None and values["max"] is None:
                self.d.add("E114", span, what="range", field="a bound", hint="write `range COLUMN MIN .. MAX`")
                return None
            if values["min"] is not None and values["max"] is not None and values["min"] > values["max"]:
                self.d.add("E112", span, what="range", value=f"{values['min']:g} .. {values['max']:g}",
                           hint="the minimum must not exceed the maximum")
            return Check(kind=CheckKind.range, columns=(str(col_tok),), min=values["min"], max=values["max"], **base)
        if kind == "accepted_values":
            return Check(kind=CheckKind.accepted_values, columns=(str(toks[0]),),
                         values=tuple(unquote(t) for t in toks[1:]), **base)
        if kind == "regex":
            import re as _re
            pattern = unquote(toks[1])
            try:
                _re.compile(pattern)
            except _re.error as e:
                self.d.add("E112", self.sp(toks[1]), what="regular expression", value=pattern, hint=str(e))
            return Check(kind=CheckKind.regex, columns=(str(toks[0]),), pattern=pattern, **base)
        if kind == "relationships":
            return Check(kind=CheckKind.relationships, columns=(str(toks[0]),),
                         reference=Reference(span=span, node=str(toks[1]), column=str(toks[2])), **base)
        if kind == "freshness":
            age = self.quantity(toks[0], q.parse_duration)
            cols = (str(toks[1]),) if len(toks) > 1 else ()
            return Check(kind=CheckKind.freshness, max_age=age, columns=cols, **base)
        if kind == "row_count":
            cmp, amount = str(toks[0]), toks[1]
            number = self.quantity(amount, q.parse_number)
            if len(toks) > 2:
                baseline = str(toks[2])
                if baseline not in ("avg_7d", "avg_30d", "avg_1d"):
                    self.d.add("E112", self.sp(toks[2]), what="row-count baseline", value=baseline,
                               hint=did_you_mean(baseline, ("avg_7d", "avg_30d", "avg_1d")))
                return Check(kind=CheckKind.volume_anomaly, comparison=cmp, threshold=number, baseline=baseline,
                             **base)
            return Check(kind=CheckKind.row_count, comparison=cmp, threshold=number, **base)
        if kind == "reconcile":
            measure, against, tol = toks
            tolerance = self.quantity(tol, q.parse_percent)
            if str(measure) not in ("count", "sum"):
                self.d.add("E112", self.sp(measure), what="reconciliation measure", value=str(measure),
                           hint="reconcile `count` (row counts)")
            return Check(kind=CheckKind.reconcile, measure=str(measure), against=str(against), tolerance=tolerance,
                         **base)
        if kind == "custom_sql":
            name_tok, sql_tok = toks
            sp = self.sp(sql_tok)
            sql = SqlText(span=Span(file=sp.file, line=sp.line, column=sp.column + 3, end_line=sp.end_line,
                                    end_column=sp.end_column), text=str(sql_tok)[3:-3])
            return Check(kind=CheckKind.custom_sql, name=str(name_tok), sql=sql, **base)
        return None
