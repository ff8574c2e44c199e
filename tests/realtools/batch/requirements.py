"""Pinned requirement lists for the isolated tool envs used by the batch harnesses.

Top-level packages are pinned exactly (these are the versions the harness was proven with);
transitive dependencies are resolved by uv. Changing a pin makes a new env (toolenv keys envs
by a hash of the list).
"""

from __future__ import annotations

# Python used for every tool env (Airflow 3.3 supports 3.10-3.13; dbt 1.11 3.10-3.13).
PYTHON = "3.11"

# dbt-core 1.12 pulls a parser package whose build downloads from the internet: stay on 1.11.
DBT_CORE = "dbt-core==1.11.16"
DBT_DUCKDB = "dbt-duckdb==1.11.1"

DBT: list[str] = [DBT_CORE, DBT_DUCKDB]

AIRFLOW: list[str] = [
    "apache-airflow==3.3.2",
    "apache-airflow-providers-standard==1.21.0",
    "apache-airflow-providers-common-sql==2.4.0",
    "apache-airflow-providers-amazon==9.39.0",
    "apache-airflow-providers-google==22.8.0",
    "apache-airflow-providers-postgres==7.1.1",
    "apache-airflow-providers-snowflake==6.19.0",
]

DAGSTER: list[str] = [
    "dagster==1.13.27",
    "dagster-duckdb==0.29.27",
    "dagster-dbt==0.29.27",
    "duckdb==2.0.0",
    DBT_CORE,
    DBT_DUCKDB,
]

ENVS: dict[str, list[str]] = {
    "batch-dbt": DBT,
    "batch-airflow": AIRFLOW,
    "batch-dagster": DAGSTER,
}
