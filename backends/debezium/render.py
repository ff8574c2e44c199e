"""Lays out the setup SQL and the connector README from typed views (jinja2 only substitutes and loops)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from streamc.template_env import template_environment

from .setup_sql import Script

_ENV = template_environment(Path(__file__).parent / "templates")
WIDTH = 116


def comment_lines(lines: tuple[str, ...] | list[str], width: int = WIDTH) -> list[str]:
    """`-- ` comment lines, long ones wrapped; an empty line stays an empty comment."""
    out = []
    for line in lines:
        if not line:
            out.append("--")
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent >= 2:  # a command line: kept as written
            out.append(f"-- {line}")
            continue
        wrapped = textwrap.wrap(line, width=width - 3, subsequent_indent=" " * (indent + 2),
                                break_long_words=False, break_on_hyphens=False) or [line]
        out += [f"-- {w}" for w in wrapped]
    return out


@dataclass(frozen=True)
class StepView:
    comments: list[str]
    statements: tuple[str, ...]


def render_setup(script: Script) -> str:
    steps = [StepView(comment_lines([s.title, *s.comments]), s.statements) for s in script.steps]
    text = _ENV.get_template("setup.sql.j2").render(header=comment_lines(script.header), prologue=script.prologue,
                                                     steps=steps, epilogue=script.epilogue)
    return text.rstrip("\n") + "\n"


def render_readme(view) -> str:
    text = _ENV.get_template("README.md.j2").render(v=view)
    return text.rstrip("\n") + "\n"
