"""Hand-written sample of generated Dagster definitions: 2 DuckDB assets + 1 asset check."""

import os

import dagster as dg
from dagster_duckdb import DuckDBResource


@dg.asset(kinds={"duckdb"}, group_name="orders")
def raw_orders(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        conn.execute("create or replace table raw_orders (order_id integer, amount decimal(10, 2))")
        conn.execute("insert into raw_orders values (1, 25.00), (2, 40.50), (3, 12.25)")
        count = conn.execute("select count(*) from raw_orders").fetchone()[0]
    return dg.MaterializeResult(metadata={"row_count": count})


@dg.asset(deps=[raw_orders], kinds={"duckdb"}, group_name="orders")
def order_totals(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        conn.execute(
            "create or replace table order_totals as "
            "select count(*) as order_count, sum(amount) as total_amount from raw_orders"
        )
    return dg.MaterializeResult(metadata={"row_count": 1})


@dg.asset_check(asset=raw_orders, blocking=True, description="order_id is unique")
def raw_orders_unique_id(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        dupes = conn.execute(
            "select count(*) from (select order_id from raw_orders group by order_id having count(*) > 1)"
        ).fetchone()[0]
    return dg.AssetCheckResult(
        passed=dupes == 0, severity=dg.AssetCheckSeverity.ERROR, metadata={"duplicate_keys": dupes}
    )


orders_job = dg.define_asset_job("orders_job", selection=dg.AssetSelection.groups("orders"))

defs = dg.Definitions(
    assets=[raw_orders, order_totals],
    asset_checks=[raw_orders_unique_id],
    jobs=[orders_job],
    schedules=[dg.ScheduleDefinition(name="orders_daily", job=orders_job, cron_schedule="0 6 * * *")],
    resources={"duckdb": DuckDBResource(database=os.environ.get("SAMPLE_DUCKDB_PATH", "sample.duckdb"))},
)
