"""`streamc explain`: decisions grouped per pass in PASSES order, each with choice, rule, reason and facts at file:line."""

from __future__ import annotations

import json

from inline_specs import compile_spec, make_spec
from streamc.explain import render_explain
from streamc.passes import PASSES

BODY = "model stg_orders from orders { select id, store_id, amount, created_at }\nsink marts to wh { models stg_orders }\n"


def test_text_groups_decisions_per_pass_in_pass_order():
    spec = compile_spec(make_spec(BODY)).spec
    text = render_explain(spec)
    headers = [ln.split(". ", 1)[1] for ln in text.splitlines() if ln.startswith("== ") and ". " in ln]
    order = [name for name, _fn, _why in PASSES]
    assert headers == [n for n in order if n in headers]
    assert {"mode", "layering", "idempotency", "reliability", "gates"} <= set(headers)


def test_text_shows_choice_rule_reason_and_fact_locations():
    spec = compile_spec(make_spec(BODY)).spec
    text = render_explain(spec)
    assert "pipeline: mode = batch" in text
    assert "  rule   domain-rules §1 mode selection" in text
    assert "  reason " in text
    assert "t.stream:5" in text  # the latency line
    assert "(default)" in text  # defaults are marked as such


def test_json_carries_passes_decisions_and_plan():
    spec = compile_spec(make_spec(BODY)).spec
    data = json.loads(render_explain(spec, "json"))
    assert [p["name"] for p in data["passes"]] == [name for name, _f, _w in PASSES]
    assert data["plan"]["mode"]["mode"] == "batch"
    assert len(data["decisions"]) == len(spec.decisions)
    assert all(d["why"]["rule"].startswith("domain-rules §") for d in data["decisions"])


def test_every_pass_has_a_reason_and_passes_are_unique():
    names = [n for n, _f, _w in PASSES]
    assert len(names) == len(set(names)) == 10
    assert all(w for _n, _f, w in PASSES)
