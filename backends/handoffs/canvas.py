"""STREAM_TO_CANVAS_HANDOFF: the data-flow graph for the diagram team, node ids shared with the Mermaid diagram."""

from __future__ import annotations

from streamc.ir import Spec

# Mermaid node style -> the reference format's node type
TYPE_OF_CSS = {
    "db": "database",
    "warehouse": "database",
    "raw": "database",
    "queue": "queue",
    "kafkasink": "queue",
    "connector": "connector",
    "stream": "processing",
    "model": "processing",
    "metric": "processing",
    "cache": "cache",
    "api": "api",
    "files": "storage",
    "consumer": "service",
}

# what a node is, in words, under its name (the reference's "PostgreSQL\n(Source)")
ROLE_OF_KIND = {
    "source": "Source",
    "raw": "Raw copy",
    "connector": "CDC",
    "topic": "Stream",
    "model": "Transform",
    "metric": "Metric",
    "sink": "Sink",
    "consumer": "Consumer",
}


def canvas(ir: Spec) -> dict:
    """Nodes, edges and annotations of the full (never collapsed) Mermaid flow of the pipeline."""
    from streamc.backends.mermaid.flow import build  # the mermaid backend's graph: same ids as the .mmd

    d = build(ir)
    mode = ir.plan.mode.mode.value if ir.plan.mode else "unplanned"
    nodes: list[dict] = []
    annotations: list[dict] = []
    ids = set()
    for n in d.nodes:
        if n.kind == "pipeline":
            continue
        ids.add(n.id)
        entry: dict = {"id": n.id, "label": f"{n.lines[0]}\n({ROLE_OF_KIND.get(n.kind, n.kind.title())})",
                       "type": TYPE_OF_CSS.get(n.css, "processing")}
        if n.kind == "source":
            entry["position"] = "left"
        elif n.kind == "sink":
            entry["position"] = "right"
        nodes.append(entry)
        if len(n.lines) > 1:
            annotations.append({"position": n.id, "text": "; ".join(n.lines[1:])})
    groups = {g.id: g for g in d.groups}
    for e in d.edges:
        for end in (e.src, e.dst):
            if end not in ids and end in groups:
                g = groups[end]
                ids.add(end)
                nodes.append({"id": end, "label": f"{g.lines[0]}\n(Sink)", "type": TYPE_OF_CSS.get(g.css or "", "queue"),
                              "position": "right"})
                if len(g.lines) > 1:
                    annotations.append({"position": end, "text": "; ".join(g.lines[1:])})
    edges = []
    for e in d.edges:
        edge = {"from": e.src, "to": e.dst, "label": "\n".join(e.lines) if e.lines else _edge_word(e.style)}
        edges.append(edge)
    for g in d.groups:  # the hot / cold paths: an annotation on each node they hold
        if g.css in ("hotpath", "coldpath"):
            members = [n for n in d.nodes if n.group == g.id]
            if members:
                annotations.append({"position": members[0].id,
                                    "text": f"{g.lines[0]}: " + ", ".join(n.lines[0] for n in members)})
    return {
        "diagram_request": {"type": "data_flow", "title": f"{ir.pipeline.name} ({mode} pipeline)"},
        "nodes": nodes,
        "edges": edges,
        "annotations": annotations,
        "format": "mermaid",
        "style": "horizontal",
    }


def _edge_word(style: str) -> str:
    return {"thick": "Stream", "dotted": "Rejected"}.get(style, "Batch")
