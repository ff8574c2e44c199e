"""Builds each job's script as typed statements (settings, tables, views, inserts); the template only lays them out."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from streamc.ir import Duration, Metric, Spec
from streamc.sql_analysis import READ_DIALECT
from streamc.sql_render import render_expression, render_sql
from streamc.text_escape import one_line

from .cdc import TABLE_SUFFIX, TYPED_SUFFIX, WireColumn, wire_column
from .connectors import Connectors
from .dialect import DIALECT, ident, literal
from .jobs import Job, JobPlanner, Output, Problem, SourceRead
from .privacy import plan_treatments, treat
from .schema import FType, Schemas

AGG_SQL = {"sum": "SUM({c})", "avg": "AVG({c})", "min": "MIN({c})", "max": "MAX({c})", "count": "COUNT({c})",
           "count_distinct": "COUNT(DISTINCT {c})"}
PARTITION_PATTERNS = {"day": "yyyy-MM-dd", "hour": "yyyy-MM-dd-HH", "month": "yyyy-MM", "year": "yyyy"}
ROW_NUM = "streamc_row_num"


@dataclass
class Setting:
    key: str
    value: str
    why: str


@dataclass
class Table:
    name: str
    comments: list[str]
    columns: list[str]  # rendered column definitions
    constraints: list[str]  # WATERMARK / PRIMARY KEY lines
    partitioned_by: list[str]
    options: list[tuple[str, str]]


@dataclass
class View:
    name: str
    comments: list[str]
    body: str

    @property
    def name_sql(self) -> str:
        return ident(self.name)


@dataclass
class Insert:
    comments: list[str]
    text: str

    @property
    def in_set(self) -> str:
        """The statement (and its comments) indented for an EXECUTE STATEMENT SET block."""
        lines = [f"-- {one_line(c)}" for c in self.comments] + self.text.splitlines()
        return "\n".join("    " + line for line in lines)


@dataclass
class Script:
    path: str
    header: list[str]
    settings: list[Setting] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    sources: list[Table] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    sinks: list[Table] = field(default_factory=list)
    inserts: list[Insert] = field(default_factory=list)


def interval(d: Duration) -> str:
    """A Flink INTERVAL literal in the largest exact unit (leading precision widened past two digits)."""
    seconds = d.seconds
    for unit, size in (("DAY", 86400), ("HOUR", 3600), ("MINUTE", 60), ("SECOND", 1)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            precision = f"({len(str(n))})" if n >= 100 else ""
            return f"INTERVAL '{n}' {unit}{precision}"
    return f"INTERVAL '{seconds:g}' SECOND"


def config_duration(d: Duration) -> str:
    """A duration in Flink configuration syntax ('1 min', '7 d', '500 ms')."""
    ms = round(d.seconds * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size} {unit}"
    return f"{ms} ms"


class ScriptBuilder:
    """One per spec: plans the jobs, then builds each job's Script; `problems` is what check() reports."""

    def __init__(self, ir: Spec, test_connectors: bool):
        self.ir = ir
        self.test = test_connectors
        self.planner = JobPlanner(ir)
        self.problems: list[Problem] = list(self.planner.problems)
        self.schemas = Schemas(ir, self.planner.dropped)
        self.scripts: list[Script] = [self._script(job) for job in self.planner.jobs]

    # ------------------------------------------------------------------ helpers
    def problem(self, span, what: str, hint: str) -> None:
        self.problems.append(Problem(span, what, hint))

    def rowtime(self, job: Job, node: str) -> str | None:
        """The column of `node` that is the job's event-time attribute (a pass-through of a watermarked column)."""
        ir = self.ir
        for read in job.sources:
            if read.watermark is None:
                continue
            if node == read.source:
                return read.watermark[0]
        if (model := ir.model(node)) is not None:
            for col in model.columns:
                if len(col.inputs) != 1:
                    continue
                ref = col.inputs[0]
                if self.rowtime(job, ref.node) == ref.column and _is_bare_column(col.expression):
                    return col.name
        return None

    # ------------------------------------------------------------------ the script
    def _script(self, job: Job) -> Script:
        ir = self.ir
        script = Script(path=f"flink/{job.name}.sql", header=[])
        output_columns = {o.table: [n for n, _ in self._output_columns(o)] for o in job.outputs}
        self.problems += plan_treatments(ir, job, output_columns)
        script.settings = self._settings(job, script)
        for read in job.sources:
            table, view = self._source_table(read)
            script.sources.append(table)
            if view is not None:
                script.views.append(view)
        for name in job.models:
            script.views.append(self._model_view(job, name))
        for name in job.metrics:
            view = self._metric_view(job, ir.metric(name))
            if view is not None:
                script.views.append(view)
        connectors = Connectors(ir, job, self.test)
        for out in job.outputs:
            script.sinks.append(self._sink_table(job, out, connectors))
            script.inserts.append(self._insert(job, out))
        for read, table in zip(job.sources, script.sources):
            table.options = connectors.source(read)
        script.header = self._header(job, script, connectors)
        return script

    def _header(self, job: Job, script: Script, connectors: Connectors) -> list[str]:
        ir = self.ir
        lines = [f"Flink SQL job '{job.name}' of pipeline {ir.pipeline.name} (generated by streamc; do not edit).",
                 "Target: Apache Flink 2.3 (SQL client or SQL gateway).",
                 "Reads:"] + [f"  - {r.source} (topic {r.topic})" for r in job.sources] + [
                 "Writes:"] + [f"  - {_describe(o)}" for o in job.outputs]
        if self.test:
            lines += ["TEST CONNECTORS: Kafka/JDBC tables are swapped for files under ${WORKDIR} (input/, output/)",
                      "so the job runs on a local planner without connector jars. Do not deploy this file."]
            return lines
        text = "\n".join(f"{k}={v}" for t in script.sources + script.sinks for k, v in t.options)
        names = connectors.placeholders(text)
        if names:
            lines += ["Deployment values are ${VAR} placeholders (Flink SQL has no variable substitution):",
                      "substitute exactly these from the environment before submitting, e.g.",
                      f"  envsubst '{' '.join('${' + n + '}' for n in names)}' \\",
                      f"    < {job.name}.sql > {job.name}.resolved.sql && sql-client.sh -f {job.name}.resolved.sql",
                      "Never commit the resolved file: it may hold credentials."]
        return lines

    def _settings(self, job: Job, script: Script) -> list[Setting]:
        ir = self.ir
        out = [Setting("pipeline.name", f"{ir.pipeline.name}.{job.name}", "job name in the Flink UI and metrics")]
        tz = ir.pipeline.schedule.timezone if ir.pipeline.schedule else "UTC"
        out.append(Setting("table.local-time-zone", tz, "the pipeline's time zone"))
        rel = ir.plan.reliability
        if rel is not None and rel.checkpoint_interval is not None:
            out.append(Setting("execution.checkpointing.interval", config_duration(rel.checkpoint_interval),
                               f"reliability plan (tier {rel.tier.value})"))
        else:
            script.gaps.append("GAP: the plan records no checkpoint interval (reliability pass); Flink's default "
                               "is no checkpointing, so set 'execution.checkpointing.interval' before deploying.")
        exactly = [o.table for o in job.outputs if o.exactly_once]
        if exactly:
            out.append(Setting("execution.checkpointing.mode", "EXACTLY_ONCE",
                               f"exactly-once delivery to {', '.join(exactly)} (sink plan)"))
        else:
            out.append(Setting("execution.checkpointing.mode", "AT_LEAST_ONCE",
                               "effectively once: at-least-once delivery into idempotent sinks (sink plans)"))
        if any(r.cdc for r in job.sources):
            out.append(Setting("table.exec.source.cdc-events-duplicate", "true",
                               "Debezium delivers at least once: drop replayed change events by primary key"))
        ttls = [o.dedup_ttl for o in job.outputs if o.dedup_key and o.dedup_ttl is not None]
        if ttls:
            ttl = max(ttls, key=lambda d: d.seconds)
            out.append(Setting("table.exec.state.ttl", config_duration(ttl),
                               f"event-id dedup window {ttl.text} (sink plan); also bounds other keyed state"))
        elif any(o.dedup_key for o in job.outputs):
            script.gaps.append("GAP: the sink plan dedups on an event id but records no dedup TTL; the dedup "
                               "state grows without bound until 'table.exec.state.ttl' is set.")
        return out

    def _source_table(self, read: SourceRead) -> tuple[Table, View | None]:
        """The source's table; for a CDC topic whose wire forms Flink does not parse natively (streamc.cdc_wire),
        the table `<source>__changes` holds the wire columns and computed typed ones, and a view `<source>`
        gives the models the contract's column names and types."""
        src = self.ir.source(read.source)
        gone = self.planner.dropped.get(read.source, frozenset())
        kept = [c for c in src.columns if c.name not in gone]
        wire = [wire_column(name, c.type, ftype) if read.cdc else WireColumn(name, ftype, ftype.sql, None)
                for c, (name, ftype) in zip(kept, self.schemas.columns(src.name))]
        converted = [w for w in wire if w.conversion]
        columns = []
        for c, w in zip(kept, wire):
            null = " NOT NULL" if (c.not_null or c.primary_key) else ""
            columns.append(f"{ident(w.name)} {w.physical}{null}")
        columns += [f"{ident(w.typed)} AS {w.conversion}" for w in converted]
        typed = {w.name: w.typed for w in wire}
        constraints = []
        comments = [f"source {src.name}: " + ("change events (Debezium) " if read.cdc else "events ") +
                    f"on topic {read.topic}"]
        if read.cdc:
            comments.append("wire contract (streamc.cdc_wire): Debezium JSON without schema envelope, not unwrapped; "
                            "decimals as strings, temporal values as ISO-8601 strings with a Z suffix "
                            "(time.precision.mode=isostring)")
        if converted:
            comments.append("Flink's debezium-json rejects the Z suffix of dates, times and local timestamps, so "
                            f"these are read as STRING and converted in {TYPED_SUFFIX} columns (the value as stored, "
                            f"whatever the session time zone): {', '.join(w.name for w in converted)}")
        if read.watermark is not None:
            col, lateness = read.watermark
            ftype = self.schemas.type_of(src.name, col)
            if ftype is None or ftype.family not in ("timestamp", "ltz"):
                self.problem(src.span, f"event time '{col}' of source '{src.name}' is not a timestamp",
                             "Flink watermarks need a TIMESTAMP(3) / TIMESTAMP_LTZ(3) column")
            rowtime = ident(typed.get(col, col))
            constraints.append(f"WATERMARK FOR {rowtime} AS {rowtime} - {interval(lateness)}")
            comments.append(f"watermark: event time {col} minus the allowed lateness {lateness.text} (watermark plan)")
        if gone:
            comments.append(f"not captured (pii drop): {', '.join(sorted(gone))}")
        if read.cdc and src.primary_key:
            constraints.append(f"PRIMARY KEY ({', '.join(ident(k) for k in src.primary_key)}) NOT ENFORCED")
        if read.group_id is None and not self.test:
            comments.append("GAP: the plan names no single consumer group for this topic; offsets live in "
                            "Flink checkpoints only")
        if not converted:
            return Table(name=src.name, comments=comments, columns=columns, constraints=constraints,
                         partitioned_by=[], options=[]), None
        table = Table(name=src.name + TABLE_SUFFIX, comments=comments, columns=columns, constraints=constraints,
                      partitioned_by=[], options=[])
        select = [ident(w.name) if w.typed == w.name else f"{ident(w.typed)} AS {ident(w.name)}" for w in wire]
        body = "SELECT\n    " + _list(select) + f"\nFROM {ident(table.name)}"
        view = View(name=src.name, comments=[f"source {src.name} in its contract's column types (a projection: the "
                                             "event-time attribute and the changelog pass through)"], body=body)
        return table, view

    def _model_view(self, job: Job, name: str) -> View:
        model = self.ir.model(name)
        job_nodes = {r.source for r in job.sources} | set(job.models)

        def ref(table: str) -> str | None:
            return ident(table) if table in job_nodes else None

        body = _reindent(render_sql(model.sql.text, DIALECT, ref, pretty=True))
        comments = [f"model {name}" + (f": {model.description}" if model.description else "")]
        treated = {col: s for (m, col), s in sorted(job.pii.items()) if m == name}
        if treated:
            cols = [treat(treated[c.name], c.name) + f" AS {ident(c.name)}" if c.name in treated else ident(c.name)
                    for c in model.columns]
            inner = "\n".join("    " + line for line in body.splitlines())
            body = "SELECT\n    " + ",\n    ".join(cols) + f"\nFROM (\n{inner}\n) AS {ident(name + '_raw')}"
            comments.append("PII applied here (PII plan): " +
                            ", ".join(f"{c} {s.value}" for c, s in sorted(treated.items())))
        return View(name=name, comments=comments, body=body)

    def _metric_view(self, job: Job, metric: Metric) -> View | None:
        dims = [ident(d) for d in metric.dimensions]
        measures = []
        for m in metric.measures:
            arg = "*" if m.column is None else ident(m.column)
            measures.append(AGG_SQL[m.function].format(c=arg) + f" AS {ident(m.alias)}")
        source = ident(metric.from_)
        where = render_expression(metric.where.text, DIALECT) if metric.where is not None else None
        comments = [f"metric {metric.name}" + (f": {metric.description}" if metric.description else "")]
        if metric.window is None:
            select = dims + measures
            lines = ["SELECT", "    " + ",\n    ".join(select), f"FROM {source}"]
            if where:
                lines.append(f"WHERE {where}")
            if dims:
                lines.append("GROUP BY " + ", ".join(dims))
            return View(name=metric.name, comments=comments, body="\n".join(lines))
        marks = [w for w in self.ir.plan.watermarks if w.metric == metric.name]
        if not marks:
            self.problem(metric.span, f"windowed metric '{metric.name}' without a watermark in the plan",
                         "the watermarks pass must record event time and lateness for it")
            return None
        ts = marks[0].input_column or self.rowtime(job, metric.from_)
        if ts is None or self.rowtime(job, metric.from_) != ts:
            self.problem(metric.span, f"windowed metric '{metric.name}': '{metric.from_}' does not pass the "
                                      f"event-time column {ts or marks[0].event_time} through unchanged",
                         "select the source's event_time column as is (no cast or expression) in the models between")
            return None
        w = metric.window
        table = f"TABLE {source}"
        if w.kind == "tumbling":
            call = f"TUMBLE({table}, DESCRIPTOR({ident(ts)}), {interval(w.size)})"
        elif w.kind == "hopping":
            call = f"HOP({table}, DESCRIPTOR({ident(ts)}), {interval(w.slide)}, {interval(w.size)})"
        elif w.kind == "cumulate":
            call = f"CUMULATE({table}, DESCRIPTOR({ident(ts)}), {interval(w.slide)}, {interval(w.size)})"
        else:
            part = f" PARTITION BY {', '.join(dims)}" if dims else ""
            call = f"SESSION({table}{part}, DESCRIPTOR({ident(ts)}), {interval(w.size)})"
        comments.append(f"{w.kind} window {w.size.text}" + (f" every {w.slide.text}" if w.slide else "") +
                        f" on event time {ts}")
        keys = ["window_start", "window_end"] + dims
        lines = ["SELECT", "    " + ",\n    ".join(keys + measures), "FROM TABLE(", f"    {call}", ")"]
        if where:
            lines.append(f"WHERE {where}")
        lines.append("GROUP BY " + ", ".join(keys))
        return View(name=metric.name, comments=comments, body="\n".join(lines))

    # ------------------------------------------------------------------ outputs
    def _changelog(self, job: Job, out: Output) -> bool:
        """Whether the rows written can be updates: CDC upstream and not re-emitted as final window results or
        first-per-id rows (window aggregates and the dedup emit inserts only)."""
        if out.dedup_key:
            return False
        metric = self.ir.metric(out.node)
        if metric is not None and metric.window is not None:
            return False
        cdc = {r.source for r in job.sources if r.cdc}
        return bool(cdc & self.planner._upstream(out.node))

    def _output_columns(self, out: Output) -> list[tuple[str, FType | None]]:
        return self.schemas.columns(out.node)

    def _partition_column(self, out: Output) -> tuple[str, str] | None:
        if out.connector != "filesystem" or out.partition is None:
            return None
        p = out.partition
        gran = p.granularity or "day"
        return f"{p.column}_{gran}", f"DATE_FORMAT({ident(p.column)}, {literal(PARTITION_PATTERNS[gran])})"

    def _sink_table(self, job: Job, out: Output, connectors: Connectors) -> Table:
        columns = []
        cols = self._output_columns(out)
        names = [n for n, _ in cols]
        for name, ftype in cols:
            if ftype is None:
                self.problem(out.span, f"the Flink type of column '{name}' of '{out.node}' (written to "
                                       f"'{out.table}') cannot be inferred",
                             f"write CAST(... AS <type>) for '{name}' in the model's SQL")
                continue
            null = " NOT NULL" if name in out.key else ""
            columns.append(f"{ident(name)} {ftype.sql}{null}")
        for k in out.key + out.dedup_key:
            if k not in names:
                self.problem(out.span, f"key column '{k}' of '{out.table}' is not a column of '{out.node}'",
                             "the sink plan's key must name columns of what the sink receives")
        partitioned = []
        part = self._partition_column(out)
        if part is not None:
            columns.append(f"{ident(part[0])} STRING")
            partitioned = [ident(part[0])]
        constraints = [f"PRIMARY KEY ({', '.join(ident(k) for k in out.key)}) NOT ENFORCED"] if out.key else []
        return Table(name=out.table, comments=self._sink_comments(out), columns=columns, constraints=constraints,
                     partitioned_by=partitioned, options=connectors.output(out))

    def _sink_comments(self, out: Output) -> list[str]:
        if out.sink:
            lines = [_describe(out) + f": strategy {out.strategy} (sink plan)" +
                     (f", key ({', '.join(out.key)})" if out.key else "")]
        else:
            lines = [_describe(out) + (f", keyed by ({', '.join(out.key)}) (topic plan)" if out.key else "")]
        if out.readers:
            lines.append("read by: " + "; ".join(out.readers))
        if out.sink_kind == "redis":
            lines += ["Flink has no Redis connector: rows are upserted into this compacted hand-off topic and a "
                      "Redis writer",
                      "(e.g. the Redis Kafka Connect sink) applies them by key" +
                      (f", with a TTL of {out.ttl.text} per key" if out.ttl else "") + "."]
        if out.exactly_once:
            lines.append("exactly-once: Kafka transactions committed on checkpoints; readers must use "
                         "isolation.level=read_committed")
        if out.dead_letter_topic:
            lines.append(f"dead-letter topic {out.dead_letter_topic}: Flink SQL cannot route rejected rows; a "
                         "rejected row fails the job, which restarts from its last checkpoint (no row is dropped)")
        return lines

    def _insert(self, job: Job, out: Output) -> Insert:
        cols = [n for n, t in self._output_columns(out) if t is not None]
        select = [ident(c) for c in cols]
        part = self._partition_column(out)
        if part is not None:
            select.append(f"{part[1]} AS {ident(part[0])}")
        source = ident(out.node)
        comments = []
        if out.dedup_key:
            ts = self.rowtime(job, out.node)
            order = ident(ts) if ts else "PROCTIME()"
            comments.append(f"dedup on event id ({', '.join(out.dedup_key)}): first row per id kept, ordered by "
                            + (f"event time {ts}" if ts else "arrival (processing time)"))
            body = (f"SELECT\n    {_list(select)}\nFROM (\n    SELECT\n        *,\n        ROW_NUMBER() OVER "
                    f"(PARTITION BY {', '.join(ident(k) for k in out.dedup_key)} ORDER BY {order}) AS {ROW_NUM}\n"
                    f"    FROM {source}\n) AS {ident(out.node + '_numbered')}\nWHERE {ROW_NUM} = 1")
        else:
            body = f"SELECT\n    {_list(select)}\nFROM {source}"
        text = f"INSERT INTO {ident(out.table)}\n{body}"
        if out.upsert and not self.test and self._changelog(job, out):
            # Flink 2.3 plans an updating input into an upsert sink only when told how to resolve rows of one sink
            # key that arrive under another upsert key (FLIP-558); latest-wins is the upsert the sink plan asks for
            text += "\nON CONFLICT DO DEDUPLICATE"
            comments.append("ON CONFLICT DO DEDUPLICATE: the latest row per sink key wins (upsert semantics)")
        return Insert(comments=comments, text=text)


def _describe(out: Output) -> str:
    where = f"topic {out.topic}" if out.topic else f"{out.connector} ({out.connection})"
    who = f"sink {out.sink}" if out.sink else f"{out.node}"
    return f"{who} <- {out.node} via {where}" if out.sink else f"{who} via {where}"


def _is_bare_column(expression: str) -> bool:
    try:
        tree = sqlglot.parse_one(expression, read=READ_DIALECT)
    except sqlglot.errors.SqlglotError:
        return False
    if isinstance(tree, exp.Alias):
        tree = tree.this
    return isinstance(tree, exp.Column)


def _list(items: list[str], indent: str = "    ") -> str:
    return f",\n{indent}".join(items)


def _reindent(sql: str) -> str:
    """sqlglot indents by two spaces; the scripts use four."""
    out = []
    for line in sql.splitlines():
        stripped = line.lstrip(" ")
        out.append(" " * (2 * (len(line) - len(stripped))) + stripped)
    return "\n".join(out)
