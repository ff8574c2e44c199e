"""Keep a diagram inside Mermaid's limits: the full view, else labels cut to names, else one node per kind and path."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from .syntax import DEdge, DGroup, Diagram, DNode, IdAllocator, render

Level = Literal["full", "compact", "grouped"]

PLURALS = {
    "source": "sources", "raw": "raw copies", "connector": "CDC connectors", "topic": "topics", "model": "models",
    "metric": "metrics", "sink": "sinks", "consumer": "consumer groups", "pipeline": "pipelines",
}
SHAPE_OF_KIND = {
    "source": ("cyl", "db"), "raw": ("rect", "raw"), "connector": ("hex", "connector"), "topic": ("h-cyl", "queue"),
    "model": ("rect", "model"), "metric": ("rect", "metric"), "sink": ("cyl", "warehouse"),
    "consumer": ("rounded", "consumer"),
}


@dataclass(frozen=True)
class Limits:
    max_text_size: int  # Mermaid's maxTextSize: longer text renders a placeholder, without an error
    max_edges: int  # Mermaid's maxEdges: more is a render error


@dataclass(frozen=True)
class Layout:
    level: Level | None  # None: even the grouped view is over the limits
    diagram: Diagram  # the view drawn (the full one when level is None)
    text: str
    full: Diagram
    full_size: tuple[int, int]  # edges, characters of the full view


def title(count: int, kind: str, family: str = "") -> str:
    return " ".join(p for p in (str(count), family, PLURALS.get(kind, kind) if count != 1 else kind) if p)


def fits(d: Diagram, text: str, limits: Limits) -> bool:
    return len(text) <= limits.max_text_size and len(d.edges) <= limits.max_edges


def choose(full: Diagram, limits: Limits, allow_collapse: bool, see_also: str | None) -> Layout:
    text = render(full)
    size = (len(full.edges), len(text))
    if fits(full, text, limits):
        return Layout("full", full, text, full, size)
    if allow_collapse:
        for level, make in (("compact", compact), ("grouped", grouped)):
            view = make(full, size, limits, see_also)
            view_text = render(view)
            if fits(view, view_text, limits):
                return Layout(level, view, view_text, full, size)
    return Layout(None, full, text, full, size)


def notice(level: str, size: tuple[int, int], limits: Limits, see_also: str | None) -> str:
    edges, chars = size
    return (f"{level} view: the full diagram ({edges:,} edges, {chars:,} characters) is over Mermaid's limits "
            f"({limits.max_edges:,} edges, {limits.max_text_size:,} characters)"
            + (f"; every node is listed in {see_also}" if see_also else ""))


def _with_notice(nodes: list[DNode], text: str) -> list[DNode]:
    return [replace(n, lines=(*n.lines[:1], text)) if n.kind == "pipeline" else n for n in nodes]


def compact(full: Diagram, size: tuple[int, int], limits: Limits, see_also: str | None) -> Diagram:
    """Every node and edge, labels cut to the names."""
    nodes = [replace(n, lines=n.lines[:1]) for n in full.nodes]
    return Diagram(
        comments=list(full.comments),
        nodes=_with_notice(nodes, notice("compact", size, limits, see_also)),
        edges=[replace(e, lines=()) for e in full.edges],
        groups=[replace(g, lines=g.lines[:1]) for g in full.groups],
        class_defs=dict(full.class_defs),
    )


def grouped(full: Diagram, size: tuple[int, int], limits: Limits, see_also: str | None) -> Diagram:
    """One node per (path, kind of node); nested subgraphs (Kafka sinks) fold into their path."""
    parents = {g.id: g.parent for g in full.groups}
    path_groups = [g for g in full.groups if g.parent is None]
    path_ids = {g.id for g in path_groups}

    def top(group: str | None) -> str | None:
        while group is not None and group not in path_ids:
            group = parents.get(group)
        return group

    ids = IdAllocator()
    for g in path_groups:
        ids.get(("sg", g.id), g.id, "")
    members: dict[tuple[str | None, str, str], list[DNode]] = {}
    for n in full.nodes:
        members.setdefault((top(n.group), n.kind, n.family), []).append(n)
    node_of: dict[str, str] = {}
    nodes: list[DNode] = []
    for (group, kind, family), items in members.items():
        if kind == "pipeline":
            node = items[0]
        elif len(items) == 1:
            node = replace(items[0], lines=items[0].lines[:1], group=group)
        else:
            shape, css = SHAPE_OF_KIND.get(kind, ("rect", "model"))
            ident = ids.get(("kind", group, kind, family), "_".join(p for p in ("g", kind, family, group) if p), "")
            names = [m for i in items for m in i.members]
            node = DNode(ident, shape, (title(len(names), kind, family), f"{names[0]} ... {names[-1]}"), css, kind,
                         group, tuple(names), family)
        nodes.append(node)
        for i in items:
            node_of[i.id] = node.id
    # an edge to a Kafka sink's subgraph goes to the node its topics fold into
    for g in full.groups:
        inside = next((n for n in full.nodes if n.group == g.id), None)
        if g.id not in path_ids and inside is not None:
            node_of[g.id] = node_of[inside.id]
    edges: list[DEdge] = []
    for e in full.edges:
        src, dst = node_of.get(e.src), node_of.get(e.dst)
        if src is None or dst is None or src == dst:
            continue
        edge = DEdge(src, dst, (), e.style)
        if not any((x.src, x.dst) == (src, dst) for x in edges):
            edges.append(edge)
    nodes = _with_notice(nodes, notice("grouped", size, limits, see_also))
    return Diagram(comments=list(full.comments), nodes=nodes, edges=edges,
                   groups=[DGroup(g.id, g.lines[:1], None, g.css) for g in path_groups],
                   class_defs=dict(full.class_defs))
