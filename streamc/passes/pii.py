"""PII pass: where each PII column's strategy (hash, mask, drop, encrypt, keep) is applied (rules §9)."""

from __future__ import annotations

from ..diagnostics import Diagnostics
from ..ir import Column, PiiPlan, PiiStrategy, Source, Spec
from .graph import Lineage, node_id
from .record import Recorder, fact, why

HOW = {
    PiiStrategy.hash: "hashed (one-way, so joins on it still match)",
    PiiStrategy.mask: "masked (all but the last characters replaced)",
    PiiStrategy.encrypt: "encrypted with a key from the secret store",
    PiiStrategy.keep: "kept as it is",
}


def pii_pass(spec: Spec, diags: Diagnostics) -> Spec:
    rec = Recorder("pii", diags)
    lin = Lineage(spec)
    plans: list[PiiPlan] = []
    for s in spec.sources:
        for c in s.columns:
            if c.pii is not None:
                plans += _plans(spec, lin, rec, s, c)
    return rec.finish(spec, pii=tuple(plans))


def _plans(spec: Spec, lin: Lineage, rec: Recorder, s: Source, c: Column) -> list[PiiPlan]:
    strategy = c.pii.strategy
    subject = f"column:{s.name}.{c.name}"
    facts = [fact(f"{s.name}.{c.name}: pii({strategy.value}" + (f" \"{c.pii.reason}\"" if c.pii.reason else "") + ")",
                  c.pii.span)]
    if strategy == PiiStrategy.drop:
        w = why("pii", "pii(drop): the column is excluded where the source is read, so it is never captured, "
                "stored or published", *facts)
        rec.decide(subject, "pii", "drop at capture", w)
        return [PiiPlan(source=s.name, column=c.name, strategy=strategy, applied_in="capture", why=w)]
    keep = f"; kept because: {c.pii.reason}" if strategy == PiiStrategy.keep else ""
    readers = lin.readers(s.name)
    out = []
    mode = spec.plan.mode
    for m in readers:
        uses = any(ref.node == s.name and ref.column == c.name for col in m.columns for ref in col.inputs)
        mid = node_id("model", m.name)
        both = mode is not None and mid in mode.streaming_nodes and mid in mode.batch_nodes
        where = " (on both the hot and the cold path)" if both else ""
        if uses:
            reason = (f"{HOW[strategy]} in {m.name}, the first layer that reads {s.name}{where}, so no later model, "
                      f"metric or sink sees the raw value{keep}")
        else:
            reason = (f"{m.name} reads {s.name} first{where} and does not select {c.name}: it never leaves the "
                      f"source layer; the strategy applies if it is ever selected{keep}")
        w = why("pii", reason, *facts, fact(f"model {m.name} from {s.name}", m.span))
        rec.decide(subject, "pii", f"{strategy.value} in {m.name}" + ("" if uses else " (not selected)"), w)
        out.append(PiiPlan(source=s.name, column=c.name, strategy=strategy, applied_in=m.name,
                           reason=c.pii.reason, why=w))
    if not readers:
        sinks = ", ".join(k.name for k in lin.sinks_of(s.name)) or "nothing"
        w = why("pii", f"no model reads {s.name} (it goes to {sinks} as it is): {HOW[strategy]} where it is "
                f"captured{keep}", *facts)
        rec.decide(subject, "pii", f"{strategy.value} at capture", w)
        out.append(PiiPlan(source=s.name, column=c.name, strategy=strategy, applied_in="capture",
                           reason=c.pii.reason, why=w))
    return out
