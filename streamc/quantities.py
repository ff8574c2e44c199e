"""Parsing of typed quantities written in specs: durations (5m), rates (100/s), sizes (1KB), percents (1%)."""

from __future__ import annotations

import math
import re

from .ir import Duration, Percent, Rate, Size

DURATION_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400,
                  "day": 86400, "w": 604800, "week": 604800, "y": 365 * 86400, "year": 365 * 86400}
RATE_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "PB": 1024**5}

_SHAPE = re.compile(r"^(-?[0-9]+(?:\.[0-9]+)?)([A-Za-z]+|%)?(?:/([A-Za-z]+))?$")


class QuantityError(ValueError):
    """`code`: E113 for a quantity of the wrong kind, E160 for a number too large to represent."""

    def __init__(self, expected: str, hint: str, code: str = "E113"):
        super().__init__(expected)
        self.expected = expected
        self.hint = hint
        self.code = code


# The largest number a spec may write (a bigint, or a numeric(38) bound, fits): products of a few such quantities
# (volume x size x retention, in milliseconds) stay finite, so no pass or backend meets an infinity.
MAX_MAGNITUDE = 1e38


def _finite(value: float) -> float:
    """Numbers beyond MAX_MAGNITUDE (and so beyond the float range) are errors, never infinity in the IR."""
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise QuantityError("a number of a sensible size", "write a smaller number, e.g. 3y, 1TB or 1000000/s",
                            code="E160")
    return value


def _split(text: str) -> tuple[float, str | None, str | None]:
    m = _SHAPE.match(text)
    if not m:  # the lexer only produces matching tokens; kept for direct callers
        raise QuantityError("a quantity", "write a number with a unit, e.g. 5m, 100/s, 1KB")
    return _finite(float(m.group(1))), m.group(2), m.group(3)


def shorten(text: str, keep: int = 24) -> str:
    """A long token as it is shown in a message: its start and its length."""
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text)} characters)"


def parse_duration(text: str) -> Duration:
    n, unit, per = _split(text)
    if per is not None or unit is None or unit not in DURATION_UNITS:
        raise QuantityError("a duration", f"write a number and one of {', '.join(sorted(DURATION_UNITS))}, e.g. 5m")
    if n < 0:
        raise QuantityError("a non-negative duration", "durations cannot be negative")
    return Duration(seconds=n * DURATION_UNITS[unit], text=text)


def parse_rate(text: str) -> Rate:
    n, unit, per = _split(text)
    if per is None or unit is not None or per not in RATE_UNITS:
        raise QuantityError("a rate", "write count/unit, e.g. 100/s, 50000/day, 100/min")
    if n < 0:
        raise QuantityError("a non-negative rate", "rates cannot be negative")
    return Rate(per_second=n / RATE_UNITS[per], text=text)


def parse_size(text: str) -> Size:
    n, unit, per = _split(text)
    if per is not None or unit is None or unit.upper() not in SIZE_UNITS:
        raise QuantityError("a size", "write a number and B, KB, MB, GB, TB or PB, e.g. 1KB")
    return Size(bytes=int(n * SIZE_UNITS[unit.upper()]), text=text)


def parse_percent(text: str) -> Percent:
    n, unit, per = _split(text)
    if unit != "%" or per is not None:
        raise QuantityError("a percentage", "write a percentage, e.g. 1% or 0.5%")
    return Percent(value=n, text=text)


def parse_number(text: str) -> float:
    n, unit, per = _split(text)
    if unit is not None or per is not None:
        raise QuantityError("a plain number", "write a number without a unit")
    return n


def format_duration(seconds: float) -> str:
    """Shortest exact spelling of a duration: 300 -> '5m', 86400 -> '1d'."""
    for unit, factor in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= factor and seconds % factor == 0:
            return f"{int(seconds // factor)}{unit}"
    if seconds < 1:
        return f"{int(round(seconds * 1000))}ms"
    return f"{seconds:g}s"
