"""The vocabulary of IR features a backend declares in `features`, and which of them a compiled spec uses."""

from __future__ import annotations

from enum import StrEnum

from .ir import CaptureMode, ConnectionKind, Span, Spec


class Feature(StrEnum):
    """One optional construct of the IR. A backend lists those it expresses; for any other, `check()` must
    return an E120 diagnostic (or the backend emits nothing for the spec): never a partial, silent drop.

    A StrEnum: `Feature.cdc == "cdc"`, so `features = frozenset({Feature.source, ...})` and plain strings mix.
    """

    source = "source"  # any source (a table, topic, endpoint or file path read by the pipeline)
    model = "model"  # a SQL transform
    metric = "metric"  # a metric (measures by dimensions)
    windows = "windows"  # a metric computed over a tumbling / hopping / session / cumulate window
    sink = "sink"  # an output
    expectation = "expectation"  # a quality check (`expect NODE { ... }`)
    cdc = "cdc"  # log-based change data capture (`capture cdc`)
    api = "api"  # a source read from an HTTP endpoint
    files = "files"  # a source read from object storage files (`path ...`, `arrives ...`)
    topic = "topic"  # a source read from an existing Kafka topic
    pii = "pii"  # a column with a PII strategy (hash, mask, drop, encrypt, keep)
    history = "history"  # a model keeping type 2 history (`history scd2 ...`)
    partitions = "partitions"  # a partitioned model or sink (`partition by day(col)`)
    dedup = "dedup"  # a sink input the plan writes deduplicated on the event id
    schedule = "schedule"  # the pipeline's schedule for its batch outputs
    environments = "environments"  # per-environment overrides (`env NAME { ... }`)


FEATURES: frozenset[str] = frozenset(Feature)
DESCRIPTIONS: dict[str, str] = {
    Feature.source: "any source (table, topic, endpoint or file path)",
    Feature.model: "a SQL model",
    Feature.metric: "a metric (measures by dimensions)",
    Feature.windows: "a windowed metric (tumbling, hopping, session, cumulate)",
    Feature.sink: "a sink",
    Feature.expectation: "a quality check",
    Feature.cdc: "log-based change data capture (capture cdc)",
    Feature.api: "a source read from an HTTP endpoint",
    Feature.files: "a source read from object storage files",
    Feature.topic: "a source read from an existing Kafka topic",
    Feature.pii: "a column with a PII strategy",
    Feature.history: "a model with type 2 history (history scd2)",
    Feature.partitions: "a partitioned model or sink",
    Feature.dedup: "a sink input deduplicated on the event id",
    Feature.schedule: "the pipeline's schedule",
    Feature.environments: "per-environment overrides (env blocks)",
}


def unknown_features(declared: frozenset[str] | set[str]) -> list[str]:
    """Declared names outside the vocabulary (a typo, or a feature to add here first)."""
    return sorted(str(f) for f in declared if str(f) not in FEATURES)


def features_used(ir: Spec) -> dict[str, tuple[Span | None, ...]]:
    """Each feature the spec uses, with where (sorted by feature name; spans in spec order)."""
    kinds = {c.name: c.kind for c in ir.connections}
    found: dict[str, list[Span | None]] = {}

    def add(feature: Feature, span: Span | None) -> None:
        found.setdefault(str(feature), []).append(span)

    for s in ir.sources:
        add(Feature.source, s.span)
        if s.capture is not None and s.capture.mode == CaptureMode.cdc:
            add(Feature.cdc, s.capture.span)
        if (s.location is not None and s.location.kind == "endpoint") or kinds.get(s.connection) == ConnectionKind.http:
            add(Feature.api, s.location.span if s.location else s.span)
        if s.location is not None and s.location.kind == "path":
            add(Feature.files, s.location.span)
        if s.location is not None and s.location.kind == "topic":
            add(Feature.topic, s.location.span)
        for c in s.columns:
            if c.pii is not None:
                add(Feature.pii, c.pii.span)
    for m in ir.models:
        add(Feature.model, m.span)
        if m.history is not None:
            add(Feature.history, m.history.span)
        if m.partition is not None:
            add(Feature.partitions, m.partition.span)
    for mt in ir.metrics:
        add(Feature.metric, mt.span)
        if mt.window is not None:
            add(Feature.windows, mt.window.span)
    sink_spans = {k.name: k.span for k in ir.sinks}
    for k in ir.sinks:
        add(Feature.sink, k.span)
        if k.partition is not None:
            add(Feature.partitions, k.partition.span)
    for sp in ir.plan.sinks:
        strategies = {sp.strategy} | {i.strategy for i in sp.inputs}
        if "dedup_event_id" in strategies:
            add(Feature.dedup, sink_spans.get(sp.sink))
    for e in ir.expectations:
        for check in e.checks:
            add(Feature.expectation, check.span)
    if ir.pipeline.schedule is not None:
        add(Feature.schedule, ir.pipeline.schedule.span)
    for env in ir.environments:
        add(Feature.environments, env.span)
    return {k: tuple(v) for k, v in sorted(found.items())}
