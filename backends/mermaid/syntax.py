"""Mermaid flowchart syntax: label escaping, safe node ids, shapes, and the diagram model rendered to text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

# Words the flowchart lexer reads as keywords when they stand alone as an id (case-sensitive).
RESERVED_IDS = frozenset({
    "end", "graph", "flowchart", "subgraph", "style", "linkStyle", "classDef", "class",
    "click", "call", "href", "interpolate", "default",
})
_SAFE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029]")


def is_safe_id(ident: str) -> bool:
    """ASCII letters, digits and '_', starting with a letter, and not a flowchart keyword."""
    return bool(_SAFE_ID.match(ident)) and ident not in RESERVED_IDS


def escape_label(text: str) -> str:
    """Text for use inside double quotes in any flowchart label (node, edge, subgraph, `@{ label: ... }`).

    Order matters: '#' first (it starts Mermaid's entity codes), then the characters that end the
    string or are read as HTML or as an escape; '`' too, so no label is taken for a Markdown string
    and no line can close the ```mermaid fence of the .md; '%%' (Mermaid strips `%%{...}%%` as a
    directive wherever it appears). Newlines become <br>; "direction" followed by whitespace gets an
    entity space (the lexer drops any line matching `direction LR`).
    """
    s = text.replace("#", "#35;")
    s = (s.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
         .replace("&", "#amp;").replace("\\", "#92;").replace("`", "#96;"))
    s = re.sub(r"%(?=%)|(?<=%)%", "#37;", s)  # `%%{...}%%` is read as a directive anywhere in the text
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _CONTROL.sub(" ", s).replace("\t", " ")
    s = s.replace("\n", "<br>")
    return re.sub(r"direction\s", "direction#32;", s)


def label(lines: tuple[str, ...]) -> str:
    """Several lines of text as one quoted label."""
    return '"' + "<br>".join(escape_label(line) for line in lines) + '"'


class IdAllocator:
    """Deterministic safe ids: `n_<kind>_<name with every other character as _>`, `_2`, `_3`... on a clash."""

    def __init__(self) -> None:
        self.used: set[str] = set(RESERVED_IDS)
        self.by_key: dict[tuple, str] = {}

    def get(self, key: tuple, prefix: str, name: str) -> str:
        if key in self.by_key:
            return self.by_key[key]
        base = f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}" if name else prefix
        candidate, i = base, 1
        while candidate in self.used:
            i += 1
            candidate = f"{base}_{i}"
        assert is_safe_id(candidate), candidate
        self.used.add(candidate)
        self.by_key[key] = candidate
        return candidate


Shape = Literal["rect", "rounded", "cyl", "subroutine", "hex", "lean-r", "lean-l", "h-cyl", "lin-cyl", "docs",
                "notch-rect"]

# Bracket forms (readable, and understood by older Mermaid); the rest use Mermaid 11's `@{ shape: ... }`.
_BRACKETS: dict[str, tuple[str, str]] = {
    "rect": ("[", "]"),
    "rounded": ("(", ")"),
    "cyl": ("[(", ")]"),
    "subroutine": ("[[", "]]"),
    "hex": ("{{", "}}"),
    "lean-r": ("[/", "/]"),
    "lean-l": ("[\\", "\\]"),
}

EdgeStyle = Literal["solid", "thick", "dotted"]
_ARROWS: dict[str, str] = {"solid": "-->", "thick": "==>", "dotted": "-.->"}


@dataclass(frozen=True)
class DNode:
    id: str
    shape: Shape
    lines: tuple[str, ...]  # the first line is the node's name
    css: str  # classDef name
    kind: str  # source, raw, connector, topic, model, metric, sink, consumer, pipeline (collapsing groups by it)
    group: str | None = None  # subgraph id
    members: tuple[str, ...] = ()  # what the node stands for, listed in the .md (collapsed diagrams)
    family: str = ""  # finer grouping when collapsed: a model's layer


@dataclass(frozen=True)
class DEdge:
    src: str
    dst: str
    lines: tuple[str, ...] = ()
    style: EdgeStyle = "solid"


@dataclass(frozen=True)
class DGroup:
    id: str
    lines: tuple[str, ...]
    parent: str | None = None
    css: str | None = None


@dataclass
class Diagram:
    comments: list[str] = field(default_factory=list)  # fixed text only: never user input
    nodes: list[DNode] = field(default_factory=list)
    edges: list[DEdge] = field(default_factory=list)
    groups: list[DGroup] = field(default_factory=list)
    class_defs: dict[str, str] = field(default_factory=dict)  # name -> style
    _edge_set: set[DEdge] = field(default_factory=set, repr=False, compare=False)

    def node(self, ident: str) -> DNode:
        return next(n for n in self.nodes if n.id == ident)

    def move(self, ident: str, group: str | None) -> None:
        self.nodes = [replace(n, group=group) if n.id == ident else n for n in self.nodes]

    def add_edge(self, edge: DEdge) -> None:
        """Append an edge once; membership is a set lookup (a list scan made large diagrams quadratic)."""
        if len(self._edge_set) != len(self.edges):  # `edges` was given or changed directly: index it again
            self._edge_set = set(self.edges)
        if edge not in self._edge_set:
            self._edge_set.add(edge)
            self.edges.append(edge)


def node_text(n: DNode) -> str:
    if n.shape in _BRACKETS:
        left, right = _BRACKETS[n.shape]
        return f"{n.id}{left}{label(n.lines)}{right}"
    return f"{n.id}@{{ shape: {n.shape}, label: {label(n.lines)} }}"


def edge_text(e: DEdge) -> str:
    arrow = _ARROWS[e.style]
    if e.lines:
        return f"{e.src} {arrow}|{label(e.lines)}| {e.dst}"
    return f"{e.src} {arrow} {e.dst}"


def render(d: Diagram) -> str:
    """The diagram as `flowchart LR` text: nodes inside their (nested) subgraphs, then edges and styles."""
    out = ["flowchart LR"]
    out += [f"  %% {c}" for c in d.comments]
    used_groups = _non_empty_groups(d)
    known = {g.id for g in d.groups}

    def emit(parent: str | None, depth: int) -> None:
        pad = "  " * depth
        for n in d.nodes:
            if (n.group if n.group in known else None) == parent:
                out.append(pad + node_text(n))
        for g in d.groups:
            if g.parent == parent and g.id in used_groups:
                out.append(f"{pad}subgraph {g.id} [{label(g.lines)}]")
                emit(g.id, depth + 1)
                out.append(f"{pad}end")

    emit(None, 1)
    out += ["  " + edge_text(e) for e in d.edges]
    by_class: dict[str, list[str]] = {}
    for n in d.nodes:
        by_class.setdefault(n.css, []).append(n.id)
    for g in d.groups:
        if g.css and g.id in used_groups:
            by_class.setdefault(g.css, []).append(g.id)
    for name, style in d.class_defs.items():  # only the styles in use
        if name in by_class:
            out.append(f"  classDef {name} {style}")
    for css in sorted(by_class):
        if css in d.class_defs:
            out.append(f"  class {','.join(by_class[css])} {css}")
    return "\n".join(out) + "\n"


def _non_empty_groups(d: Diagram) -> set[str]:
    """Subgraphs holding a node, directly or through a nested subgraph (empty ones are not drawn)."""
    used = {n.group for n in d.nodes if n.group}
    parents = {g.id: g.parent for g in d.groups}
    for g in list(used):
        p = parents.get(g)
        while p:
            used.add(p)
            p = parents.get(p)
    return used
