"""How a pass records its work: the rule citations, facts with spans, decisions, warnings, and the updated Spec."""

from __future__ import annotations

from ..diagnostics import Diagnostics, make
from ..ir import Decision, Fact, Span, Spec, Warning_, Why

# The rule each decision cites (sections of ../shared/design/domain-rules.md).
RULES = {
    "mode": "domain-rules §1 mode selection",
    "ask_first": "domain-rules §1 ask first",
    "topic_name": "domain-rules §2 topic name",
    "partitions": "domain-rules §2 partitions",
    "replication": "domain-rules §2 replication factor",
    "retention": "domain-rules §2 retention",
    "consumer_group": "domain-rules §2 consumer group",
    "dead_letter": "domain-rules §2 dead-letter path",
    "watermark": "domain-rules §2 windowed aggregations",
    "idempotency": "domain-rules §3 idempotency",
    "tier": "domain-rules §4 reliability tiers",
    "freshness": "domain-rules §4 freshness checks",
    "stale": "domain-rules §4 stale alert",
    "resources": "domain-rules §4 resource alerts",
    "retries": "domain-rules §4 orchestrated tasks",
    "checkpoint": "domain-rules §4 reliability (streamc rule: checkpoint = min(latency / 2, 1 min))",
    "gates": "domain-rules §5 quality gates",
    "gate_priority": "domain-rules §5 priority",
    "cdc": "domain-rules §6 CDC",
    "layers": "domain-rules §7 layers and names",
    "growing": "domain-rules §7 large or growing tables",
    "scd2": "domain-rules §7 slowly changing dimensions",
    "raw_kept": "domain-rules §7 raw source data is always kept",
    "backfill": "domain-rules §8 backfill and replay",
    "pii": "domain-rules §9 PII handling",
    "no_hardcoding": "domain-rules §9 no hard-coded environment values",
}


def fact(text: str, span: Span | None = None) -> Fact:
    """A spec fact; `span` None marks a default (nothing in the spec said it)."""
    return Fact(text=text, span=span)


def why(rule: str, reason: str, *facts: Fact) -> Why:
    return Why(rule=RULES[rule], reason=reason, facts=tuple(facts))


class Recorder:
    """Collects one pass's decisions and warnings, then folds them into a new Spec."""

    def __init__(self, pass_name: str, diags: Diagnostics):
        self.pass_name = pass_name
        self.diags = diags
        self.decisions: list[Decision] = []
        self.warnings: list[Warning_] = []

    def decide(self, subject: str, topic: str, choice: str, w: Why) -> Why:
        self.decisions.append(Decision(pass_name=self.pass_name, subject=subject, topic=topic, choice=choice, why=w))
        return w

    def warn(self, code: str, span: Span | None, **args: object) -> None:
        d = make(code, span, **args)
        self.diags.extend([d])
        self.warnings.append(Warning_(code=code, message=d.message, span=span))

    def error(self, code: str, span: Span | None, **args: object) -> None:
        self.diags.add(code, span, **args)

    def finish(self, spec: Spec, **plan: object) -> Spec:
        return spec.model_copy(update={
            "plan": spec.plan.model_copy(update=plan),
            "decisions": spec.decisions + tuple(self.decisions),
            "warnings": spec.warnings + tuple(self.warnings),
        })
