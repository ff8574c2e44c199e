"""Backfill pass: the reprocessing strategy per kind of change and how far back data can be replayed (rules §8)."""

from __future__ import annotations

from ..diagnostics import Diagnostics
from ..ir import BackfillPlan, Duration, Fact, Mode, Spec
from .record import Recorder, fact, why


def backfill_pass(spec: Spec, diags: Diagnostics) -> Spec:
    rec = Recorder("backfill", diags)
    window, w_text, w_facts = _replay_window(spec)
    models = spec.plan.models
    incremental = [m.model for m in models if m.materialization == "incremental"]
    snapshots = [m.model for m in models if m.materialization == "snapshot"]
    mode = spec.plan.mode.mode if spec.plan.mode else Mode.batch
    hot = mode in (Mode.streaming, Mode.hybrid)
    cold = mode in (Mode.batch, Mode.hybrid)

    def scope(full: bool) -> str:
        parts = []
        if cold and models:
            parts.append("full refresh of every dbt model" if full else
                         "rebuild of the affected partitions / dates of " + (", ".join(incremental) or "the models"))
        if hot:
            parts.append("replay of the stream from " + ("the earliest retained offset" if full else
                                                         "the window's start offset") + f" ({w_text})")
        return "; ".join(parts) or "reload of the sinks"

    snap_note = (f"; snapshots ({', '.join(snapshots)}) hold history captured over time and are not rebuilt from "
                 "current rows: they keep their versions") if snapshots else ""
    cases = [
        ("schema_change", "reprocess_all",
         f"a schema change only: reprocess all ({scope(True)}), from the raw data that is always kept{snap_note}"),
        ("bug_fix_window", "reprocess_window",
         f"a bug fixed in a recent window: reprocess only that window ({scope(False)}); pre-check the window's row "
         "counts, compare after, keep the replaced partitions until verified"),
        ("logic_change", "full_historical",
         f"a logic change: full historical reprocess ({scope(True)}){snap_note}"),
        ("new_source", "incremental_from_start",
         "a new source: loaded incrementally from its own start (" + _start(spec) + "), the rest untouched"),
    ]
    plans = []
    for change, strategy, reason in cases:
        w = why("backfill", reason + f"; replay window: {w_text}", *w_facts)
        rec.decide("pipeline", f"backfill: {change}", strategy, w)
        plans.append(BackfillPlan(change=change, strategy=strategy, replay_window=window, why=w))
    return rec.finish(spec, backfill=tuple(plans))


def _replay_window(spec: Spec) -> tuple[Duration | None, str, list[Fact]]:
    """Kafka retention bounds how far a stream can be replayed; batch replays from the kept raw data."""
    input_topics = [t for t in spec.plan.topics if t.purpose in ("cdc", "events")]
    if input_topics:
        kept = [t.retention for t in input_topics]
        if all(r is None for r in kept):
            return None, "the input topics are compacted and kept forever", []
        shortest = min((r for r in kept if r is not None), key=lambda r: r.seconds)
        facts = [fact(f"replay {spec.pipeline.replay.text}", spec.pipeline.span)] if spec.pipeline.replay else [
            fact("Kafka retention 7d", None)]
        return shortest, f"{shortest.text}, the retention of the input topics", facts
    kept = [(s.retention, s) for s in spec.sources if s.retention is not None]
    if kept:
        r, s = min(kept, key=lambda x: x[0].seconds)
        return r, f"{r.text}, the shortest source retention ({s.name})", [fact(f"source {s.name}: retention {r.text}",
                                                                             s.span)]
    return None, "unbounded: raw source data is always kept", [fact("no retention given", None)]


def _start(spec: Spec) -> str:
    starts = {
        "log_cdc": "CDC: the initial snapshot, then the log",
        "timestamp_incremental": "timestamp capture: from the earliest value of its cursor column",
        "api_incremental": "API: its initial_load window, then the cursor",
        "file_arrival": "files: from the first period's file",
        "full": "full extract",
        "topic": "a topic: from its earliest retained offset",
    }
    used = sorted({c.method for c in spec.plan.captures})
    return "; ".join(starts[m] for m in used) or "its first extract"
