"""Spec text that Soda would read as a variable reference (`${var.X}`, `${env.X}`): reported, since Soda has no escape."""

from __future__ import annotations

import re

from pydantic import BaseModel

from streamc.diagnostics import Diagnostic, make
from streamc.ir import Span, Spec

# soda_core.common.yaml.VariableResolver.VARIABLE_PATTERN: replaced in every string value of a contract
SODA_VARIABLE = re.compile(r"\$\{ *([a-z]+)\.([a-zA-Z_][a-zA-Z_0-9]*) *\}")


def _texts(value: object, span: Span | None):
    """(text, span of the nearest node holding it) for every string in the IR, the plan included."""
    if isinstance(value, str):
        yield value, span
    elif isinstance(value, BaseModel):
        span = getattr(value, "span", None) if isinstance(getattr(value, "span", None), Span) else span
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), span)
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _texts(item, span)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(k, span)
            yield from _texts(v, span)


def soda_variable_problems(ir: Spec) -> list[Diagnostic]:
    if "${" not in ir.model_dump_json():  # the usual case, decided by one serialisation instead of a walk
        return []
    seen: set[tuple] = set()
    out = []
    for text, span in _texts(ir, ir.pipeline.span):
        if "${" not in text:
            continue
        for m in SODA_VARIABLE.finditer(text):
            key = (span.at() if span else "", m.group(0))
            if key in seen:
                continue
            seen.add(key)
            out.append(make("E120", span, backend="quality", what=f"the text `{m.group(0)}` in a Soda contract",
                            hint="Soda replaces `${namespace.name}` in every contract value and has no escape: "
                                 "reword the text, or build with `--opt quality.soda=false`"))
    return out
