"""How a Flink source table reads a CDC change topic written in the wire contract of streamc.cdc_wire."""

from __future__ import annotations

from dataclasses import dataclass

from streamc import cdc_wire
from streamc.ir import ColumnType

from .dialect import ident
from .schema import FType

# Wire forms Flink 2.3's `debezium-json` (timestamp-format ISO-8601) parses straight into the column's Flink type:
# numbers, booleans, decimal strings into DECIMAL, `...Z` instants into TIMESTAMP_LTZ(3), base64 into BYTES.
NATIVE = frozenset({"integer", "float", "boolean", "decimal", "timestamptz", "text", "json", "bytes"})
# Wire forms it rejects ("unparsed text found" at the `Z`): read as STRING and converted in a computed column.
# String to date-time casts are independent of the session time zone, so the value stays the one stored.
CONVERSIONS = {
    "date": "CAST(REPLACE({c}, 'Z', '') AS {t})",
    "timestamp": "CAST(REPLACE(REPLACE({c}, 'T', ' '), 'Z', '') AS {t})",
    "time": "CAST(REPLACE({c}, 'Z', '') AS {t})",
}
assert NATIVE | set(CONVERSIONS) == set(cdc_wire.FORMS) and not NATIVE & set(CONVERSIONS)
TYPED_SUFFIX = "__typed"  # the computed column holding a converted value
TABLE_SUFFIX = "__changes"  # the table of the wire columns, when a view renames the computed ones back


@dataclass(frozen=True)
class WireColumn:
    """One column of a CDC source table: its wire (physical) type and, if converted, its computed column."""

    name: str
    ftype: FType  # the contract's Flink type (what the models see)
    physical: str  # SQL type of the column as the JSON carries it
    conversion: str | None  # SQL of the computed column giving `ftype`, or None when read natively

    @property
    def typed(self) -> str:
        """The column holding the value in the contract's type."""
        return self.name + TYPED_SUFFIX if self.conversion else self.name


def wire_column(name: str, column_type: ColumnType, ftype: FType) -> WireColumn:
    form = cdc_wire.form_of(column_type).name
    if form in NATIVE:
        return WireColumn(name, ftype, ftype.sql, None)
    return WireColumn(name, ftype, "STRING", CONVERSIONS[form].format(c=ident(name), t=ftype.sql))
