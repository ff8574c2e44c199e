"""Connector options (the WITH clause) of every table, for deployment or for local test runs."""

from __future__ import annotations

import re

from streamc.ir import Spec

from .jobs import Job, Output, SourceRead

WORKDIR = "${WORKDIR}"  # test runs: the harness (or the user) substitutes a scratch directory


def env_var(*parts: str) -> str:
    """`${EVENTS_BOOTSTRAP_SERVERS}`: a placeholder the deployment substitutes (see the README: envsubst)."""
    name = "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_").upper() for p in parts if p)
    return "${" + name + "}"


def secret_prefix(ir: Spec, connection: str) -> str:
    """Credentials come from the connection's named secret when it has one, else from the connection name."""
    conn = ir.connection(connection)
    if conn is not None:
        for s in conn.settings:
            if s.value.kind == "secret":
                return s.value.text
    return connection


def has_schema_setting(ir: Spec, connection: str) -> bool:
    conn = ir.connection(connection)
    if conn is not None and conn.setting("schema") is not None:
        return True
    return any(o.target == connection and o.key == "schema" for e in ir.environments for o in e.overrides)


class Connectors:
    def __init__(self, ir: Spec, job: Job, test: bool):
        self.ir = ir
        self.job = job
        self.test = test

    # ------------------------------------------------------------------ sources
    def source(self, read: SourceRead) -> list[tuple[str, str]]:
        fmt = read.format
        if self.test:
            fmt = "json" if fmt == "avro-confluent" else fmt
            opts = [("connector", "filesystem"), ("path", f"{WORKDIR}/input/{read.source}.{_ext(fmt)}")]
        else:
            opts = [("connector", "kafka"), ("topic", read.topic),
                    ("properties.bootstrap.servers", env_var(read.kafka, "bootstrap_servers"))]
            if read.group_id:
                opts += [("properties.group.id", read.group_id), ("scan.startup.mode", "group-offsets"),
                         ("properties.auto.offset.reset", "earliest")]
            else:
                opts += [("scan.startup.mode", "earliest-offset")]
        opts += self._format(fmt, read.kafka)
        return opts

    def _format(self, fmt: str, kafka: str, prefix: str = "") -> list[tuple[str, str]]:
        key = f"{prefix}format" if prefix else "format"
        opts = [(key, fmt)]
        if fmt == "debezium-json":
            opts += [("debezium-json.schema-include", "false"),
                     ("debezium-json.timestamp-format.standard", "ISO-8601")]
        elif fmt == "json":
            opts += [(f"{prefix}json.timestamp-format.standard", "ISO-8601")]
        elif fmt == "avro-confluent":
            opts += [(f"{prefix}avro-confluent.url", env_var(kafka, "schema_registry_url"))]
        return opts

    # ------------------------------------------------------------------ outputs
    def output(self, out: Output) -> list[tuple[str, str]]:
        if self.test:
            # a changelog-capable file format for keyed outputs, so updates stay visible in the test output
            fmt = "debezium-json" if out.upsert else "json"
            return [("connector", "filesystem"), ("path", f"{WORKDIR}/output/{out.table}"), ("format", fmt)] + (
                [("debezium-json.timestamp-format.standard", "ISO-8601")] if fmt == "debezium-json" else
                [("json.timestamp-format.standard", "ISO-8601")])
        if out.connector == "upsert-kafka":
            return [("connector", "upsert-kafka"), ("topic", out.topic),
                    ("properties.bootstrap.servers", env_var(out.connection, "bootstrap_servers")),
                    ("key.format", "json"), ("key.json.timestamp-format.standard", "ISO-8601"),
                    ("value.format", "json"), ("value.json.timestamp-format.standard", "ISO-8601")]
        if out.connector == "kafka":
            opts = [("connector", "kafka"), ("topic", out.topic),
                    ("properties.bootstrap.servers", env_var(out.connection, "bootstrap_servers")),
                    ("format", "json"), ("json.timestamp-format.standard", "ISO-8601")]
            if out.exactly_once:
                opts += [("sink.delivery-guarantee", "exactly-once"),
                         ("sink.transactional-id-prefix", f"{self.ir.pipeline.name}.{self.job.name}.{out.table}")]
            else:
                opts += [("sink.delivery-guarantee", "at-least-once")]
            return opts
        if out.connector == "jdbc":
            secret = secret_prefix(self.ir, out.connection)
            table = out.node
            if has_schema_setting(self.ir, out.connection):
                table = f"{env_var(out.connection, 'schema')}.{out.node}"
            return [("connector", "jdbc"), ("url", env_var(out.connection, "jdbc_url")), ("table-name", table),
                    ("username", env_var(secret, "username")), ("password", env_var(secret, "password"))]
        # filesystem (object storage)
        path = f"{out.scheme}://{env_var(out.connection, 'bucket')}/{self.ir.pipeline.name}/{out.table}"
        opts = [("connector", "filesystem"), ("path", path), ("format", "json"),
                ("json.timestamp-format.standard", "ISO-8601")]
        if out.partition is not None:
            opts += [("sink.partition-commit.policy.kind", "success-file")]
        return opts

    def placeholders(self, text: str) -> list[str]:
        return sorted(set(re.findall(r"\$\{([A-Z0-9_]+)\}", text)))


def _ext(fmt: str) -> str:
    return "csv" if fmt == "csv" else "json"
