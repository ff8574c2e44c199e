"""Hypothesis strategies that write valid .stream specs from the grammar's concepts, tracking names and columns."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

# Name parts: a curated word, then an optional `_suffix`, so no name is a grammar keyword or an SQL reserved word.
NODE_WORDS = ("orders", "customers", "events", "payments", "items", "clicks", "visits", "stores", "invoices",
              "shipments", "products", "refunds", "accounts", "tickets", "ledger")
COLUMN_WORDS = ("amount", "total", "quantity", "price", "status", "region", "category", "created_at", "updated_at",
                "event_ts", "note", "code", "score", "flag", "label", "country", "store_id", "customer_id",
                "email", "phone", "weight", "channel", "source_ref", "batch_no", "tax")
PREFIXES = ("stg_", "int_", "fct_", "dim_", "rpt_")
SUFFIX = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)

# column types by what they hold: (spelling in the spec, kind)
TYPES = {
    "int": ("bigint", "integer", "smallint", "int8", "long"),
    "num": ("numeric", "decimal", "numeric(10, 2)", "numeric(18,4)", "double", "real", "float"),
    "text": ("text", "string", "varchar(64)", "char(3)", "varchar(255)"),
    "time": ("timestamp", "timestamptz", "datetime", "timestamp(3)"),
    "date": ("date",),
    "bool": ("boolean", "bool"),
    "other": ("uuid", "json", "jsonb", "bytes"),
}
NUMERIC_KINDS = ("int", "num")
CURSOR_INT_TYPES = ("bigint", "integer", "int8", "long")  # an incremental cursor: a timestamp or a wide integer
DURATIONS = ("500ms", "30s", "45sec", "5m", "15min", "1h", "2hour", "1d", "7day", "2w", "1week", "1y", "3year",
             "0s", "1ms", "0.5s", "90s", "25h", "1000y")
RATES = ("10/s", "100/sec", "100/min", "3600/h", "50000/day", "2000000/d", "5/hour", "0/s", "0.5/day", "1000000000/s")
SIZES = ("512B", "1KB", "2kb", "10MB", "1GB", "1TB", "0B", "1PB")
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # rejected in specs (E140)
STRING_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\' + BIDI_CONTROLS)


@dataclass
class Col:
    name: str
    kind: str  # a key of TYPES, or "enum"
    event_time: bool = False
    values: tuple[str, ...] = ()  # enum members / accepted values
    type_text: str = ""  # as written in the spec (sources only)


@dataclass
class Node:
    name: str
    kind: str  # source | model
    columns: list[Col]
    key: tuple[str, ...] = ()  # primary key / grain
    keyed: bool = True  # the key is declared (a primary key, a `grain`): a sink can write it idempotently

    def cols(self, *kinds: str) -> list[Col]:
        return [c for c in self.columns if not kinds or c.kind in kinds]


@dataclass
class GeneratedSpec:
    text: str
    nodes: dict[str, Node] = field(default_factory=dict)
    batch: bool = False  # written in the scheduled-batch profile


class Names:
    """Unique names across the spec (compared case-insensitively, like the compiler)."""

    def __init__(self, draw):
        self.draw = draw
        self.used: set[str] = set()

    def new(self, words, prefix: str = "") -> str:
        for attempt in range(50):
            base = prefix + self.draw(st.sampled_from(words))
            if attempt or self.draw(st.booleans()):
                base += "_" + self.draw(SUFFIX)
            if self.draw(st.integers(0, 19)) == 0:  # now and then a long name, up to the 63-character limit
                base = (base + "_" + "x" * 63)[:63]
            if base.lower() not in self.used:
                self.used.add(base.lower())
                return base
        raise AssertionError("name space exhausted")


def string_literal(draw, max_size: int = 30, min_size: int = 0) -> str:
    """A "..." literal with escapes and arbitrary printable text (quotes, braces, jinja, YAML, unicode)."""
    parts = draw(st.lists(st.one_of(
        st.text(STRING_CHARS, max_size=8),
        st.sampled_from(('\\"', "\\\\", "\\n", "\\t", "{{ x }}", "%s", "'", "${HOME}", ": -", "*/", "`", "日本",
                         "é", "🙂", "#", "\\u0041")),
    ), min_size=min_size, max_size=max(max_size // 4, min_size)))
    return '"' + "".join(parts) + '"'


@st.composite
def layouts(draw) -> dict:
    """Whitespace and comment style of one spec."""
    return {"nl": draw(st.sampled_from(("\n", "\n", "\r\n", "\r"))),
            "indent": draw(st.sampled_from(("  ", "    ", "\t", " "))),
            "gap": draw(st.sampled_from((" ", "  ", "\t", "      "))),
            "comments": draw(st.booleans())}


class Writer:
    def __init__(self, draw, layout: dict):
        self.draw, self.layout = draw, layout
        self.lines: list[str] = []

    def comment(self) -> str:
        if self.layout["comments"] and self.draw(st.integers(0, 3)) == 0:
            return "  # " + self.draw(st.text(STRING_CHARS, max_size=20)).replace("\r", "").replace("\n", "")
        return ""

    def block(self, header: str, props: list[str], inline: bool = False) -> None:
        """`header { props }` on one line, or one property a line; property order is shuffled."""
        props = self.draw(st.permutations(props)) if props else []
        free_text = ("select", "where", "measure")  # SQL lines run to the end of the line: never inline
        if inline and all("\n" not in p and '"""' not in p and "#" not in p and p.split()[0] not in free_text
                          for p in props):
            self.lines.append(f"{header} {{ {' '.join(props)} }}{self.comment()}")
            return
        self.lines.append(header + " {" + self.comment())
        ind = self.layout["indent"]
        for p in props:
            self.lines.append(ind + p.replace("\n", "\n" + ind) + ("" if "\n" in p else self.comment()))
        self.lines.append("}")
        if self.draw(st.booleans()):
            self.lines.append("")

    def prop(self, key: str, value: str) -> str:
        return f"{key}{self.layout['gap']}{value}"

    def text(self) -> str:
        return self.layout["nl"].join(line.replace("\n", self.layout["nl"]) for line in self.lines) + self.layout["nl"]


def pick(draw, items, min_size=1, max_size=None):
    """A few distinct items, in drawn order."""
    items = list(items)
    if not items:
        return []
    upper = min(max_size or len(items), len(items))
    indexes = draw(st.lists(st.integers(0, len(items) - 1), min_size=min(min_size, upper), max_size=upper,
                            unique=True))
    return [items[i] for i in indexes]


# ---------------------------------------------------------------- sources


def column_decl(draw, w: Writer, names: Names, col_names: set[str], source_names: list[tuple[str, str]],
                allow_event_time: bool) -> tuple[str, Col]:
    while True:
        name = draw(st.sampled_from(COLUMN_WORDS))
        if draw(st.booleans()):
            name += "_" + draw(SUFFIX)
        if name not in col_names:
            col_names.add(name)
            break
    kind = draw(st.sampled_from(("int", "num", "text", "text", "time", "date", "bool", "other", "enum")))
    values: tuple[str, ...] = ()
    if kind == "enum":
        values = tuple(draw(st.lists(st.sampled_from(("new", "paid", "sent", "lost", "open", "a-b", "x y")),
                                     min_size=1, max_size=4, unique=True)))
        type_text = "enum(" + ", ".join(f'"{v}"' for v in values) + ")"
    else:
        type_text = draw(st.sampled_from(TYPES[kind]))
    event_time = allow_event_time and kind in ("time", "date") and draw(st.booleans())
    cons: list[str] = []
    if draw(st.booleans()):
        cons.append("not null")
    if draw(st.integers(0, 5)) == 0:
        cons.append("unique")
    if kind in ("text", "enum") and draw(st.booleans()):
        accepted = values[: draw(st.integers(1, len(values)))] if values else tuple(
            draw(st.lists(st.sampled_from(("EU", "US", "JP", "unknown", "n/a")), min_size=1, max_size=3, unique=True)))
        values = accepted
        cons.append("in (" + ", ".join(f'"{v}"' for v in accepted) + ")")
    if kind in NUMERIC_KINDS and draw(st.booleans()):
        cons.append(draw(st.sampled_from((f"check ({name} >= 0)", f"check ({name} between 0 and 100)",
                                          f"check (({name} > 0) or ({name} is null))"))))
    if kind == "text" and draw(st.integers(0, 3)) == 0:
        strategy = draw(st.sampled_from(("hash", "mask", "encrypt", "keep")))
        cons.append('pii(keep "kept: ' + string_literal(draw)[1:] + ")" if strategy == "keep" else f"pii({strategy})")
    if kind == "int" and source_names and draw(st.integers(0, 3)) == 0:
        node, key = draw(st.sampled_from(source_names))
        cons.append(f"references {node}.{key}")
    if event_time:
        cons.append("event_time")
        if draw(st.booleans()):
            cons.append(f"lateness {draw(st.sampled_from(('30s', '1m', '5m', '1h')))}")
    if draw(st.integers(0, 5)) == 0:
        cons.append(f"description {string_literal(draw)}")
    line = f"{name}{w.layout['gap']}{type_text}" + "".join(" " + c for c in cons)
    return line, Col(name=name, kind=kind, event_time=event_time, values=values, type_text=type_text)


def source_block(draw, w: Writer, names: Names, conns: dict[str, str], nodes: dict[str, Node],
                 batch: bool = False) -> Node:
    conn_name = draw(st.sampled_from(sorted(n for n, k in conns.items() if k in SOURCE_KINDS)))
    kind = conns[conn_name]
    name = names.new(NODE_WORDS)
    key_type = draw(st.sampled_from(("bigint", "integer", "text", "uuid", "string")))
    key_name = draw(st.sampled_from(("id", "pk", f"{name.split('_')[0]}_id")))
    col_names = {key_name}
    lines = [f"{key_name}{w.layout['gap']}{key_type}{w.layout['gap']}primary key"]
    cols = [Col(key_name, "int" if key_type in ("bigint", "integer") else "text", type_text=key_type)]
    refs = [(n.name, n.key[0]) for n in nodes.values() if n.kind == "source" and n.key]
    has_event_time = False
    for _ in range(draw(st.integers(1, 6))):
        line, col = column_decl(draw, w, names, col_names, refs, not has_event_time)
        has_event_time = has_event_time or col.event_time
        lines.append(line)
        cols.append(col)
    if batch and "loaded_at" not in col_names:  # a change cursor: incremental loads and freshness checks
        lines.append(f"loaded_at{w.layout['gap']}timestamp not null")
        cols.append(Col("loaded_at", "time", type_text="timestamp"))
    cursor = [c.name for c in cols if c.kind in ("time", "date") or c.type_text in CURSOR_INT_TYPES]
    props: list[str] = []
    if kind in ("postgres", "mysql", "sqlserver", "snowflake", "bigquery", "duckdb"):
        props.append(w.prop("table", f"{draw(st.sampled_from(('public', 'raw', 'dbo', 'app')))}.{name}"))
        captures = ["full"] + [f"incremental({c})" for c in cursor]
        if kind in ("postgres", "mysql", "sqlserver"):
            captures.append("cdc")
        if batch:
            props.append(w.prop("capture", "incremental(loaded_at)"))
        elif draw(st.integers(0, 4)):
            props.append(w.prop("capture", draw(st.sampled_from(captures))))
    elif kind == "kafka":
        props.append(w.prop("topic", f'"{draw(st.sampled_from(NODE_WORDS))}.{name}.v1"'))
    elif kind == "http":
        props.append(w.prop("endpoint", f'{draw(st.sampled_from(("GET ", "POST ", "")))}"/{name}"'))
        if draw(st.booleans()):
            auth = draw(st.sampled_from(("oauth2", "api_key", "basic", "bearer", "none")))
            props.append(w.prop("auth", auth + (f" secret {name}_secret" if auth != "none" else "")))
        if draw(st.booleans()):
            props.append(w.prop("pagination", draw(st.sampled_from(("cursor", "offset", "page", "link", "none")))))
        if cursor and draw(st.booleans()):
            props.append(w.prop("incremental", draw(st.sampled_from(cursor))))
        if draw(st.booleans()):
            props.append(w.prop("rate_limit", draw(st.sampled_from(RATES))))
        if draw(st.booleans()):
            props.append(w.prop("every", draw(st.sampled_from(("5m", "15m", "1h")))))
        if draw(st.booleans()):
            props.append(w.prop("initial_load", draw(st.sampled_from(("7d", "90d", "1y")))))
    else:  # s3 / gcs file drops
        fmt = draw(st.sampled_from(("parquet", "json", "csv", "avro", "orc", "jsonl")))
        props.append(w.prop("path", f'"raw/{name}/{{date}}/data.{fmt}"'))
        props.append(w.prop("format", fmt))
        if draw(st.booleans()):
            props.append(w.prop("arrives", f"daily by {draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
                                + draw(st.sampled_from(("", " UTC", " Europe_Paris")))))
            if draw(st.booleans()):
                props.append(w.prop("timeout", draw(st.sampled_from(("30m", "1h", "2h")))))
    if draw(st.booleans()):
        props.append(w.prop("volume", draw(st.sampled_from(RATES))))
    if draw(st.booleans()):
        props.append(w.prop("peak", draw(st.sampled_from(RATES))))
    if draw(st.booleans()):
        props.append(w.prop("avg_size", draw(st.sampled_from(SIZES))))
    if draw(st.booleans()):
        props.append(w.prop("retention", draw(st.sampled_from(DURATIONS))))
    if draw(st.booleans()):
        props.append(w.prop("freshness", draw(st.sampled_from(("", "< ", "<= "))) + draw(st.sampled_from(DURATIONS))))
    if draw(st.integers(0, 3)) == 0:
        props.append(w.prop("description", string_literal(draw)))
    props.append("columns {\n" + "\n".join(w.layout["indent"] + ln + w.comment() for ln in lines) + "\n}")
    w.block(f"source {name} from {conn_name}", props)
    return Node(name=name, kind="source", columns=cols, key=(key_name,))


SOURCE_KINDS = ("postgres", "mysql", "sqlserver", "snowflake", "bigquery", "duckdb", "kafka", "http", "s3", "gcs")
WAREHOUSE_KINDS = ("snowflake", "bigquery", "duckdb")


# ---------------------------------------------------------------- models


def model_block(draw, w: Writer, names: Names, nodes: dict[str, Node], batch: bool = False) -> Node:
    inputs = list(nodes.values())
    base = draw(st.sampled_from(inputs))
    name = names.new(NODE_WORDS, draw(st.sampled_from(PREFIXES)))
    props: list[str] = []
    shape = draw(st.sampled_from(("shorthand", "shorthand", "select", "join", "aggregate")))
    cols: list[Col] = []
    grain: tuple[str, ...] = ()
    if shape in ("shorthand", "select"):
        chosen = [c for c in base.columns if c.name in base.key] + pick(draw, [c for c in base.columns
                                                                             if c.name not in base.key])
        exprs = []
        for c in chosen:
            if c.name not in base.key and draw(st.integers(0, 3)) == 0:
                alias = c.name + "_" + draw(SUFFIX)
                exprs.append(f"{c.name} as {alias}")
                cols.append(Col(alias, c.kind, c.event_time, c.values))
            else:
                exprs.append(c.name)
                cols.append(Col(c.name, c.kind, c.event_time, c.values))
        grain = base.key
        numeric = base.cols(*NUMERIC_KINDS)
        cond = f"{numeric[0].name} >= 0" if numeric and draw(st.booleans()) else None
        if shape == "shorthand":
            split = draw(st.integers(0, len(exprs)))
            select = ", ".join(exprs[:split]) + (",\n" + w.layout["indent"] if 0 < split < len(exprs) else "") \
                + ", ".join(exprs[split:])
            props.append(w.prop("select", select))
            if cond:
                props.append(w.prop("where", cond))
            header = f"model {name} from {base.name}"
        else:
            sql = f"select {', '.join(exprs)}\nfrom {base.name}" + (f"\nwhere {cond}" if cond else "")
            props.append('sql """\n' + sql + '\n"""')
            header = f"model {name}"
    elif shape == "join":
        others = [n for n in inputs if n.name != base.name and n.key] or [base]
        other = draw(st.sampled_from(others))
        a_cols = [c for c in base.columns]
        b_cols = [c for c in other.columns if c.name not in {x.name for x in a_cols}]
        exprs = [f"a.{c.name}" for c in a_cols] + [f"b.{c.name}" for c in pick(draw, b_cols, 0, 3)]
        cols = list(a_cols) + [c for c in b_cols if f"b.{c.name}" in exprs]
        join_key = base.key[0]
        join = draw(st.sampled_from(("join", "left join", "inner join")))
        sql = (f"select {', '.join(exprs)}\nfrom {base.name} a\n{join} {other.name} b "
               f"on a.{join_key} = b.{other.key[0]}")
        props.append('sql """' + sql + '"""')
        grain = base.key
        header = f"model {name}"
        cols = [Col(c.name, c.kind, c.event_time, c.values) for c in cols]
    else:
        dims = pick(draw, [c for c in base.columns if c.kind in ("text", "int", "date", "enum")], 1, 2) \
            or [base.columns[0]]
        numeric = base.cols(*NUMERIC_KINDS)
        aggs = ["count(*) as row_total"]
        cols = [Col(d.name, d.kind, False, d.values) for d in dims] + [Col("row_total", "int")]
        if numeric:
            m = draw(st.sampled_from(numeric))
            fn = draw(st.sampled_from(("sum", "avg", "min", "max")))
            aggs.append(f"{fn}({m.name}) as {fn}_value")
            cols.append(Col(f"{fn}_value", "num"))
        dim_list = ", ".join(d.name for d in dims)
        props.append('sql """\n  select ' + dim_list + ", " + ", ".join(aggs) + f"\n  from {base.name}\n"
                     f"  group by {dim_list}\n" + '"""')
        grain = tuple(d.name for d in dims)
        header = f"model {name}"
    keyed = bool(grain) and (batch or draw(st.integers(0, 3)) > 0)
    if keyed:
        props.append(w.prop("grain", ", ".join(grain)))
    times = [c for c in cols if c.kind in ("time", "date")]
    if times and draw(st.integers(0, 3)) == 0:
        t = draw(st.sampled_from(times))
        props.append(w.prop("partition", f"by {draw(st.sampled_from(('day', 'hour', 'month', 'year')))}({t.name})"))
    if draw(st.integers(0, 3)) == 0:
        props.append(w.prop("cluster", "by " + ", ".join(c.name for c in pick(draw, cols, 1, 2))))
    if draw(st.integers(0, 4)) == 0:
        props.append(w.prop("materialized", draw(st.sampled_from(("view", "table") if batch else
                                                                 ("view", "table", "incremental", "ephemeral")))))
    if draw(st.integers(0, 4)) == 0:
        props.append(w.prop("layer", draw(st.sampled_from(("staging", "intermediate", "mart", "bronze", "silver",
                                                           "gold")))))
    if keyed and times and draw(st.integers(0, 4)) == 0:
        props.append(w.prop("history", f"scd2 by {draw(st.sampled_from(times)).name}"))
    if draw(st.integers(0, 4)) == 0:
        props.append(w.prop("description", string_literal(draw)))
    w.block(header, props)
    return Node(name=name, kind="model", columns=cols, key=grain, keyed=keyed)


# ---------------------------------------------------------------- metrics, sinks, expectations


def metric_block(draw, w: Writer, names: Names, nodes: dict[str, Node]) -> tuple[str, bool]:
    """Returns the metric's name and whether it has a key (dimensions) to be stored by."""
    base = draw(st.sampled_from(list(nodes.values())))
    name = names.new(("revenue", "throughput", "activity", "volume", "spend"), "")
    measures = ["count(*) as events"]
    numeric = base.cols(*NUMERIC_KINDS)
    if numeric and draw(st.booleans()):
        c = draw(st.sampled_from(numeric))
        fn = draw(st.sampled_from(("sum", "avg", "min", "max")))
        measures.append(f"{fn}({c.name}) as {fn}_{c.name}")
    if draw(st.booleans()):
        measures.append(f"count(distinct {draw(st.sampled_from(base.columns)).name}) as distinct_values")
    props = [w.prop("measure", ", ".join(draw(st.permutations(measures))))]
    dims = [c for c in base.columns if c.kind in ("text", "enum", "int")]
    keyed = bool(dims) and draw(st.booleans())
    if keyed:
        props.append(w.prop("by", ", ".join(c.name for c in pick(draw, dims, 1, 2))))
    windowed = any(c.event_time for c in base.columns) and draw(st.booleans())
    if windowed:
        props.append(w.prop("window", draw(st.sampled_from(("tumbling 1m", "tumbling 5min", "hopping 5m every 1m",
                                                           "session gap 30m", "cumulate 1d step 1h")))))
    if numeric and draw(st.integers(0, 3)) == 0:
        props.append(w.prop("where", f"{numeric[0].name} > 0"))
    w.block(f"metric {name} from {base.name}", props, inline=draw(st.booleans()))
    return name, keyed


def expectation_block(draw, w: Writer, node: Node, nodes: dict[str, Node], batch: bool = False) -> None:
    checks: list[str] = []
    if node.key and draw(st.integers(0, 3)):
        checks.append(w.prop("unique", ", ".join(node.key)))
    if draw(st.booleans()):
        checks.append(w.prop("not_null", ", ".join(c.name for c in pick(draw, node.columns, 1, 3))))
    numeric = node.cols(*NUMERIC_KINDS)
    if numeric and draw(st.booleans()):
        lo = draw(st.sampled_from(("0", "-5", "0.5", "")))
        hi = draw(st.sampled_from(("100", "10000000", "99.9", "" if lo else "1")))
        checks.append(w.prop("range", f"{draw(st.sampled_from(numeric)).name} {lo} .. {hi}".replace("  ", " ")))
    texts = node.cols("text", "enum")
    if texts and draw(st.booleans()):
        c = draw(st.sampled_from(texts))
        values = c.values or ("a", "b")
        checks.append(w.prop("accepted_values", f"{c.name} in (" + ", ".join(f'"{v}"' for v in values) + ")"))
    if texts and draw(st.integers(0, 3)) == 0:
        checks.append(w.prop("regex", f'{draw(st.sampled_from(texts)).name} "^[A-Z]{{2}}-[0-9]+$"'))
    refs = [n for n in nodes.values() if n.key and n.name != node.name]
    ints = [c for c in node.columns if c.kind in ("int", "text")]
    if refs and ints and draw(st.integers(0, 3)) == 0:
        r = draw(st.sampled_from(refs))
        checks.append(w.prop("relationships", f"{draw(st.sampled_from(ints)).name} -> {r.name}.{r.key[0]}"))
    times = node.cols("time", "date")
    if draw(st.integers(0, 2)) == 0 and (times or not batch):
        by = f" by {draw(st.sampled_from(times)).name}" if times and (batch or draw(st.booleans())) else ""
        checks.append(w.prop("freshness", draw(st.sampled_from(("1h", "24h", "2d"))) + by))
    if draw(st.integers(0, 2)) == 0:
        checks.append(w.prop("row_count", draw(st.sampled_from(("> 0", ">= 1", "> 100")))))
    if not batch and draw(st.integers(0, 3)) == 0:
        baseline = draw(st.sampled_from(("avg_7d", "avg_30d", "avg_1d")))
        checks.append("warn " + w.prop("row_count", f">= 0.8 * {baseline}"))
    sources = [n for n in nodes.values() if n.kind == "source"]
    if sources and not batch and draw(st.integers(0, 3)) == 0:
        checks.append(w.prop("reconcile", f"count with {draw(st.sampled_from(sources)).name} within "
                             + draw(st.sampled_from(("1%", "0.5%", "5%")))))
    if numeric and draw(st.integers(0, 3)) == 0:
        checks.append(f'sql no_negative_{draw(SUFFIX)} """select * from {node.name} where {numeric[0].name} < 0"""')
    if not checks:
        checks.append(w.prop("row_count", "> 0"))
    checks = [(draw(st.sampled_from(("", "", "warn ", "error "))) + c) if not c.startswith("warn") else c
              for c in checks]
    w.block(f"expect {node.name}", checks, inline=draw(st.integers(0, 3)) == 0)


# ---------------------------------------------------------------- whole specs


@st.composite
def valid_specs(draw) -> GeneratedSpec:
    """A spec that should compile: every name it uses is defined, every column it reads exists.

    Half of them are plain scheduled batch pipelines (database sources with a change cursor, models into one
    warehouse, the checks orchestrators express): most backends build those rather than report E120."""
    w = Writer(draw, draw(layouts()))
    batch = draw(st.booleans())
    names = Names(draw)
    if w.layout["comments"]:
        w.lines.append("# generated spec " + draw(st.text(STRING_CHARS, max_size=20)).replace("\r", ""))

    pipeline = [w.prop("owner", string_literal(draw))]
    if draw(st.booleans()):
        pipeline.append(w.prop("domain", draw(st.sampled_from(("ecommerce", "finance", "web", "ops")))))
    if draw(st.booleans()):
        pipeline.append(w.prop("tier", draw(st.sampled_from(("critical", "important", "standard")))))
    if draw(st.booleans()):
        pipeline.append(w.prop("latency", draw(st.sampled_from(("< ", "<= "))) + draw(st.sampled_from(DURATIONS))))
    if batch or draw(st.booleans()):
        pipeline.append(w.prop("schedule", draw(st.one_of(
            st.builds(lambda h, m, tz: f"daily at {h:02d}:{m:02d}{tz}", st.integers(0, 23), st.integers(0, 59),
                      st.sampled_from(("", " UTC", " Asia_Tokyo"))),
            st.just("hourly"),
            st.builds(lambda d, h: f"weekly on {d} at {h:02d}:30", st.sampled_from(("monday", "friday", "sunday")),
                      st.integers(0, 23)),
            st.builds(lambda d: f"every {d}", st.sampled_from(("5m", "15m", "1h", "6h"))),
            st.sampled_from(('cron "0 6 * * *"', 'cron "*/15 * * * 1-5"') + (() if batch else ("continuous",)))))))
    if draw(st.integers(0, 4)) == 0:
        pipeline.append(w.prop("mode", "batch" if batch else draw(st.sampled_from(("batch", "streaming", "hybrid")))))
    if draw(st.integers(0, 3)) == 0:
        pipeline.append(w.prop("replay", draw(st.sampled_from(("1d", "7d", "14d")))))
    acks = pick(draw, ("realtime", "pii", "large_volume", "cross_region"), 0)
    if acks:
        pipeline.append(w.prop("acknowledge", ", ".join(acks)))
    if draw(st.integers(0, 3)) == 0:
        pipeline.append(w.prop("description", string_literal(draw)))
    w.block(f"pipeline {names.new(NODE_WORDS)}", pipeline, inline=draw(st.integers(0, 3)) == 0)

    conns: dict[str, str] = {}
    for kind in pick(draw, SOURCE_KINDS[:3] if batch else SOURCE_KINDS, 1, 3):  # batch: databases, one warehouse
        conns[names.new(("db", "src", "feed", "api", "lake"))] = kind
    warehouse = draw(st.sampled_from(WAREHOUSE_KINDS + ("postgres",)))
    wh_name = names.new(("warehouse", "dw", "marts"))
    conns[wh_name] = warehouse
    extra_targets = [] if batch else pick(draw, ("kafka", "redis"), 0)
    for kind in extra_targets:
        conns[names.new(("bus", "cache", "stream"))] = kind
    for cname, kind in conns.items():
        settings = []
        if draw(st.booleans()):
            settings.append(f'database "{draw(st.sampled_from(NODE_WORDS))}"')
        if draw(st.booleans()):
            settings.append(f"credentials secret {cname}_credentials")
        if kind in ("s3", "gcs") and draw(st.booleans()):
            settings.append('bucket "raw-drops" region "eu-west-1"')
        if draw(st.integers(0, 4)) == 0:
            settings.append(f"pool_size {draw(st.integers(1, 64))}")
        role = " as warehouse" if cname == wh_name and kind == "postgres" else ""
        line = f"connection {cname}{w.layout['gap']}{kind}{role}"
        if settings:
            line += " { " + " ".join(settings) + " }"
        w.lines.append(line + w.comment())
    for env in pick(draw, ("dev", "staging", "prod"), 0):
        targets = [f"kafka.replication {draw(st.integers(1, 3))}"] + [
            f'{c}.schema "{env}_{draw(st.sampled_from(NODE_WORDS))}"' for c in pick(draw, conns, 0, 2)]
        w.lines.append(f"env {env} {{ {' '.join(targets)} }}")

    nodes: dict[str, Node] = {}
    for _ in range(draw(st.integers(1, 3))):
        n = source_block(draw, w, names, conns, nodes, batch)
        nodes[n.name] = n
    models = []
    for _ in range(draw(st.integers(1 if batch else 0, 3))):
        n = model_block(draw, w, names, nodes, batch)
        nodes[n.name] = n
        models.append(n.name)
    metrics = []
    for _ in range(0 if batch else draw(st.integers(0, 2))):
        metrics.append(metric_block(draw, w, names, nodes))

    keyed_models = [m for m in models if nodes[m].keyed]
    if keyed_models and (batch or draw(st.integers(0, 3))):
        props = [w.prop("models", ", ".join(pick(draw, keyed_models)))]
        if draw(st.integers(0, 3)) == 0:
            props.append(w.prop("mode", draw(st.sampled_from(("upsert", "merge")))))
        w.block(f"sink {names.new(('marts', 'warehouse_out', 'reporting'))} to {wh_name}", props,
                inline=draw(st.booleans()))
    bus = next((c for c, k in conns.items() if k == "kafka"), None)
    if bus and draw(st.booleans()):
        props = [w.prop("sources", ", ".join(pick(draw, [n for n, v in nodes.items() if v.kind == "source"])))]
        for _ in range(draw(st.integers(0, 2))):
            props.append(w.prop("consumer", f"{names.new(('billing', 'search', 'audit'))} for "
                                f"{draw(st.sampled_from(('invoicing', 'indexing', 'compliance')))}"))
        w.block(f"sink {names.new(('feed', 'events_out'))} to {bus}", props)
    cache = next((c for c, k in conns.items() if k == "redis"), None)
    keyed_metrics = [m for m, keyed in metrics if keyed]
    if cache and keyed_metrics and draw(st.booleans()):
        chosen = pick(draw, keyed_metrics)
        w.block(f"sink {names.new(('live', 'dashboard'))} to {cache}",
                [w.prop("metrics", ", ".join(chosen)), w.prop("ttl", draw(st.sampled_from(("1h", "10m", "1d"))))],
                inline=True)

    targets = pick(draw, list(nodes.values()), 1, 3)
    for node in targets:
        expectation_block(draw, w, node, nodes, batch)
    return GeneratedSpec(text=w.text(), nodes=nodes, batch=batch)
