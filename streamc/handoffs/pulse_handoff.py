"""PULSE_TO_STREAM_HANDOFF -> spec: metrics (windowed or by entity) or reporting models over the named sources."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from ..sql_analysis import READ_DIALECT
from . import phrases as ph
from .draft import Draft
from .yaml_nodes import Node

TOP = {"analytics_requirements": "metrics, latency, refresh, data sources"}
ANALYTICS = {"metrics": "the metrics", "latency_requirements": "latency per metric group",
             "refresh_frequency": "refresh per metric group", "data_sources": "the tables the metrics read"}
METRIC = {"name": "metric name", "description": "description", "aggregation": "e.g. SUM(total_amount)",
          "grain": "day | hour | week | month | an entity such as customer", "dimensions": "group-by columns",
          "window": "lifetime, or a duration such as 7 days", "filter": "a SQL condition"}
WINDOWS = {"minute": "1m", "hour": "1h", "day": "1d", "week": "7d"}
SIMPLE = re.compile(r"\s*(sum|count|avg|min|max)\s*\(\s*(distinct\s+)?(\*|\w+)\s*\)\s*", re.I)


def _columns(expression: str, node: Node) -> list[str]:
    try:
        tree = sqlglot.parse_one(expression, read=READ_DIALECT)
    except sqlglot.errors.ParseError:
        node.invalid("a SQL aggregation such as SUM(total_amount)")
    return sorted({c.name for c in tree.find_all(exp.Column)})


def convert(root: Node, source_name: str) -> Draft:
    root.close(TOP)
    a = root.require("analytics_requirements", "metrics and data sources").mapping()
    a.close(ANALYTICS)
    sources_node = a.require("data_sources", "the tables the metrics read")
    sources = [ph.name(s) for s in sources_node.texts()]
    if not sources:
        sources_node.invalid("at least one table")
    metrics = a.require("metrics", "a list of {name, aggregation, grain}").items()
    if not metrics:
        a.get("metrics").invalid("at least one metric", value="[]")
    groups: dict[str, str] = {}
    for key in ("latency_requirements", "refresh_frequency"):
        n = a.get(key)
        if n is not None:
            n.mapping()
            for k, _, _ in n.keys():
                groups[f"{key}.{k}"] = n.get(k).text()

    main = sources[0]
    d = Draft(name=ph.name(f"{main}_analytics"), origin=source_name, kind="PULSE_TO_STREAM")
    by_time = next((v for k, v in groups.items() if k.startswith("latency_requirements.") and "available by" in v),
                   None)
    notes = [f"{k}: {v}" for k, v in groups.items()]
    schedule = "daily at 06:00 UTC"
    if by_time is not None:
        m = re.search(r"(\d{1,2}):(\d{2})\s*([A-Za-z]+)?", by_time)
        if m is not None:
            hour = (int(m.group(1)) - 1) % 24
            schedule = f"daily at {hour:02d}:{m.group(2)} {m.group(3) or 'UTC'}"
            notes.append(f"scheduled an hour before '{by_time}' so the daily metrics are ready in time")
    if any("real_time" in k or "continuous" in v for k, v in groups.items()):
        notes.append("no metric of the handoff is marked real-time: add `latency < 1m` and `acknowledge realtime` "
                     "to the pipeline once one is")
    d.pipeline(tier="standard", latency="24h", schedule=schedule, notes=notes)
    d.connection("source_db", "postgres", {}, secret="source_db_credentials",
                 note="the handoff names no source database: postgres assumed")
    d.connection("warehouse", "duckdb", {"database": ph.string("analytics")},
                 note="the handoff names no warehouse: DuckDB stands in")

    columns: dict[str, str] = {}  # column of the main source -> type
    event_time = False
    metric_names, model_names = [], []
    bodies: list[list[str]] = []
    for n in metrics:
        n.mapping().close(METRIC)
        mname = ph.name(n.require("name", "the metric name").text())
        agg_node = n.require("aggregation", "e.g. SUM(total_amount)")
        agg = agg_node.text()
        used = _columns(agg, agg_node)
        grain = n.get("grain").text().lower() if n.get("grain") else ""
        dims = [ph.name(x) for x in n.get("dimensions").texts()] if n.get("dimensions") else []
        window_node = n.get("window")
        desc = n.get("description").text() if n.get("description") else None
        simple = SIMPLE.fullmatch(agg)
        for c in used:
            distinct = re.search(rf"distinct\s+{c}\b", agg, re.I) is not None
            columns.setdefault(c, "bigint" if c.endswith("_id") or c == "id" or distinct else "numeric(18, 2)")
        for c in dims:
            columns.setdefault(c, "bigint" if c.endswith("_id") else "text")
        if grain in WINDOWS and simple is not None:
            event_time = True
            measure = _measure(simple, mname)
            lines = [f"metric {mname} from {main} {{", f"  measure {measure}"]
            if dims:
                lines.append(f"  by {', '.join(dims)}")
            lines.append(f"  window tumbling {WINDOWS[grain]}")
            if desc:
                lines.append(f"  description {ph.string(desc)}")
            bodies.append(lines + ["}"])
            metric_names.append(mname)
        elif grain and grain not in ("month", "year", "quarter") and simple is not None:
            entity = grain if grain in columns or grain.endswith("_id") else f"{ph.name(grain)}_id"
            columns.setdefault(entity, "bigint")
            lines = [f"metric {mname} from {main} {{", f"  measure {_measure(simple, mname)}",
                     f"  by {', '.join([entity, *dims])}"]
            if window_node is not None and window_node.text().lower() != "lifetime":
                w = ph.duration(window_node.text())
                if w is None:
                    window_node.invalid("lifetime, or a duration such as 7 days")
                event_time = True
                lines.append(f"  window tumbling {w}")
            if desc:
                lines.append(f"  description {ph.string(desc)}")
            bodies.append(lines + ["}"])
            metric_names.append(mname)
        else:
            trunc = grain if grain in ("month", "year", "quarter") else None
            if grain and trunc is None:
                n.get("grain").invalid("day, hour, week, month, year, quarter or an entity such as customer")
            event_time = event_time or trunc is not None
            key = [trunc] if trunc else []
            select = ([f"date_trunc('{trunc}', created_at) as {trunc}"] if trunc else []) + dims + [f"{agg} as {mname}"]
            group = ([f"date_trunc('{trunc}', created_at)"] if trunc else []) + dims
            lines = [f"model rpt_{mname} {{"]
            if key + dims:
                lines.append(f"  grain {', '.join(key + dims)}")
            if desc:
                lines.append(f"  description {ph.string(desc)}")
            lines += ['  sql """', f"    select {', '.join(select)}", f"    from {main}"]
            if group:
                lines.append(f"    group by {', '.join(group)}")
            lines += ['  """', "}"]
            bodies.append(lines)
            model_names.append(f"rpt_{mname}")

    for i, s in enumerate(sources):
        cols = [("id", "bigint", ["primary key"])]
        notes = [f"the handoff gives no columns for {s}: only those the metrics use, types assumed from their use"]
        if i == 0:
            cols += [(c, t, []) for c, t in columns.items() if c != "id"]
            if event_time:
                cols.append(("created_at", "timestamp", ["not null", "event_time", "lateness 1m"]))
                notes.append("created_at: the event time the time grains need, not named in the handoff")
        d.source(s, "source_db", [f"table public.{s}", "capture full"], cols, notes)
    for body in bodies:
        d.raw(body)
    d.sink("analytics", "warehouse", models=model_names, metrics=metric_names)
    d.expect(main, "unique id", "the handoff states no quality rule: the source key must be unique (rules §5)")
    return d


def _measure(m: re.Match, alias: str) -> str:
    fn, distinct, col = m.group(1).lower(), m.group(2), m.group(3)
    if distinct:
        return f"{fn}(distinct {col}) as {alias}"
    return f"{fn}({col}) as {alias}"
