"""Generates a synthetic but realistic .stream spec of about N nodes, in the proportions of specs/."""

from __future__ import annotations

import argparse
import random

TYPES = ["bigint", "text", "numeric(12,2)", "timestamp", "integer", "date"]


def generate(n: int, seed: int = 7) -> str:
    """~N nodes: 20% sources, 45% models (staging, intermediate, marts), 5% metrics, 10% sinks, 20% expects."""
    rng = random.Random(seed)
    n_sources = max(1, n * 20 // 100)
    n_models = max(2, n * 45 // 100)
    n_metrics = max(1, n * 5 // 100)
    n_sinks = max(1, n * 10 // 100)
    n_expects = max(1, n - n_sources - n_models - n_metrics - n_sinks)
    out = [
        f"pipeline bench_{n} {{",
        '  owner       "bench"',
        "  domain      bench",
        "  tier        important",
        "  latency     < 1m",
        "  schedule    daily at 06:00 UTC",
        "  acknowledge realtime, pii, large_volume",
        "}",
        "",
        "connection db        postgres { credentials secret db_credentials }",
        "connection warehouse snowflake",
        "connection events    kafka",
        "connection cache     redis",
        "",
        "env dev  { kafka.replication 1 }",
        "env prod { kafka.replication 3 }",
        "",
    ]
    for i in range(n_sources):
        capture = "cdc" if i % 3 == 0 else "incremental(updated_at)"
        out += [
            f"source src_{i} from db {{",
            f"  table   public.t_{i}",
            f"  capture {capture}",
            f"  volume  {rng.randint(1, 500) * 1000}/day peak {rng.randint(1, 200)}/s avg_size 1KB",
            "  columns {",
            "    id         bigint        primary key",
            "    account_id bigint        not null",
            "    email      text          pii(hash)",
            "    amount     numeric(12,2) not null check (amount >= 0)",
            '    status     text          in ("new", "done", "failed")',
            "    created_at timestamp     not null event_time lateness 1m",
            "    updated_at timestamp     not null",
            "  }",
            "}",
            "",
        ]
    staging = []
    for i in range(n_sources):
        if len(staging) >= n_models // 2:
            break
        name = f"stg_src_{i}"
        staging.append(name)
        out += [f"model {name} from src_{i} {{",
                "  select id, account_id, amount, status, created_at, updated_at", "}", ""]
    models = list(staging)
    k = 0
    while len(models) < n_models:
        a, b = rng.choice(models), rng.choice(staging)
        if k % 2 == 0:
            name = f"int_m_{k}"
            out += [f"model {name} {{", "  grain id", '  sql """',
                    f"    select a.id, a.account_id, a.amount, a.status, a.created_at, a.updated_at",
                    f"    from {a} a", f"    left join {b} b on a.account_id = b.account_id", '  """', "}", ""]
        else:
            name = f"fct_m_{k}"
            out += [f"model {name} {{", "  grain account_id", "  partition by day(created_at)", '  sql """',
                    "    select account_id, max(id) as id, sum(amount) as amount, max(status) as status,",
                    "           max(created_at) as created_at, max(updated_at) as updated_at",
                    f"    from {a}", "    group by account_id", '  """', "}", ""]
        models.append(name)
        k += 1
    streaming = [name for i, name in enumerate(staging) if i % 3 == 0]  # staging over CDC sources
    for i in range(n_metrics):
        out += [f"metric metric_{i} from {streaming[i % len(streaming)]} {{",
                "  measure sum(amount) as revenue, count(*) as events", "  by      status",
                "  window  tumbling 1m", "}", ""]
    marts = [m for m in models if m.startswith("fct_")] or models
    for i in range(n_metrics):  # every metric feeds a real-time cache
        out += [f"sink live_{i} to cache {{ metrics metric_{i} ttl 1h }}", ""]
    for i in range(max(1, n_sinks - n_metrics)):
        out += [f"sink marts_{i} to warehouse {{ models {marts[i % len(marts)]} }}", ""]
    for i in range(n_expects):
        target = models[i % len(models)]
        key = "account_id" if target.startswith("fct_") else "id"
        out += [f"expect {target} {{", f"  not_null {key}", "  range    amount 0 ..", "}", ""]
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("nodes", type=int)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    with open(args.output, "w", encoding="utf-8") as fh:
        fh.write(generate(args.nodes, args.seed))


if __name__ == "__main__":
    main()
