"""Backfill and rollback commands: the airflow backend's runbook for the batch side, offset replays for the stream."""

from __future__ import annotations

from dataclasses import dataclass, field

from streamc.ir import Engine, Spec


@dataclass
class Procedures:
    """The procedure per planned scenario, as Markdown lines with fenced commands."""

    blocks: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return self.blocks


def _fence(lang: str, lines: list[str] | tuple[str, ...]) -> list[str]:
    return [f"```{lang}", *lines, "```", ""]


def procedures(ir: Spec, start_date) -> Procedures:
    p = Procedures()
    batch = _batch(ir, start_date)
    if batch is not None:
        p.blocks += batch
    p.blocks += _stream(ir)
    return p


def _batch(ir: Spec, start_date) -> list[str] | None:
    """The Airflow 3 procedure the airflow backend writes to airflow/BACKFILL.md, condensed, plus dbt rebuilds."""
    from streamc.backends.airflow.dagplan import build_model
    from streamc.backends.airflow.runbook import runbook

    model, problems = build_model(ir, start_date)
    if model is None or problems:
        if problems:
            return [f"GAP: the airflow backend cannot build this pipeline's DAG ({problems[0].what}); no batch "
                    "commands.", ""]
        return None
    rb = runbook(ir, model)
    out = [f"### Batch side: Airflow DAG `{rb.dag_id}` ({rb.schedule}, at most {rb.max_active_runs} active run"
           f"{'s' if rb.max_active_runs != 1 else ''})", ""]
    out.append(f"Full runbook: `airflow/BACKFILL.md`. Pre-check and rollback point of "
               + ", ".join(f"`{t.relation}`" for t in rb.sinks) + ":")
    out.append("")
    out += _fence("sql", [t.snapshot for t in rb.sinks] + [t.count for t in rb.sinks])
    sink_models = [n for k in ir.sinks for n in k.models]
    for s in rb.scenarios:
        out.append(f"#### {s.title} ({s.strategy}{', replay window ' + s.window if s.window else ''})")
        out.append("")
        if s.sql_before:
            out += _fence("sql", list(s.sql_before))
        steps = list(s.steps)
        if s.change in ("schema_change", "logic_change") and sink_models:
            steps += ["# or rebuild the models directly with dbt (gates run as dbt tests):"]
            steps += [f"dbt build --project-dir dbt --select {' '.join('+' + m for m in sink_models)} --full-refresh"]
        out += _fence("bash", steps)
    out.append("Rollback:")
    out.append("")
    restore = [line for t in rb.sinks for line in t.restore] + [t.drop for t in rb.sinks]
    out += _fence("sql", restore)
    return out


def _stream(ir: Spec) -> list[str]:
    plan = ir.plan
    mode = plan.mode
    if mode is None or not mode.streaming_nodes:
        return []
    out = ["### Stream side", ""]
    window = next((b.replay_window.text for b in plan.backfill if b.replay_window), None)
    out.append(f"A replay re-reads the Kafka topics from a point in time"
               + (f", at most {window} back (their retention)" if window else "") + ". Set `FROM_TS` (ISO 8601) first.")
    out.append("")
    cmds: list[str] = []
    for g in plan.consumer_groups:
        for t in g.topics:
            cmds.append(f"kafka-consumer-groups.sh --bootstrap-server \"$KAFKA_BOOTSTRAP_SERVERS\" --group {g.name} "
                        f"--topic {t} --reset-offsets --to-datetime \"$FROM_TS\" --execute")
    if cmds:
        names = ", ".join(f"`{g.name}`" for g in plan.consumer_groups)
        out.append(f"Consumer groups {names}: stop their consumers first, then move their offsets back (the sinks "
                   f"they write are idempotent: {', '.join(f'{s.sink} {s.strategy}' for s in plan.sinks)}):")
        out.append("")
        out += _fence("bash", cmds)
    flink = sorted(n.partition(":")[2] for n, e in {**mode.engines, **mode.hot_engines}.items()
                   if e == Engine.flink and n.startswith("metric:"))
    if flink:
        out.append(f"Flink jobs ({', '.join(f'`{n}`' for n in flink)}): their input offsets live in checkpoints "
                   "(GAP: the plan names no consumer group for them). Cancel the job without a savepoint "
                   "(`flink cancel <job-id>`) and submit its `flink/*.sql` again with "
                   "`'scan.startup.mode' = 'timestamp'` and `'scan.startup.timestamp-millis'` set to `FROM_TS` on "
                   "its Kafka source table.")
        out.append("")
    cdc = [c for c in plan.captures if c.method == "log_cdc"]
    if cdc:
        out.append("A new CDC source starts with the connector's snapshot: "
                   + "; ".join(f"`{c.source}`: snapshot mode {c.snapshot_mode or '?'}, slot {c.slot_name}" for c in cdc)
                   + ". Dropping a slot loses its position: keep it until the replay is verified.")
        out.append("")
    return out
