"""The `mermaid` backend: a `flowchart LR` data-flow diagram of the compiled pipeline (.mmd, and .md for GitHub)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from streamc.backend_api import Backend
from streamc.diagnostics import Diagnostic
from streamc.ir import Spec

from .collapse import Layout, Limits, choose
from .flow import build
from .markdown import markdown


class MermaidOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    markdown: bool = True  # also write mermaid/<pipeline>.md: the diagram in a ```mermaid fence, for GitHub
    # over the limits: "auto" draws a compact, then a grouped view; "never" makes check() report it instead
    collapse: Literal["auto", "never"] = "auto"
    # Mermaid's defaults (maxTextSize, maxEdges); raise both only when your renderer's config raises them
    max_text_size: int = Field(50_000, ge=1_000)
    max_edges: int = Field(500, ge=1)


class MermaidBackend(Backend):
    name = "mermaid"
    description = "a Mermaid flowchart of the data flow (shapes by kind, plan annotations, hot / cold paths)"
    options_model = MermaidOptions
    # every IR feature is drawn: shapes (api, files, topic, cdc), label lines (windows, history, partitions, pii,
    # expectation, schedule, environments) and edge labels (dedup)
    features = frozenset({"source", "model", "metric", "windows", "sink", "expectation", "cdc", "api", "files", "topic",
                          "pii", "history", "partitions", "dedup", "schedule", "environments"})

    def layout(self, ir: Spec, options: MermaidOptions) -> Layout:
        see_also = f"{ir.pipeline.name}.md" if options.markdown else None
        return choose(build(ir), Limits(options.max_text_size, options.max_edges), options.collapse == "auto",
                      see_also)

    def check(self, ir: Spec, options: MermaidOptions) -> list[Diagnostic]:
        lay = self.layout(ir, options)
        if lay.level is not None:
            return []
        edges, chars = lay.full_size
        hint = ("leave `mermaid.collapse` at auto to draw a collapsed view, or raise maxEdges / maxTextSize in your "
                "Mermaid config and pass the same numbers as `mermaid.max_edges` / `mermaid.max_text_size`"
                if options.collapse == "never" else
                "raise maxEdges / maxTextSize in your Mermaid config and pass the same numbers as "
                "`mermaid.max_edges` / `mermaid.max_text_size`")
        what = (f"a diagram of {edges:,} edges and {chars:,} characters (Mermaid draws at most "
                f"{options.max_edges:,} edges and {options.max_text_size:,} characters"
                + (")" if options.collapse == "never" else ", even grouped by kind)"))
        return [self.unsupported(ir.pipeline.span, what, hint)]

    def emit(self, ir: Spec, options: MermaidOptions) -> dict[str, str]:
        lay = self.layout(ir, options)
        if lay.level is None:
            raise ValueError("mermaid: the diagram is over Mermaid's limits; run check() first")
        name = ir.pipeline.name
        files = {f"mermaid/{name}.mmd": lay.text}
        if options.markdown:
            files[f"mermaid/{name}.md"] = markdown(name, lay)
        return files
