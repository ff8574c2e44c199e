"""Lays the typed statements of a job out as one Flink SQL script (jinja2 only substitutes and loops)."""

from __future__ import annotations

from pathlib import Path

from streamc.template_env import template_environment
from streamc.text_escape import one_line

from .dialect import ident, literal
from .statements import Script, Table

_ENV = template_environment(Path(__file__).parent / "templates", trim_blocks=False)
_ENV.filters["one_line"] = one_line  # `-- {{ c | one_line }}`: spec text never ends a comment early


def table_sql(t: Table) -> str:
    """CREATE TEMPORARY TABLE: job-scoped, so nothing (placeholders included) lands in a shared catalog."""
    lines = [f"    {c}" for c in t.columns + t.constraints]
    text = f"CREATE TEMPORARY TABLE {ident(t.name)} (\n" + ",\n".join(lines) + "\n)"
    if t.partitioned_by:
        text += f" PARTITIONED BY ({', '.join(t.partitioned_by)})"
    opts = ",\n".join(f"    {literal(k)} = {literal(v)}" for k, v in t.options)
    return text + f" WITH (\n{opts}\n);"


def render(script: Script) -> str:
    text = _ENV.get_template("job.sql.j2").render(script=script, table=table_sql)
    return text.rstrip("\n") + "\n"
