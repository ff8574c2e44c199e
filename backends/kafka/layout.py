"""The Kafka plan per environment: topics (partitions, replication, configs) and consumer groups, from ir.plan."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from streamc.ir import ConnectionKind, Spec, TopicPlan

KAFKA_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")  # Kafka's legal topic names
K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")  # DNS-1123 subdomain (metadata.name)


@dataclass(frozen=True)
class Problem:
    what: str
    hint: str


@dataclass(frozen=True)
class Topic:
    name: str
    resource: str  # Kubernetes metadata.name of its KafkaTopic
    purpose: str
    node: str
    key: tuple[str, ...]
    partitions: int
    replication: int
    configs: tuple[tuple[str, str], ...]  # (Kafka topic config, value), sorted
    why: str


@dataclass(frozen=True)
class Group:
    name: str
    resource: str
    topics: tuple[str, ...]
    max_consumers: int
    why: str


@dataclass(frozen=True)
class EnvLayout:
    env: str
    topics: tuple[Topic, ...]
    groups: tuple[Group, ...]
    existing: tuple[str, ...]  # topics the plan reads but does not own (never created)


@dataclass
class KafkaLayout:
    ir: Spec
    kafka: str = ""  # the Kafka connection's name (its env variables are named after it)
    envs: list[EnvLayout] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        plan = self.ir.plan
        kafkas = sorted(c.name for c in self.ir.connections if c.kind == ConnectionKind.kafka)
        if len(kafkas) > 1 and plan.topics:
            self.problems.append(Problem(f"topics of a spec with several Kafka connections ({', '.join(kafkas)}): "
                                         "the plan does not say which cluster holds which topic",
                                         "keep one Kafka connection per pipeline"))
        self.kafka = kafkas[0] if kafkas else "kafka"
        owned = [t for t in plan.topics if t.owned]
        for t in owned:
            if not KAFKA_NAME.fullmatch(t.name) or t.name in (".", ".."):
                self.problems.append(Problem(f"topic name '{t.name}'", "Kafka topic names are at most 249 of "
                                                                        "[a-zA-Z0-9._-]"))
        envs = sorted({e for t in owned for e in t.replication})
        for t in owned:
            missing = [e for e in envs if e not in t.replication]
            if missing:
                self.problems.append(Problem(f"topic '{t.name}' has no replication factor for {', '.join(missing)}",
                                             "the Kafka pass must give every topic a factor per environment"))
        if self.problems:
            return
        resources = k8s_names([t.name for t in owned] + [g.name for g in plan.consumer_groups])
        for env in envs:
            topics = tuple(self._topic(t, env, resources[t.name]) for t in sorted(owned, key=lambda t: t.name))
            groups = tuple(Group(g.name, resources[g.name], tuple(g.topics), g.max_consumers, g.why.reason)
                           for g in sorted(plan.consumer_groups, key=lambda g: g.name))
            existing = tuple(sorted(t.name for t in plan.topics if not t.owned))
            self.envs.append(EnvLayout(env, topics, groups, existing))

    @staticmethod
    def _topic(t: TopicPlan, env: str, resource: str) -> Topic:
        configs = [("cleanup.policy", t.cleanup_policy)]
        if t.retention is not None:
            configs.append(("retention.ms", str(int(t.retention.seconds * 1000))))
        elif t.cleanup_policy == "delete":
            configs.append(("retention.ms", "-1"))  # no retention in the plan: kept forever
        return Topic(name=t.name, resource=resource, purpose=t.purpose, node=t.node, key=tuple(t.key),
                     partitions=t.partitions, replication=t.replication[env], configs=tuple(sorted(configs)),
                     why=t.why.reason)


def env_name(*parts: str) -> str:
    """`events`, `bootstrap_servers` -> `EVENTS_BOOTSTRAP_SERVERS`."""
    return re.sub(r"[^A-Za-z0-9]+", "_", "_".join(p for p in parts if p)).strip("_").upper()


def k8s_names(names: list[str]) -> dict[str, str]:
    """A valid, unique Kubernetes resource name per Kafka name (`_` is not allowed in metadata.name)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in sorted(set(names)):
        base = re.sub(r"[^a-z0-9.-]+", "-", name.lower()).strip("-.")[:240] or "topic"
        candidate = base
        if candidate in used or not K8S_NAME.fullmatch(candidate):
            candidate = f"{base}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
        used.add(candidate)
        out[name] = candidate
    return out
