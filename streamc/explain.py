"""Renders the passes' decisions (what was chosen, the rule, the spec facts and their lines) as text or JSON."""

from __future__ import annotations

import json
import textwrap

from .ir import Decision, Spec

WIDTH = 100
LABEL = 9  # "  reason " column
FACT_ALIGN_MAX = 56  # longer fact texts are not padded: their location follows them


def render_explain(spec: Spec, fmt: str = "text") -> str:
    from .passes import pass_reasons

    reasons = pass_reasons()
    if fmt == "json":
        data = {
            "pipeline": spec.pipeline.name,
            "files": list(spec.files),
            "passes": [{"name": n, "reason": r} for n, r in reasons.items()],
            "decisions": [d.model_dump(mode="json") for d in spec.decisions],
            "warnings": [w.model_dump(mode="json") for w in spec.warnings],
            "plan": spec.plan.model_dump(mode="json"),
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    return _text(spec, reasons)


def _text(spec: Spec, reasons: dict[str, str]) -> str:
    p = spec.pipeline
    mode = spec.plan.mode.mode.value if spec.plan.mode else "?"
    out = [f"pipeline {p.name} ({', '.join(spec.files)})",
           f"mode {mode}, tier {p.tier.value}: {len(spec.decisions)} decision(s), {len(spec.warnings)} warning(s)"]
    by_pass: dict[str, list[Decision]] = {}
    for d in spec.decisions:
        by_pass.setdefault(d.pass_name, []).append(d)
    order = [n for n in reasons if n in by_pass] + [n for n in by_pass if n not in reasons]
    for i, name in enumerate(order, 1):
        out.append("")
        out.append(f"== {i}. {name}")
        if name in reasons:
            out += _wrap(f"runs {reasons[name]}", "   ", "   ")
        for d in by_pass[name]:
            out.append("")
            out += _decision(d)
    if spec.warnings:
        out.append("")
        out.append("== warnings")
        for w in spec.warnings:
            where = w.span.at() if w.span else "-"
            out += _wrap(f"{w.code} {where}: {w.message}", "", "    ")
    return "\n".join(out) + "\n"


def _decision(d: Decision) -> list[str]:
    lines = _wrap(f"{d.subject}: {d.topic} = {d.choice}", "", "    ")
    lines += _wrap(d.why.rule, "  rule   ", " " * LABEL)
    lines += _wrap(d.why.reason, "  reason ", " " * LABEL)
    if d.why.facts:
        pad = max((len(f.text) for f in d.why.facts if len(f.text) <= FACT_ALIGN_MAX), default=0)
        for n, f in enumerate(d.why.facts):
            where = f"{f.span.file}:{f.span.line}" if f.span else "(default)"
            lines.append(f"{'  facts  ' if n == 0 else ' ' * LABEL}{f.text.ljust(pad)}  {where}")  # one line each
    return lines


def _wrap(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width=WIDTH, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]
