"""Reliability pass, checked against domain-rules §4 (tiers, freshness cadence, stale and resource alerts, retries)."""

from __future__ import annotations

import pytest

from inline_specs import compile_spec, make_spec, orders_source
from streamc.passes.reliability import cron_max_gap

STG = "model stg_orders from orders { select id, store_id, amount, created_at }\n"
MART = 'model fct_orders {\n  grain id\n  sql """select id, store_id, amount, created_at from stg_orders"""\n}\n'
BATCH = STG + MART + "sink marts to wh { models fct_orders }\n"
STREAM = STG + "sink out to bus { models stg_orders }\n"


def rel(text):
    return compile_spec(text).spec.plan.reliability


@pytest.mark.parametrize("tier, availability, downtime", [
    ("critical", "99.9%", "43.8 min"),
    ("important", "99.5%", "3.6 h"),
    ("standard", "99.0%", "7.2 h"),
])
def test_rule4_tier_table(tier, availability, downtime):
    r = rel(make_spec(BATCH, tier=tier))
    assert (r.tier.value, r.availability, r.max_downtime_per_month) == (tier, availability, downtime)
    assert r.watch_p99_latency == (tier == "critical")  # critical pipelines watch p99 latency


def test_rule4_orchestrated_task_defaults():
    r = rel(make_spec(BATCH))
    assert (r.retries, r.retry_delay.seconds, r.exponential_backoff) == (3, 300, True)
    assert (r.resource_warning_pct, r.resource_critical_pct) == (80, 95)
    assert r.max_active_runs == 1  # incremental capture and an incremental mart: ordered loads
    assert "ordered loads" in next(d for d in compile_spec(make_spec(BATCH)).spec.decisions
                                   if d.topic == "max active runs").why.reason


@pytest.mark.parametrize("latency, freshness, every", [
    ("< 1h", None, 1800),  # 1 h SLA -> every 30 min (the rule's own example)
    ("< 24h", None, 43200),
    ("< 1h", "< 5m", 150),  # a source freshness SLA is the SLA interval when set
    ("< 1h", "< 2h", 3600),
])
def test_rule4_freshness_checks_twice_per_sla_interval(latency, freshness, every):
    src = orders_source()
    if freshness:
        src = src.replace("  volume", f"  freshness {freshness}\n  volume")
    r = rel(make_spec(BATCH, latency=latency, source=src))
    assert r.freshness_check_every.seconds == every


@pytest.mark.parametrize("schedule, stale", [
    ("daily at 06:00 UTC", 1.5 * 86400),
    ("hourly", 1.5 * 3600),
    ("every 15m", 1.5 * 900),
    ("weekly on monday at 06:00 UTC", 1.5 * 7 * 86400),
    ('cron "*/10 * * * *"', 1.5 * 600),
])
def test_rule4_stale_alert_after_1_5_times_the_expected_interval(schedule, stale):
    r = rel(make_spec(BATCH, schedule=schedule))
    assert r.stale_alert_after.seconds == stale


@pytest.mark.parametrize("latency, checkpoint", [
    ("< 10s", 5),  # half the latency target
    ("< 1m", 30),
    ("< 2s", 1),  # never below 1 s
])
def test_rule4_streaming_checkpoint_is_half_the_latency_capped_at_a_minute(latency, checkpoint):
    r = rel(make_spec(STREAM, latency=latency, extra="acknowledge realtime"))
    assert r.checkpoint_interval.seconds == checkpoint
    lat = float(latency.split()[1].rstrip("sm")) * (60 if latency.endswith("m") else 1)
    assert r.hot_stale_alert_after.seconds == 1.5 * lat


def test_rule4_checkpoint_cap_applies_to_explicit_streaming_with_a_long_latency():
    r = rel(make_spec(STREAM, latency="< 10m", extra="mode streaming"))
    assert r.checkpoint_interval.seconds == 60


def test_rule4_batch_has_no_checkpoint():
    assert rel(make_spec(BATCH)).checkpoint_interval is None


@pytest.mark.parametrize("expr, gap", [
    ("*/15 * * * *", 900),
    ("0 * * * *", 3600),
    ("0 6 * * *", 86400),
    ("0 6 * * 1-5", 3 * 86400),  # Friday 06:00 -> Monday 06:00
    ("0 6 1 * *", None),  # day-of-month schedules are not derived
])
def test_rule4_cron_interval_is_the_longest_gap(expr, gap):
    assert cron_max_gap(expr) == gap


def test_rule4_decisions_cite_section_4():
    spec = compile_spec(make_spec(BATCH)).spec
    ds = [d for d in spec.decisions if d.pass_name == "reliability"]
    assert {d.topic for d in ds} >= {"tier", "retries", "max active runs", "freshness checks", "stale alert",
                                     "resource alerts", "watch p99 latency"}
    assert all(d.why.rule.startswith("domain-rules §4") for d in ds)
