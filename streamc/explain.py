"""Renders the passes' decisions (what was chosen, the rule, the spec facts and their lines) as text or JSON."""

from __future__ import annotations

import json

from .ir import Spec


def render_explain(spec: Spec, fmt: str = "text") -> str:
    if fmt == "json":
        data = {
            "pipeline": spec.pipeline.name,
            "decisions": [d.model_dump(mode="json") for d in spec.decisions],
            "warnings": [w.model_dump(mode="json") for w in spec.warnings],
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    out = [f"pipeline {spec.pipeline.name}: {len(spec.decisions)} decision(s)"]
    current = None
    for d in spec.decisions:
        if d.pass_name != current:
            current = d.pass_name
            out.append("")
            out.append(f"== {current}")
        out.append(f"- {d.subject}: {d.topic} = {d.choice}")
        out.append(f"    rule:   {d.why.rule}")
        out.append(f"    reason: {d.why.reason}")
        for f in d.why.facts:
            where = f" ({f.span.file}:{f.span.line})" if f.span else " (default)"
            out.append(f"    fact:   {f.text}{where}")
    return "\n".join(out) + "\n"
