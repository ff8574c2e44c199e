"""`streamc diff OLD NEW`: each kind of contract change classified, with the backfill it needs (rules §8)."""

from __future__ import annotations

import json

import pytest

from streamc.compiler import compile_text
from streamc.contract_diff import diff_specs

BASE = '''pipeline shop {
  owner    "data"
  latency  < 24h
  schedule daily at 06:00 UTC
}

connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }

source orders from db {
  table   public.orders
  capture incremental(updated_at)
  volume  1000/day

  columns {
    id          bigint         primary key
    customer_id bigint         not null
    status      text           in ("new", "paid", "shipped")
    amount      numeric(10, 2) not null
    note        text
    updated_at  timestamp      not null
  }
}

model stg_orders from orders {
  select id as order_id, customer_id, status, amount, updated_at
}

model fct_orders {
  grain order_id
  sql """
    select order_id, customer_id, status, amount, updated_at from stg_orders
  """
}

metric amount_by_status from stg_orders {
  measure sum(amount) as amount, count(*) as orders
  by      status
}

sink marts to dwh { models fct_orders }
sink stats to dwh { metrics amount_by_status }

expect fct_orders {
  unique          order_id
  range           amount 0 .. 1000
  accepted_values status in ("new", "paid", "shipped")
}
'''

CUSTOMERS = '''
source customers from db {
  table   public.customers
  capture incremental(updated_at)
  columns {
    id         bigint    primary key
    updated_at timestamp not null
  }
}
'''
EXTRA_MODEL = '''
model int_big_orders {
  sql """select order_id, amount from stg_orders where amount > 100"""
}
'''


def edit(old: str, new: str, count: int = 1):
    def apply(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)
    return apply


def same(text: str) -> str:
    return text


# (id, change applied to the old spec, change applied to the new spec, expected (kind, breaking, backfill) set)
CASES = [
    ("unchanged", same, same, set()),
    ("dropped column", same, edit("    note        text\n", ""),
     {("column_dropped", True, "schema_change")}),
    ("retyped column", same, edit("customer_id bigint ", "customer_id text   "),
     {("column_retyped", True, "schema_change")}),
    ("widened type", same, edit("numeric(10, 2)", "numeric(12, 2)"),
     {("column_type_widened", False, "schema_change")}),
    ("renamed column", same, edit("    note        text", "    remark      text"),
     {("column_renamed", True, "schema_change")}),
    ("dropped and added with another type is not a rename", same,
     edit("    note        text", "    remark      bigint"),
     {("column_dropped", True, "schema_change"), ("column_added_nullable", False, "schema_change")}),
    ("added nullable column", same, edit("    note        text\n", "    note        text\n    channel     text\n"),
     {("column_added_nullable", False, "schema_change")}),
    ("added not null column", same,
     edit("    note        text\n", "    note        text\n    channel     text not null\n"),
     {("column_added_required", True, "schema_change")}),
    ("narrowed accepted values", same, edit('status      text           in ("new", "paid", "shipped")',
                                            'status      text           in ("new", "paid")'),
     {("accepted_values_narrowed", True, None)}),
    ("widened accepted values", same, edit('in ("new", "paid", "shipped")\n    amount',
                                           'in ("new", "paid", "shipped", "refunded")\n    amount'),
     {("accepted_values_widened", False, None)}),
    ("narrowed enum", edit('status      text           in ("new", "paid", "shipped")',
                           'status      enum("new", "paid", "shipped")'),
     edit('status      text           in ("new", "paid", "shipped")', 'status      enum("new", "paid")'),
     {("accepted_values_narrowed", True, None)}),
    ("stricter not null", same, edit("    note        text", "    note        text not null"),
     {("not_null_added", True, None)}),
    ("relaxed not null", same, edit("customer_id bigint         not null", "customer_id bigint"),
     {("not_null_removed", False, None)}),
    ("changed key", same, edit("customer_id bigint         not null", "customer_id bigint         primary key"),
     {("key_changed", True, "schema_change")}),
    ("changed grain", same, edit("grain order_id", "grain order_id, customer_id"),
     {("grain_changed", True, "schema_change")}),
    ("changed metric dimensions", same, edit("  by      status", "  by      status, customer_id"),
     {("grain_changed", True, "logic_change")}),
    ("dropped measure", same, edit("sum(amount) as amount, count(*) as orders", "sum(amount) as amount"),
     {("measure_dropped", True, "logic_change")}),
    ("logic change", same, edit("from stg_orders\n  \"\"\"", "from stg_orders where amount > 0\n  \"\"\""),
     {("logic_changed", False, "logic_change")}),
    ("pii handling changed", same, edit("    note        text", "    note        text pii(hash)"),
     {("pii_changed", True, "logic_change")}),
    ("added model", same, lambda t: t + EXTRA_MODEL, {("model_added", False, "logic_change")}),
    ("removed model", lambda t: t + EXTRA_MODEL, same, {("model_removed", True, None)}),
    ("added source", same, lambda t: t + CUSTOMERS, {("source_added", False, "new_source")}),
    ("removed source", lambda t: t + CUSTOMERS, same, {("source_removed", True, None)}),
    ("removed sink", same, edit("sink stats to dwh { metrics amount_by_status }\n", ""),
     {("sink_removed", True, None)}),
    ("narrowed range", same, edit("range           amount 0 .. 1000", "range           amount 0 .. 500"),
     {("range_narrowed", True, None)}),
    ("widened range", same, edit("range           amount 0 .. 1000", "range           amount 0 .. 5000"),
     {("range_widened", False, None)}),
    ("open-ended range is wider", same, edit("range           amount 0 .. 1000", "range           amount 0 .."),
     {("range_widened", False, None)}),
    ("new not_null check", same, edit("  unique          order_id\n",
                                      "  unique          order_id\n  not_null        customer_id\n"),
     {("not_null_added", True, None)}),
    ("a warn check is not stricter", same, edit("  unique          order_id\n",
                                                "  unique          order_id\n  warn not_null   customer_id\n"),
     {("gate_added", False, None)}),
    ("renamed pipeline", same, edit("pipeline shop {", "pipeline shop_v2 {"),
     {("pipeline_renamed", True, "schema_change")}),
]


def compiled(text: str):
    result = compile_text(text, "case.stream")
    assert result.ok, [d.message for d in result.diagnostics]
    return result.spec


@pytest.mark.parametrize(("old_edit", "new_edit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_classification(old_edit, new_edit, expected):
    changes = diff_specs(compiled(old_edit(BASE)), compiled(new_edit(BASE)))
    assert {(c.kind, c.breaking, c.backfill) for c in changes} == expected, [c.message for c in changes]


def test_changes_point_at_the_new_spec():
    changes = diff_specs(compiled(BASE), compiled(BASE.replace("    note        text", "    remark      text")))
    (c,) = changes
    assert c.line == BASE.splitlines().index("    note        text") + 1 and c.file == "case.stream"
    assert "'note' probably renamed to 'remark'" in c.message


# ------------------------------------------------------------------ the command


@pytest.fixture
def pair(tmp_path):
    def write(old: str, new: str):
        (tmp_path / "old.stream").write_text(old)
        (tmp_path / "new.stream").write_text(new)
        return str(tmp_path / "old.stream"), str(tmp_path / "new.stream")
    return write


def test_breaking_exits_1_unless_allowed(streamc, pair):
    old, new = pair(BASE, BASE.replace("    note        text\n", ""))
    proc = streamc("diff", old, new)
    assert proc.returncode == 1
    assert "breaking: source:orders: column 'note' dropped" in proc.stdout
    assert "backfill: schema change -> reprocess_all" in proc.stdout
    assert "1 breaking, 0 non-breaking" in proc.stdout and "--allow-breaking" in proc.stdout
    allowed = streamc("diff", old, new, "--allow-breaking")
    assert allowed.returncode == 0 and "acknowledged" in allowed.stdout


def test_non_breaking_exits_0(streamc, pair):
    old, new = pair(BASE, BASE + CUSTOMERS)
    proc = streamc("diff", old, new)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "non-breaking: source:customers: source 'customers' added" in proc.stdout
    assert "new source -> incremental_from_start" in proc.stdout


def test_no_changes(streamc, pair):
    old, new = pair(BASE, BASE)
    proc = streamc("diff", old, new)
    assert proc.returncode == 0 and "no contract changes" in proc.stdout


def test_json_output_with_backfill_from_the_plan(streamc, pair):
    old, new = pair(BASE, BASE.replace("numeric(10, 2)", "numeric(12, 2)").replace(
        "from stg_orders\n  \"\"\"", "from stg_orders where amount > 0\n  \"\"\""))
    proc = streamc("diff", old, new, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["breaking"] == 0 and doc["non_breaking"] == 2 and doc["acknowledged"] is False
    assert {c["kind"] for c in doc["changes"]} == {"column_type_widened", "logic_changed"}
    fills = {f["change"]: f for f in doc["backfill"]}
    assert fills["schema_change"]["strategy"] == "reprocess_all"
    assert fills["logic_change"]["strategy"] == "full_historical"
    assert all(f["from_plan"] for f in fills.values())  # the backfill pass planned them (ir.plan.backfill)
    assert "full refresh" in fills["logic_change"]["reason"]


def test_bug_fix_window(streamc, pair):
    old, new = pair(BASE, BASE.replace("from stg_orders\n  \"\"\"", "from stg_orders where amount > 0\n  \"\"\""))
    proc = streamc("diff", old, new, "--bug-fix-window", "3d", "--format", "json")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert [c["backfill"] for c in doc["changes"]] == ["bug_fix_window"]
    (fill,) = doc["backfill"]
    assert fill["strategy"] == "reprocess_window" and fill["replay_window"] == "3d"
    bad = streamc("diff", old, new, "--bug-fix-window", "soon")
    assert bad.returncode == 2 and "--bug-fix-window" in bad.stderr


def test_a_spec_that_does_not_compile(streamc, pair):
    old, new = pair(BASE, BASE.replace("from stg_orders\n", "from stg_orderz\n"))
    proc = streamc("diff", old, new)
    assert proc.returncode == 1 and "E100" in proc.stderr and "nothing compared" in proc.stderr
    missing = streamc("diff", old, old + ".nope")
    assert missing.returncode == 2 and "no such spec file" in missing.stderr


def test_the_real_specs_against_themselves(streamc):
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "specs" / "orders_analytics.stream"
    proc = streamc("diff", str(spec), str(spec))
    assert proc.returncode == 0 and "no contract changes" in proc.stdout
