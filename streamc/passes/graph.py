"""Spec facts the passes share: node ids, the lineage graph, upstream sources, rates, sizes and query shape."""

from __future__ import annotations

import math

import networkx as nx

from ..analysis import lineage_graph, node_id
from ..ir import Column, Connection, ConnectionKind, Model, Sink, Source, Spec

__all__ = ["node_id", "Lineage", "MIB", "format_duration", "fmt_rate", "fmt_bytes", "ceil"]

MIB = 2**20  # streamc sizes are binary (1KB = 1024 B), so throughput is in MiB/s: 1 MB/s here = 2^20 B/s


def format_duration(seconds: float) -> str:
    """A duration in the largest unit that counts it whole, else with decimals: 300 -> '5m', 129600 -> '36h',
    150 -> '2.5m'."""
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    for unit, factor in units:
        if seconds >= factor and seconds % factor == 0:
            return f"{int(seconds // factor)}{unit}"
    for unit, factor in units:
        v = seconds / factor
        if v >= 1 and abs(v * 100 - round(v * 100)) < 1e-9:
            return f"{round(v, 2):g}{unit}"
    if seconds < 1:
        return f"{int(round(seconds * 1000))}ms"
    return f"{seconds:g}s"


def ceil(x: float) -> int:
    """math.ceil that ignores float noise (10 x 0.3 must give 3, not 4)."""
    return math.ceil(round(x, 9))


def fmt_rate(per_second: float) -> str:
    return f"{per_second:,.2f}".rstrip("0").rstrip(".") + "/s"


def fmt_bytes(n: float) -> str:
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:,.2f}".rstrip("0").rstrip(".") + unit
    return f"{n:,.0f}B"


class _Structure:
    """The lineage graph with reverse indexes, built once: per-node lookups stay O(1) on specs with thousands
    of nodes."""

    def __init__(self, spec: Spec):
        self.g: nx.DiGraph = lineage_graph(spec)
        self.sinks_of: dict[str, list[Sink]] = {}
        for k in spec.sinks:
            for name in dict.fromkeys(k.inputs):
                self.sinks_of.setdefault(name, []).append(k)
        self.upstream: dict[str, list[Source]] = {}  # per node, computed on first use
        self.source_order = {s.name: i for i, s in enumerate(spec.sources)}
        self.columns: dict[str, dict[str, list]] = {}  # per node, its columns by name, computed on first use
        self.readers: dict[str, list[Model]] = {}
        for m in spec.models:
            for dep in dict.fromkeys(m.depends_on):
                self.readers.setdefault(dep, []).append(m)


_STRUCTURE: dict[tuple, tuple] = {}  # the last spec's structure, keyed by its node tuples' identity


class Lineage:
    """The spec's data-flow graph (edges point downstream) with the lookups the passes need."""

    def __init__(self, spec: Spec):
        self.spec = spec
        # The graph and its indexes depend only on the nodes, which the passes never change (they add plans):
        # every pass shares the structure built for the first one.
        key = (id(spec.sources), id(spec.models), id(spec.metrics), id(spec.sinks))
        hit = _STRUCTURE.get(key)
        if hit is None or hit[0] is not spec.models or hit[1] is not spec.sources or hit[2] is not spec.sinks:
            _STRUCTURE.clear()
            hit = _STRUCTURE[key] = (spec.models, spec.sources, spec.sinks, _Structure(spec))
        st = hit[3]
        self.g: nx.DiGraph = st.g
        self._sinks_of, self._readers = st.sinks_of, st.readers
        self._upstream, self._source_order = st.upstream, st.source_order
        self._columns = st.columns

    # ---------------------------------------------------------------- nodes
    def ids(self) -> list[str]:
        """Every node id, in spec order: sources, models, metrics, sinks."""
        s = self.spec
        return ([node_id("source", x.name) for x in s.sources] + [node_id("model", x.name) for x in s.models]
                + [node_id("metric", x.name) for x in s.metrics] + [node_id("sink", x.name) for x in s.sinks])

    def id_of(self, name: str) -> str | None:
        kind = self.spec.kind_of(name)
        return node_id(kind, name) if kind else None

    def ancestors(self, nid: str) -> set[str]:
        return nx.ancestors(self.g, nid) if nid in self.g else set()

    def descendants(self, nid: str) -> set[str]:
        return nx.descendants(self.g, nid) if nid in self.g else set()

    def upstream_sources(self, nid: str) -> list[Source]:
        """Sources feeding a node (itself when it is one), in spec order."""
        found = self._upstream.get(nid)
        if found is None:
            names = {n.split(":", 1)[1] for n in self.ancestors(nid) | {nid} if n.startswith("source:")}
            found = self._upstream[nid] = sorted((s for s in map(self.spec.source, names) if s is not None),
                                                 key=lambda s: self._source_order[s.name])
        return list(found)

    def sinks_of(self, name: str) -> list[Sink]:
        """Sinks that receive a node directly."""
        return list(self._sinks_of.get(name, ()))

    def downstream_sinks(self, nid: str) -> list[Sink]:
        names = {n.split(":", 1)[1] for n in self.descendants(nid) if n.startswith("sink:")}
        return [s for s in self.spec.sinks if s.name in names]

    def readers(self, name: str) -> list[Model]:
        """Models that read a node directly."""
        return list(self._readers.get(name, ()))

    # ---------------------------------------------------------------- connections
    def kind(self, connection: str) -> ConnectionKind | None:
        c = self.spec.connection(connection)
        return c.kind if c else None

    def is_warehouse(self, connection: str) -> bool:
        c = self.spec.connection(connection)
        return bool(c and c.is_warehouse)

    def warehouse_of(self, nid: str) -> Connection | None:
        """The warehouse a model is built in: the one its downstream sinks write to, else the spec's only one."""
        for s in sorted(self.downstream_sinks(nid), key=lambda s: s.name):
            c = self.spec.connection(s.connection)
            if c and c.is_warehouse:
                return c
        houses = [c for c in self.spec.connections if c.is_warehouse]
        return houses[0] if len(houses) == 1 else None

    # ---------------------------------------------------------------- volumes
    @staticmethod
    def peak(source: Source) -> tuple[float | None, str]:
        """Peak events/s of a source and how it was known."""
        if source.peak is not None:
            return source.peak.per_second, f"source {source.name}: peak {source.peak.text}"
        if source.volume is not None:
            return source.volume.per_second, (f"source {source.name}: volume {source.volume.text} "
                                              f"(no peak given: the average stands in for it)")
        return None, f"source {source.name}: no volume or peak given"

    def input_peak(self, nid: str) -> float | None:
        """Summed peak events/s of the sources feeding a node; None when none of them states a volume."""
        rates = [self.peak(s)[0] for s in self.upstream_sources(nid)]
        known = [r for r in rates if r is not None]
        return sum(known) if known else None

    # ---------------------------------------------------------------- query shape
    def model_shape(self, m: Model) -> tuple[int, bool]:
        """(number of joins, aggregates?) of a model's query."""
        return m.joins, m.aggregates

    def model_keys(self, m: Model) -> tuple[str, ...]:
        return m.grain

    # ---------------------------------------------------------------- columns
    def _named_columns(self, node: str) -> dict[str, list]:
        """A source's or model's columns by name (every one with the name, in order), built on first use: tracing
        each column of a node with 10,000 columns scanned them all once per column."""
        found = self._columns.get(node)
        if found is None:
            src, m = self.spec.source(node), self.spec.model(node)
            found = self._columns[node] = {}
            for c in (src.columns if src is not None else m.columns if m is not None else ()):
                found.setdefault(c.name, []).append(c)
        return found

    def trace_to_source(self, node: str, column: str, depth: int = 0) -> tuple[Source, Column] | None:
        """Follow a column back through model lineage to the source column it copies (first input wins)."""
        if depth > 50:
            return None
        src = self.spec.source(node)
        if src is not None:
            cols = self._named_columns(node).get(column)
            return (src, cols[0]) if cols else None
        if self.spec.model(node) is None:
            return None
        for c in self._named_columns(node).get(column, ()):
            for ref in c.inputs:
                found = self.trace_to_source(ref.node, ref.column, depth + 1)
                if found is not None:
                    return found
        return None

    def output_columns(self, node: str) -> list[str]:
        src = self.spec.source(node)
        if src is not None:
            return [c.name for c in src.columns]
        m = self.spec.model(node)
        return [c.name for c in m.columns] if m else []

