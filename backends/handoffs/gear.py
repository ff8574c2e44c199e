"""STREAM_TO_GEAR_HANDOFF: CI checks, per-environment deployment steps and alerts, from the plan's runtimes and SLA."""

from __future__ import annotations

import re

from streamc.ir import Spec, Tier

from .facts import Runtimes, dag_id, runtimes


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "data"


def channels(ir: Spec) -> tuple[str, str]:
    """(warning channel, paging channel) named after the owner; a standard-tier pipeline pages no one."""
    owner = _slug(ir.pipeline.owner or ir.pipeline.domain or ir.pipeline.name)
    alerts = f"#{owner}-alerts"
    return alerts, (f"#{owner}-oncall" if ir.pipeline.tier != Tier.standard else alerts)


def build_section(ir: Spec, rt: Runtimes) -> dict:
    spec = ir.files[0] if ir.files else f"{ir.pipeline.name}.stream"
    out = f"out/{ir.pipeline.name}"
    tests = [f"streamc check {spec}", f"streamc build {spec} -o out --check"]
    if rt.batch:
        tests += [f"dbt parse --project-dir {out}/dbt --profiles-dir {out}/dbt",
                  f"python {out}/airflow/{dag_id(ir)}.py  # the DAG file imports without errors"]
    return {
        "dockerfile": None,  # streamc emits no image: the artefacts deploy as files (see deploy.steps)
        "build_args": [f"STREAMC_SPEC={spec}", f"STREAMC_OUT={out}"],
        "tests": tests,
    }


def environments(ir: Spec, rt: Runtimes) -> list[dict]:
    names = [e.name for e in ir.environments] or ["default"]
    out = []
    replication: dict[str, int] = {}
    for t in ir.plan.topics:
        for env, factor in t.replication.items():
            replication[env] = max(replication.get(env, 0), factor)
    for i, name in enumerate(names):
        last = i == len(names) - 1
        entry: dict = {"name": name, "trigger": "merge to main" if last else "pull_request"}
        if rt.batch:
            entry["airflow_url"] = "${AIRFLOW_URL}"  # the environment's own, from the CI system's variables
        if name in replication:
            entry["kafka_replication"] = replication[name]
        if last and ir.pipeline.tier != Tier.standard:
            entry["approval_required"] = True
        out.append(entry)
    return out


def deploy_steps(ir: Spec, rt: Runtimes) -> list[str]:
    spec = ir.files[0] if ir.files else f"{ir.pipeline.name}.stream"
    out = f"out/{ir.pipeline.name}"
    steps = [f"streamc build {spec} --env \"${{ENV}}\" -o out"]
    for t in sorted(ir.plan.topics, key=lambda t: t.name):
        if not t.owned:
            continue
        config = f"cleanup.policy={t.cleanup_policy}"
        if t.retention is not None:
            config += f" --config retention.ms={int(t.retention.seconds * 1000)}"
        steps.append(f"kafka-topics.sh --bootstrap-server \"${{KAFKA_BOOTSTRAP_SERVERS}}\" --create --if-not-exists "
                     f"--topic {t.name} --partitions {t.partitions} --replication-factor \"${{KAFKA_REPLICATION}}\" "
                     f"--config {config}")
    if rt.debezium:
        conns = sorted({src.connection for c in ir.plan.captures if c.method == "log_cdc"
                        and (src := ir.source(c.source)) is not None})
        steps += [f"register {out}/debezium/{conn}/connector.json with Kafka Connect "
                  f"(PUT \"$CONNECT_URL/connectors/<name>/config\", as its README shows)" for conn in conns]
    if rt.flink:
        steps.append(f"for job in {out}/flink/*.sql; do sql-client.sh -f \"$job\"; done")
    if rt.batch:
        dag = dag_id(ir)
        steps += [f"dbt deps --project-dir {out}/dbt",
                  f"dbt build --project-dir {out}/dbt --profiles-dir {out}/dbt --target \"${{ENV}}\"",
                  f"airflow variables set streamc_{ir.pipeline.name} \"${{STREAMC_VARIABLE_JSON}}\"  "
                  f"# the environment's keys: {out}/airflow/README.md",
                  f"copy {out}/airflow/ into the DAGs folder, then: airflow dags reserialize",
                  "airflow dags list-import-errors",
                  f"airflow dags unpause {dag}"]
    return steps


def alerts(ir: Spec, rt: Runtimes) -> list[dict]:
    rel = ir.plan.reliability
    if rel is None:
        return []
    warn, page = channels(ir)
    out: list[dict] = []
    if rt.batch:
        out.append({"metric": "dag_run_failed",
                    "threshold": f"a task still failing after {rel.retries} retries ({rel.retry_delay.text} apart"
                                 f"{', exponential backoff' if rel.exponential_backoff else ''})",
                    "channel": page})
    if rel.stale_alert_after is not None:
        entry = {"metric": "time_since_last_update", "threshold": f"> {rel.stale_alert_after.text}", "channel": page}
        if rel.freshness_check_every is not None:
            entry["check_every"] = rel.freshness_check_every.text
        out.append(entry)
    if rel.hot_stale_alert_after is not None:
        out.append({"metric": "end_to_end_lag", "threshold": f"> {rel.hot_stale_alert_after.text}", "channel": page})
    if rel.watch_p99_latency and ir.pipeline.latency is not None:
        out.append({"metric": "p99_latency", "threshold": f"> {ir.pipeline.latency.text} (the latency target)",
                    "channel": page})
    for g in ir.plan.consumer_groups:
        if rel.hot_stale_alert_after is not None:
            out.append({"metric": f"consumer_lag:{g.name}", "threshold": f"> {rel.hot_stale_alert_after.text} behind",
                        "channel": warn})
    for sp in ir.plan.sinks:
        if sp.dead_letter_topic:
            out.append({"metric": f"dead_letter_records:{sp.dead_letter_topic}", "threshold": "> 0", "channel": warn})
    if rel.checkpoint_interval is not None and rt.flink:
        out.append({"metric": "flink_checkpoint_failures",
                    "threshold": f"> 0 (a checkpoint every {rel.checkpoint_interval.text})", "channel": warn})
    out.append({"metric": "resource_utilization", "threshold": f">= {rel.resource_warning_pct}%", "channel": warn})
    out.append({"metric": "resource_utilization", "threshold": f">= {rel.resource_critical_pct}%", "channel": page})
    return out


def gear(ir: Spec) -> dict:
    rt = runtimes(ir)
    return {"ci_cd_requirements": {
        "pipeline_name": ir.pipeline.name,
        "build": build_section(ir, rt),
        "deploy": {"environments": environments(ir, rt), "steps": deploy_steps(ir, rt)},
        "monitoring": {"alerts": alerts(ir, rt)},
    }}
