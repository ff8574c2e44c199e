"""The `airflow` backend: the batch side of a pipeline as an Airflow 3 DAG, a backfill runbook and deployment notes."""

from __future__ import annotations

import functools
import json
import re
import shlex
from datetime import date
from pathlib import Path

import jinja2
from pydantic import BaseModel

from streamc.backend_api import Backend
from streamc.diagnostics import Diagnostic
from streamc.ir import Spec
from streamc.template_env import template_environment
from streamc.text_escape import docstring_text, markdown_cell, one_line

from .dagplan import DagModel, build_model
from .naming import Names
from .pycode import comment_lines, import_block, literal
from .runbook import readable, runbook, settings

TEMPLATES = Path(__file__).parent / "templates"

PROVIDER_OF_IMPORT = {
    "airflow.providers.standard": "apache-airflow-providers-standard",
    "airflow.providers.common.sql": "apache-airflow-providers-common-sql",
    "airflow.providers.amazon": "apache-airflow-providers-amazon",
    "airflow.providers.google": "apache-airflow-providers-google",
    "airflow.providers.http": "apache-airflow-providers-http",
}
WAREHOUSE_PROVIDERS = {
    "postgres": "apache-airflow-providers-postgres",
    "snowflake": "apache-airflow-providers-snowflake",
    "bigquery": "apache-airflow-providers-google",
    "duckdb": "airflow-provider-duckdb",
}


class AirflowOptions(BaseModel):
    model_config = {"extra": "forbid"}

    # First data interval the DAG schedules. Fixed (never the build date) so output is reproducible; with
    # catchup=True the scheduler runs every interval from here on, so set it to the first day of real data.
    start_date: date = date(2025, 1, 1)


class AirflowBackend(Backend):
    name = "airflow"
    description = "Airflow 3 DAG of the batch side (extract, gates, dbt, load, reconcile), backfill runbook"
    options_model = AirflowOptions
    # The DAG orchestrates sources (tables, APIs, files), dbt models (history and partitions included), sinks,
    # gates, the schedule and per-environment settings. Capturing CDC / topics and computing metrics and windows
    # belong to the streaming backends (the DAG only waits for CDC data they land) or to dbt.
    features = frozenset({"source", "model", "sink", "expectation", "api", "files", "pii", "history", "partitions",
                          "schedule", "environments"})
    delegated = frozenset({"cdc", "topic", "metric", "windows", "dedup"})

    def check(self, ir: Spec, options: AirflowOptions) -> list[Diagnostic]:
        _, problems = build_model(ir, options.start_date)
        return [self.unsupported(p.span, p.what, p.hint) for p in problems]

    def emit(self, ir: Spec, options: AirflowOptions) -> dict[str, str]:
        model, problems = build_model(ir, options.start_date)
        if problems:
            raise ValueError("airflow: emit called on a spec check() rejects: "
                             + "; ".join(p.what for p in problems))
        if model is None:
            return {}  # streaming only: nothing to schedule
        env = _jinja()
        files = {
            model.path: env.get_template("dag.py.j2").render(
                m=model, stage_line=" -> ".join([s.group_id for s in model.stages] + ["notify"]),
                chain=", ".join([s.group_id for s in model.stages] + [model.notify.var]),
                imports=import_block(model.imports),
                dbt_env=literal({var: Names(model.dag_id).config(key) for var, key in model.dbt_env})),
            "airflow/BACKFILL.md": env.get_template("BACKFILL.md.j2").render(r=runbook(ir, model)),
            "airflow/README.md": env.get_template("README.md.j2").render(
                m=model, alerts="alerts_plugin" in model.helpers, providers=providers(model),
                assets=[f"{model.dag_id}.{w.sink}.{w.node}" for w in model.written],
                written=[(w.sink, w.node, readable(w.relation, model.variable), w.strategy) for w in model.written],
                settings=settings(ir, model), example_env=example_env(ir),
                example=shlex.quote(example_variable(ir, model))),
        }
        if "alerts_plugin" in model.helpers:
            files["airflow/plugins/streamc_alerts.py"] = env.get_template("streamc_alerts.py.j2").render()
        return dict(sorted(files.items()))


@functools.cache
def _jinja() -> jinja2.Environment:
    env = template_environment(TEMPLATES)
    env.filters["tick"] = lambda text: f"`{text}`"
    env.filters["comment_lines"] = comment_lines
    env.filters["docstring"] = docstring_text
    env.filters["one_line"] = one_line
    env.filters["env_value"] = lambda pair: markdown_cell(f"{pair[0]}: {code_span(pair[1])}")
    return env


def code_span(text: str) -> str:
    """`text` as one Markdown code span, whatever backticks it holds (a longer fence, padded when needed)."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" or (text[:1] == text[-1:] == " " and text.strip()) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def providers(model: DagModel) -> list[str]:
    found = {dist for prefix, dist in PROVIDER_OF_IMPORT.items() for line in model.imports if f"{prefix}." in line}
    found.add(WAREHOUSE_PROVIDERS[model.warehouse_dialect])
    return sorted(found)


def example_env(ir: Spec) -> str:
    """The environment the README's example Variable is written for: prod when declared, else the last one."""
    names = [e.name for e in ir.environments]
    return "prod" if "prod" in names else (names[-1] if names else "(all)")


def example_variable(ir: Spec, model: DagModel) -> str:
    env = example_env(ir)
    value = {s.key: dict(s.values).get(env, f"<{s.key}>") for s in settings(ir, model)}
    return json.dumps(value, sort_keys=True)
