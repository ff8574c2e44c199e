"""Sample: imports fine but is not loadable: an asset requires a resource nobody provides."""

import dagster as dg


@dg.asset(required_resource_keys={"warehouse"})
def needs_warehouse() -> None:
    pass


defs = dg.Definitions(assets=[needs_warehouse])
