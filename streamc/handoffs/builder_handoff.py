"""BUILDER_TO_STREAM_HANDOFF -> spec: an HTTP API source (auth, pagination, cursor) loaded into a warehouse."""

from __future__ import annotations

import re

from . import phrases as ph
from .draft import Draft
from .yaml_nodes import Node

TOP = {"api_integration": "source API, endpoints, data contract, sync requirements"}
API = {"source_api": "name, base_url, auth, rate_limit", "endpoints": "the endpoints to read",
       "data_contract": "the fields of a record", "sync_requirements": "frequency, initial load"}
SOURCE_API = {"name": "API name", "base_url": "the API's base URL", "auth": "oauth2 | api_key | basic | bearer",
              "rate_limit": "e.g. 100 requests/minute", "description": "description"}
ENDPOINT = {"path": "URL path", "method": "GET | POST", "pagination": "cursor | page | offset | none",
            "incremental_key": "the field records change by", "response_format": "json", "name": "record name",
            "primary_key": "the record key"}
CONTRACT = {"fields": "the fields of a record", "primary_key": "the record key"}
FIELD = {"name": "field name", "type": "string | integer | decimal | boolean | enum | iso8601 | ...",
         "values": "enum values", "required": "true when never null", "nullable": "false when never null",
         "description": "description", "pii": "hash | mask | drop | encrypt | keep"}
SYNC = {"frequency": "e.g. every 15 minutes", "initial_load": "e.g. last 90 days"}
AUTH = {"oauth2", "api_key", "basic", "bearer", "none"}
PAGINATION = {"cursor", "page", "offset", "none", "link"}
METHODS = {"GET", "POST"}


def convert(root: Node, source_name: str) -> Draft:
    root.close(TOP)
    a = root.require("api_integration", "source_api, endpoints, data_contract").mapping()
    a.close(API)
    api = a.require("source_api", "name, base_url, auth").mapping()
    api.close(SOURCE_API)
    api_name = ph.name(api.require("name", "the API name").text())
    auth = api.get("auth")
    auth_kind = auth.text().lower() if auth is not None else None
    if auth_kind is not None and auth_kind not in AUTH:
        auth.invalid(", ".join(sorted(AUTH)))
    limit = None
    if api.get("rate_limit") is not None:
        limit = ph.rate(api.get("rate_limit").text())
        if limit is None:
            api.get("rate_limit").invalid("a rate such as 100 requests/minute")
    endpoints = a.require("endpoints", "a list of {path, method, pagination, incremental_key}").items()
    if not endpoints:
        a.get("endpoints").invalid("at least one endpoint", value="[]")
    contract = a.require("data_contract", "fields: a list of {name, type}").mapping()
    contract.close(CONTRACT)
    fields_node = contract.require("fields", "a list of {name, type}")
    sync = a.get("sync_requirements")
    every = initial = None
    if sync is not None:
        sync.mapping().close(SYNC)
        if sync.get("frequency") is not None:
            every = ph.frequency(sync.get("frequency").text())
            if every is None:
                sync.get("frequency").invalid("a frequency such as every 15 minutes")
        if sync.get("initial_load") is not None:
            initial = ph.duration(sync.get("initial_load").text())
            if initial is None:
                sync.get("initial_load").invalid("a duration such as last 90 days")

    columns: list[tuple[str, str, list[str]]] = []
    for f in fields_node.items():
        f.mapping().close(FIELD)
        fname = ph.name(f.require("name", "the field name").text())
        tnode = f.require("type", "its type, e.g. string")
        parsed = ph.column_type(tnode.text())
        if parsed is None:
            tnode.invalid("a type such as string, integer, decimal, boolean, enum, iso8601")
        base, params = parsed
        cons: list[str] = []
        if base == "enum":
            values = f.require("values", "the enum's values").texts()
            if not values:
                f.get("values").invalid("at least one value", value="[]")
            ctype = "enum(" + ", ".join(ph.string(v) for v in values) + ")"
        else:
            ctype = ph.type_text(base, params)
        required = f.get("required") is not None and f.get("required").boolean()
        if required or (f.get("nullable") is not None and not f.get("nullable").boolean()):
            cons.append("not null")
        if f.get("pii") is not None:
            strategy = f.get("pii").text().lower()
            if strategy not in ("hash", "mask", "drop", "encrypt", "keep"):
                f.get("pii").invalid("hash, mask, drop, encrypt or keep")
            cons.append(f"pii({strategy})" if strategy != "keep" else 'pii(keep "stated in the API handoff")')
        if f.get("description") is not None:
            cons.append(f"description {ph.string(f.get('description').text())}")
        columns.append((fname, ctype, cons))
    if not columns:
        fields_node.invalid("at least one field", value="[]")
    names = [c[0] for c in columns]
    key_node = contract.get("primary_key")
    key = [ph.name(k) for k in key_node.texts()] if key_node is not None else []
    for k in key:
        if k not in names:
            key_node.invalid("fields of the data contract: " + ", ".join(names), value=k)
    key_note = None
    if not key:
        key = [next((n for n in names if n == "id" or n.endswith("_id")), names[0])]
        key_note = f"the handoff names no record key: {key[0]} (the first *_id field) assumed"

    latency = f"{_double(every)}" if every else "24h"
    schedule = f"every {every}" if every else "daily at 06:00 UTC"
    notes = ["tier: not in the handoff"]
    notes.append(f"latency: twice the sync frequency ({every}), so one late run is tolerated" if every else
                 "no sync frequency in the handoff: a daily load assumed")
    d = Draft(name=ph.name(f"{api_name}_sync"), origin=source_name, kind="BUILDER_TO_STREAM")
    d.pipeline(tier="standard", latency=latency, schedule=schedule, notes=notes)
    secret = f"{api_name}_{auth_kind or 'token'}"
    d.raw([f"connection {api_name} http {{ auth_token secret {secret} }}"])
    d.connection("warehouse", "duckdb", {"database": ph.string(api_name)},
                 note="the handoff names no warehouse: DuckDB stands in")
    base_url = api.get("base_url")
    if base_url is not None:
        d.env("prod", [f"{api_name}.base_url {ph.string(base_url.text())}"])
    model_names = []
    for e in endpoints:
        e.mapping().close(ENDPOINT)
        path = e.require("path", "the URL path, e.g. /transactions").text()
        method = (e.get("method").text() if e.get("method") else "GET").upper()
        if method not in METHODS:
            e.get("method").invalid("GET or POST")
        record = ph.name(e.get("name").text() if e.get("name") else path.strip("/").split("/")[-1] or api_name)
        cols = [(n, t, list(c)) for n, t, c in columns]
        props = [f"endpoint {method} {ph.string(path)}"]
        if auth_kind and auth_kind != "none":
            props.append(f"auth {auth_kind} secret {secret}")
        pagination = e.get("pagination")
        if pagination is not None:
            p = pagination.text().lower()
            if p not in PAGINATION:
                pagination.invalid(", ".join(sorted(PAGINATION)))
            if p != "none":
                props.append(f"pagination {p}")
        incr = e.get("incremental_key")
        if incr is not None:
            col = ph.name(incr.text())
            props.append(f"incremental {col}")
            if col not in names:
                cols.append((col, "timestamp", ["not null"]))
                props.append(f"# {col}: the incremental key, not a field of the data contract: a timestamp assumed")
        if limit:
            props.append(f"rate_limit {limit}")
        if every:
            props.append(f"every {every}")
        if initial:
            props.append(f"initial_load {initial}")
        fmt = e.get("response_format")
        if fmt is not None and fmt.text().lower() != "json":
            fmt.invalid("json (the format streamc reads from APIs)")
        cols = [(n, t, (["primary key"] + [x for x in c if x != "not null"]) if n in key and len(key) == 1 else c)
                for n, t, c in cols]
        if len(key) > 1:
            props.append(f"key {', '.join(key)}")
        if key_note:
            props.append(f"# {key_note}")
        d.source(record, api_name, props, cols)
        fct = f"fct_{record}"
        d.model(fct, record, [c[0] for c in cols], {"grain": ", ".join(key)})
        model_names.append(fct)
        d.expect(record, f"unique {', '.join(key)}", "the record key: each record once (rules §5)")
    d.sink("warehouse_models", "warehouse", models=model_names, extra=["mode merge"])
    return d


def _double(duration: str) -> str:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]+)", duration)
    if m is None:
        return duration
    value = float(m.group(1)) * 2
    return f"{int(value) if value.is_integer() else value}{m.group(2)}"
