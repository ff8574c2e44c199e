"""The Kafka backend lays the plan's topics and consumer groups out per environment: Strimzi resources (parsed with
PyYAML and checked against the plan) and a kafka-topics.sh script (run against recording stand-ins of the Kafka CLI)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from streamc.backends.kafka import KafkaBackend, KafkaOptions
from streamc.ir import Connection, ConnectionKind, Span, Spec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kafka_cases import REFERENCE, compiled, emit, envs_of, with_topics  # noqa: E402

K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")


def test_specs_with_a_kafka_plan():
    assert with_topics() == ["orders_analytics", "orders_cdc_kafka"]
    for name in set(REFERENCE) - set(with_topics()):
        assert emit(compiled(name)) == {}, "no topic in the plan, nothing to apply"


@pytest.mark.parametrize("name", with_topics())
def test_files_per_environment(name):
    spec = compiled(name)
    files = emit(spec)
    expected = {"kafka/README.md"}
    for env in envs_of(spec):
        expected |= {f"kafka/{env}/topics.yaml", f"kafka/{env}/create-topics.sh"}
        if spec.plan.consumer_groups:
            expected.add(f"kafka/{env}/consumer-groups.yaml")
    assert set(files) == expected
    assert emit(spec) == files


@pytest.mark.parametrize("name", with_topics())
def test_strimzi_topics_match_the_plan(name):
    spec = compiled(name)
    files = emit(spec)
    owned = {t.name: t for t in spec.plan.topics if t.owned}
    for env in envs_of(spec):
        docs = list(yaml.safe_load_all(files[f"kafka/{env}/topics.yaml"]))
        docs = [d for d in docs if d is not None]
        assert {d["spec"]["topicName"] for d in docs} == set(owned)
        assert len({d["metadata"]["name"] for d in docs}) == len(docs)
        for d in docs:
            assert d["apiVersion"] == "kafka.strimzi.io/v1" and d["kind"] == "KafkaTopic"
            assert K8S_NAME.fullmatch(d["metadata"]["name"]) and len(d["metadata"]["name"]) <= 253
            labels = d["metadata"]["labels"]
            assert labels["strimzi.io/cluster"] == "${EVENTS_STRIMZI_CLUSTER}", "a deployment value, not a literal"
            assert all(LABEL_VALUE.fullmatch(v) and len(v) <= 63 for k, v in labels.items()
                       if k != "strimzi.io/cluster")
            plan = owned[d["spec"]["topicName"]]
            assert d["spec"]["partitions"] == plan.partitions
            assert d["spec"]["replicas"] == plan.replication[env]
            config = d["spec"]["config"]
            assert config["cleanup.policy"] == plan.cleanup_policy
            assert config["retention.ms"] == int(plan.retention.seconds * 1000)
        dlqs = {t.name for t in owned.values() if t.purpose == "dlq"}
        assert dlqs and dlqs <= {d["spec"]["topicName"] for d in docs}, "dead-letter topics are created too"


def test_replication_follows_the_environment():
    files = emit(compiled("orders_cdc_kafka"))
    factors = {env: {d["spec"]["replicas"] for d in yaml.safe_load_all(files[f"kafka/{env}/topics.yaml"]) if d}
               for env in ("dev", "staging", "prod")}
    assert factors == {"dev": {1}, "staging": {2}, "prod": {3}}
    assert "retention.ms: 1209600000" in files["kafka/prod/topics.yaml"], "replay 14d > the 7-day default"


@pytest.mark.parametrize("name", with_topics())
def test_consumer_groups_are_kafka_users_with_read_acls(name):
    spec = compiled(name)
    files = emit(spec)
    for env in envs_of(spec):
        docs = [d for d in yaml.safe_load_all(files[f"kafka/{env}/consumer-groups.yaml"]) if d]
        assert {d["metadata"]["annotations"]["streamc.dev/consumer-group"] for d in docs} == \
            {g.name for g in spec.plan.consumer_groups}
        for d in docs:
            assert d["kind"] == "KafkaUser" and K8S_NAME.fullmatch(d["metadata"]["name"])
            group = next(g for g in spec.plan.consumer_groups
                         if g.name == d["metadata"]["annotations"]["streamc.dev/consumer-group"])
            assert d["metadata"]["annotations"]["streamc.dev/max-consumers"] == str(group.max_consumers)
            acls = d["spec"]["authorization"]["acls"]
            assert d["spec"]["authorization"]["type"] == "simple"
            topics = {a["resource"]["name"] for a in acls if a["resource"]["type"] == "topic"}
            assert topics == set(group.topics)
            assert [a["resource"]["name"] for a in acls if a["resource"]["type"] == "group"] == [group.name]
            assert all(a["resource"]["patternType"] == "literal" and a["operations"] for a in acls)
            assert not any("Write" in a["operations"] for a in acls), "consumers only read"


# ------------------------------------------------------------------------------------------ create-topics.sh
FAKE_CLI = """#!/usr/bin/env bash
printf '%s' "$(basename "$0")" >> "$CALLS"
for a in "$@"; do printf ' %s' "$a" >> "$CALLS"; done
printf '\\n' >> "$CALLS"
"""


def run_script(tmp_path: Path, text: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("kafka-topics.sh", "kafka-configs.sh"):
        (bin_dir / tool).write_text(FAKE_CLI)
        (bin_dir / tool).chmod(0o755)
    script = tmp_path / "create-topics.sh"
    script.write_text(text)
    calls = tmp_path / "calls.txt"
    calls.write_text("")
    full = {"PATH": os.environ["PATH"], "KAFKA_BIN": str(bin_dir), "CALLS": str(calls), **env}
    proc = subprocess.run(["bash", str(script)], text=True, capture_output=True, env=full, timeout=60)
    return proc, [line.split(" ") for line in calls.read_text().splitlines()]


def flag(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == name]


@pytest.mark.parametrize("name", with_topics())
def test_create_topics_script_creates_every_planned_topic(name, tmp_path):
    spec = compiled(name)
    files = emit(spec)
    owned = {t.name: t for t in spec.plan.topics if t.owned}
    for env in envs_of(spec):
        text = files[f"kafka/{env}/create-topics.sh"]
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0
        proc, calls = run_script(tmp_path, text, {"EVENTS_BOOTSTRAP_SERVERS": "broker-1:9092,broker-2:9092",
                                                  "KAFKA_COMMAND_CONFIG": "/etc/kafka/admin.properties"})
        assert proc.returncode == 0, proc.stderr
        creates = [c for c in calls if c[0] == "kafka-topics.sh"]
        alters = [c for c in calls if c[0] == "kafka-configs.sh"]
        assert sorted(flag(c, "--topic")[0] for c in creates) == sorted(owned)
        for c in creates + alters:
            assert flag(c, "--bootstrap-server") == ["broker-1:9092,broker-2:9092"]
            assert flag(c, "--command-config") == ["/etc/kafka/admin.properties"]
        for c in creates:
            plan = owned[flag(c, "--topic")[0]]
            assert "--create" in c and "--if-not-exists" in c
            assert flag(c, "--partitions") == [str(plan.partitions)]
            assert flag(c, "--replication-factor") == [str(plan.replication[env])]
            assert sorted(flag(c, "--config")) == sorted(
                [f"cleanup.policy={plan.cleanup_policy}", f"retention.ms={int(plan.retention.seconds * 1000)}"])
        for c in alters:
            plan = owned[flag(c, "--entity-name")[0]]
            assert flag(c, "--entity-type") == ["topics"] and "--alter" in c
            assert flag(c, "--add-config") == [f"cleanup.policy={plan.cleanup_policy},"
                                               f"retention.ms={int(plan.retention.seconds * 1000)}"]


def test_create_topics_script_needs_the_bootstrap_servers(tmp_path):
    text = emit(compiled("orders_cdc_kafka"))["kafka/prod/create-topics.sh"]
    proc, calls = run_script(tmp_path, text, {})
    assert proc.returncode != 0 and "EVENTS_BOOTSTRAP_SERVERS" in proc.stderr and calls == []
    proc, calls = run_script(tmp_path, text, {"EVENTS_BOOTSTRAP_SERVERS": "b:9092"})
    assert proc.returncode == 0 and not any("--command-config" in c for c in calls)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_create_topics_script_passes_shellcheck(tmp_path):
    path = tmp_path / "create-topics.sh"
    path.write_text(emit(compiled("orders_cdc_kafka"))["kafka/prod/create-topics.sh"])
    proc = subprocess.run(["shellcheck", str(path)], text=True, capture_output=True)
    assert proc.returncode == 0, proc.stdout


# ------------------------------------------------------------------------------------------ options and limits
def test_older_strimzi_api_option():
    files = emit(compiled("orders_analytics"), strimzi_api="kafka.strimzi.io/v1beta2")
    assert {d["apiVersion"] for d in yaml.safe_load_all(files["kafka/dev/topics.yaml"]) if d} == \
        {"kafka.strimzi.io/v1beta2"}


def test_underscored_topic_names_get_valid_resource_names():
    docs = [d for d in yaml.safe_load_all(emit(compiled("orders_analytics"))["kafka/dev/topics.yaml"]) if d]
    names = {d["spec"]["topicName"]: d["metadata"]["name"] for d in docs}
    assert names["ecommerce.revenue_per_minute.aggregated"] == "ecommerce.revenue-per-minute.aggregated"


def _replace(spec: Spec, **update) -> Spec:
    return Spec(**{**{k: getattr(spec, k) for k in Spec.model_fields}, **update})


def test_check_reports_what_the_plan_leaves_open():
    spec = compiled("orders_cdc_kafka")
    span = Span(file="x", line=1, column=1, end_line=1, end_column=2)
    other = Connection(span=span, name="other", kind=ConnectionKind.kafka)
    two = _replace(spec, connections=spec.connections + (other,))
    diags = KafkaBackend().check(two, KafkaOptions())
    assert [d.code for d in diags] == ["E120"] and "several Kafka connections" in diags[0].message
    topics = tuple(t.model_copy(update={"replication": {"prod": 3}}) if t.purpose == "dlq" else t
                   for t in spec.plan.topics)
    gap = _replace(spec, plan=spec.plan.model_copy(update={"topics": topics}))
    assert any("no replication factor for dev, staging" in d.message for d in KafkaBackend().check(gap, KafkaOptions()))
    with pytest.raises(ValueError, match="run check"):
        KafkaBackend().emit(gap, KafkaOptions())
