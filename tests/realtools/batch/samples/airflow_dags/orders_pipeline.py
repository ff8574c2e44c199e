"""Hand-written sample of what a generated Airflow 3 DAG looks like (harness self-test)."""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.sdk import DAG, task

default_args = {
    "owner": "streamc",
    "retries": 3,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": 2.0,
}

with DAG(
    dag_id="orders_pipeline",
    schedule="0 6 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["streamc", "orders"],
    default_args=default_args,
) as dag:
    start = EmptyOperator(task_id="start")
    wait_for_file = FileSensor(
        task_id="wait_for_orders_file",
        filepath="/data/orders.csv",
        poke_interval=60,
        timeout=3600,
        mode="reschedule",
    )
    transform = BashOperator(task_id="transform", bash_command="echo transform", retries=1, pool="etl")

    @task(task_id="publish")
    def publish() -> None:
        print("published")

    start >> wait_for_file >> transform >> publish()
