"""The `kafka` backend: the Kafka plan per environment as Strimzi resources and a kafka-topics.sh script."""

from __future__ import annotations

from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict

from streamc.backend_api import Backend
from streamc.diagnostics import Diagnostic
from streamc.ir import Spec

from .layout import KafkaLayout, env_name
from .render import Context, render_groups, render_readme, render_script, render_topics


class KafkaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Strimzi API of the KafkaTopic / KafkaUser resources: kafka.strimzi.io/v1 (Strimzi 0.49 and later, the only
    # one from Strimzi 1.0); kafka.strimzi.io/v1beta2 for older operators.
    strimzi_api: str = "kafka.strimzi.io/v1"


class KafkaBackend(Backend):
    name = "kafka"
    description = "the Kafka plan per environment: Strimzi KafkaTopic / KafkaUser resources and kafka-topics.sh"
    options_model = KafkaOptions
    # the topics the plan gives sources (change topics, existing topics), metrics and sinks (dead letters); what
    # flows through them is expressed by the other backends. Environments: the plan's replication per environment
    # is laid out here (one folder each), their other overrides (schemas, URLs) belong to the other backends.
    features = frozenset({"source", "cdc", "topic", "metric", "sink"})
    delegated = frozenset({"model", "windows", "expectation", "pii", "dedup", "history", "partitions", "schedule",
                           "api", "files", "environments"})

    def check(self, ir: Spec, options: KafkaOptions) -> list[Diagnostic]:
        return [self.unsupported(None, p.what, p.hint) for p in KafkaLayout(ir).problems]

    def emit(self, ir: Spec, options: KafkaOptions) -> dict[str, str]:
        layout = KafkaLayout(ir)
        if layout.problems:
            raise ValueError(f"kafka: cannot emit ({layout.problems[0].what}); run check() first")
        if not layout.envs:
            return {}
        ctx = Context(pipeline=ir.pipeline.name,
                      spec_file=PurePosixPath(ir.files[0]).name if ir.files else "the spec",
                      kafka=layout.kafka, bootstrap=env_name(layout.kafka, "bootstrap_servers"),
                      cluster=env_name(layout.kafka, "strimzi_cluster"), api=options.strimzi_api)
        files = {"kafka/README.md": render_readme(ctx, layout.envs)}
        for env in layout.envs:
            files[f"kafka/{env.env}/topics.yaml"] = render_topics(ctx, env)
            files[f"kafka/{env.env}/create-topics.sh"] = render_script(ctx, env)
            if env.groups:
                files[f"kafka/{env.env}/consumer-groups.yaml"] = render_groups(ctx, env)
        return files
