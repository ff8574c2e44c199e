"""The Mermaid harness renders with the real Mermaid (headless Chromium), and the
escaping rules it documents hold.  Needs setup.sh (harness.ensure_ready runs it)."""

from __future__ import annotations

import importlib.util
import string
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.realtools


def _load_harness():
    # Loaded by path under a unique name: works with any --import-mode and cannot clash
    # with another tests/realtools/*/harness.py.
    name = "streamc_realtools_mermaid_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("harness.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


h = _load_harness()
esc = h.escape_label

SPECIAL = "orders (v2) #1 & <tag>"

# A streamc-like data-flow diagram: every shape the backend is likely to use.
RICH = f"""\
flowchart LR
  %% streamc pipeline "orders"
  subgraph ingest ["Ingest (CDC) #amp; staging"]
    direction LR
    src_orders[("{esc(SPECIAL)}")]
    q_orders(["orders topic"])
  end
  enrich[["enrich #quot;orders#quot;"]]
  dedupe{{{{"dedupe by key"}}}}
  cache_customers@{{ shape: h-cyl, label: "customer cache" }}
  lookup(("lookup"))
  sink_dw[("warehouse.orders_v2")]
  src_orders -->|CDC| q_orders
  q_orders --> enrich
  cache_customers -.->|"by customer_id (TTL 5m)"| lookup
  lookup --> enrich
  enrich ==>|"{esc('a <= b & c')}"| dedupe
  dedupe --> sink_dw
  classDef cache fill:#fde,stroke:#c39,stroke-width:2px
  classDef store fill:#def,stroke:#36c
  class cache_customers cache
  class src_orders,sink_dw store
"""

RICH_LABELS = {
    "Ingest (CDC) & staging", SPECIAL, "orders topic", 'enrich "orders"', "dedupe by key",
    "customer cache", "lookup", "warehouse.orders_v2", "CDC", "by customer_id (TTL 5m)",
    "a <= b & c",
}

# Unterminated edge label on line 3.
INVALID = "flowchart LR\n  a --> b\n  b -->|oops c\n  c --> d\n"


def _svg_ok(svg: Path) -> str:
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<svg"), text[:200]
    assert 'aria-roledescription="flowchart-v2"' in text
    return text


def test_rich_flowchart_renders_with_labels(tmp_path):
    svg = h.render_mermaid(RICH, tmp_path, name="rich")
    assert svg == tmp_path / "rich.svg"
    text = _svg_ok(svg)
    labels = h.svg_labels(svg)
    assert RICH_LABELS <= set(labels), sorted(RICH_LABELS - set(labels))
    # Special characters come out as text, XML-escaped in the file.
    assert "orders (v2) #1 &amp; &lt;tag&gt;" in text
    # classDef applied; shapes drawn.
    assert "cache" in text and "store" in text
    assert text.count('class="node ') >= 7


def test_invalid_diagram_raises_with_line(tmp_path):
    with pytest.raises(h.MermaidError) as info:
        h.render_mermaid(INVALID, tmp_path, name="bad")
    err = info.value
    assert "Parse error" in err.message
    assert "Expecting" in err.message
    assert err.line == 3  # the parser's location; its message says "line 6" (EOF)
    assert err.column == 9  # where the unterminated `|oops c ...` starts
    assert "line 3" in str(err)
    assert not (tmp_path / "bad.svg").exists()


def test_render_many_isolates_failures(tmp_path):
    texts = {f"ok {i}": f"flowchart LR\n  a{i}[\"node {i}\"] -->|e{i}| b{i}[(db {i})]\n" for i in range(10)}
    texts["bad"] = INVALID
    texts["not a diagram"] = "flowchar LR\n  a --> b\n"
    texts["too long"] = "flowchart LR\n" + "".join(f'  n{i}["{"x" * 200}"] --> n{i + 1}\n' for i in range(300))
    start = time.monotonic()
    results = h.render_many(texts, tmp_path)
    elapsed = time.monotonic() - start
    assert list(results) == list(texts)
    for i in range(10):
        svg = results[f"ok {i}"]
        assert isinstance(svg, Path) and svg.name == f"ok_{i}.svg", svg
        assert h.svg_labels(svg) == [f"e{i}", f"node {i}", f"db {i}"]
    assert isinstance(results["bad"], h.MermaidError) and results["bad"].line == 3
    assert "No diagram type detected" in results["not a diagram"].message
    assert "Maximum text size" in results["too long"].message
    print(f"render_many: {len(texts)} diagrams in {elapsed:.1f}s")


def test_edge_limit_is_an_error_and_mermaid_config_applies(tmp_path):
    # Mermaid's default maxEdges is 500 (checked while parsing, so this is quick).
    many = "flowchart LR\n" + "".join(f"  n{i} --> n{i + 1}\n" for i in range(501))
    small = "flowchart LR\n" + "".join(f"  n{i} --> n{i + 1}\n" for i in range(6))
    results = h.render_many({"many": many, "small": small}, tmp_path)
    assert "Edge limit exceeded" in results["many"].message
    assert isinstance(results["small"], Path)
    with pytest.raises(h.MermaidError, match="Edge limit exceeded"):
        h.render_mermaid(small, tmp_path, mermaid_config={"maxEdges": 5})


def test_parse_mermaid(tmp_path):
    results = h.parse_mermaid({"good": RICH, "bad": INVALID, "bad2": "flowchart LR\n  a --> b\n  a --> --> c\n"})
    assert results["good"] is None
    assert results["bad"].line == 3 and results["bad"].column == 9
    assert results["bad2"].line == 3 and "got 'LINK'" in results["bad2"].message
    assert h.parse_mermaid("flowchart LR\n  a --> b\n") == {"diagram": None}


def test_mmdc_engine_agrees(tmp_path):
    """mermaid-cli's own render path gives the same labels as the one-page engine."""
    results = h.render_many({"rich": RICH, "bad": INVALID}, tmp_path, engine="mmdc")
    _svg_ok(results["rich"])
    assert RICH_LABELS <= set(h.svg_labels(results["rich"]))
    assert isinstance(results["bad"], h.MermaidError) and results["bad"].line == 3


# --- escaping rules: rendered in one batch --------------------------------------------

ASCII = "".join(c for c in string.printable if c not in " \t\n\r\x0b\x0c")
SAMPLES = {
    "ascii": ASCII,
    "special": SPECIAL,
    "entities": '&amp; &#35; #amp; #quot; #35; &x; #x; #abc; "q" \'s\'',
    "markup": "<b>bold</b> <script>alert(1)</script> a<b x > y",
    "mermaid": "end subgraph A---oB a-->b ; %% not a comment :::cls @{ shape: rect } | pipe",
    "direction": "set direction LR now, direction TB",
    "unicode": "naïve ✓ 日本 €",
    "backslash": "C:\\tmp\\x\\",
}
CONTEXTS = {  # label text -> diagram
    "rect": lambda t: f'flowchart LR\n  n1["{t}"] --> n2\n',
    "cylinder": lambda t: f'flowchart LR\n  n1[("{t}")] --> n2\n',
    "stadium": lambda t: f'flowchart LR\n  n1(["{t}"]) --> n2\n',
    "subroutine": lambda t: f'flowchart LR\n  n1[["{t}"]] --> n2\n',
    "hexagon": lambda t: f'flowchart LR\n  n1{{{{"{t}"}}}} --> n2\n',
    "circle": lambda t: f'flowchart LR\n  n1(("{t}")) --> n2\n',
    "shape_at": lambda t: f'flowchart LR\n  n1@{{ shape: h-cyl, label: "{t}" }} --> n2\n',
    "edge": lambda t: f'flowchart LR\n  n1 -->|"{t}"| n2\n',
    "edge_dash": lambda t: f'flowchart LR\n  n1 -- "{t}" --> n2\n',
    "subgraph": lambda t: f'flowchart LR\n  subgraph s1 ["{t}"]\n    n1\n  end\n',
}

# What raw (unescaped) text does: every one of these is silent, no error.
PITFALLS = {
    "raw_tag_dropped": ('flowchart LR\n  n1["a <tag> b"]\n', ["a b"]),
    "raw_lt_truncates": ('flowchart LR\n  n1["a<b"]\n', ["a"]),
    "raw_quote_lost": ('flowchart LR\n  n1["say "hi""]\n', ["say hi"]),
    "hash_word_semicolon_mangled": ('flowchart LR\n  n1["x #abc; y"]\n', ["x &abc; y"]),
    "html_entity_decoded": ('flowchart LR\n  n1["&lt;b&gt;"]\n', ["<b>"]),
    "hex_entity_unsupported": ('flowchart LR\n  n1["#x2665; #9829;"]\n', ["&x2665; ♥"]),
    "direction_swallows_line": ('flowchart LR\n  n1["set direction LR"] --> n2\n', []),
    "x_after_dashes_is_arrowhead": ("flowchart LR\n  dev---xray\n", ["dev", "ray"]),
    "semicolon_splits_id": ("flowchart LR\n  a;b\n", ["a", "b"]),
    "markdown_string": ('flowchart LR\n  n1["`**bold** \\*lit\\*`"]\n', ["bold *lit*"]),
    "br_is_line_break": ('flowchart LR\n  n1["one<br>two"]\n', ["one two"]),
}
ID_FAILS = ["end", "style", "class", "classDef", "graph", "flowchart", "subgraph", "click",
            "call", "href", "linkStyle", "interpolate", "a@b", "a=b", "a~b", "a--b", "end-x",
            "class.a", "_self", "_blank"]
ID_OK = ["n_end", "End", "END", "endpoint", "ops", "xray", "v", "TB", "LR", "n1", "a_b",
         "OrdersV2", "x", "o", "stage_01"]


def _id_diagram(ident: str) -> str:
    return f"flowchart LR\n  start0 --> {ident}\n  {ident} --> stop0\n"


@pytest.fixture(scope="module")
def escaping(tmp_path_factory):
    texts = {f"{c}/{s}": make(esc(sample)) for c, make in CONTEXTS.items() for s, sample in SAMPLES.items()}
    texts.update({f"pitfall/{k}": text for k, (text, _) in PITFALLS.items()})
    texts.update({f"idfail/{i}": _id_diagram(i) for i in ID_FAILS})
    texts.update({f"idok/{i}": _id_diagram(i) for i in ID_OK})
    start = time.monotonic()
    results = h.render_many(texts, tmp_path_factory.mktemp("escaping"))
    print(f"escaping batch: {len(texts)} diagrams in {time.monotonic() - start:.1f}s")
    return results


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("sample", SAMPLES)
def test_escape_label_round_trips(escaping, context, sample):
    svg = escaping[f"{context}/{sample}"]
    assert not isinstance(svg, Exception), svg
    want = " ".join(SAMPLES[sample].split())
    assert want in h.svg_labels(svg)


@pytest.mark.parametrize("case", PITFALLS)
def test_unescaped_pitfalls(escaping, case):
    svg = escaping[f"pitfall/{case}"]
    assert not isinstance(svg, Exception), svg
    assert h.svg_labels(svg) == PITFALLS[case][1]


@pytest.mark.parametrize("ident", ID_FAILS)
def test_unsafe_ids_fail(escaping, ident):
    assert not h.is_safe_id(ident)
    assert isinstance(escaping[f"idfail/{ident}"], h.MermaidError)


@pytest.mark.parametrize("ident", ID_OK)
def test_safe_ids_render(escaping, ident):
    assert h.is_safe_id(ident)
    svg = escaping[f"idok/{ident}"]
    assert not isinstance(svg, Exception), svg
    assert sorted(h.svg_labels(svg)) == sorted(["start0", ident, "stop0"])


def test_escape_label_examples():
    assert esc(SPECIAL) == "orders (v2) #35;1 #amp; #lt;tag#gt;"
    assert esc('say "hi"') == "say #quot;hi#quot;"
    assert esc("a\nb") == "a<br>b"
    assert esc("direction LR") == "direction#32;LR"
