"""Sample DAG importing the cloud providers a generated DAG may use (amazon, google)."""

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.google.cloud.sensors.gcs import GCSObjectExistenceSensor
from airflow.sdk import DAG

with DAG(
    dag_id="cloud_sensors",
    schedule=timedelta(hours=1),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["streamc"],
) as dag:
    s3 = S3KeySensor(
        task_id="wait_s3",
        bucket_name="b",
        bucket_key="k/*.csv",
        wildcard_match=True,
        poke_interval=30,
        timeout=600,
        mode="poke",
    )
    gcs = GCSObjectExistenceSensor(task_id="wait_gcs", bucket="b", object="o.csv", timeout=600)
    load = SQLExecuteQueryOperator(task_id="load", conn_id="warehouse", sql="select 1", retries=0)
    [s3, gcs] >> load
