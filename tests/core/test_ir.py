"""The IR: spans on every node, lineage from SQL, the networkx graph of node ids, imports, JSON round trip."""

from __future__ import annotations

from conftest import ROOT
from streamc.analysis import lineage_graph
from streamc.compiler import compile_files, compile_text
from pydantic import BaseModel

from streamc.ir import Node, Spec

ORDERS = ROOT / "specs" / "orders_analytics.stream"


def spec() -> Spec:
    result = compile_files([ORDERS])
    assert result.ok
    return result.spec


def test_every_node_carries_a_span_from_the_parser():
    s = spec()

    def walk(obj, path="spec"):
        if isinstance(obj, BaseModel):
            if isinstance(obj, Node):
                assert obj.span is not None and obj.span.line >= 1 and obj.span.column >= 1, path
                assert obj.span.file.endswith("orders_analytics.stream"), path
            for name in type(obj).model_fields:
                walk(getattr(obj, name), f"{path}.{name}")
        elif isinstance(obj, (tuple, list)):
            for i, item in enumerate(obj):
                walk(item, f"{path}[{i}]")

    walk(s)
    fct = s.model("fct_orders")
    assert (fct.span.line, fct.span.column) == (63, 7)  # `model fct_orders {`: the name


def test_dependencies_and_column_lineage_come_from_the_sql():
    s = spec()
    fct = s.model("fct_orders")
    assert fct.depends_on == ("stg_orders", "stg_customers")
    lineage = {c.name: {(r.node, r.column) for r in c.inputs} for c in fct.columns}
    assert lineage["segment"] == {("stg_customers", "segment")}
    assert lineage["total_amount"] == {("stg_orders", "total_amount")}
    stg = s.model("stg_orders")
    assert {(r.node, r.column) for c in stg.columns if c.name == "order_id" for r in c.inputs} == {("orders", "id")}


def test_lineage_graph_holds_node_ids_with_expectations_attached():
    g = lineage_graph(spec())
    assert g.has_edge("source:orders", "model:stg_orders")
    assert g.has_edge("model:stg_orders", "model:fct_orders")
    assert g.has_edge("model:stg_customers", "model:fct_orders")
    assert g.has_edge("model:stg_orders", "metric:revenue_per_minute")
    assert g.has_edge("metric:revenue_per_minute", "sink:live_revenue")
    assert g.has_edge("model:fct_orders", "sink:warehouse_marts")
    assert g.nodes["model:fct_orders"]["checks"] >= 8
    assert all(isinstance(n, str) for n in g.nodes)


def test_ir_round_trips_through_json():
    s = spec()
    again = Spec.model_validate_json(s.model_dump_json(by_alias=True))
    assert again == s


def test_imports_share_connections_and_contracts(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "conn.stream").write_text(
        'connection db postgres\nsource s from db {\n  table public.s\n  columns {\n    id bigint primary key\n'
        '  }\n}\n')
    main = tmp_path / "main.stream"
    main.write_text('import "shared/conn.stream"\npipeline p { owner "x" }\n'
                    'model stg_s from s { select id }\nexpect stg_s { unique id }\n')
    result = compile_files([main])
    assert result.ok, result.diagnostics
    assert result.spec.source("s").span.file.endswith("conn.stream")
    assert len(result.spec.files) == 2


def test_missing_import_is_reported_at_the_import(tmp_path):
    main = tmp_path / "main.stream"
    main.write_text('pipeline p { owner "x" }\nimport "nope.stream"\n')
    result = compile_files([main])
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [("E115", 2, 8)]


def test_compile_text_is_deterministic():
    text = ORDERS.read_text()
    a = compile_text(text, "x.stream").spec.model_dump_json()
    b = compile_text(text, "x.stream").spec.model_dump_json()
    assert a == b


def test_model_copy_never_serves_a_stale_name_index():
    s = spec()
    assert s.source("orders").description is None  # the index is built here
    changed = s.source("orders").model_copy(update={"description": "changed"})
    s2 = s.model_copy(update={"sources": tuple(changed if x.name == "orders" else x for x in s.sources)})
    assert s2.source("orders").description == "changed"
    assert s.source("orders").description is None
