"""Render Mermaid text with the real Mermaid renderer (headless Debian chromium) to SVG.

    render_mermaid(text, out_dir) -> Path          one diagram; raises MermaidError
    render_many({name: text}, out_dir) -> {name: Path | MermaidError}   one browser for all
    parse_mermaid({name: text} | text) -> {name: None | MermaidError}   no browser, ~2 s
    svg_labels(svg_path) -> [str]                  text of each node/edge/subgraph label
    svg_text(svg_path) -> str                      all visible text of a rendered SVG
    escape_label(text) -> str    verified escaping for text inside "..." in a flowchart
    is_safe_id(ident) -> bool    verified-safe node/subgraph/class id

Rendering goes through mermaid_tool.mjs (next to this file), which starts Chromium once
per call (its timings go to stderr).  The default engine "page" imports mermaid's ESM
build into one page and calls mermaid.render() per diagram (~2-3 s start-up, then
~0.05-0.1 s a flowchart); engine "mmdc" uses mermaid-cli's own renderMermaid() (mmdc's
exact code path: a fresh page per diagram, ~1 s each).  Both load the same mermaid.

The npm packages and chromium come from setup.sh; `ensure_ready()` runs it when they
are missing (idempotent, ~0.1 s when done).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOL = HERE / "mermaid_tool.mjs"
PUPPETEER_CONFIG = HERE / "puppeteer-config.json"
SETUP = HERE / "setup.sh"
CHROMIUM = Path("/usr/bin/chromium")


class MermaidError(Exception):
    """Mermaid rejected a diagram.  `message` is Mermaid's own text (for flowcharts:
    'Parse error on line N: ... Expecting ..., got ...'); `line` (1-based) and `column`
    (1-based) come from the parser's location (hash.loc) when it gives one."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 name: str | None = None):
        self.message = message
        self.line = line
        self.column = column
        self.name = name
        where = f" (line {line}" + (f", column {column}" if column else "") + ")" if line else ""
        who = f"{name}: " if name else ""
        super().__init__(f"{who}Mermaid error{where}: {message}")


_ready = False


def ensure_ready() -> None:
    """Run setup.sh unless chromium and the pinned node_modules are already there."""
    global _ready
    if _ready:
        return
    stamp = HERE / "node_modules" / ".streamc-installed-lock"
    lock = HERE / "package-lock.json"
    installed = stamp.exists() and stamp.read_bytes() == lock.read_bytes()
    if not (installed and CHROMIUM.exists()):
        subprocess.run(["bash", str(SETUP)], check=True)
    if shutil.which("node") is None:
        raise RuntimeError("node is not on PATH (the Mermaid harness needs node >= 20.19)")
    _ready = True


def _file_stem(name: str, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "diagram"
    stem = stem[:80]
    candidate, i = stem, 1
    while candidate in used:
        i += 1
        candidate = f"{stem}-{i}"
    used.add(candidate)
    return candidate


def _run_tool(mode: str, job: dict, timeout: float) -> dict:
    ensure_ready()
    with tempfile.TemporaryDirectory(prefix="mermaid-job-") as tmp:
        job_path, result_path = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        proc = subprocess.run(
            ["node", str(TOOL), mode, str(job_path), str(result_path)],
            cwd=HERE, text=True, capture_output=True, timeout=timeout,
            env=dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="1"),
        )
        if proc.returncode != 0 or not result_path.exists():
            raise RuntimeError(
                f"mermaid_tool.mjs {mode} crashed (exit {proc.returncode}):\n"
                f"{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}"
            )
        return json.loads(result_path.read_text(encoding="utf-8"))


def _error(name: str, r: dict) -> MermaidError:
    return MermaidError(r["error"], r.get("line"), r.get("column"), name=name)


def render_many(texts: dict[str, str], out_dir: Path, *, engine: str = "page",
                mermaid_config: dict | None = None) -> dict[str, Path | MermaidError]:
    """Render every diagram with one Chromium; returns {name: svg Path or MermaidError}.

    SVGs are written to out_dir/<name, made file-safe>.svg.  A bad diagram fails only
    itself.  Infrastructure failures (no chromium, node crash) raise RuntimeError.
    """
    if engine not in ("page", "mmdc"):
        raise ValueError(f"engine must be 'page' or 'mmdc', not {engine!r}")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    diagrams = [
        {"name": name, "text": text, "out": str(out_dir / f"{_file_stem(name, used)}.svg")}
        for name, text in texts.items()
    ]
    if not diagrams:
        return {}
    job = {
        "diagrams": diagrams,
        "puppeteerConfig": str(PUPPETEER_CONFIG),
        "engine": engine,
        "mermaidConfig": mermaid_config or {},
        "concurrency": 2,
    }
    per_diagram = 2 if engine == "page" else 10
    results = _run_tool("render", job, timeout=120 + per_diagram * len(diagrams))
    return {
        d["name"]: Path(results[d["name"]]["svg"]) if results[d["name"]]["ok"]
        else _error(d["name"], results[d["name"]])
        for d in diagrams
    }


def render_mermaid(text: str, out_dir: Path, *, name: str = "diagram", engine: str = "page",
                   mermaid_config: dict | None = None) -> Path:
    """Render one diagram to out_dir/<name>.svg and return its path; MermaidError if
    Mermaid rejects it.  For many diagrams use render_many (one browser start)."""
    result = render_many({name: text}, out_dir, engine=engine, mermaid_config=mermaid_config)[name]
    if isinstance(result, MermaidError):
        raise result
    return result


def parse_mermaid(texts: dict[str, str] | str, *, mermaid_config: dict | None = None
                  ) -> dict[str, MermaidError | None]:
    """Syntax-check with mermaid.parse() in Node under jsdom (no browser, ~2 s a batch).

    Returns {name: None if it parses, else MermaidError}; a bare string is named
    "diagram".  Parse-only: rendering can still fail where parsing passed, so
    render_many is the authority.
    """
    if isinstance(texts, str):
        texts = {"diagram": texts}
    diagrams = [{"name": n, "text": t, "out": ""} for n, t in texts.items()]
    if not diagrams:
        return {}
    job = {"diagrams": diagrams, "mermaidConfig": mermaid_config or {}}
    results = _run_tool("parse", job, timeout=120 + len(diagrams))
    return {n: None if r["ok"] else _error(n, r) for n, r in results.items()}


def _label_text(el: ET.Element) -> str:
    """Text of an element; <br> and <tspan> boundaries become spaces; whitespace collapsed."""
    parts: list[str] = []

    def walk(e: ET.Element) -> None:
        tag = e.tag.rsplit("}", 1)[-1]
        if tag in ("style", "script"):
            return
        if tag in ("br", "tspan", "p", "div"):
            parts.append(" ")
        if e.text:
            parts.append(e.text)
        for child in e:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return " ".join("".join(parts).split())


def svg_text(svg_path: Path) -> str:
    """All text a reader sees in a rendered SVG (labels in <text>/<tspan> and in the HTML
    of <foreignObject>), entity-decoded, whitespace-collapsed, <style> excluded."""
    return _label_text(ET.parse(svg_path).getroot())


def svg_labels(svg_path: Path) -> list[str]:
    """Text of each label (node, edge, subgraph) in document order, entity-decoded, with
    whitespace collapsed and <br> read as a space: one entry per <foreignObject> (HTML
    labels, Mermaid's flowchart default) and per <text> (htmlLabels: false).  Empty
    labels (edges without text) are dropped."""
    labels = []
    for el in ET.parse(svg_path).getroot().iter():
        if el.tag.rsplit("}", 1)[-1] in ("foreignObject", "text"):
            text = _label_text(el)
            if text:
                labels.append(text)
    return labels


# --- Verified escaping rules for flowchart text (see test_mermaid_harness.py) ---------

# Words the flowchart lexer takes as keywords when they stand alone as a node id
# (they break the parse).  Case-sensitive: "End", "END" are fine ids.
FLOWCHART_RESERVED_IDS = frozenset({
    "end", "graph", "flowchart", "subgraph", "style", "linkStyle", "classDef", "class",
    "click", "call", "href", "interpolate", "default",
})
_SAFE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def is_safe_id(ident: str) -> bool:
    """True for ids made only of ASCII letters, digits and '_', starting with a letter,
    and not a flowchart keyword.  (Many other characters happen to parse, but '-', '.',
    ':', '&', ';', '@', '=', '~', '#' ... each has a case where Mermaid fails or
    silently changes the graph.)  Emit edges with spaces: `a --> b`: "a-->ops" is fine
    but "a---xray" is read as a cross-ended edge to node "ray"."""
    return bool(_SAFE_ID.match(ident)) and ident not in FLOWCHART_RESERVED_IDS


def escape_label(text: str) -> str:
    r"""Escape arbitrary text for use INSIDE double quotes in a flowchart label: node
    `id["..."]` (any bracket shape), edge `-->|"..."|`, subgraph `subgraph id ["..."]`
    and `id@{ shape: ..., label: "..." }`.  Verified to render every printable ASCII
    character back verbatim with Mermaid's default htmlLabels: true.

    '#' first (it starts Mermaid's entity codes `#name;` / `#123;`), then '"' (ends the
    string), '<' '>' (else the HTML sanitizer eats `<tag>` and everything after `a<b`),
    '&' (else `&lt;` is decoded as HTML), '\' (escape char in `@{ label: "..." }`, which
    is YAML).  Newlines become <br>.  "direction" + whitespace gets a #32; space: the
    lexer rule `.*direction\s+(TB|BT|LR|RL|TD)` otherwise swallows the whole line.
    """
    s = text.replace("#", "#35;")
    s = (s.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
         .replace("&", "#amp;").replace("\\", "#92;"))
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
    return re.sub(r"direction\s", "direction#32;", s)
