"""What the handoffs read from the IR: which runtimes the plan uses, column types of models, the airflow names."""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from streamc.ir import Engine, Mode, Spec
from streamc.sql_analysis import READ_DIALECT


@dataclass(frozen=True)
class Runtimes:
    """The runtimes the plan puts nodes on (never re-decided here: read from ir.plan.mode and captures)."""

    mode: str
    batch: bool  # dbt models orchestrated by Airflow (extract / load / dbt)
    flink: bool
    debezium: bool
    kafka_consumers: bool
    kafka: bool

    @property
    def streaming(self) -> bool:
        return self.mode in ("streaming", "hybrid")


def runtimes(ir: Spec) -> Runtimes:
    plan = ir.plan
    mode = plan.mode
    engines = set(mode.engines.values()) | set(mode.hot_engines.values()) if mode else set()
    batch_nodes = set(mode.batch_nodes) if mode else set()
    batch = bool(mode) and (mode.mode != Mode.streaming) and any(
        mode.engines.get(n) in (Engine.warehouse_sql, Engine.orchestrator) for n in batch_nodes)
    return Runtimes(
        mode=mode.mode.value if mode else "not planned",
        batch=batch,
        flink=Engine.flink in engines,
        debezium=any(c.method == "log_cdc" for c in plan.captures),
        kafka_consumers=Engine.kafka_consumer in engines or bool(plan.consumer_groups),
        kafka=bool(plan.topics),
    )


def dag_id(ir: Spec) -> str:
    """The Airflow DAG id the airflow backend gives the pipeline (backends/airflow/dagplan.py: the pipeline name)."""
    return ir.pipeline.name


def model_types(ir: Spec) -> dict[str, dict[str, str | None]]:
    """Column types of every source and model, models inferred from their SQL (sqlglot); None where unknown."""
    schema: dict[str, dict[str, str]] = {s.name: {c.name: c.type.sql() for c in s.columns} for s in ir.sources}
    out: dict[str, dict[str, str | None]] = {}
    pending = list(ir.models)
    for _ in range(len(pending) + 1):
        later = []
        for m in pending:
            if any(d not in schema and ir.model(d) is not None for d in m.depends_on):
                later.append(m)
                continue
            reads = {d: schema[d] for d in m.depends_on if d in schema}  # only what it reads: O(1) per model
            out[m.name] = _infer(m.sql.text, reads, [c.name for c in m.columns])
            schema[m.name] = {k: v or "text" for k, v in out[m.name].items()}
        pending = later
        if not pending:
            break
    return out


def _infer(sql: str, schema: dict[str, dict[str, str]], names: list[str]) -> dict[str, str | None]:
    try:
        tree = sqlglot.parse_one(sql, read=READ_DIALECT)
        tree = qualify(tree, schema=schema, dialect=READ_DIALECT, validate_qualify_columns=False)
        tree = annotate_types(tree, schema=schema, dialect=READ_DIALECT)
        found = {p.alias_or_name: p.type for p in tree.selects}
    except (sqlglot.errors.SqlglotError, KeyError, ValueError):
        return {n: None for n in names}
    out: dict[str, str | None] = {}
    for n in names:
        t = found.get(n)
        text = t.sql(READ_DIALECT).lower() if t is not None else ""
        out[n] = None if not text or text in ("unknown", "null") else text
    return out
