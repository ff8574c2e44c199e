"""`streamc diff OLD NEW`: classify contract changes as breaking or not, and the backfill each needs (rules §8)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .ir import BackfillPlan, Check, CheckKind, Column, ColumnType, Duration, Metric, Model, Source, Span, Spec

# rules §8: change -> (strategy, what it means); used when the backfill pass has not filled ir.plan.backfill
BACKFILL_RULES: dict[str, tuple[str, str]] = {
    "schema_change": ("reprocess_all", "schema change only: reprocess all"),
    "logic_change": ("full_historical", "logic change: full historical reprocess"),
    "new_source": ("incremental_from_start", "new source: load it incrementally from its own start"),
    "bug_fix_window": ("reprocess_window", "bug fix in a recent window: reprocess the affected window"),
}
INTEGERS = ("smallint", "integer", "bigint")
FLOATS = ("real", "double")


@dataclass(frozen=True)
class Change:
    subject: str  # "source:orders", "model:fct_orders", "metric:m", "sink:s", "expect:node", "pipeline"
    kind: str  # stable identifier, e.g. "column_dropped"
    breaking: bool
    message: str
    backfill: str | None  # a BackfillPlan.change, or None when no data needs reprocessing
    line: int | None = None  # where in the new spec (the old one for removals)
    file: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


def _at(span: Span | None) -> dict:
    return {"line": span.line, "file": span.file} if span is not None else {}


def change(subject: str, kind: str, breaking: bool, message: str, backfill: str | None,
           span: Span | None = None) -> Change:
    return Change(subject, kind, breaking, message, backfill, **_at(span))


# ------------------------------------------------------------------ columns and types


def type_text(t: ColumnType) -> str:
    if t.name == "enum":
        return "enum(" + ", ".join(f'"{v}"' for v in t.values) + ")"
    return t.sql()


def widens(old: ColumnType, new: ColumnType) -> bool:
    """True when every value of the old type fits the new one (a safe, non-breaking retype)."""
    a, b = old.name, new.name
    if a in INTEGERS and b in INTEGERS:
        return INTEGERS.index(b) >= INTEGERS.index(a)
    if a in FLOATS and b in FLOATS:
        return FLOATS.index(b) >= FLOATS.index(a)
    if a in INTEGERS and b == "numeric":
        return not new.params or new.params[0] - (new.params[1] if len(new.params) > 1 else 0) >= 19
    if a == "numeric" and b == "numeric":
        if not new.params:
            return True
        if not old.params:
            return False
        p1, s1 = old.params[0], old.params[1] if len(old.params) > 1 else 0
        p2, s2 = new.params[0], new.params[1] if len(new.params) > 1 else 0
        return s2 >= s1 and p2 - s2 >= p1 - s1
    if a in ("varchar", "char", "enum") and b == "text":
        return True
    if a in ("varchar", "char") and b == "varchar":
        return not new.params or (bool(old.params) and new.params[0] >= old.params[0])
    if a == "timestamp" and b == "timestamp":
        return (new.params or (6,))[0] >= (old.params or (6,))[0]
    return False


def _values_change(subject: str, what: str, old: tuple[str, ...], new: tuple[str, ...],
                   span: Span | None) -> list[Change]:
    """Accepted values / enum members: fewer is narrowed (breaking: existing rows may hold a removed value)."""
    o, n = set(old), set(new)
    if o == n:
        return []
    removed, added = sorted(o - n), sorted(n - o)
    if not o:
        return [change(subject, "accepted_values_narrowed", True, f"{what} now restricted to {sorted(n)}", None,
                       span)]
    if not n:
        return [change(subject, "accepted_values_widened", False, f"{what} no longer restricted", None, span)]
    if removed:
        return [change(subject, "accepted_values_narrowed", True,
                       f"{what} narrowed: {', '.join(removed)} no longer accepted"
                       + (f" (added {', '.join(added)})" if added else ""), None, span)]
    return [change(subject, "accepted_values_widened", False, f"{what} widened: {', '.join(added)} accepted", None,
                   span)]


def diff_columns(subject: str, old: tuple[Column, ...], new: tuple[Column, ...]) -> list[Change]:
    out: list[Change] = []
    old_by, new_by = {c.name: c for c in old}, {c.name: c for c in new}
    dropped = [c for c in old if c.name not in new_by]
    added = [c for c in new if c.name not in old_by]
    renamed: dict[str, Column] = {}
    for d in dropped:
        pos = old.index(d)
        cand = new[pos] if pos < len(new) else None
        if cand is not None and cand in added and type_text(cand.type) == type_text(d.type) and cand.name not in {
                r.name for r in renamed.values()}:
            renamed[d.name] = cand
    for d in dropped:
        if d.name in renamed:
            r = renamed[d.name]
            out.append(change(subject, "column_renamed", True,
                              f"column '{d.name}' probably renamed to '{r.name}' (dropped and added with the same "
                              f"type {type_text(d.type)} at the same position)", "schema_change", r.span))
            out += diff_column(subject, d, r)
        else:
            out.append(change(subject, "column_dropped", True, f"column '{d.name}' dropped", "schema_change", d.span))
    renamed_to = {r.name for r in renamed.values()}
    for a in added:
        if a.name in renamed_to:
            continue
        if a.not_null or a.primary_key:
            out.append(change(subject, "column_added_required", True,
                              f"column '{a.name}' added as not null: existing rows have no value for it",
                              "schema_change", a.span))
        else:
            out.append(change(subject, "column_added_nullable", False, f"column '{a.name}' added (nullable)",
                              "schema_change", a.span))
    for c in new:
        o = old_by.get(c.name)
        if o is None:
            continue
        out += diff_column(subject, o, c)
    return out


def diff_column(subject: str, o: Column, c: Column) -> list[Change]:
    out: list[Change] = []
    name = f"column '{c.name}'"
    if o.type.name == "enum" and c.type.name == "enum":
        out += _values_change(subject, f"{name} enum", o.type.values, c.type.values, c.type.span)
    elif type_text(o.type) != type_text(c.type):
        if widens(o.type, c.type):
            out.append(change(subject, "column_type_widened", False,
                              f"{name} widened from {type_text(o.type)} to {type_text(c.type)}", "schema_change",
                              c.type.span))
        else:
            out.append(change(subject, "column_retyped", True,
                              f"{name} retyped from {type_text(o.type)} to {type_text(c.type)}", "schema_change",
                              c.type.span))
    if c.not_null and not o.not_null and not o.primary_key:
        out.append(change(subject, "not_null_added", True, f"{name} is now not null: existing rows may hold nulls",
                          None, c.span))
    if o.not_null and not c.not_null and not c.primary_key:
        out.append(change(subject, "not_null_removed", False, f"{name} may now be null", None, c.span))
    if c.unique and not o.unique:
        out.append(change(subject, "unique_added", True, f"{name} is now unique: existing rows may repeat values",
                          None, c.span))
    out += _values_change(subject, f"{name} accepted values", o.accepted_values, c.accepted_values, c.span)
    old_pii = o.pii.strategy.value if o.pii else None
    new_pii = c.pii.strategy.value if c.pii else None
    if old_pii != new_pii:
        out.append(change(subject, "pii_changed", True,
                          f"{name} PII handling changed from {old_pii or 'none'} to {new_pii or 'none'}: its values "
                          "downstream change", "logic_change", c.pii.span if c.pii else c.span))
    if o.event_time != c.event_time:
        out.append(change(subject, "event_time_changed", True,
                          f"{name} {'is now' if c.event_time else 'is no longer'} the event time: windows and "
                          "watermarks move", "logic_change", c.span))
    return out


# ------------------------------------------------------------------ nodes


def diff_source(o: Source, n: Source) -> list[Change]:
    subject = f"source:{n.name}"
    out = diff_columns(subject, o.columns, n.columns)
    if o.primary_key != n.primary_key:
        out.append(change(subject, "key_changed", True,
                          f"key changed from ({', '.join(o.primary_key)}) to ({', '.join(n.primary_key)})",
                          "schema_change", n.span))
    return out


def diff_model(o: Model, n: Model) -> list[Change]:
    subject = f"model:{n.name}"
    out: list[Change] = []
    if o.grain != n.grain:
        out.append(change(subject, "grain_changed", True,
                          f"grain changed from ({', '.join(o.grain)}) to ({', '.join(n.grain)})", "schema_change",
                          n.span))
    old_cols = [c.name for c in o.columns]
    new_cols = [c.name for c in n.columns]
    old_expr = {c.name: c.expression for c in o.columns}
    new_expr = {c.name: c.expression for c in n.columns}
    dropped = [c for c in old_cols if c not in new_cols]
    added = [c for c in new_cols if c not in old_cols]
    for d in dropped:
        pos = old_cols.index(d)
        cand = new_cols[pos] if pos < len(new_cols) else None
        if cand in added and old_expr[d] == new_expr[cand]:
            added.remove(cand)
            out.append(change(subject, "column_renamed", True,
                              f"output column '{d}' probably renamed to '{cand}' (same expression, same position)",
                              "schema_change", n.sql.span))
        else:
            out.append(change(subject, "column_dropped", True, f"output column '{d}' dropped", "schema_change",
                              n.sql.span))
    for a in added:
        out.append(change(subject, "column_added_nullable", False, f"output column '{a}' added", "schema_change",
                          n.sql.span))
    if " ".join(o.sql.text.split()).lower() != " ".join(n.sql.text.split()).lower() and not (dropped or added):
        out.append(change(subject, "logic_changed", False, "SQL changed (same output columns)", "logic_change",
                          n.sql.span))
    if _partition(o) != _partition(n):
        out.append(change(subject, "partition_changed", False, "partitioning changed: the table is rebuilt",
                          "schema_change", n.span))
    if o.history is not None and n.history is None:
        out.append(change(subject, "history_removed", True,
                          "type 2 history removed: valid_from / valid_to / is_current and past versions go",
                          "schema_change", n.span))
    elif o.history is None and n.history is not None:
        out.append(change(subject, "history_added", False,
                          "type 2 history added: versions accumulate from the first run (the past is not rebuilt)",
                          None, n.history.span))
    return out


def _partition(m: Model) -> tuple | None:
    return (m.partition.column, m.partition.granularity) if m.partition else None


def _window(m: Metric) -> tuple | None:
    w = m.window
    return (w.kind, w.size.seconds, w.slide.seconds if w.slide else None) if w else None


def diff_metric(o: Metric, n: Metric) -> list[Change]:
    subject = f"metric:{n.name}"
    out: list[Change] = []
    if tuple(o.dimensions) != tuple(n.dimensions):
        out.append(change(subject, "grain_changed", True,
                          f"dimensions changed from ({', '.join(o.dimensions)}) to ({', '.join(n.dimensions)})",
                          "logic_change", n.span))
    if _window(o) != _window(n):
        out.append(change(subject, "window_changed", True, "window changed: results are per different periods",
                          "logic_change", n.window.span if n.window else n.span))
    om, nm = {m.alias: m for m in o.measures}, {m.alias: m for m in n.measures}
    for alias in om:
        if alias not in nm:
            out.append(change(subject, "measure_dropped", True, f"measure '{alias}' dropped", "logic_change", n.span))
    for alias, m in nm.items():
        if alias not in om:
            out.append(change(subject, "measure_added", False, f"measure '{alias}' added", "logic_change", m.span))
        elif " ".join(om[alias].expression.split()).lower() != " ".join(m.expression.split()).lower():
            out.append(change(subject, "logic_changed", False,
                              f"measure '{alias}' now computes {m.expression} (was {om[alias].expression})",
                              "logic_change", m.span))
    ow_sql = " ".join(o.where.text.split()) if o.where else ""
    nw_sql = " ".join(n.where.text.split()) if n.where else ""
    if ow_sql != nw_sql:
        out.append(change(subject, "logic_changed", False, "filter (where) changed", "logic_change",
                          n.where.span if n.where else n.span))
    return out


def _check_key(c: Check) -> tuple:
    return (c.kind.value, c.columns, c.name or "")


def diff_checks(target: str, old: tuple[Check, ...], new: tuple[Check, ...], span: Span | None) -> list[Change]:
    subject = f"expect:{target}"
    out: list[Change] = []
    for kind in (CheckKind.range, CheckKind.accepted_values):
        olds = {c.columns: c for c in old if c.kind == kind}
        news = {c.columns: c for c in new if c.kind == kind}
        for cols in sorted(set(olds) | set(news)):
            o, n = olds.get(cols), news.get(cols)
            col = ", ".join(cols)
            if kind == CheckKind.accepted_values:
                out += _values_change(subject, f"accepted_values {col}", o.values if o else (),
                                      n.values if n else (), n.span if n else span)
                continue
            lo_o, hi_o = (o.min, o.max) if o else (None, None)
            lo_n, hi_n = (n.min, n.max) if n else (None, None)
            narrower = (lo_n is not None and (lo_o is None or lo_n > lo_o)) or (
                hi_n is not None and (hi_o is None or hi_n < hi_o))
            wider = (lo_o is not None and (lo_n is None or lo_n < lo_o)) or (
                hi_o is not None and (hi_n is None or hi_n > hi_o))
            if narrower:
                out.append(change(subject, "range_narrowed", True,
                                  f"range of {col} narrowed from {_range(lo_o, hi_o)} to {_range(lo_n, hi_n)}", None,
                                  n.span if n else span))
            elif wider:
                out.append(change(subject, "range_widened", False,
                                  f"range of {col} widened from {_range(lo_o, hi_o)} to {_range(lo_n, hi_n)}", None,
                                  n.span if n else span))
    strict = (CheckKind.not_null, CheckKind.unique)
    old_keys = {_check_key(c): c for c in old if c.kind not in (CheckKind.range, CheckKind.accepted_values)}
    new_keys = {_check_key(c): c for c in new if c.kind not in (CheckKind.range, CheckKind.accepted_values)}
    for key in sorted(set(new_keys) - set(old_keys)):
        c = new_keys[key]
        what = f"{c.kind.value} {', '.join(c.columns)}".strip()
        if c.kind in strict and c.severity.value == "error":
            out.append(change(subject, f"{c.kind.value}_added", True,
                              f"check {what} added: stricter, existing rows may fail it", None, c.span))
        else:
            out.append(change(subject, "gate_added", False, f"check {what} added", None, c.span))
    for key in sorted(set(old_keys) - set(new_keys)):
        c = old_keys[key]
        what = f"{c.kind.value} {', '.join(c.columns)}".strip()
        out.append(change(subject, "gate_removed", False, f"check {what} removed", None, span))
    return out


def _range(lo: float | None, hi: float | None) -> str:
    def num(v: float | None) -> str:
        return "" if v is None else (str(int(v)) if float(v).is_integer() else str(v))
    return f"{num(lo)} .. {num(hi)}".strip()


# ------------------------------------------------------------------ the whole spec


def diff_specs(old: Spec, new: Spec) -> list[Change]:
    out: list[Change] = []
    if old.pipeline.name != new.pipeline.name:
        out.append(change("pipeline", "pipeline_renamed", True,
                          f"pipeline renamed from '{old.pipeline.name}' to '{new.pipeline.name}': its outputs, topics "
                          "and jobs get new names", "schema_change", new.pipeline.span))
    for kind, olds, news, fn in (("source", old.sources, new.sources, diff_source),
                                 ("model", old.models, new.models, diff_model),
                                 ("metric", old.metrics, new.metrics, diff_metric)):
        o_by, n_by = {x.name: x for x in olds}, {x.name: x for x in news}
        for name in o_by:
            if name not in n_by:
                out.append(change(f"{kind}:{name}", f"{kind}_removed", True, f"{kind} '{name}' removed", None,
                                  o_by[name].span))
        for name, n in n_by.items():
            if name not in o_by:
                backfill = "new_source" if kind == "source" else "logic_change"
                out.append(change(f"{kind}:{name}", f"{kind}_added", False, f"{kind} '{name}' added", backfill,
                                  n.span))
            else:
                out += fn(o_by[name], n)
    o_sinks, n_sinks = {s.name: s for s in old.sinks}, {s.name: s for s in new.sinks}
    for name, s in o_sinks.items():
        if name not in n_sinks:
            out.append(change(f"sink:{name}", "sink_removed", True, f"sink '{name}' removed", None, s.span))
    for name, s in n_sinks.items():
        o = o_sinks.get(name)
        if o is None:
            out.append(change(f"sink:{name}", "sink_added", False, f"sink '{name}' added: loaded over the full "
                              "history of its inputs", "logic_change", s.span))
            continue
        for node in o.inputs:
            if node not in s.inputs:
                out.append(change(f"sink:{name}", "sink_input_removed", True, f"sink '{name}' no longer receives "
                                  f"'{node}'", None, s.span))
        for node in s.inputs:
            if node not in o.inputs:
                out.append(change(f"sink:{name}", "sink_input_added", False, f"sink '{name}' now receives '{node}'",
                                  "logic_change", s.span))
        if o.key != s.key:
            out.append(change(f"sink:{name}", "key_changed", True,
                              f"key changed from ({', '.join(o.key)}) to ({', '.join(s.key)})", "schema_change",
                              s.span))
        if o.connection != s.connection:
            out.append(change(f"sink:{name}", "sink_moved", True,
                              f"now written to '{s.connection}' (was '{o.connection}')", "logic_change", s.span))
    targets = sorted({e.target for e in old.expectations} | {e.target for e in new.expectations})
    for t in targets:
        span = next((e.span for e in new.expectations if e.target == t), None)
        out += diff_checks(t, old.checks_on(t), new.checks_on(t), span)
    return out


# ------------------------------------------------------------------ backfill (rules §8)


@dataclass(frozen=True)
class Backfill:
    change: str
    strategy: str
    replay_window: str | None
    reason: str
    from_plan: bool  # False: the backfill pass had not planned it; the rule's default is shown


def backfills(changes: list[Change], new: Spec, bug_fix_window: Duration | None) -> list[Backfill]:
    planned: dict[str, BackfillPlan] = {b.change: b for b in new.plan.backfill}
    out = []
    for kind in ("schema_change", "logic_change", "bug_fix_window", "new_source"):
        if not any(c.backfill == kind for c in changes):
            continue
        plan = planned.get(kind)
        if plan is not None:
            window = plan.replay_window.text if plan.replay_window else None
            reason = plan.why.reason
            if kind == "bug_fix_window" and bug_fix_window is not None:
                window = bug_fix_window.text
                if plan.replay_window is not None and bug_fix_window.seconds > plan.replay_window.seconds:
                    reason += (f"; the {bug_fix_window.text} window is longer than the {plan.replay_window.text} that "
                               "can be replayed: the older part needs the full historical reprocess")
            out.append(Backfill(kind, plan.strategy, window, reason, True))
        else:
            strategy, reason = BACKFILL_RULES[kind]
            window = bug_fix_window.text if kind == "bug_fix_window" and bug_fix_window else None
            out.append(Backfill(kind, strategy, window, reason + " (domain-rules §8; the backfill pass has not "
                                "planned it for this spec)", False))
    return out


def as_bug_fix(changes: list[Change]) -> list[Change]:
    """`--bug-fix-window`: the logic changes fix a bug in a recent window, so only that window is reprocessed."""
    return [Change(**{**asdict(c), "backfill": "bug_fix_window"}) if c.backfill == "logic_change" else c
            for c in changes]


# ------------------------------------------------------------------ command


def render_text(changes: list[Change], fills: list[Backfill], acknowledged: bool) -> str:
    lines = []
    strategy = {f.change: f.strategy for f in fills}
    for c in changes:
        where = f"{c.file}:{c.line}: " if c.line else ""
        label = "breaking" if c.breaking else "non-breaking"
        lines.append(f"{where}{label}: {c.subject}: {c.message}")
        fill = f"{c.backfill.replace('_', ' ')} -> {strategy[c.backfill]}" if c.backfill else "none"
        lines.append(f"    backfill: {fill}")
    if fills:
        lines.append("")
        lines.append("backfill needed (domain-rules §8):")
        for f in fills:
            window = f" (window {f.replay_window})" if f.change == "bug_fix_window" and f.replay_window else ""
            lines.append(f"  {f.change.replace('_', ' ')} -> {f.strategy}{window}: {f.reason}")
    breaking = sum(c.breaking for c in changes)
    lines.append("")
    if not changes:
        lines.append("no contract changes")
    else:
        lines.append(f"{breaking} breaking, {len(changes) - breaking} non-breaking change(s)"
                     + (" (breaking changes acknowledged with --allow-breaking)" if breaking and acknowledged else
                        "; acknowledge with --allow-breaking once consumers are ready" if breaking else ""))
    return "\n".join(lines) + "\n"


def run_diff(args) -> int:
    from .backend_api import UsageError
    from .cli import EXIT_OK, EXIT_SPEC, EXIT_USAGE
    from .compiler import compile_files
    from .diagnostics import render_text as render_diags
    from .quantities import QuantityError, parse_duration

    for p in (args.old, args.new):
        if not Path(p).is_file():
            print(f"streamc: error: no such spec file: {p}", file=sys.stderr)
            return EXIT_USAGE
    window = None
    if getattr(args, "bug_fix_window", None):
        try:
            window = parse_duration(args.bug_fix_window)
        except QuantityError as e:
            raise UsageError(f"--bug-fix-window: {e}") from None
    specs = []
    for p in (args.old, args.new):
        result = compile_files([p], env=args.env)
        if not result.ok or result.spec is None:
            sys.stderr.write(render_diags(result.diagnostics, result.sources))
            print(f"streamc: {p} does not compile; nothing compared", file=sys.stderr)
            return EXIT_SPEC
        specs.append(result.spec)
    old, new = specs
    changes = diff_specs(old, new)
    if window is not None:
        changes = as_bug_fix(changes)
    fills = backfills(changes, new, window)
    breaking = any(c.breaking for c in changes)
    if args.format == "json":
        doc = {"old": str(args.old), "new": str(args.new), "changes": [c.to_json() for c in changes],
               "backfill": [asdict(f) for f in fills], "breaking": sum(c.breaking for c in changes),
               "non_breaking": sum(not c.breaking for c in changes), "acknowledged": bool(args.allow_breaking)}
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_text(changes, fills, args.allow_breaking))
    return EXIT_SPEC if breaking and not args.allow_breaking else EXIT_OK
