from airflow.sdk import DAG

with DAG(dag_id="broken_syntax", schedule=None) as dag
    pass
