"""Backfill pass, checked against domain-rules §8 (strategy per change type, replay window)."""

from __future__ import annotations

import pytest

from inline_specs import compile_spec, make_spec, orders_source

STG = "model stg_orders from orders { select id, store_id, amount, created_at }\n"


def backfill(text):
    return {b.change: b for b in compile_spec(text).spec.plan.backfill}


def test_rule8_a_strategy_per_change_type():
    b = backfill(make_spec(STG + "sink marts to wh { models stg_orders }\n"))
    assert {k: v.strategy for k, v in b.items()} == {
        "schema_change": "reprocess_all", "bug_fix_window": "reprocess_window",
        "logic_change": "full_historical", "new_source": "incremental_from_start"}


@pytest.mark.parametrize("replay, days", [(None, 7), ("30d", 30)])
def test_rule8_stream_replay_window_is_the_kafka_retention(replay, days):
    extra = "acknowledge realtime" + (f"\n  replay {replay}" if replay else "")
    b = backfill(make_spec("sink events to bus { sources orders }\n", latency="< 10s", extra=extra))
    assert all(x.replay_window.seconds == days * 86400 for x in b.values())


def test_rule8_batch_replays_from_kept_raw_data():
    body = STG + "sink marts to wh { models stg_orders }\n"
    b = backfill(make_spec(body, source=orders_source(capture="incremental(updated_at)")))
    assert all(x.replay_window is None for x in b.values())
    kept = orders_source(capture="incremental(updated_at)").replace("  volume", "  retention 3y\n  volume")
    b = backfill(make_spec(body, source=kept))
    assert b["logic_change"].replay_window.seconds == 3 * 365 * 86400
