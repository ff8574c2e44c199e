from airflow.sdk import DAG
from airflow.providers.standard.operators.no_such_module import NoSuchOperator  # noqa: F401

with DAG(dag_id="broken_import", schedule=None) as dag:
    pass
