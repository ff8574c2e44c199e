"""The wire contract of CDC change topics: the Debezium settings that fix it and each column type's form on the wire."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal

from streamc.ir import ColumnType

# The Debezium backend writes exactly these settings; every reader of a change topic (the Flink backend's
# source tables, the tests' inputs) reads what they produce. Observed on Debezium 3.6.3 (PostgreSQL, pgoutput).
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
# (key, value, why)
VALUE_SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("decimal.handling.mode", "string", "wire contract: decimals as exact strings"),
    ("time.precision.mode", "isostring", "wire contract: temporal values as ISO-8601 strings (UTC)"),
)
CONVERTER_SETTINGS: tuple[tuple[str, str, str], ...] = tuple(
    item for side in ("key", "value") for item in (
        (f"{side}.converter", JSON_CONVERTER, "wire contract: JSON"),
        (f"{side}.converter.schemas.enable", "false", "wire contract: no schema envelope")))
# The envelope a changelog reader (Flink's `debezium-json` format) needs: before / after / op, not unwrapped.
CHANGELOG_ENVELOPE = "debezium"


@dataclass(frozen=True)
class WireForm:
    """How the values of one family of column types look in a change event."""

    name: str
    json_type: str  # number | string | boolean
    example: str  # as written in the JSON
    describe: str
    pattern: str  # every non-null value matches it (strings: their text; others: their JSON text)


_FRACTION = r"(\.\d{1,9})?"
FORMS: dict[str, WireForm] = {f.name: f for f in (
    WireForm("integer", "number", "42", "JSON number", r"-?\d+"),
    WireForm("float", "number", "1.5", "JSON number", r"-?\d+(\.\d+)?([eE][+-]?\d+)?"),
    WireForm("boolean", "boolean", "true", "JSON true / false", r"true|false"),
    WireForm("decimal", "string", '"12.30"', "exact decimal string, the column's scale kept "
             "(`decimal.handling.mode=string`)", r"-?\d+(\.\d+)?"),
    WireForm("date", "string", '"2024-01-02Z"', "ISO-8601 date with a `Z` suffix", r"\d{4}-\d{2}-\d{2}Z"),
    WireForm("timestamp", "string", '"2024-01-02T03:04:05.123Z"',
             "the value as stored (not shifted to UTC) in ISO-8601 with a `Z` suffix, fraction digits trimmed "
             "(`...05Z`, `...05.1Z`, `...05.123456Z`)", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}" + _FRACTION + "Z"),
    WireForm("timestamptz", "string", '"2024-01-02T01:04:05.500000Z"',
             "the instant in UTC, ISO-8601 with `Z`; as many fraction digits as the column's precision "
             "(none for precision 0)", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}" + _FRACTION + "Z"),
    WireForm("time", "string", '"03:04:05.25Z"', "ISO-8601 time with a `Z` suffix, fraction digits trimmed",
             r"\d{2}:\d{2}:\d{2}" + _FRACTION + "Z"),
    WireForm("text", "string", '"abc"', "JSON string (char columns blank-padded to their length)", r"(?s).*"),
    WireForm("json", "string", '"{\\"a\\": 1}"', "the JSON document as text in a JSON string", r"(?s).*"),
    WireForm("bytes", "string", '"AP8Q"', "base64 string", r"[A-Za-z0-9+/]*={0,2}"),
)}
_FORM_OF = {"bigint": "integer", "integer": "integer", "smallint": "integer", "double": "float", "real": "float",
            "boolean": "boolean", "numeric": "decimal", "date": "date", "timestamp": "timestamp",
            "timestamptz": "timestamptz", "time": "time", "json": "json", "bytes": "bytes"}


def form_of(t: ColumnType) -> WireForm:
    """The wire form of a spec column type (text, varchar, char, enum, uuid: `text`)."""
    return FORMS[_FORM_OF.get(t.name, "text")]


def matches(t: ColumnType, value: object) -> bool:
    """Whether a value decoded from a change event's JSON has the contract's form for the column type."""
    if value is None:
        return True
    form = form_of(t)
    if form.json_type == "string":
        return isinstance(value, str) and re.fullmatch(form.pattern, value) is not None
    if form.json_type == "boolean":
        return isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        re.fullmatch(form.pattern, json.dumps(value)) is not None


def _fraction(micros: int, trim: bool) -> str:
    text = f"{micros:06d}"
    text = text.rstrip("0") if trim else text
    return f".{text}" if text else ""


def encode(t: ColumnType, value: object) -> object:
    """A Python value as Debezium writes it for the column type (JSON-ready), e.g. for test inputs.
    timestamptz: an aware datetime (converted to UTC; six fraction digits, as a precision-6 column)."""
    if value is None:
        return None
    form = form_of(t).name
    if form == "decimal":
        number = Decimal(str(value))
        if len(t.params) == 2:  # the column's scale is kept: numeric(12,2) 12.3 -> "12.30"
            number = number.quantize(Decimal(1).scaleb(-t.params[1]))
        return str(number)
    if form == "date":
        assert isinstance(value, date) and not isinstance(value, datetime)
        return value.isoformat() + "Z"
    if form == "timestamp":
        assert isinstance(value, datetime) and value.tzinfo is None
        return value.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(value.microsecond, trim=True) + "Z"
    if form == "timestamptz":
        assert isinstance(value, datetime) and value.tzinfo is not None
        utc = value.astimezone(timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(utc.microsecond, trim=False) + "Z"
    if form == "time":
        assert isinstance(value, time)
        return value.strftime("%H:%M:%S") + _fraction(value.microsecond, trim=True) + "Z"
    if form == "bytes":
        return base64.b64encode(value).decode("ascii")
    if form == "json":
        return value if isinstance(value, str) else json.dumps(value)
    return value


def settings_line() -> str:
    settings = ", ".join(f"`{k}={v}`" for k, v, _ in VALUE_SETTINGS)
    return f"JSON without a schema envelope (key and value: `JsonConverter`, `schemas.enable=false`); {settings}."


def form_lines(type_names: list[str] | None = None) -> list[str]:
    """One README line per wire form: the spec types carrying it (all, or those of `type_names`) and an example."""
    families = ["bigint", "integer", "smallint", "double", "real", "boolean", "numeric", "date", "timestamp",
                "timestamptz", "time", "text", "varchar", "char", "enum", "uuid", "json", "bytes"]
    wanted = families if type_names is None else [n for n in families if n in set(type_names)]
    by_form: dict[str, list[str]] = {}
    for n in wanted:
        by_form.setdefault(_FORM_OF.get(n, "text"), []).append(n)
    return [f"{', '.join(by_form[name])}: {form.describe}, e.g. `{form.example}`"
            for name, form in FORMS.items() if name in by_form]
