"""Layering pass: dbt layer, materialization, unique key and incremental strategy of every model (rules §7)."""

from __future__ import annotations

import re

from ..diagnostics import Diagnostics
from ..ir import ConnectionKind, Model, ModelPlan, Spec
from .graph import Lineage, node_id
from .record import Recorder, fact, why

PREFIXES = (("stg_", "staging"), ("int_", "intermediate"), ("fct_", "mart"), ("dim_", "mart"), ("rpt_", "mart"),
            ("bronze_", "staging"), ("silver_", "intermediate"), ("gold_", "mart"))
LAYER_WORDS = {"staging": "staging", "intermediate": "intermediate", "mart": "mart",
               "bronze": "staging", "silver": "intermediate", "gold": "mart"}
EXAMPLE_PREFIX = {"staging": "stg_", "intermediate": "int_", "mart": "fct_"}
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
# rules §7 "large or growing tables are incremental": a mart whose sources add this many rows a day or more
# (3.65M rows a year) would get slower on every full rebuild.
GROWING_ROWS_PER_DAY = 10_000
# incremental strategy for an upsert on the unique key, per warehouse (dbt adapter names)
UPSERT_STRATEGY = {
    ConnectionKind.snowflake: ("merge", "dbt-snowflake's default, a MERGE on the unique key"),
    ConnectionKind.bigquery: ("merge", "dbt-bigquery's MERGE on the unique key"),
    ConnectionKind.duckdb: ("merge", "dbt-duckdb's MERGE on the unique key (DuckDB >= 1.4)"),
    ConnectionKind.postgres: ("delete+insert", "dbt-postgres' default with a unique key; its `merge` needs "
                                               "PostgreSQL >= 15, delete+insert works on every supported version"),
}


def layer_of(name: str) -> str | None:
    return next((layer for prefix, layer in PREFIXES if name.startswith(prefix)), None)


def layering_pass(spec: Spec, diags: Diagnostics) -> Spec:
    rec = Recorder("layering", diags)
    lin = Lineage(spec)
    plans = [_plan(spec, lin, rec, m) for m in spec.models]
    return rec.finish(spec, models=tuple(plans))


def _plan(spec: Spec, lin: Lineage, rec: Recorder, m: Model) -> ModelPlan:
    nid = node_id("model", m.name)
    layer, layer_why = _layer(spec, lin, rec, m)
    rec.decide(nid, "layer", layer, layer_why)

    sinks = lin.sinks_of(m.name)
    house = lin.warehouse_of(nid)
    facts = [fact(f"model {m.name}: {layer} layer", m.span)]
    unique_key: tuple[str, ...] = ()
    strategy = None
    overwrite = next((s for s in sinks if s.mode == "overwrite_partition"), None)
    keyed = next((s for s in sinks if s.mode in ("upsert", "merge")), None)
    partition = m.partition or (overwrite.partition if overwrite else None)

    if m.materialized is not None:
        mat = m.materialized
        facts.append(fact(f"materialized {mat}", m.span))
        reason = f"the spec sets `materialized {mat}`, which wins"
        if mat == "incremental":
            unique_key, strategy, extra, f2 = _incremental(m, house, overwrite, partition, sinks)
            reason += f"; {extra}"
            facts += f2
        elif mat == "snapshot":
            unique_key = m.grain
        rule = "layers"
    elif m.history is not None:
        mat, unique_key, rule = "snapshot", m.grain, "scd2"
        track = (f"by {m.history.updated_at}" if m.history.strategy == "timestamp"
                 else f"check {', '.join(m.history.check_columns)}")
        facts.append(fact(f"history scd2 {track}", m.history.span))
        facts.append(fact(f"grain {', '.join(m.grain)}", m.span))
        reason = (f"a type 2 slowly changing dimension keeps history: a dbt snapshot on {', '.join(m.grain)} "
                  f"({m.history.strategy} strategy) adds valid_from / valid_to / is_current rows")
    elif layer == "staging":
        mat, rule = "view", "layers"
        reason = "staging is 1:1 with its source (renames and casts): a view, so raw data stays the only copy"
    elif layer == "intermediate":
        mat, rule = "table", "layers"
        reason = ("intermediate business logic is built once per run and read by the marts; a table (not ephemeral) "
                  "so its quality gates can run on it")
    else:
        rows, vol_facts = _daily_rows(lin, nid)
        facts += vol_facts
        rule = "growing"
        growing = rows is not None and rows >= GROWING_ROWS_PER_DAY
        if overwrite is not None and partition is not None:
            mat = "incremental"
            facts.append(fact(f"sink {overwrite.name}: mode overwrite_partition", overwrite.span))
            unique_key, strategy, extra, f2 = _incremental(m, house, overwrite, partition, sinks)
            facts += f2
            reason = f"loaded by partition overwrite, so each run rebuilds only its partitions: incremental; {extra}"
        elif keyed is not None and m.grain:
            mat = "incremental"
            facts.append(fact(f"grain {', '.join(m.grain)}", m.span))
            facts.append(fact(f"sink {keyed.name}: mode {keyed.mode}", keyed.span))
            unique_key, strategy, extra, f2 = _incremental(m, house, None, partition, sinks)
            facts += f2
            reason = f"sink {keyed.name} loads it by key (mode {keyed.mode}): incremental on the grain; {extra}"
        elif growing and m.grain:
            mat = "incremental"
            facts.append(fact(f"grain {', '.join(m.grain)}", m.span))
            unique_key, strategy, extra, f2 = _incremental(m, house, None, partition, sinks)
            facts += f2
            reason = (f"a growing mart ({rows:,.0f} rows/day from its sources >= {GROWING_ROWS_PER_DAY:,}/day) with a "
                      f"grain: incremental on the grain; {extra}")
        elif growing:
            mat = "table"
            reason = (f"growing ({rows:,.0f} rows/day) but without a grain there is no unique key to merge on: "
                      "rebuilt as a table each run (add `grain` to make it incremental)")
        else:
            mat = "table"
            reason = ("no source volume given: a table rebuilt each run" if rows is None else
                      f"small ({rows:,.0f} rows/day from its sources < {GROWING_ROWS_PER_DAY:,}/day): a table "
                      "rebuilt each run")
    w = why(rule, reason, *facts)
    choice = mat + (f" (unique_key {', '.join(unique_key)}" if unique_key else "") + (
        f"{', ' if unique_key else ' ('}strategy {strategy})" if strategy else (")" if unique_key else ""))
    rec.decide(nid, "materialization", choice, w)
    inc_col = _incremental_column(spec, rec, m, strategy) if mat == "incremental" else None
    return ModelPlan(model=m.name, layer=layer, materialization=mat, unique_key=unique_key,
                     incremental_strategy=strategy, why=w, incremental_column=inc_col)


def _trace(spec: Spec, node: str, column: str) -> tuple[str, str] | None:
    """The source column a model column copies unchanged (through any number of models), if any."""
    seen = set()
    while (node, column) not in seen:
        seen.add((node, column))
        if spec.source(node) is not None:
            return node, column
        model = spec.model(node)
        lin = next((c for c in model.columns if c.name == column), None) if model else None
        if lin is None or len(lin.inputs) != 1:
            return None
        node, column = lin.inputs[0].node, lin.inputs[0].column
    return None


def _incremental_column(spec: Spec, rec: Recorder, m: Model, strategy: str | None) -> str | None:
    """The column each incremental run filters on, with its reason (rules §7)."""
    nid = node_id("model", m.name)
    if strategy in ("insert_overwrite", "delete+insert") and m.partition is not None and not m.grain:
        col, reason = m.partition.column, "whole partitions are replaced: a run reads the partitions it rebuilds"
    else:
        ranked = []
        for c in m.columns:
            origin = _trace(spec, m.name, c.name)
            if origin is None:
                continue
            src = spec.source(origin[0])
            cursor = src.capture.column if src.capture and src.capture.column else None
            col = src.column(origin[1])
            if cursor == origin[1] or (src.capture and src.capture.mode.value == "cdc" and origin[1] == "updated_at"):
                ranked.append((0, c.name, f"{c.name} carries {src.name}.{origin[1]}, the source's change cursor: "
                                          "updated rows are picked up, not only new ones"))
            elif col is not None and col.event_time:
                ranked.append((1, c.name, f"{c.name} carries {src.name}.{origin[1]}, its event time (no change "
                                          "cursor is selected: updates to old rows are not picked up; select "
                                          "updated_at to fix that)"))
        if not ranked and m.partition is not None:
            ranked.append((2, m.partition.column, "the partition column: no change cursor or event time is selected"))
        if not ranked:
            return None
        _, col, reason = min(ranked)
    rec.decide(nid, "incremental filter", col, why("growing", reason, fact(f"model {m.name}", m.span)))
    return col


def _layer(spec: Spec, lin: Lineage, rec: Recorder, m: Model):
    f = [fact(f"model {m.name}", m.span)]
    if m.layer is not None:
        layer = LAYER_WORDS[m.layer]
        f.append(fact(f"layer {m.layer}", m.span))
        named = f" ({m.layer} in the medallion layout)" if m.layer != layer else ""
        return layer, why("layers", f"the spec sets `layer {m.layer}`, which wins{named}", *f)
    by_name = layer_of(m.name)
    if by_name is not None and SNAKE.match(m.name):
        prefix = next(p for p, _ in PREFIXES if m.name.startswith(p))
        return by_name, why("layers", f"the name prefix `{prefix}` marks the {by_name} layer", *f)
    # no convention: infer from the graph
    reads_sources_only = bool(m.depends_on) and all(spec.source(d) is not None for d in m.depends_on)
    if by_name is not None:
        layer = by_name
        reason = f"the prefix marks the {layer} layer, but the name is not snake_case"
    elif reads_sources_only:
        layer, reason = "staging", "it reads only sources: staging"
    elif lin.sinks_of(m.name):
        layer, reason = "mart", "a sink receives it: mart"
    else:
        layer, reason = "intermediate", "it reads models and no sink receives it: intermediate"
    suggestion = EXAMPLE_PREFIX[layer] + re.sub(r"[^a-z0-9_]", "_", m.name.lower()).removeprefix(
        EXAMPLE_PREFIX[layer])
    rec.warn("W203", m.span, name=m.name, layer=layer,
             hint=f"name it `{suggestion}` (snake_case with stg_, int_, fct_, dim_ or rpt_), or declare `layer {layer}`")
    return layer, why("layers", f"the name follows no layer convention (W203); inferred: {reason}", *f)


def _daily_rows(lin: Lineage, nid: str):
    rows, facts, known = 0.0, [], False
    for s in lin.upstream_sources(nid):
        if s.volume is not None:
            rows += s.volume.per_second * 86400
            known = True
            facts.append(fact(f"source {s.name}: volume {s.volume.text}", s.span))
        else:
            facts.append(fact(f"source {s.name}: no volume given", s.span))
    return (rows if known else None), facts


def _incremental(m: Model, house, overwrite, partition, sinks):
    """(unique_key, incremental_strategy, explanation, facts) for an incremental model in its warehouse."""
    facts = []
    kind = house.kind if house else None
    if house:
        facts.append(fact(f"built in {house.name} ({kind.value})", house.span))
    if (overwrite is not None or not m.grain) and partition is not None:
        facts.append(fact(f"partition by {partition.granularity or ''}({partition.column})", partition.span))
        if kind == ConnectionKind.bigquery:
            return (), "insert_overwrite", ("insert_overwrite replaces the partitions a run produces (dbt-bigquery's "
                                            "partition overwrite)" + ("" if overwrite else ", as there is no grain")), facts
        return (partition.column,), "delete+insert", (
            f"delete+insert on {partition.column} replaces each partition a run produces "
            f"({kind.value if kind else 'this warehouse'} has no partition overwrite in dbt)"), facts
    if not m.grain:
        return (), "append", "no grain: rows are appended (the sink's idempotency pass decides whether that is safe)", facts
    asked = next((s for s in sinks if s.mode == "merge"), None)
    if asked is not None:
        facts.append(fact(f"sink {asked.name}: mode merge", asked.span))
        return m.grain, "merge", f"unique_key {', '.join(m.grain)}, merge: sink {asked.name} asks for a MERGE", facts
    strategy, note = UPSERT_STRATEGY.get(kind, ("delete+insert", "delete+insert on the unique key works on every "
                                                                 "dbt adapter"))
    return m.grain, strategy, f"unique_key {', '.join(m.grain)}, {strategy}: {note}", facts
