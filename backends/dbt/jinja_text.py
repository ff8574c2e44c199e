"""Spec text inside dbt's Jinja: every string dbt renders shows the spec's text as written, never runs it."""

from __future__ import annotations

import re

# dbt renders the project's .sql files and most YAML string values with Jinja; a test argument that looks like a
# call of one of these is even evaluated without braces (dbt.clients.jinja.add_rendered_test_kwargs).
_OPENER = re.compile(r"\{(?=[{%#])")
_LOOKS_LIKE_CALL = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$", re.S)


class Template(str):
    """Jinja that streamc writes on purpose (`{{ ref('x') }}`, `{{ env_var('X') }}`, a test's `ref('x')`)."""


def escape_text(text: str) -> str:
    """`text` as Jinja source that renders to `text` itself: each `{` that would open a tag (`{{`, `{%`, `{#`)
    is written as `{{ '{' }}`, and text dbt would take for a call gets an empty expression in front."""
    out = _OPENER.sub("{{ '{' }}", text)
    if _LOOKS_LIKE_CALL.match(out):
        out = "{{ '' }}" + out
    return out


def string_literal(text: str) -> str:
    """A single-quoted Jinja string literal holding `text` (inside a `{{ ... }}` streamc writes)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
