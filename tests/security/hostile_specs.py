"""Hostile text for the injection tests: payloads, carrier specs with a slot for every kind of user text, and the
value each slot holds once compiled (so an emitted file can be compared with the same spec built from benign text)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp

MARKER = "PWN"  # every payload starts with it, so a test can tell which text came from the spec

# Each payload mixes the characters of one family of hazards; ALL mixes every family in one string.
PAYLOADS: dict[str, str] = {
    "quotes": "PWN 'single' \"double\" `back` ``` \\ \\\\ \\' \\\" '' \"\" end\\",
    "newlines": "PWN line one\nimport os; os.system('pwned')\n# hash\n-- dash\r  - yaml: item\r\nkey: value\n\nend",
    "triple": "PWN \"\"\" ''' \"\"\"''' \"\"'' trailing \"",
    "jinja": "PWN {{ pwned_var }} {% pwned_tag %} {# pwned comment #} {{ '{{' }} {%- raw %}x{% endraw -%}",
    "comments": "PWN -- dash /* open close */ */ /* # hash <!-- html --> // slash ; drop table x; --",
    "shell": "PWN $(touch pwned) `touch pwned` ${PWNED} $PWNED ${env:PWNED} ${file:/etc/passwd:x} %s %(x)s {0} {x}"
             " && rm -rf / | tee ; exit 1",
    "unicode": "PWN Cyrill\u0438c \u0430 fullwidth \uff53\uff45\uff4c\uff45\uff43\uff54 zwj a\u200db zwsp\u200b"
               " nbsp\u00a0 lsep\u2028psep\u2029 bom\ufeff nel\u0085 tab\t emoji \U0001f642 na\u00efve",
    "mermaid": "PWN ] ) } | \" ; %% %%{init: {}}%% <script>alert(1)</script> --> B[x] ((y)) A---oB :::cls"
               " @{ shape: rect } #quot; &amp; &lt; click n call f() end subgraph direction LR",
    "yaml": "PWN: value - item ! & * ? | > @ --- ... !!python/object/apply:os.system ['x'] {a: b} [c] #c &a *a",
    "placeholders": "PWN __streamc_ref_0__ __streamc_ref_1__ {batch} {date} {partition_start} {raw:shop_db}"
                    " %(ds)s {{ ds }}",
    "dbt_call": "env_var('PWN_SECRET', 'x')",  # a dbt test argument that looks like a call is evaluated
}
PAYLOADS["all"] = MARKER + " " + " ".join(p.removeprefix(MARKER + " ") for p in PAYLOADS.values())
# Soda reads `${namespace.name}` in any contract value and has no escape: the quality backend refuses such text
# (E120), so it is kept out of "all", whose point is that every backend emits it
PAYLOADS["soda_variable"] = "PWN ${var.PWNED} ${env.HOME} ${ soda.NOW }"

# The same spec built with this text in every slot is the reference an emitted file is compared with.
BENIGN = "PWN benign"

# Slots ------------------------------------------------------------------------------------------------------------
# A carrier spec marks each slot `@KIND@`; KIND says how the payload is written there and what the compiled IR holds.


def string_literal(value: str) -> str:
    """A .stream "string" holding `value` (a tab may stand in a string; a newline must be escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def sql_line_value(value: str) -> str:
    """What a one-line SQL string literal can hold: SQL_LINE stops at a newline, `#`, braces and a final comma."""
    return re.sub(r"[{}#,\n\r]", " ", value)


def sql_paren_value(value: str) -> str:
    """What a `check (...)` SQL string literal can hold: no newline."""
    return re.sub(r"[\n\r]", " ", value)


def sql_block_value(value: str) -> str:
    """What a string literal inside a triple-quoted SQL block can hold: no closing triple quote."""
    return value.replace('"""', '" "')


def sql_quote(value: str) -> str:
    return value.replace("'", "''")


def as_read(value: str) -> str:
    """The compiler reads CR and CRLF as LF (streamc.compiler.normalize_newlines): what any slot can hold."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def file_path_value(value: str) -> str:
    """A file path: `{name}` is a placeholder there (backends reject unknown ones), so those become `(name)`."""
    return re.sub(r"\{(\w*)\}", r"(\1)", value)


@dataclass(frozen=True)
class Slot:
    """How a payload is written in one kind of slot (`write`) and the text the compiled spec holds (`value`)."""

    kind: str
    hold: callable  # payload -> the text the compiled spec holds
    quote: callable  # held text -> the spec text written in the slot

    def value(self, payload: str) -> str:
        return self.hold(as_read(payload))

    def write(self, payload: str) -> str:
        return self.quote(self.value(payload))


SLOTS = {
    "P": Slot("P", lambda p: p, string_literal),
    "R": Slot("R", re.escape, string_literal),
    "F": Slot("F", file_path_value, lambda v: "raw/{date}/" + string_literal(v)),
    "L": Slot("L", sql_line_value, sql_quote),
    "K": Slot("K", sql_paren_value, sql_quote),
    "B": Slot("B", sql_block_value, sql_quote),
}


@dataclass(frozen=True)
class Carrier:
    """A valid spec with slots; `name` is also its pipeline name."""

    name: str
    template: str

    def render(self, payload: str) -> str:
        return re.sub(r"@([A-Z])@", lambda m: SLOTS[m.group(1)].write(payload), self.template)

    def kinds(self) -> set[str]:
        return set(re.findall(r"@([A-Z])@", self.template))


BATCH = Carrier("hostile_batch", '''\
pipeline hostile_batch {
  owner       "@P@"
  domain      shop
  tier        important
  latency     < 24h
  schedule    daily at 05:00 UTC
  acknowledge pii
  description "@P@"
}

connection shop_db postgres { database "@P@" credentials secret shop_db_credentials }
connection dwh     postgres as warehouse { database "@P@" credentials secret dwh_credentials }

env dev  { dwh.schema "@P@" }
env prod { dwh.schema "marts" }

source customers from shop_db {
  table       public.customers
  capture     incremental(updated_at)
  volume      5000/day
  description "@P@"
  columns {
    id         bigint    primary key description "@P@"
    email      text      not null pii(hash)
    phone      text      pii(keep "@P@")
    kind       enum("@P@", "other")
    status     text      in ("@P@", "active") check (status <> '@K@')
    created_at timestamp not null
    updated_at timestamp not null
  }
}

model stg_customers from customers {
  select id as customer_id, email, kind, coalesce(status, '@L@') as status, created_at, updated_at
  where status <> '@L@'
  description "@P@"
}

model dim_customers {
  grain       customer_id
  history     scd2 by updated_at
  description "@P@"
  sql """
    select customer_id, email, status, '@B@' as note, created_at, updated_at
    from stg_customers
    where kind <> '@B@'
  """
}

sink marts to dwh { models dim_customers }

expect customers { freshness 26h by updated_at }

expect dim_customers {
  not_null        customer_id
  accepted_values status in ("@P@", "active")
  regex           email "@R@"
  sql hostile_check """
    select * from dim_customers where note = '@B@'
  """
}
''')

STREAMING = Carrier("hostile_stream", '''\
pipeline hostile_stream {
  owner       "@P@"
  domain      shop
  tier        critical
  latency     < 1m
  schedule    daily at 06:00 UTC
  acknowledge realtime, pii
  description "@P@"
}

connection shop_db   postgres { database "@P@" credentials secret shop_db_credentials }
connection warehouse snowflake { database "@P@" }
connection events    kafka
connection cache     redis

env dev  { kafka.replication 1 warehouse.schema "@P@" }
env prod { kafka.replication 3 warehouse.schema "analytics" }

source orders from shop_db {
  table       public.orders
  capture     cdc
  volume      50000/day peak 100/s avg_size 1KB
  description "@P@"
  columns {
    id           bigint         primary key description "@P@"
    store_id     bigint         not null
    email        text           pii(hash)
    total_amount numeric(10, 2) not null check (total_amount >= 0 and '@K@' <> '')
    status       text           in ("@P@", "completed")
    created_at   timestamp      not null event_time lateness 1m
  }
}

source clicks from events {
  topic       "@P@"
  format      json
  volume      1000/day peak 10/s
  key         id
  description "@P@"
  columns {
    id         string    not null
    page       text      not null description "@P@"
    clicked_at timestamp not null event_time lateness 30s
  }
}

model stg_orders from orders {
  select id as order_id, store_id, total_amount, status, '@L@' as note, created_at
  where status <> '@L@'
  description "@P@"
}

model fct_orders {
  grain       order_id
  description "@P@"
  sql """
    select order_id, store_id, total_amount, status, note, created_at
    from stg_orders
    where note <> '@B@'
  """
}

metric revenue_per_minute from stg_orders {
  measure     sum(total_amount) as revenue, count(*) as orders
  by          store_id
  window      tumbling 1m
  where       status <> '@L@'
  description "@P@"
}

metric clicks_per_page from clicks {
  measure     count(*) as clicks
  by          page
  window      tumbling 1m
  where       page <> '@L@'
  description "@P@"
}

sink marts        to warehouse { models fct_orders description "@P@" }
sink live_revenue to cache     { metrics revenue_per_minute ttl 1h description "@P@" }
sink page_stats   to events    { metrics clicks_per_page }
sink order_events to events    { sources orders consumer analytics for order_metrics }

expect orders {
  freshness       5m by created_at
  accepted_values status in ("@P@", "completed")
}

expect fct_orders {
  unique order_id
  regex  status "@R@"
}
''')

API = Carrier("hostile_api", '''\
pipeline hostile_api {
  owner       "@P@"
  domain      payments
  tier        important
  latency     < 30m
  schedule    every 15m
  acknowledge pii
  description "@P@"
}

connection payments_api http { auth_token secret payments_oauth }
connection finance_dw   duckdb { database "@P@" }

env dev  { payments_api.base_url "@P@" }
env prod { payments_api.base_url "https://api.payments.example.com" }

source transactions from payments_api {
  endpoint     GET "@P@"
  auth         oauth2 secret payments_oauth
  pagination   cursor
  incremental  updated_at
  rate_limit   100/min
  every        15m
  initial_load 90d
  volume       30000/day
  description  "@P@"

  columns {
    transaction_id string    primary key description "@P@"
    amount         decimal   not null
    currency       string    not null in ("@P@", "EUR")
    customer_email string    pii(encrypt)
    created_at     timestamp not null
    updated_at     timestamp not null
  }
}

model fct_transactions {
  grain        transaction_id
  materialized incremental
  description  "@P@"
  sql """
    select transaction_id, amount, currency, created_at, updated_at,
           case when currency is not null and '@B@' <> '' then amount else 0 end as flagged_amount
    from transactions
  """
}

sink finance to finance_dw { models fct_transactions mode merge description "@P@" }

expect transactions { freshness 30m by updated_at }

expect fct_transactions {
  unique          transaction_id
  accepted_values currency in ("@P@", "EUR")
  sql flagged """
    select * from fct_transactions where currency = '@B@' and flagged_amount < 0
  """
}
''')

FILES = Carrier("hostile_files", '''\
pipeline hostile_files {
  owner       "@P@"
  domain      partners
  tier        standard
  latency     < 6h
  schedule    daily at 06:00 UTC
  description "@P@"
}

connection lake     s3 { bucket "@P@" }
connection bigquery bigquery { project "@P@" dataset "partners" }

env dev  { bigquery.dataset "@P@" }
env prod { bigquery.dataset "partners" }

source raw_orders from lake {
  path        "@F@"
  format      parquet
  arrives     daily by 06:00 UTC
  timeout     1h
  volume      200000/day
  key         order_id
  description "@P@"

  columns {
    order_id   string  not null description "@P@"
    partner_id string  not null
    sku        string  not null in ("@P@", "x")
    quantity   integer not null check (quantity > 0 or sku = '@K@')
    order_date date    not null
  }
}

model fct_partner_orders_daily {
  grain       order_date, partner_id
  partition   by day(order_date)
  description "@P@"
  sql """
    select order_date, partner_id, count(*) as order_lines, max(sku) as last_sku
    from raw_orders
    where sku <> '@B@'
    group by order_date, partner_id
  """
}

sink partner_marts to bigquery {
  models      fct_partner_orders_daily
  partition   by day(order_date)
  mode        overwrite_partition
  description "@P@"
}

expect raw_orders { not_null order_id, partner_id }

expect fct_partner_orders_daily {
  not_null order_date, partner_id
  regex    last_sku "@R@"
}
''')

CARRIERS = (BATCH, STREAMING, API, FILES)


# Comparing with the benign build ----------------------------------------------------------------------------------

SQL_DIALECTS = ("postgres", "snowflake", "bigquery", "duckdb", "mysql", "tsql")


def flatten(text: str) -> str:
    """Whitespace runs as one space: backends may put text on one line or wrap it; that is not an injection."""
    return re.sub(r"\s+", " ", text)


@lru_cache(maxsize=None)
def substitutions(payload: str) -> tuple[tuple[str, str], ...]:
    """(hostile text, benign text) pairs, longest first, whitespace flattened: applying them maps a hostile build's
    flattened values onto the benign build's. Built per slot kind, so each pair is one transformation of both texts."""
    pairs: dict[str, str] = {}
    for slot in SLOTS.values():
        hostile, benign = slot.value(payload), slot.value(BENIGN)
        for make in _FORM_MAKERS:
            h, b = flatten(make(hostile)), flatten(make(benign))
            if h and h not in pairs:
                pairs[h] = b
        pairs.setdefault(flatten(repr(hostile)), flatten(repr(benign)))  # an item of a Python list shown as text
    return tuple(sorted(pairs.items(), key=lambda kv: -len(kv[0])))


_FORM_MAKERS = [
    lambda v: v,
    sql_quote,
    lambda v: json.dumps(v)[1:-1],
    lambda v: json.dumps(v, ensure_ascii=False)[1:-1],
    lambda v: repr(v)[1:-1],
    lambda v: re.sub(r"[^a-z0-9]+", "-", v.lower()).strip("-"),  # a slug (channel names, ids)
    *[(lambda d: (lambda v: exp.Literal.string(v).sql(dialect=d)[1:-1]))(d) for d in SQL_DIALECTS],
]


def to_benign(text: str, payload: str) -> str:
    """`text` flattened, with every form of the payload replaced by the same form of the benign text."""
    text = flatten(text)
    if MARKER not in text and MARKER.lower() not in text:  # every form of every payload keeps the marker
        return text
    for hostile, benign in substitutions(payload):
        if hostile in text:
            text = text.replace(hostile, benign)
    # which quotes surround the text depends on the text (Python's repr, a hand-made `"..."`): not the point here
    return re.sub(r"""(['"])(%s)\1""" % re.escape(BENIGN), r"«\2»", text)
