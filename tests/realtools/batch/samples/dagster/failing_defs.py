"""Sample: an asset that raises (materialization must fail) and a check that fails (WARN)."""

import dagster as dg


@dg.asset
def upstream_ok() -> int:
    return 1


@dg.asset(deps=[upstream_ok])
def explodes() -> None:
    raise ValueError("boom: generated asset code is broken")


@dg.asset(deps=[explodes])
def never_runs() -> None:
    pass


@dg.asset_check(asset=upstream_ok)
def upstream_check_fails() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description="always fails")


defs = dg.Definitions(assets=[upstream_ok, explodes, never_runs], asset_checks=[upstream_check_fails])
