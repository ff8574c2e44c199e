"""Parsing the free-text values handoffs use: rates, durations, frequencies, quality requirements, types."""

from __future__ import annotations

import json
import re

from ..lower import TYPE_ALIASES

UNIT_WORDS = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "w", "week": "w", "weeks": "w",
    "y": "y", "yr": "y", "yrs": "y", "year": "y", "years": "y",
    "month": "mo", "months": "mo",
}
RATE_UNITS = {"s": "s", "m": "min", "h": "h", "d": "day"}


def name(text: str) -> str:
    """A spec NAME from handoff text: snake_case letters, digits and underscores."""
    out = re.sub(r"[^A-Za-z0-9_]+", "_", text.strip()).strip("_").lower()
    if not out:
        return "unnamed"
    return f"n_{out}" if out[0].isdigit() else out


def string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def duration(text: str) -> str | None:
    """`3 years` -> `3y`, `last 90 days` -> `90d`, `15m` -> `15m`, `daily` -> `1d`; None when not a duration."""
    t = text.strip().lower()
    t = re.sub(r"^(last|every|within|after|<|<=|under|less than)\s+", "", t)
    words = {"daily": "1d", "hourly": "1h", "weekly": "7d", "yearly": "1y", "annually": "1y"}
    if t in words:
        return words[t]
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]+)", t)
    if m is None:
        m2 = re.fullmatch(r"(a|an|one)\s+([a-z]+)", t)
        if m2 is None:
            return None
        m = re.fullmatch(r"(\d+)\s*([a-z]+)", f"1 {m2.group(2)}")
    value, unit = m.group(1), UNIT_WORDS.get(m.group(2))
    if unit is None:
        return None
    if unit == "mo":  # months have no fixed length: 30 days each
        return f"{int(float(value) * 30)}d"
    if unit == "w":
        return f"{int(float(value) * 7)}d"
    return f"{value}{unit}"


def rate(text: str) -> str | None:
    """`100 rows/second` -> `100/s`, `100 requests/minute` -> `100/min`, `50000` (per day) -> `50000/day`."""
    t = text.strip().lower().replace(",", "").replace("_", "")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(?:[a-z]+\s*)?(?:/|per\s+)\s*([a-z]+)", t)
    if m is None:
        return None
    unit = UNIT_WORDS.get(m.group(2))
    if unit is None or unit not in RATE_UNITS:
        return None
    value = m.group(1)
    return f"{value.rstrip('0').rstrip('.') if '.' in value else value}/{RATE_UNITS[unit]}"


def frequency(text: str) -> str | None:
    """`every 15 minutes` -> `15m`; `once daily` -> `1d`; `hourly` -> `1h`."""
    t = text.strip().lower()
    t = re.sub(r"^(once|run)\s+", "", t)
    return duration(t)


def column_type(text: str) -> tuple[str, tuple[str, ...]] | None:
    """`numeric(10,2)` -> (`numeric`, (`10`, `2`)); None when the type is not one the language knows."""
    m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*(?:\(\s*([^)]*)\))?\s*", text)
    if m is None:
        return None
    base = m.group(1).lower().replace(" ", "_")
    base = {"double_precision": "double", "character_varying": "varchar", "timestamp_with_time_zone": "timestamptz",
            "timestamp_without_time_zone": "timestamp"}.get(base, base)
    if base not in TYPE_ALIASES:
        return None
    params = tuple(p.strip() for p in m.group(2).split(",")) if m.group(2) else ()
    if any(not re.fullmatch(r"\d+", p) for p in params):
        return None
    return base, params


def type_text(base: str, params: tuple[str, ...]) -> str:
    return f"{base}({', '.join(params)})" if params else base


# quality requirements written as short sentences
_REQUIREMENTS = [
    (re.compile(r"(?:no|without)\s+duplicates?\s+(?:of\s+|in\s+)?(\w+)", re.I), "unique"),
    (re.compile(r"(\w+)\s+(?:is\s+|must\s+be\s+|are\s+)?unique", re.I), "unique"),
    (re.compile(r"(\w+)\s+(?:is\s+|must\s+be\s+|are\s+|should\s+be\s+)?not\s+null", re.I), "not_null"),
    (re.compile(r"(?:no\s+nulls?\s+in|non-null)\s+(\w+)", re.I), "not_null"),
    (re.compile(r"(\w+)\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)", re.I), "compare"),
    (re.compile(r"(\w+)\s+between\s+(-?\d+(?:\.\d+)?)\s+and\s+(-?\d+(?:\.\d+)?)", re.I), "between"),
]

REQUIREMENT_FORMS = ("no duplicate COL", "COL unique", "COL not null", "COL >= N (or >, <=, <)",
                     "COL between N and M")


def requirement(text: str) -> tuple[str, tuple[str, ...]] | None:
    """A quality requirement sentence -> (kind, arguments); None when it matches no known form."""
    t = text.strip()
    for pattern, kind in _REQUIREMENTS:
        m = pattern.fullmatch(t)
        if m is not None:
            return kind, tuple(g for g in m.groups())
    return None
