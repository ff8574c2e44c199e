"""Small specs that each exercise a few IR features, for the kit's unsupported-feature and declared-feature checks.

Each is canonical `streamc fmt` text, as small as the language allows: a pipeline needs a quality gate (so
every probe uses `expectation`), and batch probes carry the schedule real batch pipelines have.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..features import Feature as F
from ..ir import Spec


@dataclass(frozen=True)
class Probe:
    name: str
    uses: frozenset[str]  # exactly the features the compiled spec uses (the kit's own tests assert it)
    text: str


PROBES: tuple[Probe, ...] = (
    Probe("batch_source_only", frozenset({F.source, F.sink, F.expectation, F.schedule}), """\
pipeline probe_source_only {
  owner    "conformance"
  tier     standard
  latency  < 24h
  schedule daily at 06:00 UTC
}

connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }

source items from db {
  table   public.items
  capture incremental(updated_at)
  volume  1000/day

  columns {
    id         bigint         primary key
    amount     numeric(10, 2) not null
    updated_at timestamp      not null
  }
}

sink raw to dwh { sources items }

expect items { unique id }
"""),
    Probe("batch_model", frozenset({F.source, F.model, F.sink, F.expectation, F.schedule}), """\
pipeline probe_model {
  owner    "conformance"
  tier     standard
  latency  < 24h
  schedule daily at 06:00 UTC
}

connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }

source items from db {
  table   public.items
  capture incremental(updated_at)
  volume  1000/day

  columns {
    id         bigint         primary key
    amount     numeric(10, 2) not null
    updated_at timestamp      not null
  }
}

model stg_items from items {
  select id as item_id, amount, updated_at
}

sink marts to dwh { models stg_items }

expect stg_items { unique item_id }
"""),
    Probe("batch_environments", frozenset({F.source, F.model, F.sink, F.expectation, F.schedule, F.environments}), """\
pipeline probe_environments {
  owner    "conformance"
  tier     standard
  latency  < 24h
  schedule daily at 06:00 UTC
}

connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }

env dev  { dwh.schema "dev_marts" }
env prod { dwh.schema "marts" }

source items from db {
  table   public.items
  capture incremental(updated_at)
  volume  1000/day

  columns {
    id         bigint         primary key
    amount     numeric(10, 2) not null
    updated_at timestamp      not null
  }
}

model stg_items from items {
  select id as item_id, amount, updated_at
}

sink marts to dwh { models stg_items }

expect stg_items { unique item_id }
"""),
    Probe("batch_pii", frozenset({F.source, F.model, F.sink, F.expectation, F.pii, F.schedule}), """\
pipeline probe_pii {
  owner       "conformance"
  tier        standard
  latency     < 24h
  schedule    daily at 06:00 UTC
  acknowledge pii
}

connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }

source items from db {
  table   public.items
  capture incremental(updated_at)
  volume  1000/day

  columns {
    id         bigint         primary key
    amount     numeric(10, 2) not null
    email      text           pii(hash)
    updated_at timestamp      not null
  }
}

model stg_items from items {
  select id as item_id, email, amount, updated_at
}

sink marts to dwh { models stg_items }

expect stg_items { unique item_id }
"""),
    Probe("batch_history", frozenset({F.source, F.model, F.sink, F.expectation, F.history, F.schedule}), """\
pipeline probe_history {
  owner    "conformance"
  tier     standard
  latency  < 24h
  schedule daily at 06:00 UTC
}

connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }

source items from db {
  table   public.items
  capture incremental(updated_at)
  volume  1000/day

  columns {
    id         bigint         primary key
    amount     numeric(10, 2) not null
    updated_at timestamp      not null
  }
}

model stg_items from items {
  select id as item_id, amount, updated_at
}

model dim_items {
  grain   item_id
  history scd2 by updated_at
  sql \"\"\"
    select item_id, amount, updated_at from stg_items
  \"\"\"
}

sink marts to dwh { models dim_items }

expect dim_items { not_null item_id }
"""),
    Probe("batch_partitions", frozenset({F.source, F.model, F.sink, F.expectation, F.partitions, F.schedule}), """\
pipeline probe_partitions {
  owner    "conformance"
  tier     standard
  latency  < 24h
  schedule daily at 06:00 UTC
}

connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }

source items from db {
  table   public.items
  capture incremental(updated_at)
  volume  1000/day

  columns {
    id         bigint         primary key
    amount     numeric(10, 2) not null
    updated_at timestamp      not null
  }
}

model stg_items from items {
  select id as item_id, amount, updated_at
}

model fct_items {
  grain     item_id
  partition by day(updated_at)
  sql \"\"\"
    select item_id, amount, updated_at from stg_items
  \"\"\"
}

sink marts to dwh { models fct_items }

expect fct_items { unique item_id }
"""),
    Probe("batch_metric", frozenset({F.source, F.model, F.metric, F.sink, F.expectation, F.schedule}), """\
pipeline probe_metric {
  owner    "conformance"
  tier     standard
  latency  < 24h
  schedule daily at 06:00 UTC
}

connection db  postgres { credentials secret db_credentials }
connection dwh postgres as warehouse { credentials secret dwh_credentials }

source items from db {
  table   public.items
  capture incremental(updated_at)
  volume  1000/day

  columns {
    id         bigint         primary key
    amount     numeric(10, 2) not null
    updated_at timestamp      not null
  }
}

model stg_items from items {
  select id as item_id, amount, updated_at
}

metric amount_per_item from stg_items {
  measure sum(amount) as amount, count(*) as items
  by      item_id
}

sink marts to dwh { metrics amount_per_item }

expect stg_items { unique item_id }
"""),
    Probe("batch_api", frozenset({F.source, F.model, F.sink, F.expectation, F.api, F.schedule}), """\
pipeline probe_api {
  owner    "conformance"
  tier     standard
  latency  < 1h
  schedule every 15m
}

connection payments http { token secret payments_token }
connection dwh      duckdb { database "finance" }

source transactions from payments {
  endpoint    GET "/transactions"
  auth        oauth2 secret payments_oauth
  pagination  cursor
  incremental updated_at
  every       15m
  volume      1000/day

  columns {
    transaction_id string    primary key
    amount         decimal   not null
    updated_at     timestamp not null
  }
}

model stg_transactions from transactions {
  select transaction_id, amount, updated_at
}

sink marts to dwh { models stg_transactions }

expect stg_transactions { unique transaction_id }
"""),
    Probe("batch_files", frozenset({F.source, F.model, F.sink, F.expectation, F.files, F.schedule}), """\
pipeline probe_files {
  owner    "conformance"
  tier     standard
  latency  < 24h
  schedule daily at 06:00 UTC
}

connection lake s3 { bucket "drops" }
connection dwh  postgres as warehouse { credentials secret dwh_credentials }

source drops from lake {
  path    "raw/items/{date}/data.parquet"
  format  parquet
  arrives daily by 06:00 UTC
  volume  1000/day
  key     item_id

  columns {
    item_id   string         not null
    amount    numeric(10, 2) not null
    item_date date           not null
  }
}

model stg_drops from drops {
  select item_id, amount, item_date
}

sink marts to dwh { models stg_drops }

expect stg_drops { not_null item_id }
"""),
    Probe("streaming_cdc", frozenset({F.source, F.sink, F.expectation, F.cdc}), """\
pipeline probe_cdc {
  owner       "conformance"
  tier        critical
  latency     < 10s
  acknowledge realtime
}

connection db     postgres { credentials secret db_credentials }
connection events kafka
connection cache  redis

source orders from db {
  table   public.orders
  capture cdc
  volume  50000/day peak 100/s

  columns {
    id         bigint         primary key
    store_id   bigint         not null
    amount     numeric(10, 2) not null
    created_at timestamp      not null event_time lateness 1m
  }
}

sink changes to events { sources orders }

expect orders { unique id }
"""),
    Probe("streaming_window", frozenset({F.source, F.model, F.metric, F.windows, F.sink, F.expectation, F.cdc}), """\
pipeline probe_window {
  owner       "conformance"
  tier        critical
  latency     < 10s
  acknowledge realtime
}

connection db     postgres { credentials secret db_credentials }
connection events kafka
connection cache  redis

source orders from db {
  table   public.orders
  capture cdc
  volume  50000/day peak 100/s

  columns {
    id         bigint         primary key
    store_id   bigint         not null
    amount     numeric(10, 2) not null
    created_at timestamp      not null event_time lateness 1m
  }
}

model stg_orders from orders {
  select id as order_id, store_id, amount, created_at
}

metric revenue_per_minute from stg_orders {
  measure sum(amount) as revenue, count(*) as orders
  by      store_id
  window  tumbling 1m
}

sink live to cache { metrics revenue_per_minute ttl 1h }

expect stg_orders { not_null order_id }
"""),
    Probe("streaming_topic", frozenset({F.source, F.sink, F.expectation, F.topic}), """\
pipeline probe_topic {
  owner       "conformance"
  tier        critical
  latency     < 10s
  acknowledge realtime
}

connection db     postgres { credentials secret db_credentials }
connection events kafka
connection cache  redis

source clicks from events {
  topic  "web.clicks"
  format json
  volume 100000/day peak 50/s

  columns {
    click_id   string    primary key
    url        text      not null
    clicked_at timestamp not null event_time lateness 10s
  }
}

sink click_feed to events { sources clicks }

expect clicks { not_null click_id }
"""),
    Probe("streaming_dedup", frozenset({F.source, F.sink, F.expectation, F.topic, F.dedup}), """\
pipeline probe_dedup {
  owner       "conformance"
  tier        critical
  latency     < 10s
  acknowledge realtime
}

connection db     postgres { credentials secret db_credentials }
connection events kafka
connection cache  redis

source clicks from events {
  topic  "web.clicks"
  format json
  volume 100000/day peak 50/s

  columns {
    url        text      not null
    clicked_at timestamp not null event_time lateness 10s
  }
}

sink click_feed to events { sources clicks mode append }

expect clicks { not_null url }
"""),
    Probe("streaming_pii", frozenset({F.source, F.sink, F.expectation, F.cdc, F.pii}), """\
pipeline probe_streaming_pii {
  owner       "conformance"
  tier        critical
  latency     < 10s
  acknowledge realtime, pii
}

connection db     postgres { credentials secret db_credentials }
connection events kafka

source orders from db {
  table   public.orders
  capture cdc
  volume  50000/day peak 100/s

  columns {
    id         bigint         primary key
    email      text           pii(drop)
    amount     numeric(10, 2) not null
    created_at timestamp      not null event_time lateness 1m
  }
}

sink changes to events { sources orders }

expect orders { unique id }
"""),
    Probe("streaming_dedup_flink", frozenset({F.source, F.model, F.sink, F.expectation, F.topic, F.dedup}), """\
pipeline probe_dedup_flink {
  owner       "conformance"
  tier        critical
  latency     < 10s
  acknowledge realtime
}

connection events    kafka
connection warehouse snowflake

source clicks from events {
  topic  "web.clicks"
  format json
  volume 100000/day peak 20000/s

  columns {
    url        text      not null
    clicked_at timestamp not null event_time lateness 10s
  }
}

model stg_clicks from clicks {
  select url, clicked_at
}

sink click_table to warehouse { models stg_clicks mode append }

expect clicks { not_null url }
"""),
)


def probe(name: str) -> Probe:
    return next(p for p in PROBES if p.name == name)


@lru_cache(maxsize=None)
def compiled(name: str) -> Spec:
    """The probe's compiled IR (cached: probes never change within a run)."""
    from ..compiler import compile_text
    from ..diagnostics import render_text

    p = probe(name)
    result = compile_text(p.text, f"{p.name}.stream")
    if not result.ok or result.spec is None:
        raise AssertionError(f"streamc.testing probe '{name}' does not compile (a streamc bug):\n"
                             + render_text(result.diagnostics, result.sources))
    return result.spec


def probes_using(feature: str) -> list[Probe]:
    return [p for p in PROBES if feature in p.uses]
