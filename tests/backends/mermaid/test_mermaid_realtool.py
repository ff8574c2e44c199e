"""Proof on the real tool: every diagram the backend emits renders with the real Mermaid in headless Chromium
(tests/realtools/mermaid/harness.py, one browser for the whole batch) and its SVG shows every name and string.

- every spec in specs/ (and the Flink tests' extra specs, when present): renders, no parse error, and each source,
  model, metric and sink name of the IR is the first line of a label; the same for the conformance kit's probe
  specs (one per IR feature) and for every spec compiled without its plan (passes not run);
- the injection spec (names that are flowchart keywords, strings full of quotes, '#', HTML, `direction LR`, '%%',
  backticks, newlines): every string of the IR comes back verbatim in a label;
- the backend's own escaping, in every shape and edge style it draws, round-trips awkward samples;
- size limits: the full diagram of a huge pipeline really is refused by Mermaid; the collapsed views render.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from mermaid_cases import (BACKEND, INJECTION, ROOT, SPECS, big, compiled, compiled_path, diagram, emit,
                           has_label_for, spec_names_to_see)
from streamc.backends.mermaid import MermaidOptions
from streamc.backends.mermaid.syntax import DEdge, DGroup, Diagram, DNode, escape_label, render
from streamc.compiler import compile_files
from streamc.testing import probes

pytestmark = pytest.mark.realtools

HARNESS = ROOT / "tests" / "realtools" / "mermaid" / "harness.py"
EXTRA_SPECS = {f"flink/{p.stem}": p for p in sorted((ROOT / "tests" / "backends" / "flink" / "specs").glob("*.stream"))}
RENDERED = {**SPECS, **EXTRA_SPECS, "injection": INJECTION}


def _harness():
    name = "streamc_realtools_mermaid_harness"  # by path, under a unique name: other harness.py files exist
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HARNESS)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


h = _harness()

SAMPLES = {
    "quotes": 'say "hi" \'there\'',
    "entities": "#35; #quot; &amp; &#35; #x; #abc; &lt;",
    "html": "<b>bold</b> <script>alert(1)</script> a<b c>d",
    "syntax": "end subgraph A---oB a-->b ; :::cls @{ shape: rect } | pipe [x] (y) {z}",
    "direction": "set direction LR now, Direction TB, direction\tRL",
    "comments": "%% not a comment %%{init: {\"theme\": \"dark\"}}%% 100%",
    "backticks": "`**markdown?**`",
    "lines": "first line\nsecond\r\nthird",
    "unicode": "naïve ✓ €",
    "backslash": "C:\\tmp\\x\\",
}
SHAPES = ["rect", "rounded", "cyl", "subroutine", "hex", "lean-r", "lean-l", "h-cyl", "lin-cyl", "docs", "notch-rect"]


def _sample_diagram(context: str, text: str) -> str:
    d = Diagram()
    if context.startswith("shape/"):
        d.nodes = [DNode("n_a", context.split("/")[1], ("head", text), "x", "model"), DNode("n_b", "rect", ("b",), "x",
                                                                                            "model")]
        d.edges = [DEdge("n_a", "n_b")]
    elif context.startswith("edge/"):
        d.nodes = [DNode("n_a", "rect", ("a",), "x", "model"), DNode("n_b", "rect", ("b",), "x", "model")]
        d.edges = [DEdge("n_a", "n_b", ("head", text), context.split("/")[1])]
    else:  # a subgraph title is one line
        d.groups = [DGroup("sg_x", (" ".join(text.split()),))]
        d.nodes = [DNode("n_a", "rect", ("a",), "x", "model", group="sg_x")]
    return render(d)


CONTEXTS = [*(f"shape/{s}" for s in SHAPES), "edge/solid", "edge/thick", "edge/dotted", "subgraph"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One Chromium renders everything this module checks."""
    texts: dict[str, str] = {}
    for name, path in RENDERED.items():
        for file, text in emit(compiled_path(path)).items():
            if file.endswith(".mmd"):
                texts[f"spec/{name}"] = text
    for p in probes.PROBES:
        texts[f"probe/{p.name}"] = diagram(emit(probes.compiled(p.name)))
    for name in SPECS:
        texts[f"noplan/{name}"] = diagram(emit(unplanned(name)))
    for context in CONTEXTS:
        for sample, text in SAMPLES.items():
            texts[f"escape/{context}/{sample}"] = _sample_diagram(context, text)
    big_layout = BACKEND.layout(big(130), MermaidOptions())
    assert big_layout.level == "grouped"
    texts["limits/big_full"] = render(big_layout.full)
    texts["limits/big_grouped"] = big_layout.text
    compact = BACKEND.layout(compiled("orders_analytics"), MermaidOptions(max_text_size=4_000))
    assert compact.level == "compact"
    texts["limits/compact"] = compact.text
    start = time.monotonic()
    results = h.render_many(texts, tmp_path_factory.mktemp("mermaid"))
    print(f"rendered {len(texts)} diagrams in {time.monotonic() - start:.1f}s")
    return results


def _svg(rendered, key: str) -> Path:
    result = rendered[key]
    assert not isinstance(result, Exception), f"{key}: {result}"
    assert result.read_text(encoding="utf-8").startswith("<svg")
    return result


@pytest.mark.parametrize("name", RENDERED)
def test_spec_diagram_renders_with_every_name(rendered, name: str) -> None:
    svg = _svg(rendered, f"spec/{name}")
    text = svg.read_text(encoding="utf-8")
    assert 'aria-roledescription="flowchart-v2"' in text
    labels = h.svg_labels(svg)
    ir = compiled_path(RENDERED[name])
    missing = [n for n in spec_names_to_see(ir) if not has_label_for(labels, n)]
    assert not missing, (missing, labels)
    # every planned topic and consumer group is on the picture too
    joined = " | ".join(labels)
    assert all(t.name in joined for t in ir.plan.topics)
    assert all(g.name in joined for g in ir.plan.consumer_groups)
    # as many nodes drawn as the backend declared (none swallowed by a keyword or a comment)
    declared = sum(1 for line in diagram(emit(ir)).splitlines()
                   if line.startswith("  ") and not line.lstrip().startswith(("subgraph", "end", "class", "%%"))
                   and " --> " not in line and " ==> " not in line and " -.-> " not in line
                   and "-->|" not in line and "==>|" not in line and "-.->|" not in line)
    assert text.count('class="node ') == declared


def unplanned(name: str):
    result = compile_files([SPECS[name]], run_passes=False)
    assert result.spec is not None
    return result.spec


@pytest.mark.parametrize("key", [*(f"probe/{p.name}" for p in probes.PROBES), *(f"noplan/{n}" for n in SPECS)])
def test_probe_and_unplanned_diagrams_render_with_every_name(rendered, key: str) -> None:
    kind, name = key.split("/")
    ir = probes.compiled(name) if kind == "probe" else unplanned(name)
    labels = h.svg_labels(_svg(rendered, key))
    missing = [n for n in spec_names_to_see(ir) if not has_label_for(labels, n)]
    assert not missing, (missing, labels)


def _strings(ir) -> list[str]:
    """Every free-text string of the injection spec, as a reader should see it (whitespace collapsed)."""
    p = ir.pipeline
    out = [p.description, p.owner]
    out += [s.description for s in ir.sources] + [s.location.value for s in ir.sources if s.location]
    out += [m.description for m in ir.models] + [m.description for m in ir.metrics]
    out += [m.where.text for m in ir.metrics if m.where] + [k.description for k in ir.sinks]
    return [" ".join(s.split()) for s in out if s]


def test_injection_strings_come_back_verbatim(rendered) -> None:
    ir = compiled_path(INJECTION)
    strings = _strings(ir)
    assert len(strings) >= 10
    assert any("direction LR" in s for s in strings) and any("%%{init" in s for s in strings)
    assert any('"' in s and "<" in s and "#" in s for s in strings)
    labels = h.svg_labels(_svg(rendered, "spec/injection"))
    joined = "\n".join(labels)
    missing = [s for s in strings if s not in joined]
    assert not missing, (missing, labels)
    # ids that are flowchart keywords are still their own nodes
    for name in ("end", "graph", "class", "linkStyle", "interpolate", "href", "call", "default", "direction"):
        assert has_label_for(labels, name) or any(name in line for line in labels), name


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("sample", SAMPLES)
def test_backend_escaping_round_trips(rendered, context: str, sample: str) -> None:
    labels = h.svg_labels(_svg(rendered, f"escape/{context}/{sample}"))
    want = " ".join(SAMPLES[sample].split())
    assert any(want in label for label in labels), (escape_label(SAMPLES[sample]), labels)


def test_the_limits_are_real_and_the_collapsed_views_render(rendered) -> None:
    full = rendered["limits/big_full"]
    assert isinstance(full, h.MermaidError) and "Maximum text size" in full.message
    grouped = h.svg_labels(_svg(rendered, "limits/big_grouped"))
    assert any(label.startswith("130 staging models") for label in grouped)
    assert any(label.startswith("130 mart models") for label in grouped)
    compact = h.svg_labels(_svg(rendered, "limits/compact"))
    ir = compiled("orders_analytics")
    assert all(has_label_for(compact, n) for n in spec_names_to_see(ir))
