"""Reliability pass: tier numbers, retries, concurrency, freshness cadence, stale and resource alerts, checkpoints (rules §4)."""

from __future__ import annotations

from ..diagnostics import Diagnostics
from ..ir import Duration, Mode, ReliabilityPlan, Schedule, Spec, Tier
from .graph import format_duration
from .record import Recorder, fact, why

TIERS = {  # rules §4: availability and the downtime it allows per month
    Tier.critical: ("99.9%", "43.8 min"),
    Tier.important: ("99.5%", "3.6 h"),
    Tier.standard: ("99.0%", "7.2 h"),
}
RETRIES = 3
RETRY_DELAY = Duration(seconds=300, text="5m")
RESOURCE_WARNING_PCT, RESOURCE_CRITICAL_PCT = 80, 95
STALE_FACTOR = 1.5
CHECKPOINT_CAP_S = 60.0
MIN_CHECK_EVERY_S = 1.0  # schedulers tick in whole seconds: a sub-second SLA is checked every second
ORDERED_METHODS = ("timestamp_incremental", "api_incremental", "file_arrival", "log_cdc")


def dur(seconds: float) -> Duration:
    return Duration(seconds=seconds, text=format_duration(seconds))


def schedule_interval(s: Schedule | None) -> tuple[float | None, str]:
    """Seconds between two scheduled runs, and how it was read."""
    if s is None:
        return None, "no schedule"
    if s.kind == "daily":
        return 86400, f"daily at {s.time} {s.timezone}"
    if s.kind == "hourly":
        return 3600, "hourly"
    if s.kind == "weekly":
        return 7 * 86400, f"weekly on {s.weekday} at {s.time} {s.timezone}"
    if s.kind == "every" and s.every is not None:
        return s.every.seconds, f"every {s.every.text}"
    if s.kind == "cron" and s.cron:
        gap = cron_max_gap(s.cron)
        return gap, f"cron \"{s.cron}\"" + ("" if gap else " (interval not derivable)")
    return None, "continuous"


def cron_max_gap(expr: str) -> float | None:
    """The longest gap between two runs of a 5-field cron over a week (None when day-of-month/month restrict it)."""
    parts = expr.split()
    if len(parts) != 5 or parts[2] != "*" or parts[3] != "*":
        return None
    try:
        minutes = _field(parts[0], 0, 59)
        hours = _field(parts[1], 0, 23)
        days = {d % 7 for d in _field(parts[4], 0, 7)}
    except ValueError:
        return None
    fires = sorted(d * 1440 + h * 60 + m for d in days for h in hours for m in minutes)
    if not fires:
        return None
    gaps = [b - a for a, b in zip(fires, fires[1:])] + [fires[0] + 7 * 1440 - fires[-1]]
    return max(gaps) * 60.0


def _field(text: str, lo: int, hi: int) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, s = part.split("/", 1)
            step = int(s)
        if part == "*":
            a, b = lo, hi
        elif "-" in part:
            a, b = (int(x) for x in part.split("-", 1))
        else:
            a = b = int(part)
        if a < lo or b > hi or step < 1:
            raise ValueError(text)
        out.update(range(a, b + 1, step))
    return out


def reliability_pass(spec: Spec, diags: Diagnostics) -> Spec:
    rec = Recorder("reliability", diags)
    p = spec.pipeline
    mode = spec.plan.mode.mode if spec.plan.mode else Mode.batch
    subject = "pipeline"

    # tier
    avail, downtime = TIERS[p.tier]
    tier_fact = fact(f"tier {p.tier.value}", p.span)
    tier_why = why("tier", f"tier {p.tier.value}: {avail} availability, at most {downtime} of downtime a month",
                   tier_fact)
    rec.decide(subject, "tier", f"{avail} ({downtime}/month)", tier_why)

    # retries
    rec.decide(subject, "retries", f"{RETRIES} retries, {RETRY_DELAY.text} apart, exponential backoff",
               why("retries", "orchestrated tasks retry 3 times with a 5 minute delay that doubles each time "
                   "(the defaults)", fact("retries 3, retry delay 5m, exponential backoff", None)))

    # one active run for ordered loads
    ordered = [f"source {c.source} ({c.method})" for c in spec.plan.captures if c.method in ORDERED_METHODS]
    ordered += [f"model {m.model} ({m.materialization})" for m in spec.plan.models
                if m.materialization in ("incremental", "snapshot")]
    ordered += [f"sink {k.sink} ({k.strategy})" for k in spec.plan.sinks if k.strategy == "overwrite_partition"]
    if ordered:
        ma_reason = ("ordered loads (each run starts where the previous one stopped): one active run at a time, so "
                     "runs never overlap or overtake each other: " + ", ".join(ordered))
    else:
        ma_reason = "no ordered load; one active run still keeps two runs from rebuilding the same tables at once"
    rec.decide(subject, "max active runs", "1", why("retries", ma_reason, *_ordered_facts(spec)))

    # freshness checks: twice per SLA interval
    fresh = [(s.freshness.seconds, s) for s in spec.sources if s.freshness is not None]
    if fresh:
        sla, src = min(fresh, key=lambda x: x[0])
        basis = f"the strictest source freshness SLA ({src.name}: {src.freshness.text})"
        sla_fact = fact(f"source {src.name}: freshness < {src.freshness.text}", src.span)
    elif p.latency is not None:
        sla, basis = p.latency.seconds, f"the pipeline latency target ({p.latency.text}; no source sets a freshness)"
        sla_fact = fact(f"latency < {p.latency.text}", p.latency_span)
    else:
        sla, basis, sla_fact = None, "no latency or freshness SLA", fact("no latency or freshness given", None)
    check_every = dur(max(sla / 2, MIN_CHECK_EVERY_S)) if sla else None
    floor = " (at most once a second)" if sla and sla / 2 < MIN_CHECK_EVERY_S else ""
    rec.decide(subject, "freshness checks", f"every {check_every.text}" if check_every else "none",
               why("freshness", (f"at least twice per SLA interval: {basis} / 2{floor}" if check_every else
                                 "nothing to check freshness against"), sla_fact))

    # stale alert: 1.5 x the expected interval between updates
    interval, how = schedule_interval(p.schedule)
    hot = mode in (Mode.streaming, Mode.hybrid)
    stale = hot_stale = None
    if interval is not None:
        stale = dur(STALE_FACTOR * interval)
        rec.decide(subject, "stale alert", f"after {stale.text}",
                   why("stale", f"1.5 x the expected interval between updates, the schedule ({how}: "
                       f"{format_duration(interval)})", fact(f"schedule {how}", p.schedule.span)))
    if hot and p.latency is not None:
        hot_stale = dur(STALE_FACTOR * p.latency.seconds)
        if stale is None:
            stale = hot_stale
        rec.decide(subject, "stale alert (hot path)", f"after {hot_stale.text}",
                   why("stale", f"the stream is expected to update within its latency target ({p.latency.text}): "
                       "1.5 x that", fact(f"latency < {p.latency.text}", p.latency_span)))

    rec.decide(subject, "resource alerts", f"warning {RESOURCE_WARNING_PCT}%, critical {RESOURCE_CRITICAL_PCT}%",
               why("resources", "warning at 80% of capacity, critical at 95%", fact("resource alerts at 80% / 95%", None)))

    # checkpoints for streaming jobs
    checkpoint = None
    if hot:
        lat = p.latency.seconds if p.latency is not None else None
        cp = min(lat / 2, CHECKPOINT_CAP_S) if lat else CHECKPOINT_CAP_S
        checkpoint = dur(max(cp, 1.0))
        rec.decide(subject, "checkpoint interval", checkpoint.text, why(
            "checkpoint", "streaming jobs commit their output and offsets at each checkpoint, so results become visible "
            "at most one interval late: half the latency target leaves the other half for processing, capped at "
            "1 minute so a restart replays little (Flink checkpoints; consumer offset commits)",
            fact(f"latency < {p.latency.text}", p.latency_span) if p.latency else fact("no latency given", None)))

    p99 = p.tier == Tier.critical
    rec.decide(subject, "watch p99 latency", "yes" if p99 else "no", why(
        "freshness", "critical pipelines watch p99 latency" if p99 else "only critical pipelines watch p99 latency",
        tier_fact))

    plan = ReliabilityPlan(
        tier=p.tier, availability=avail, max_downtime_per_month=downtime, retries=RETRIES, retry_delay=RETRY_DELAY,
        exponential_backoff=True, max_active_runs=1, freshness_check_every=check_every, stale_alert_after=stale,
        resource_warning_pct=RESOURCE_WARNING_PCT, resource_critical_pct=RESOURCE_CRITICAL_PCT,
        checkpoint_interval=checkpoint, watch_p99_latency=p99, hot_stale_alert_after=hot_stale,
        why=why("tier", f"tier {p.tier.value} ({avail}, {downtime}/month); freshness: {basis}; stale alert from "
                f"{how}" + (f"; checkpoints every {checkpoint.text}" if checkpoint else ""), tier_fact, sla_fact),
    )
    return rec.finish(spec, reliability=plan)


def _ordered_facts(spec: Spec):
    out = []
    for s in spec.sources:
        if s.capture is not None and s.capture.mode.value in ("incremental", "cdc"):
            out.append(fact(f"source {s.name}: capture {s.capture.mode.value}", s.capture.span))
        elif s.arrival is not None:
            out.append(fact(f"source {s.name}: arrives by {s.arrival.by}", s.arrival.span))
    for m in spec.models:
        if m.partition is not None:
            out.append(fact(f"model {m.name}: partition by {m.partition.granularity or ''}({m.partition.column})",
                            m.partition.span))
    return out
