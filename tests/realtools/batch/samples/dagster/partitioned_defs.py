"""Sample: a daily-partitioned DuckDB asset (delete+insert per partition), its downstream, a check."""

import os

import dagster as dg
from dagster_duckdb import DuckDBResource

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")


@dg.asset(partitions_def=daily, kinds={"duckdb"})
def daily_events(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> None:
    day = context.partition_key
    with duckdb.get_connection() as conn:
        conn.execute("create table if not exists daily_events (day date, n integer)")
        conn.execute("delete from daily_events where day = ?", [day])
        conn.execute("insert into daily_events values (?, 1), (?, 2)", [day, day])


@dg.asset(partitions_def=daily, deps=[daily_events], kinds={"duckdb"})
def daily_rollup(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> None:
    day = context.partition_key
    with duckdb.get_connection() as conn:
        conn.execute("create table if not exists daily_rollup (day date, total integer)")
        conn.execute("delete from daily_rollup where day = ?", [day])
        conn.execute("insert into daily_rollup select day, sum(n) from daily_events where day = ? group by day", [day])


@dg.asset_check(asset=daily_rollup)
def rollup_not_empty(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        n = conn.execute("select count(*) from daily_rollup").fetchone()[0]
    return dg.AssetCheckResult(passed=n > 0, severity=dg.AssetCheckSeverity.WARN)


@dg.sensor(target=[daily_events], minimum_interval_seconds=300)
def new_events_sensor():
    return dg.SkipReason("sample")


defs = dg.Definitions(
    assets=[daily_events, daily_rollup],
    asset_checks=[rollup_not_empty],
    sensors=[new_events_sensor],
    resources={"duckdb": DuckDBResource(database=os.environ.get("SAMPLE_DUCKDB_PATH", "sample.duckdb"))},
)
