"""SCHEMA_TO_STREAM_HANDOFF -> spec: source tables with their contracts, destination models, quality requirements."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import phrases as ph
from .draft import Draft
from .yaml_nodes import Node

TOP = {"source_models": "the source tables", "destination_requirements": "the warehouse and its models",
       "data_volume": "daily rows, peak rate, retention", "quality_requirements": "the quality rules"}
TABLE = {"table": "table name", "schema": "schema", "database": "database", "columns": "columns",
         "indexes": "indexes", "estimated_rows": "row count", "daily_growth": "rows added per day",
         "primary_key": "key columns", "description": "description"}
COLUMN = {"name": "column name", "type": "SQL type", "primary_key": "true for a key column",
          "foreign_key": "table.column it references", "nullable": "false for not null", "not_null": "true",
          "unique": "true", "description": "description", "pii": "hash | mask | drop | encrypt | keep"}
DEST = {"warehouse": "snowflake | bigquery | postgres | duckdb", "schema": "target schema", "models": "models",
        "database": "database"}
MODEL = {"name": "model name", "grain": "key column(s)", "partitioning": "column (daily|hourly|monthly)",
         "clustering": "columns", "description": "description", "source": "source table"}
VOLUME = {"daily_rows": "rows per day", "peak_rate": "e.g. 100 rows/second", "retention": "e.g. 3 years"}
WAREHOUSES = {"snowflake", "bigquery", "postgres", "duckdb"}
GRANULARITY = {"daily": "day", "day": "day", "hourly": "hour", "hour": "hour", "monthly": "month", "month": "month",
               "yearly": "year", "year": "year"}


@dataclass
class Table:
    name: str
    schema: str
    database: str
    columns: list[tuple[str, str, list[str]]] = field(default_factory=list)  # name, type, constraints
    notes: list[str] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    daily: str | None = None
    node: Node | None = None

    def has(self, column: str) -> bool:
        return any(c[0] == column for c in self.columns)


def _table(n: Node) -> Table:
    n.mapping().close(TABLE)
    t = Table(name=ph.name(n.require("table", "the table name").text()),
              schema=(n.get("schema").text() if n.get("schema") else "public"),
              database=(n.get("database").text() if n.get("database") else ""), node=n)
    for c in n.require("columns", "a list of {name, type}").items():
        c.mapping().close(COLUMN)
        cname = ph.name(c.require("name", "the column name").text())
        tnode = c.require("type", "its SQL type, e.g. bigint")
        parsed = ph.column_type(tnode.text())
        if parsed is None:
            tnode.invalid("a SQL type such as bigint, text, numeric(10,2), timestamp")
        cons: list[str] = []
        if c.get("primary_key") and c.get("primary_key").boolean():
            cons.append("primary key")
            t.key.append(cname)
        elif (c.get("nullable") and not c.get("nullable").boolean()) or (c.get("not_null") and c.get("not_null").boolean()):
            cons.append("not null")
        if c.get("unique") and c.get("unique").boolean():
            cons.append("unique")
        fk = c.get("foreign_key")
        if fk is not None:
            target = fk.text()
            if "." not in target:
                fk.invalid("table.column")
            cons.append(f"@fk {target}")
        pii = c.get("pii")
        if pii is not None:
            strategy = pii.text().lower()
            if strategy not in ("hash", "mask", "drop", "encrypt", "keep"):
                pii.invalid("hash, mask, drop, encrypt or keep")
            cons.append(f"pii({strategy})" if strategy != "keep" else 'pii(keep "stated in the schema handoff")')
        desc = c.get("description")
        if desc is not None:
            cons.append(f"description {ph.string(desc.text())}")
        t.columns.append((cname, ph.type_text(*parsed), cons))
    pk = n.get("primary_key")
    if pk is not None:
        for k in pk.texts():
            t.key.append(ph.name(k))
    idx = n.get("indexes")
    if idx is not None:
        for i in idx.items():
            i.mapping().close({"columns": "indexed columns", "unique": "true for a unique index", "name": "name"})
            cols = [ph.name(x) for x in i.require("columns", "the indexed columns").texts()]
            unique = i.get("unique") is not None and i.get("unique").boolean()
            t.notes.append(f"index on {', '.join(cols)}{' (unique)' if unique else ''} in the source")
    growth = n.get("daily_growth")
    if growth is not None:
        t.daily = f"{int(growth.number())}/day"
    rows = n.get("estimated_rows")
    if rows is not None:
        t.notes.append(f"about {int(rows.number()):,} rows today")
    return t


def convert(root: Node, source_name: str) -> Draft:
    root.close(TOP)
    tables = [_table(n) for n in root.require("source_models", "a list of source tables").items()]
    if not tables:
        root.get("source_models").invalid("at least one table")
    dest = root.require("destination_requirements", "warehouse, schema and models").mapping()
    dest.close(DEST)
    wnode = dest.require("warehouse", "snowflake, bigquery, postgres or duckdb")
    warehouse = wnode.text().lower()
    if warehouse not in WAREHOUSES:
        wnode.invalid("snowflake, bigquery, postgres or duckdb")
    volume = root.get("data_volume")
    daily = peak = retention = None
    if volume is not None:
        volume.mapping().close(VOLUME)
        if volume.get("daily_rows") is not None:
            daily = f"{int(volume.get('daily_rows').number())}/day"
        if volume.get("peak_rate") is not None:
            peak = ph.rate(volume.get("peak_rate").text())
            if peak is None:
                volume.get("peak_rate").invalid("a rate such as 100 rows/second")
        if volume.get("retention") is not None:
            retention = ph.duration(volume.get("retention").text())
            if retention is None:
                volume.get("retention").invalid("a duration such as 3 years")
    rules = root.require("quality_requirements", "a list of rules such as `no duplicate order_id`")
    requirements = rules.items()
    if not requirements:
        rules.invalid("at least one rule, e.g. `no duplicate order_id`", value="[]")

    database = tables[0].database or tables[0].schema
    d = Draft(name=ph.name(f"{database}_{tables[0].name}"), origin=source_name, kind="SCHEMA_TO_STREAM")
    d.pipeline(tier="standard", latency="24h", schedule="daily at 06:00 UTC",
               notes=["latency and schedule: not in the schema handoff (a daily batch load assumed)"])
    db_conn = ph.name(database)
    d.connection(db_conn, "postgres", {"database": ph.string(database)}, secret=f"{db_conn}_credentials",
                 note="the source database's kind is not in the handoff: postgres assumed")
    settings = {"schema": ph.string(dest.get("schema").text())} if dest.get("schema") else {}
    if dest.get("database") is not None:
        settings["database"] = ph.string(dest.get("database").text())
    d.connection("warehouse", warehouse, settings)
    names = {t.name for t in tables}
    for i, t in enumerate(tables):
        capture = "incremental(updated_at)" if t.has("updated_at") else "full"
        props = [f"table {t.schema}.{t.name}" if t.schema else f"table {t.name}", f"capture {capture}"]
        vol = t.daily or (daily if i == 0 else None)
        if vol:
            props.append(f"volume {vol}" + (f" peak {peak}" if peak and i == 0 else ""))
        if retention and i == 0:
            props.append(f"retention {retention}")
        if not t.key:
            props.append("# no primary key in the handoff: add `key COLUMN` if the table has one")
        cols = []
        for cname, ctype, cons in t.columns:
            rendered = []
            for c in cons:
                if c.startswith("@fk "):
                    ref_table, _, ref_col = c[4:].partition(".")
                    if ph.name(ref_table) in names:
                        rendered.append(f"references {ph.name(ref_table)}.{ph.name(ref_col)}")
                    else:
                        t.notes.append(f"{cname} references {c[4:]}, a table not in this handoff")
                else:
                    rendered.append(c)
            cols.append((cname, ctype, rendered))
        d.source(t.name, db_conn, props, cols, t.notes)
    models = dest.get("models")
    model_names = []
    for m in models.items() if models is not None else []:
        model_names.append(_model(d, m, tables))
    if not model_names:
        for t in tables:
            d.model(f"stg_{t.name}", t.name, [c[0] for c in t.columns], {})
            model_names.append(f"stg_{t.name}")
        d.note("no destination models in the handoff: one staging model per source table is published")
    d.sink("warehouse_models", "warehouse", models=model_names)
    _requirements(d, requirements, tables, model_names)
    return d


def _model(d: Draft, m: Node, tables: list[Table]) -> str:
    m.mapping().close(MODEL)
    mname = ph.name(m.require("name", "the model name").text())
    src = m.get("source")
    table = None
    if src is not None:
        table = next((t for t in tables if t.name == ph.name(src.text())), None)
        if table is None:
            src.invalid("one of the source_models: " + ", ".join(t.name for t in tables))
    if table is None:  # the table whose name the model's name contains, else the first one
        table = next((t for t in tables if t.name in mname), tables[0])
    grain = [ph.name(g) for g in m.get("grain").texts()] if m.get("grain") else []
    renames: dict[str, str] = {}
    singular = table.name[:-1] if table.name.endswith("s") else table.name
    for g in grain:
        if not table.has(g):
            base = g.removeprefix(f"{singular}_")
            if table.has(base) and g != base:
                renames[base] = g  # order_id is the key `id` of table orders
            else:
                m.get("grain").invalid(f"columns of {table.name} ({', '.join(c[0] for c in table.columns)})",
                                       value=g)
    columns = [c[0] for c in table.columns]
    props: dict[str, str] = {}
    if grain:
        props["grain"] = ", ".join(grain)
    part = m.get("partitioning")
    if part is not None:
        text = part.text()
        col, _, rest = text.partition("(")
        col = ph.name(col)
        gran = GRANULARITY.get(rest.rstrip(")").strip().lower() or "day")
        if gran is None or (col not in columns and col not in renames.values()):
            part.invalid("`COLUMN (daily|hourly|monthly|yearly)` with a column of " + table.name, value=text)
        props["partition"] = f"by {gran}({col})"
    cl = m.get("clustering")
    if cl is not None:
        props["cluster"] = "by " + ", ".join(ph.name(x) for x in cl.texts())
    if m.get("description") is not None:
        props["description"] = ph.string(m.get("description").text())
    d.model(mname, table.name, columns, props, renames)
    return mname


def _requirements(d: Draft, items: list[Node], tables: list[Table], models: list[str]) -> None:
    columns_of = {n: set(cols) for n, cols in d.model_columns.items()}
    columns_of.update({t.name: {c[0] for c in t.columns} for t in tables})
    order = models + [t.name for t in tables]
    for item in items:
        text = item.text()
        parsed = ph.requirement(text)
        if parsed is None:
            item.invalid("one of: " + "; ".join(ph.REQUIREMENT_FORMS))
        kind, args = parsed
        column = ph.name(args[0])
        node = next((n for n in order if column in columns_of.get(n, set())), None)
        if node is None:
            item.invalid(f"a rule on a column of {', '.join(order)}", value=text)
        if kind == "unique":
            d.expect(node, f"unique {column}", text)
        elif kind == "not_null":
            d.expect(node, f"not_null {column}", text)
        elif kind == "between":
            d.expect(node, f"range {column} {args[1]} .. {args[2]}", text)
        else:
            op, value = args[1], args[2]
            if op == ">=":
                d.expect(node, f"range {column} {value} ..", text)
            elif op == "<=":
                d.expect(node, f"range {column} .. {value}", text)
            else:
                d.expect(node, f"sql {column}_{'gt' if op == '>' else 'lt'}_{value.replace('-', 'minus_').replace('.', '_')}"
                               f' """select * from {node} where not ({column} {op} {value})"""', text)
