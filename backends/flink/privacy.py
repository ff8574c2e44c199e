"""PII on the Flink path: trace output columns to source columns and apply the plan's strategy where it says."""

from __future__ import annotations

from streamc.ir import PiiStrategy, Spec

from .dialect import ident
from .jobs import Job, Problem

# Flink SQL built-ins; the text of the strategy is the same as the batch backends' intent (hash: hex SHA-256,
# mask: first character kept). Encryption needs a key and a UDF: refused (apply it at capture instead).
TREATMENTS = {
    PiiStrategy.hash: "SHA256(CAST({col} AS STRING))",
    PiiStrategy.mask: "CONCAT(SUBSTRING(CAST({col} AS STRING) FROM 1 FOR 1), '***')",
}


def treat(strategy: PiiStrategy, column: str) -> str:
    return TREATMENTS[strategy].format(col=ident(column))


def lineage_paths(ir: Spec, node: str, column: str, depth: int = 0) -> list[list[tuple[str, str]]]:
    """Every path (node, column) ... (source, column) that feeds `node.column`."""
    if depth > 64:
        return []
    if ir.source(node) is not None:
        return [[(node, column)]]
    paths: list[list[tuple[str, str]]] = []
    if (model := ir.model(node)) is not None:
        lineage = next((c for c in model.columns if c.name == column), None)
        inputs = [(r.node, r.column) for r in lineage.inputs] if lineage is not None else \
            [(d, column) for d in model.depends_on]
        for n, c in inputs:
            paths += [[(node, column)] + p for p in lineage_paths(ir, n, c, depth + 1)]
    elif (metric := ir.metric(node)) is not None:
        measure = next((m for m in metric.measures if m.alias == column), None)
        upstream = measure.column if measure is not None else column if column in metric.dimensions else None
        if upstream:
            paths += [[(node, column)] + p for p in lineage_paths(ir, metric.from_, upstream, depth + 1)]
    return paths


def plan_treatments(ir: Spec, job: Job, output_columns: dict[str, list[str]]) -> list[Problem]:
    """Fill job.pii with (model, column) -> strategy; report PII that would leave Flink untreated."""
    problems: list[Problem] = []
    plans = {(p.source, p.column): p for p in ir.plan.pii}
    for out in job.outputs:
        for col in output_columns.get(out.table, []):
            for path in lineage_paths(ir, out.node, col):
                source, src_col = path[-1]
                column = ir.source(source).column(src_col)
                if column is None or column.pii is None:
                    continue
                plan = plans.get((source, src_col))
                strategy = plan.strategy if plan is not None else column.pii.strategy
                if strategy in (PiiStrategy.keep, PiiStrategy.drop):
                    continue  # kept knowingly, or never captured (not declared in the source table)
                if plan is not None and plan.applied_in == "capture":
                    continue
                via = {n: c for n, c in path[:-1]}
                if plan is not None and plan.applied_in in via and plan.applied_in in job.models:
                    if strategy not in TREATMENTS:
                        problems.append(Problem(column.span, f"pii({strategy.value}) of {source}.{src_col} "
                                                             "inside a Flink job",
                                                "Flink SQL has no built-in encryption; apply it at capture"))
                        continue
                    job.pii[(plan.applied_in, via[plan.applied_in])] = strategy
                    continue
                where = f"in '{plan.applied_in}', which is not on the streaming path" if plan is not None else \
                    "nowhere (the plan has no PII decision for it)"
                problems.append(Problem(out.span, f"PII column {source}.{src_col} (pii({strategy.value})) would "
                                                  f"reach '{out.table}' untreated: the plan applies it {where}",
                                        "the PII pass must apply it at capture or in a model of the Flink job"))
    return problems
