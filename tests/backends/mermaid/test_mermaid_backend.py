"""The Mermaid backend's contract without a browser: escaping, safe ids, shapes and edge labels read from the plan,
no node dropped, the size limits (collapse or refuse), the .md wrapper, and `streamc graph`."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest

from mermaid_cases import (BACKEND, INJECTION, ROOT, SPECS, big, compiled, compiled_path, diagram, emit, emitted,
                           spec_names_to_see)
from streamc.backends.mermaid import MermaidOptions
from streamc.backends.mermaid.flow import build
from streamc.backends.mermaid.syntax import IdAllocator, escape_label, is_safe_id, render
from streamc.compiler import compile_files, compile_text

ALL = [*SPECS, "injection"]
NODE_LINE = re.compile(r"^\s+([A-Za-z0-9_]+)(?:\[|\(|\{\{|@\{)")
EDGE_LINE = re.compile(r"^\s+(\S+) (-->|==>|-\.->)(?:\|\"[^\"]*\"\|)? (\S+)$")


def _harness():
    """The harness engineer's reference rules (tests/realtools/mermaid/harness.py), to cross-check ours."""
    name = "streamc_realtools_mermaid_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "realtools" / "mermaid" / "harness.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def ir_of(name: str):
    return compiled_path(SPECS.get(name, INJECTION))


def text_of(name: str) -> str:
    return diagram(emit(ir_of(name)))


# ------------------------------------------------------------------ escaping and ids


@pytest.mark.parametrize("sample", [
    "orders (v2) #1 & <tag>", 'say "hi"', "a\nb", "direction LR", "C:\\tmp\\", "#quot; &amp; #35;",
    "set direction TB now", "end subgraph A---oB ; :::cls | pipe", "naïve ✓",
])
def test_escape_matches_the_verified_reference(sample: str) -> None:
    assert escape_label(sample) == _harness().escape_label(sample)


def test_escape_goes_further_where_the_renderer_showed_it_must() -> None:
    assert escape_label("`**md**`") == "#96;**md**#96;"  # else a Markdown string, and a risk to the ``` fence
    assert escape_label("%%{init: {}}%% 100%") == "#37;#37;{init: {}}#37;#37; 100%"  # else stripped as a directive
    assert escape_label("a\tb\x0bc\r\nd") == "a b c<br>d"
    assert escape_label("direction\tRL") == "direction#32;RL"
    for text in ("`", '"', "<", ">", "&", "\\", "\n"):
        assert text not in escape_label(f"x{text}y")


@pytest.mark.parametrize("name", ["end", "graph", "class", "classDef", "default", "style", "subgraph", "a.b-c",
                                  "9lives", "x y", "日本"])
def test_ids_are_safe_for_any_name(name: str) -> None:
    ids = IdAllocator()
    ident = ids.get(("model", name), "n_model", name)
    assert is_safe_id(ident) and _harness().is_safe_id(ident)
    assert ids.get(("model", name), "n_model", name) == ident  # stable per key


def test_ids_clash_deterministically() -> None:
    ids = IdAllocator()
    got = [ids.get(("topic", n), "n_topic", n) for n in ("a.b", "a_b", "a-b", "a_b_2")]
    assert got == ["n_topic_a_b", "n_topic_a_b_2", "n_topic_a_b_3", "n_topic_a_b_2_2"]


@pytest.mark.parametrize("name", ALL)
def test_every_id_is_safe_and_every_edge_spaced(name: str) -> None:
    text = text_of(name)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    node_ids = [m.group(1) for line in lines if (m := NODE_LINE.match(line))]
    assert node_ids and len(node_ids) == len(set(node_ids)), "a node is declared twice"
    h = _harness()
    assert all(h.is_safe_id(i) for i in node_ids), [i for i in node_ids if not h.is_safe_id(i)]
    subgraphs = [line.split()[1] for line in lines if line.strip().startswith("subgraph ")]
    assert all(h.is_safe_id(s) for s in subgraphs)
    edges = [line for line in lines if any(a in line for a in (" --> ", " ==> ", " -.-> ", " -->|", " ==>|", " -.->|"))]
    assert edges
    for line in edges:
        m = EDGE_LINE.match(line)
        assert m, line
        assert m.group(1) in node_ids + subgraphs and m.group(3) in node_ids + subgraphs, line
    assert "`" not in text  # nothing can close the ```mermaid fence of the .md


# ------------------------------------------------------------------ nothing dropped


@pytest.mark.parametrize("name", ALL)
def test_every_spec_node_and_planned_topic_is_drawn(name: str) -> None:
    ir = ir_of(name)
    d = build(ir)
    first_lines = {n.lines[0] for n in d.nodes} | {g.lines[0].split(" · ")[0] for g in d.groups}
    missing = [n for n in spec_names_to_see(ir) if n not in first_lines]
    assert not missing
    topic_lines = {line for n in d.nodes for line in n.lines}
    assert all(t.name in topic_lines or f"topic {t.name}" in topic_lines for t in ir.plan.topics)
    assert all(c.name in " ".join(topic_lines) for c in ir.plan.consumer_groups)


@pytest.mark.parametrize("name", ALL)
def test_emit_is_deterministic(name: str) -> None:
    assert emit(ir_of(name)) == emit(ir_of(name))


# ------------------------------------------------------------------ shapes and labels from the plan


def test_hybrid_cdc_pipeline() -> None:
    text = diagram(emitted("orders_analytics"))
    # database -> Debezium connector -> CDC topic, because the plan says log_cdc
    assert '  n_source_orders[("orders<br>postgres · ecommerce_db<br>table public.orders' in text
    assert '  n_source_orders ==>|"CDC<br>replica identity full"| n_cdc_ecommerce_db\n' in text
    assert '  n_cdc_ecommerce_db{{"Debezium connector<br>postgres · ecommerce_db<br>slot streamc_orders_analytics' \
        in text
    assert '  n_cdc_ecommerce_db ==>|"change events"| n_topic_ecommerce_orders_changes\n' in text
    assert "n_topic_ecommerce_orders_changes@{ shape: h-cyl, label: \"ecommerce.orders.changes<br>CDC topic<br>" \
           "3 partitions · retention 7d<br>key id\" }" in text
    # hot path: Flink (processor shape), window and watermark; the redis sink through its consumer group
    hot = text.split("subgraph sg_hot")[1].split("\n  end\n")[0]
    assert 'n_model_stg_orders_hot[["stg_orders<br>model · Flink SQL"]]' in hot
    assert "window tumbling 1m<br>watermark created_at - 1m" in hot
    assert 'n_sink_live_revenue@{ shape: lin-cyl, label: "live_revenue<br>redis · cache<br>TTL 1h" }' in hot
    assert ('n_group_orders_analytics_live_revenue ==>|"upsert on store_id, window_start<br>TTL 1h"| '
            "n_sink_live_revenue") in text
    assert 'n_group_orders_analytics_live_revenue -.->|"rejected records"| n_topic_ecommerce_live_revenue_dlq' in text
    # cold path: dbt models (rectangles), raw copies, batch load with the schedule, the warehouse (cylinder)
    cold = text.split("subgraph sg_cold")[1].split("\n  end\n")[0]
    assert 'n_model_fct_orders["fct_orders<br>dbt · mart · incremental (merge)<br>key order_id' in cold
    assert 'n_sink_warehouse_marts[("warehouse_marts<br>snowflake · warehouse")]' in cold
    assert ('n_source_customers -->|"batch load<br>incremental on updated_at<br>daily at 06:00 UTC"| '
            "n_raw_customers") in text
    assert 'n_topic_ecommerce_orders_changes -->|"Kafka sink connector<br>changes unwrapped to rows"| n_raw_orders' \
        in text
    assert 'n_model_fct_orders -->|"merge on order_id"| n_sink_warehouse_marts' in text
    assert '["hot path: streaming · latency #lt; 1m · checkpoint every 30s"]' in text
    # the node on both paths is drawn once per path, each with its own engine
    assert "n_model_stg_orders_cold[\"stg_orders<br>dbt · staging · view\"]" in cold
    assert "class sg_hot hotpath" in text and "class sg_cold coldpath" in text
    # quality checks, PII handling and environments are annotations too
    assert "table public.customers<br>2000/day<br>pii: email mask, first_name drop" in cold
    assert "<br>8 checks: unique, not_null, range, accepted_values, relationships, freshness, reconcile, " \
           "volume_anomaly\"]" in cold
    assert "<br>environments: dev, prod\" }" in text


def test_streaming_cdc_to_kafka() -> None:
    text = diagram(emitted("orders_cdc_kafka"))
    assert "subgraph sg_hot" not in text and "subgraph sg_cold" not in text  # paths only when hybrid
    sink = text.split('subgraph sg_sink_order_events ["order_events · sink to kafka · events · append-only log"]')[1]
    sink = sink.split("\n  end\n")[0]
    assert "n_topic_ecommerce_orders_changes@{" in sink and "n_topic_ecommerce_order_items_changes@{" in sink
    assert "40 partitions · retention 14d" in sink and "30 partitions · retention 14d" in sink
    assert 'CDC<br>replica identity full<br>excludes internal_notes (pii drop)' in text
    for group in ("analytics_order_metrics", "fulfillment_shipping", "inventory_stock_reservation"):
        for topic in ("orders_changes", "order_items_changes"):
            assert f"  n_topic_ecommerce_{topic} ==> n_group_{group}\n" in text
    assert '  n_cdc_ecommerce_db -.->|"rejected records"| n_topic_ecommerce_order_events_dlq\n' in text
    assert "replay 14d" in text


def test_batch_api_pull() -> None:
    text = diagram(emitted("payments_api_sync"))
    assert 'n_source_transactions[/"transactions<br>http · payments_api<br>GET /transactions' in text
    assert ('n_source_transactions -->|"API pull<br>incremental on updated_at · cursor pagination<br>'
            'every 15m · rate limit 100/min"| n_raw_transactions') in text
    assert 'n_model_fct_transactions -->|"merge on transaction_id"| n_sink_finance' in text
    assert "==>" not in text  # nothing streams


def test_batch_file_drop() -> None:
    text = diagram(emitted("daily_file_drop"))
    assert ('n_source_raw_orders@{ shape: docs, label: "raw_orders<br>s3 · lake<br>'
            "path raw/orders/{date}/data.parquet") in text
    assert '|"file drop<br>format parquet · arrives by 06:00 UTC · timeout 1h<br>daily at 06:00 UTC"|' in text
    assert '-->|"overwrite partition day(order_date)"| n_sink_partner_marts' in text


def test_batch_scd2_marts() -> None:
    text = diagram(emitted("customer_marts"))
    assert "dim_customers<br>dbt · mart · snapshot<br>key customer_id<br>history SCD2 by updated_at" in text
    assert 'n_sink_marts[("marts<br>postgres (warehouse) · dwh")]' in text
    assert '-->|"merge on customer_id"| n_sink_marts' in text and '-->|"upsert on order_id"| n_sink_marts' in text


def test_injection_names_never_become_syntax() -> None:
    text = text_of("injection")
    assert "n_source_end[(" in text and "n_model_linkStyle[" in text and "n_sink_default[(" in text
    assert "%%{" not in text.split("\n", 2)[2]  # the only %% lines are our own comments
    for raw in ('"hi"', "<b>", "<script>", "direction LR", "direction TB", "C:\\tmp"):
        assert raw not in text
    assert "say #quot;hi#quot; #35;35; #35;quot; #amp;amp; #lt;b#gt;bold#lt;/b#gt;" in text


# ------------------------------------------------------------------ size limits


def test_over_the_limits_collapses_to_a_grouped_view_and_lists_every_node() -> None:
    ir = big(130)
    full = BACKEND.layout(ir, MermaidOptions())
    assert full.full_size[0] > 500 and full.full_size[1] > 50_000
    assert full.level == "grouped"
    files = emit(ir)
    text = files["mermaid/big.mmd"]
    assert len(text) <= 50_000 and text.count(" --> ") <= 500
    assert 'g_model_staging["130 staging models<br>stg_s0 ... stg_s129"]' in text
    assert "is over Mermaid's limits (500 edges, 50,000 characters); every node is listed in big.md" in text
    md = files["mermaid/big.md"]
    for name in spec_names_to_see(ir):
        assert f"`{name}`" in md
    assert "so this is the grouped view" in md


def test_text_over_the_limit_first_drops_the_annotations() -> None:
    ir = compiled("orders_analytics")
    lay = BACKEND.layout(ir, MermaidOptions(max_text_size=4_000))
    assert lay.level == "compact" and len(lay.text) <= 4_000
    assert [n.id for n in lay.diagram.nodes] == [n.id for n in lay.full.nodes]  # every node still drawn
    assert len(lay.diagram.edges) == len(lay.full.edges)
    assert "|" not in lay.text.replace("#124;", "")  # no edge labels left


def test_collapse_never_is_reported_by_check() -> None:
    ir = big(130)
    opts = MermaidOptions(collapse="never")
    problems = BACKEND.check(ir, opts)
    assert [p.code for p in problems] == ["E120"]
    assert "520 edges" in problems[0].message and "at most 500 edges and 50,000 characters" in problems[0].message
    with pytest.raises(ValueError, match="run check"):
        BACKEND.emit(ir, opts)


def test_even_grouped_too_big_is_reported() -> None:
    problems = BACKEND.check(compiled("orders_analytics"), MermaidOptions(max_edges=3))
    assert [p.code for p in problems] == ["E120"] and "even grouped by kind" in problems[0].message


def test_options() -> None:
    ir = compiled("payments_api_sync")
    assert sorted(emit(ir, markdown=False)) == ["mermaid/payments_sync.mmd"]
    with pytest.raises(Exception):
        MermaidOptions(colour="red")


# ------------------------------------------------------------------ markdown and the CLI


@pytest.mark.parametrize("name", ALL)
def test_markdown_wraps_the_diagram(name: str) -> None:
    ir = ir_of(name)
    files = emit(ir)
    md = files[f"mermaid/{ir.pipeline.name}.md"]
    fence = "```mermaid\n" + files[f"mermaid/{ir.pipeline.name}.mmd"] + "```\n"
    assert fence in md and md.count("```") == 2


def test_streamc_graph_prints_the_diagram(streamc) -> None:
    r = streamc("graph", "specs/orders_analytics.stream")
    assert r.returncode == 0, r.stderr
    assert r.stdout == diagram(emitted("orders_analytics"))
    assert r.stdout.startswith("flowchart LR\n")


def test_streamc_build_writes_both_files(streamc, tmp_path) -> None:
    r = streamc("build", "specs/orders_cdc_kafka.stream", "--target", "mermaid", "-o", str(tmp_path), "--no-config")
    assert r.returncode == 0, r.stderr
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert "orders_cdc/mermaid/orders_cdc.mmd" in written and "orders_cdc/mermaid/orders_cdc.md" in written


REVERSED = '''pipeline reversed {
  owner "team"  tier standard  latency < 24h  schedule daily at 06:00 UTC
}
connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }
source items from db {
  table public.items  capture incremental(updated_at)  volume 1000/day
  columns {
    id         bigint    primary key
    updated_at timestamp not null
  }
}
model fct_items {
  grain id
  sql """ select id, updated_at from stg_items """
}
model stg_items from items { select id, updated_at }
sink marts to dwh { models fct_items }
expect fct_items { unique id }
'''


def test_a_model_named_before_what_it_reads_keeps_its_edge() -> None:
    result = compile_text(REVERSED, name="reversed.stream")
    assert result.ok, [d.message for d in result.diagnostics]
    text = diagram(emit(result.spec))
    assert "  n_model_stg_items --> n_model_fct_items\n" in text
    assert "  n_raw_items --> n_model_stg_items\n" in text


@pytest.mark.parametrize("name", SPECS)
def test_without_a_plan_every_node_is_still_drawn(name: str) -> None:
    result = compile_files([SPECS[name]], run_passes=False)
    ir = result.spec
    assert ir is not None and ir.plan.mode is None
    d = build(ir)
    first_lines = {n.lines[0] for n in d.nodes}
    assert all(n in first_lines for n in spec_names_to_see(ir))
    declared = {n.id for n in d.nodes}
    assert all(e.src in declared and e.dst in declared for e in d.edges)  # no edge to an empty subgraph
    assert "(not planned)" in render(d)
