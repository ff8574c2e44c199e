"""Windows pass: the event-time column and allowed lateness (the watermark) of every windowed metric (rules §2)."""

from __future__ import annotations

from ..diagnostics import Diagnostics
from ..ir import Duration, Metric, Spec, WatermarkPlan
from .graph import Lineage, node_id
from .record import Recorder, fact, why

NO_LATENESS = Duration(seconds=0, text="0s")


def windows_pass(spec: Spec, diags: Diagnostics) -> Spec:
    rec = Recorder("windows", diags)
    lin = Lineage(spec)
    plans = []
    for m in spec.metrics:
        if m.window is None:
            continue
        p = _plan(spec, lin, rec, m)
        if p is not None:
            plans.append(p)
    return rec.finish(spec, watermarks=tuple(plans))


def _plan(spec: Spec, lin: Lineage, rec: Recorder, m: Metric) -> WatermarkPlan | None:
    found = None
    # the metric's input column that carries the event time: prefer one that keeps the source column's name
    candidates = lin.output_columns(m.from_)
    traced = [(c, lin.trace_to_source(m.from_, c)) for c in candidates]
    hits = [(c, t) for c, t in traced if t is not None and t[1].event_time]
    hits.sort(key=lambda x: (x[0] != x[1][1].name, candidates.index(x[0])))
    if hits:
        found = hits[0]
    if found is None:  # analysis reports E110 for a window without event time; nothing to plan
        return None
    column, (source, col) = found
    lateness = col.lateness or NO_LATENESS
    path = f"{m.from_}.{column}" + (f" <- {source.name}.{col.name}" if (m.from_, column) != (source.name, col.name)
                                    else "")
    facts = [fact(f"metric {m.name}: window {m.window.kind} {m.window.size.text} over {m.from_}", m.window.span),
             fact(f"{source.name}.{col.name}: event_time", col.span)]
    if col.lateness is not None:
        facts.append(fact(f"{source.name}.{col.name}: lateness {col.lateness.text}", col.span))
        late = f"allowed lateness {col.lateness.text}, as declared"
    else:
        facts.append(fact("no lateness declared: 0s", None))
        late = ("no lateness declared: 0s, so the watermark follows the largest event time seen and a late event is "
                "dropped; declare `lateness` on the column when events arrive out of order")
    reason = (f"event time traced through the lineage ({path}); watermark = {column} - {lateness.text}: a window "
              f"closes once the watermark passes its end; {late}")
    w = why("watermark", reason, *facts)
    rec.decide(node_id("metric", m.name), "watermark", f"{column} - {lateness.text}", w)
    return WatermarkPlan(metric=m.name, source=source.name, event_time=col.name, lateness=lateness, why=w,
                         input_column=column)
