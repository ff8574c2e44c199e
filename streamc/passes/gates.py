"""Gates pass: every quality check at its boundary (source / transform / sink) with its priority, plus default gates (rules §5)."""

from __future__ import annotations

from ..diagnostics import Diagnostics
from ..ir import Check, CheckKind, GatePlan, Percent, Severity, Spec, SqlText
from .graph import Lineage
from .record import Recorder, fact, why

# rules §5 priority when only some can run: uniqueness, not null, freshness, volume, business rules;
# schema drift is not ranked by the rules: it runs after them.
PRIORITY = {
    CheckKind.unique: 1, CheckKind.not_null: 2, CheckKind.freshness: 3,
    CheckKind.row_count: 4, CheckKind.volume_anomaly: 4, CheckKind.reconcile: 4,
    CheckKind.range: 5, CheckKind.accepted_values: 5, CheckKind.regex: 5, CheckKind.relationships: 5,
    CheckKind.custom_sql: 5, CheckKind.schema: 6,
}
CLASS = {1: "uniqueness", 2: "not null", 3: "freshness", 4: "volume", 5: "business rules", 6: "schema drift"}
VALIDITY = (CheckKind.unique, CheckKind.not_null, CheckKind.range, CheckKind.accepted_values, CheckKind.regex,
            CheckKind.relationships)
BOUNDARY_ORDER = {"source": 0, "transform": 1, "sink": 2}
DEFAULT_TOLERANCE = Percent(value=1.0, text="1%")
ANOMALY_FACTOR, ANOMALY_BASELINE = 0.8, "avg_7d"


def gates_pass(spec: Spec, diags: Diagnostics) -> Spec:
    rec = Recorder("gates", diags)
    lin = Lineage(spec)
    gates: list[tuple[Check, str, str]] = []  # (check, origin, note)

    written = [c for e in spec.expectations for c in e.checks]
    gates += [(c, "spec", "written in an expect block") for c in written]
    have = {_sig(c) for c in written}
    on_target: dict[str, list[Check]] = {}  # gates per target node, so each lookup below is O(1)
    not_null_named: dict[str, set[str]] = {}  # columns the not_null gates on a target name (kept as gates are added)
    for c in written:
        on_target.setdefault(c.target, []).append(c)
        if c.kind == CheckKind.not_null:
            not_null_named.setdefault(c.target, set()).update(c.columns)

    def add(c: Check, origin: str, note: str) -> None:
        if c.kind == CheckKind.not_null:  # covered when not_null checks on the target already name every column
            if set(c.columns) <= not_null_named.get(c.target, set()):
                return
        if _sig(c) not in have:
            have.add(_sig(c))
            gates.append((c, origin, note))
            on_target.setdefault(c.target, []).append(c)
            if c.kind == CheckKind.not_null:
                not_null_named.setdefault(c.target, set()).update(c.columns)

    for s in spec.sources:
        for col in s.columns:  # the column contract states checks too
            if col.not_null and not col.primary_key:
                add(Check(span=col.span, kind=CheckKind.not_null, target=s.name, columns=(col.name,)), "spec",
                    f"the contract says {col.name} is not null")
            if col.unique and not col.primary_key:
                add(Check(span=col.span, kind=CheckKind.unique, target=s.name, columns=(col.name,)), "spec",
                    f"the contract says {col.name} is unique")
            if col.accepted_values:
                add(Check(span=col.span, kind=CheckKind.accepted_values, target=s.name, columns=(col.name,),
                          values=col.accepted_values), "spec", f"the contract lists {col.name}'s accepted values")
            if col.references is not None:
                add(Check(span=col.references.span, kind=CheckKind.relationships, target=s.name, columns=(col.name,),
                          reference=col.references), "spec", f"the contract says {col.name} references "
                    f"{col.references.node}.{col.references.column}")
            for i, chk in enumerate(col.checks):
                prefix = f"select * from {s.name} where not "
                sql = SqlText(span=chk.span, text=prefix + chk.text, prefix=len(prefix))
                name = f"{s.name}_{col.name}_check" + (f"_{i + 1}" if len(col.checks) > 1 else "")
                add(Check(span=chk.span, kind=CheckKind.custom_sql, target=s.name, name=name, sql=sql), "spec",
                    f"the contract's check {chk.text} on {col.name} (rows violating it fail)")
        pk = s.primary_key
        if pk:
            span = next((c.span for c in s.columns if c.name == pk[0]), s.span)
            add(Check(span=span, kind=CheckKind.unique, target=s.name, columns=pk), "default",
                f"the primary key {', '.join(pk)} must be unique")
            add(Check(span=span, kind=CheckKind.not_null, target=s.name, columns=pk), "default",
                f"the primary key {', '.join(pk)} must be present")
        if s.freshness is not None and not any(c.kind == CheckKind.freshness for c in on_target.get(s.name, ())):
            col = s.event_time.name if s.event_time else (s.capture.column if s.capture and s.capture.column
                                                          else None)
            add(Check(span=s.span, kind=CheckKind.freshness, target=s.name, max_age=s.freshness,
                      columns=(col,) if col else ()), "default",
                f"the source's freshness SLA < {s.freshness.text}" + (f", measured on {col}" if col else ""))
        add(Check(span=s.span, kind=CheckKind.schema, target=s.name), "default",
            "schema drift detection: the columns must match the contract (rules §9: never without it)")

    for m in spec.models:
        if m.grain and m.history is None:
            add(Check(span=m.span, kind=CheckKind.unique, target=m.name, columns=m.grain), "default",
                f"the grain {', '.join(m.grain)} is one row per key")
            add(Check(span=m.span, kind=CheckKind.not_null, target=m.name, columns=m.grain), "default",
                f"the grain {', '.join(m.grain)} must be present")

    for k in spec.sinks:
        for name in k.inputs:
            if any(_boundary(spec, lin, c) == "sink" for c in on_target.get(name, ())):
                continue
            src = _one_to_one_source(spec, lin, name)
            span = k.input_spans.get(name, k.span)
            if src is not None:
                add(Check(span=span, kind=CheckKind.reconcile, target=name, severity=Severity.warn, measure="count",
                          against=src, tolerance=DEFAULT_TOLERANCE), "default",
                    f"sink {k.name} receives {name}, a row-for-row copy of {src}: counts must match within 1% "
                    "(warn-only: a default the spec did not ask for)")
            else:
                add(Check(span=span, kind=CheckKind.volume_anomaly, target=name, severity=Severity.warn,
                          comparison=">=", threshold=ANOMALY_FACTOR, baseline=ANOMALY_BASELINE), "default",
                    f"sink {k.name} receives {name}, which is not a row-for-row copy of one source: a volume "
                    "anomaly check (row count >= 80% of the 7-day average) stands in for reconciliation "
                    "(warn-only: a default the spec did not ask for)")

    plans = []
    for c, origin, note in gates:
        b = _boundary(spec, lin, c)
        pr = PRIORITY[c.kind]
        sev = "stops the pipeline when it fails" if c.severity == Severity.error else "warn-only"
        reason = (f"{'spec' if origin == 'spec' else 'default'} gate: {note}; {b} boundary; priority {pr} "
                  f"({CLASS[pr]}); {sev}")
        f = [fact(_describe(c), c.span if origin == "spec" else None)]
        if origin == "default":
            f.append(fact(f"from {c.target}", c.span))
        plans.append(GatePlan(boundary=b, check=c, origin=origin, priority=pr, why=why("gates", reason, *f)))
    order = _order(spec)
    plans.sort(key=lambda g: (g.priority, BOUNDARY_ORDER[g.boundary], order.get(g.check.target, len(order)),
                              g.check.kind.value, g.check.columns, g.check.span.line))
    for g in plans:
        rec.decide(f"{spec.kind_of(g.check.target) or 'node'}:{g.check.target}", "gate",
                   f"{_describe(g.check)} [{g.boundary}, priority {g.priority}, {g.check.severity.value}, {g.origin}]",
                   g.why)
    return rec.finish(spec, gates=tuple(plans))


def _sig(c: Check) -> tuple:
    return (c.kind, c.target, tuple(c.columns), c.against, c.reference.node if c.reference else None,
            tuple(c.values), c.name)


def _order(spec: Spec) -> dict[str, int]:
    """Declaration order of the nodes gates sit on (sources, models, metrics)."""
    ids = [s.name for s in spec.sources] + [m.name for m in spec.models] + [m.name for m in spec.metrics]
    return {name: i for i, name in reversed(list(enumerate(ids)))}


def _boundary(spec: Spec, lin: Lineage, c: Check) -> str:
    kind = spec.kind_of(c.target)
    if kind == "source":
        return "source"
    if kind in ("metric", "sink"):
        return "sink"
    if c.kind in VALIDITY:
        return "transform"
    return "sink" if lin.sinks_of(c.target) else "transform"


def _one_to_one_source(spec: Spec, lin: Lineage, name: str) -> str | None:
    """The source a node copies row for row (no join, no aggregation on the way), if any."""
    if spec.source(name) is not None:
        return None  # a source sunk as it is: its own gates cover it
    m = spec.model(name)
    if m is None:
        return None
    seen = set()
    while m is not None and m.name not in seen:
        seen.add(m.name)
        joins, agg = lin.model_shape(m)
        if joins or agg or len(m.depends_on) != 1:
            return None
        dep = m.depends_on[0]
        if spec.source(dep) is not None:
            return dep
        m = spec.model(dep)
    return None


def _describe(c: Check) -> str:
    cols = ", ".join(c.columns)
    if c.kind in (CheckKind.unique, CheckKind.not_null):
        return f"{c.kind.value} {c.target}.{cols}" if cols else f"{c.kind.value} {c.target}"
    if c.kind == CheckKind.range:
        lo = "" if c.min is None else f"{c.min:g}"
        hi = "" if c.max is None else f"{c.max:g}"
        return f"range {c.target}.{cols} {lo}..{hi}"
    if c.kind == CheckKind.accepted_values:
        return f"accepted_values {c.target}.{cols} in ({', '.join(c.values)})"
    if c.kind == CheckKind.regex:
        return f"regex {c.target}.{cols} \"{c.pattern}\""
    if c.kind == CheckKind.relationships:
        return f"relationships {c.target}.{cols} -> {c.reference.node}.{c.reference.column}"
    if c.kind == CheckKind.freshness:
        return f"freshness {c.target} {c.max_age.text if c.max_age else ''}" + (f" by {cols}" if cols else "")
    if c.kind == CheckKind.row_count:
        return f"row_count {c.target} {c.comparison} {c.threshold:g}"
    if c.kind == CheckKind.volume_anomaly:
        return f"row_count {c.target} {c.comparison} {c.threshold:g} * {c.baseline}"
    if c.kind == CheckKind.reconcile:
        return f"reconcile {c.measure} {c.target} with {c.against} within {c.tolerance.text if c.tolerance else '?'}"
    if c.kind == CheckKind.custom_sql:
        return f"sql {c.name} on {c.target}"
    return f"{c.kind.value} {c.target}"

