"""Where the generated assets run: the warehouse resource and the object store, configured from env vars only."""

from __future__ import annotations

import re
from dataclasses import dataclass

from streamc.ir import Connection, ConnectionKind

DAGSTER_PIN = "dagster==1.13.*"
LIBRARY_PIN = "0.29.*"  # dagster-<integration> releases that go with dagster 1.13


def env_name(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", "_".join(parts)).strip("_").upper()


@dataclass(frozen=True)
class EnvField:
    """One resource field, read from an environment variable when Dagster builds the resource."""

    field: str  # keyword of the resource constructor
    env: str  # environment variable name
    about: str  # what it holds, for the module docstring
    as_int: bool = False


@dataclass(frozen=True)
class Target:
    """A resource the module defines: `class_name` in the template `template`, bound under `key`."""

    key: str  # resource key = connection name
    kind: str  # duckdb | postgres | snowflake | bigquery | s3 | gcs | local
    spec_kind: str  # the connection kind written in the spec
    class_name: str
    template: str
    imports: tuple[str, ...]
    fields: tuple[EnvField, ...]
    requirements: tuple[str, ...]

    @property
    def dialect(self) -> str:
        return self.kind


def secret_prefix(pipeline: str, conn: Connection) -> str:
    """Credentials come from the named secret when the spec gives one, else from per-connection variables."""
    value = conn.setting("credentials")
    if value is not None and value.kind == "secret":
        return env_name(value.text)
    return env_name(pipeline, conn.name)


WAREHOUSE_KINDS = ("duckdb", "postgres", "snowflake", "bigquery")


def warehouse_target(pipeline: str, conn: Connection, swap_to_duckdb: bool) -> Target:
    kind = "duckdb" if swap_to_duckdb else conn.kind.value
    base = env_name(pipeline, conn.name)
    creds = secret_prefix(pipeline, conn)
    where = f"warehouse `{conn.name}`"
    if kind == "duckdb":
        return Target(conn.name, kind, conn.kind.value, "Warehouse", "warehouse_duckdb.py.j2",
                      ("from dagster_duckdb import DuckDBResource",),
                      (EnvField("database", f"{base}_DATABASE", f"{where}: DuckDB database file"),),
                      (DAGSTER_PIN, f"dagster-duckdb=={LIBRARY_PIN}"))
    if kind == "postgres":
        return Target(conn.name, kind, kind, "Warehouse", "warehouse_postgres.py.j2", (),
                      (EnvField("host", f"{base}_HOST", f"{where}: host"),
                       EnvField("port", f"{base}_PORT", f"{where}: port", as_int=True),
                       EnvField("dbname", f"{base}_DATABASE", f"{where}: database"),
                       EnvField("user", f"{creds}_USER", f"{where}: user"),
                       EnvField("password", f"{creds}_PASSWORD", f"{where}: password"),
                       EnvField("schema_name", f"{base}_SCHEMA", f"{where}: schema the models are built in")),
                      (DAGSTER_PIN, "psycopg[binary]>=3.2"))
    if kind == "snowflake":
        return Target(conn.name, kind, kind, "Warehouse", "warehouse_snowflake.py.j2",
                      ("from dagster_snowflake import SnowflakeResource",),
                      (EnvField("account", f"{base}_ACCOUNT", f"{where}: account identifier"),
                       EnvField("user", f"{creds}_USER", f"{where}: user"),
                       EnvField("password", f"{creds}_PASSWORD", f"{where}: password"),
                       EnvField("role", f"{base}_ROLE", f"{where}: role"),
                       EnvField("warehouse", f"{base}_WAREHOUSE", f"{where}: virtual warehouse"),
                       EnvField("database", f"{base}_DATABASE", f"{where}: database"),
                       EnvField("schema", f"{base}_SCHEMA", f"{where}: schema the models are built in")),
                      (DAGSTER_PIN, f"dagster-snowflake=={LIBRARY_PIN}"))
    if kind == "bigquery":
        return Target(conn.name, kind, kind, "Warehouse", "warehouse_bigquery.py.j2",
                      ("from dagster_gcp import BigQueryResource", "from google.cloud import bigquery"),
                      (EnvField("project", f"{base}_PROJECT", f"{where}: GCP project"),
                       EnvField("location", f"{base}_LOCATION", f"{where}: dataset location"),
                       EnvField("gcp_credentials", f"{creds}_GCP_CREDENTIALS",
                                f"{where}: base64 service-account key"),
                       EnvField("dataset", f"{base}_DATASET",
                                f"{where}: dataset the models are built in")),
                      (DAGSTER_PIN, f"dagster-gcp=={LIBRARY_PIN}"))
    raise ValueError(f"no warehouse resource for {kind}")


STORAGE_KINDS = (ConnectionKind.s3, ConnectionKind.gcs)


def storage_target(pipeline: str, conn: Connection, local: bool) -> Target:
    base = env_name(pipeline, conn.name)
    where = f"object store `{conn.name}`"
    if local:
        return Target(conn.name, "local", conn.kind.value, "ObjectStore", "storage_local.py.j2", (),
                      (EnvField("root", f"{base}_ROOT", f"{where}: local directory standing in for the bucket"),),
                      (DAGSTER_PIN,))
    if conn.kind == ConnectionKind.s3:
        return Target(conn.name, "s3", "s3", "ObjectStore", "storage_s3.py.j2",
                      ("from dagster_aws.s3 import S3Resource",),
                      (EnvField("bucket", f"{base}_BUCKET", f"{where}: bucket"),),
                      (DAGSTER_PIN, f"dagster-aws=={LIBRARY_PIN}"))
    return Target(conn.name, "gcs", "gcs", "ObjectStore", "storage_gcs.py.j2",
                  ("from dagster_gcp import GCSResource",),
                  (EnvField("project", f"{base}_PROJECT", f"{where}: GCP project"),
                   EnvField("bucket", f"{base}_BUCKET", f"{where}: bucket")),
                  (DAGSTER_PIN, f"dagster-gcp=={LIBRARY_PIN}"))
