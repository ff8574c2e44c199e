"""Small .stream specs written inline for the pass tests, and helpers to compile and inspect them."""

from __future__ import annotations

from streamc.compiler import compile_text

CONNECTIONS = """
connection db    postgres { database "shop"  credentials secret db_credentials }
connection wh    snowflake { database "analytics" }
connection bus   kafka
connection cache redis
"""

ORDERS = """
source orders from db {{
  table     public.orders
  capture   {capture}
  volume    {volume}{peak}{size}
  columns {{
    id          bigint         primary key
    store_id    bigint         not null
    amount      numeric(10,2)  not null
    created_at  timestamp      not null  event_time{lateness}
    updated_at  timestamp      not null
  }}
}}
"""


def pipeline_block(latency: str | None = "< 1h", schedule: str | None = "daily at 06:00 UTC", tier="standard",
                   extra: str = "") -> str:
    lines = ['  owner "team"', "  domain shop", f"  tier {tier}"]
    if latency:
        lines.append(f"  latency {latency}")
    if schedule:
        lines.append(f"  schedule {schedule}")
    if extra:
        lines.append("  " + extra)
    return "pipeline p {\n" + "\n".join(lines) + "\n}\n"


def orders_source(capture="cdc", volume="50000/day", peak: str | None = None, size: str | None = None,
                  lateness: str | None = None) -> str:
    return ORDERS.format(capture=capture, volume=volume, peak=f"  peak {peak}" if peak else "",
                         size=f"  avg_size {size}" if size else "", lateness=f"  lateness {lateness}" if lateness else "")


def make_spec(body: str, latency: str | None = "< 1h", schedule: str | None = "daily at 06:00 UTC", tier="standard",
              extra: str = "", source: str | None = None, expect: str = "expect orders { unique id }") -> str:
    src = orders_source() if source is None else source
    return pipeline_block(latency, schedule, tier, extra) + CONNECTIONS + src + body + "\n" + expect + "\n"


def compile_spec(text: str, allow_errors: bool = False):
    r = compile_text(text, name="t.stream")
    errors = [d for d in r.diagnostics if d.severity == "error"]
    if not allow_errors:
        assert not errors, "\n".join(f"{d.code} {d.span.line if d.span else ''}: {d.message}" for d in errors)
    return r


def codes(result) -> list[str]:
    return sorted(d.code for d in result.diagnostics)


def decision(spec, subject: str, topic: str):
    found = [d for d in spec.decisions if d.subject == subject and d.topic == topic]
    assert len(found) == 1, [(d.subject, d.topic) for d in spec.decisions]
    return found[0]
