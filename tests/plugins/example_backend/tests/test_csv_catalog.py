"""The csv-catalog backend's own tests, as its author writes them: the streamc conformance kit, snapshots, units."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamc.testing import assert_snapshots, compile_spec, conformance_checks, emit_files
from streamc_csv_catalog import CsvCatalogBackend, CsvCatalogOptions

SPECS = sorted((Path(__file__).parent / "specs").glob("*.stream"))


# Every check of the kit (determinism, no I/O, safe paths, text, honest features) on our specs, one test each.
@pytest.mark.parametrize("check", conformance_checks(CsvCatalogBackend, SPECS), ids=str)
def test_conformance(check):
    check()


# The kit's own probe specs too (small specs that each use a few IR features).
@pytest.mark.parametrize("check", conformance_checks(CsvCatalogBackend, hashseed=False, features=False), ids=str)
def test_conformance_on_probes(check):
    check()


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_snapshots(spec, snapshot):
    assert_snapshots(snapshot, emit_files(CsvCatalogBackend, spec), prefix=f"{spec.stem}/")


def test_columns_carry_the_contract():
    files = emit_files(CsvCatalogBackend, SPECS[0])
    rows = files["csv-catalog/columns.csv"].splitlines()
    assert rows[0].startswith("node,column,position,type,key,not_null,pii")
    assert "orders,id,1,bigint,yes,yes,,,," in rows
    assert "orders,email,2,text,,,hash,,," in rows
    assert "orders,status,4,text,,,,pending|completed|failed,," in rows


def test_delimiter_option():
    files = emit_files(CsvCatalogBackend, SPECS[0], {"delimiter": ";"})
    assert files["csv-catalog/nodes.csv"].startswith("kind;name;reads;")


def test_history_is_reported_not_dropped():
    ir = compile_spec("""pipeline p {
  owner    "x"
  latency  < 24h
  schedule daily at 06:00 UTC
}
connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }
source items from db {
  table   public.items
  capture incremental(updated_at)
  columns {
    id         bigint    primary key
    updated_at timestamp not null
  }
}
model dim_items {
  grain   id
  history scd2 by updated_at
  sql \"\"\"select id, updated_at from items\"\"\"
}
sink marts to dwh { models dim_items }
expect dim_items { not_null id }
""")
    diags = CsvCatalogBackend().check(ir, CsvCatalogOptions())
    assert [d.code for d in diags] == ["E120"]
    assert "type 2 history of model 'dim_items'" in diags[0].message
    assert diags[0].span is not None and diags[0].span.line == 18
