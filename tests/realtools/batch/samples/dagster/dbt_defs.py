"""Sample: Dagster definitions wrapping a dbt project through dagster-dbt.

The project directory comes from SAMPLE_DBT_PROJECT_DIR (tests point it at a private copy
of samples/dbt_shop). dbt tests become Dagster asset checks.
"""

import os
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

project = DbtProject(project_dir=Path(os.environ["SAMPLE_DBT_PROJECT_DIR"]), target="dev")
project.preparer.prepare(project)  # `dbt parse` -> target/manifest.json (offline: no packages)


@dbt_assets(manifest=project.manifest_path)
def shop_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()


defs = dg.Definitions(assets=[shop_dbt_assets], resources={"dbt": DbtCliResource(project_dir=project)})
