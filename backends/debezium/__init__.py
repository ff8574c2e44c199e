"""The `debezium` backend: one Debezium 3 connector config per captured database, its setup SQL and README."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from streamc.backend_api import Backend
from streamc.diagnostics import Diagnostic
from streamc.ir import Spec

from .connector import ConfigBuilder, connector_json
from .design import Connector, Design, env_name
from .readme import readme_view
from .render import render_readme, render_setup
from .setup_sql import setup_script


class DebeziumOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How the connector config references credentials: `env` -> ${env:SECRET_USER} (EnvVarConfigProvider),
    # `file` -> ${file:<secrets_dir>/<secret>.properties:user} (FileConfigProvider, e.g. a mounted secret).
    secrets: Literal["env", "file"] = "env"
    secrets_dir: str = "/opt/kafka/external-configuration"


class DebeziumBackend(Backend):
    name = "debezium"
    description = "Debezium 3 connector configs (Kafka Connect JSON) for log-based capture, with setup SQL and README"
    options_model = DebeziumOptions
    # the captured tables, log-based capture, pii(drop) kept out of the capture; everything downstream of the change
    # topics belongs to the stream / batch backends, the topics' sizes per environment to the kafka backend
    features = frozenset({"source", "cdc", "pii"})
    delegated = frozenset({"model", "metric", "windows", "sink", "expectation", "dedup", "history", "partitions",
                           "schedule", "environments", "api", "files", "topic"})

    def check(self, ir: Spec, options: DebeziumOptions) -> list[Diagnostic]:
        seen: set[tuple] = set()
        out = []
        for p in Design(ir).problems:
            if (p.span, p.what) not in seen:
                seen.add((p.span, p.what))
                out.append(self.unsupported(p.span, p.what, p.hint))
        return out

    def emit(self, ir: Spec, options: DebeziumOptions) -> dict[str, str]:
        design = Design(ir)
        if design.problems:
            raise ValueError(f"debezium: cannot emit ({design.problems[0].what}); run check() first")
        files: dict[str, str] = {}
        for c in design.connectors:
            files.update(self.connector_files(ir, c, options))
        return files

    @staticmethod
    def connector_files(ir: Spec, c: Connector, options: DebeziumOptions) -> dict[str, str]:
        builder = ConfigBuilder(c, options.secrets, options.secrets_dir)
        settings = builder.build()
        password_env = env_name(c.secret or f"{c.connection}_credentials", "password")
        view = readme_view(ir, c, settings, builder.env, options.secrets, password_env)
        return {
            f"{c.folder}/connector.json": connector_json(c, settings),
            f"{c.folder}/setup.sql": render_setup(setup_script(c, password_env)),
            f"{c.folder}/README.md": render_readme(view),
        }
