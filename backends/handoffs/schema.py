"""STREAM_TO_SCHEMA_HANDOFF: the models the pipeline derives, with columns, keys, clustering and partitioning."""

from __future__ import annotations

from streamc.derive_once import once_per_ir
from streamc.ir import CheckKind, Model, ModelPlan, Spec

from .facts import model_types

INTERVAL = {"day": "daily", "hour": "hourly", "month": "monthly", "year": "yearly"}


def _not_null(ir: Spec, model: str) -> set[str]:
    return set(_not_null_by_target(ir).get(model, ()))


@once_per_ir
def _not_null_by_target(ir: Spec) -> dict[str, set[str]]:
    """Columns a not_null gate covers, per target: one pass over the gates, not one per model."""
    out: dict[str, set[str]] = {}
    for g in ir.plan.gates:
        if g.check.kind == CheckKind.not_null:
            out.setdefault(g.check.target, set()).update(g.check.columns)
    return out


def _description(m: Model, mp: ModelPlan | None, ir: Spec) -> str:
    if m.description:
        return m.description
    inputs = ", ".join(m.depends_on) or "its inputs"
    if mp is None:
        return f"derived from {inputs}"
    how = mp.materialization + (f" ({mp.incremental_strategy})" if mp.incremental_strategy else "")
    return f"{mp.layer} model of {ir.pipeline.name}, {how}, from {inputs}"


def _column_description(ir: Spec, m: Model, name: str) -> str:
    lin = next((c for c in m.columns if c.name == name), None)
    if lin is None:
        return ""
    expression = " ".join(lin.expression.split())
    sources = ", ".join(f"{i.node}.{i.column}" for i in lin.inputs)
    if not lin.inputs:
        return f"computed: {expression}"
    if len(lin.inputs) == 1 and expression.split(".")[-1] == lin.inputs[0].column:
        return f"from {sources}"
    return f"{expression} (from {sources})"


def derived_models(ir: Spec, types: dict[str, dict[str, str | None]]) -> list[dict]:
    plans = {p.model: p for p in ir.plan.models}
    sinks_of: dict[str, list[str]] = {}
    for k in ir.sinks:
        for n in k.models:
            sinks_of.setdefault(n, []).append(k.name)
    out = []
    for m in ir.models:
        mp = plans.get(m.name)
        required = _not_null(ir, m.name) | set(m.grain)
        entry: dict = {"name": m.name, "description": _description(m, mp, ir), "source": ir.pipeline.name}
        if m.grain:
            entry["grain"] = " + ".join(m.grain)
        if mp is not None:
            entry["layer"] = mp.layer
            entry["materialization"] = mp.materialization
        columns = []
        for lin in m.columns:
            col: dict = {"name": lin.name, "type": types.get(m.name, {}).get(lin.name) or "unknown",
                         "description": _column_description(ir, m, lin.name)}
            if lin.name in required:
                col["not_null"] = True
            columns.append(col)
        entry["columns"] = columns
        key = list(m.grain) or list(mp.unique_key if mp else ())
        if key:
            entry["primary_key"] = key
        if m.cluster:
            entry["indexes"] = [{"columns": list(m.cluster)}]
        part = m.partition
        if part is not None:
            entry["partitioning"] = {"type": "range", "column": part.column,
                                     "interval": INTERVAL.get(part.granularity or "", part.granularity or "value")}
        if m.history is not None:
            entry["scd_type"] = 2
        if m.name in sinks_of:
            entry["published_to"] = sinks_of[m.name]
        out.append(entry)
    return out


def _source_type(ir: Spec, types: dict[str, dict[str, str | None]], node: str, column: str) -> str:
    src = ir.source(node)
    if src is not None:
        c = src.column(column)
        return c.type.sql() if c else "unknown"
    return types.get(node, {}).get(column) or "unknown"


def published_outputs(ir: Spec, types: dict[str, dict[str, str | None]]) -> list[dict]:
    """Metrics and sources a sink publishes as they are (Kafka topics, caches): their record schema."""
    out = []
    captures = {c.source: c for c in ir.plan.captures}
    for sp in ir.plan.sinks:
        for ip in sp.inputs:
            kind, _, name = ip.node.partition(":")
            topic = ip.topic or next((t for t in ir.plan.topics if t.node == ip.node and t.purpose != "dlq"), None)
            topic_name = topic if isinstance(topic, str) else (topic.name if topic else None)
            tp = next((t for t in ir.plan.topics if t.name == topic_name), None)
            if kind == "metric":
                m = ir.metric(name)
                cols = [{"name": d, "type": _source_type(ir, types, m.from_, d), "description": "dimension",
                         "not_null": True} for d in m.dimensions]
                if m.window is not None:
                    cols += [{"name": "window_start", "type": "timestamp", "not_null": True,
                              "description": f"start of the {m.window.kind} {m.window.size.text} window"},
                             {"name": "window_end", "type": "timestamp", "not_null": True,
                              "description": "end of the window"}]
                for x in m.measures:
                    t = "bigint" if x.function in ("count", "count_distinct") else (
                        _source_type(ir, types, m.from_, x.column) if x.column else "bigint")
                    cols.append({"name": x.alias, "type": t, "description": x.expression})
                entry = {"name": name, "description": m.description or f"metric {name} from {m.from_}, "
                         f"published to sink {sp.sink} ({ip.strategy})", "source": ir.pipeline.name,
                         "grain": " + ".join(ip.key) if ip.key else "event", "columns": cols}
            elif kind == "source" and ir.source(name) is not None:
                src = ir.source(name)
                cap = captures.get(name)
                names = list(cap.captured_columns) if cap and cap.captured_columns else [c.name for c in src.columns]
                cols = [{"name": n, "type": src.column(n).type.sql(), "description": src.column(n).description
                         or f"{name}.{n}", **({"not_null": True} if src.column(n).not_null or src.column(n).primary_key
                                              else {})} for n in names if src.column(n) is not None]
                entry = {"name": topic_name or name, "description": f"changes of source {name}, published to sink "
                         f"{sp.sink} ({ip.strategy})", "source": ir.pipeline.name,
                         "grain": " + ".join(src.primary_key) or "event", "columns": cols}
            else:
                continue
            if ip.key:
                entry["primary_key"] = list(ip.key)
            if tp is not None:
                entry["partitioning"] = {"type": "hash", "column": ", ".join(tp.key) or "(round robin)",
                                         "partitions": tp.partitions}
            entry["published_to"] = [sp.sink]
            out.append(entry)
    return out


def schema_handoff(ir: Spec) -> dict:
    types = model_types(ir)  # inferred once: it parses and types every model's SQL
    return {"derived_models": derived_models(ir, types) + published_outputs(ir, types)}
