"""docs/limits.md states every limit with the value of its constant, and every constant is in its table."""

from __future__ import annotations

import importlib
import re

from conftest import ROOT
from streamc import limits

DOC = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
# | what | value | `module.CONSTANT` | beyond it |
ROW = re.compile(r"^\| [^|]+ \| ([^|]+) \| `(\w+)\.([A-Z_]+)` \| [^|]+ \|$", re.M)


def documented() -> dict[tuple[str, str], str]:
    return {(module, name): value.strip() for value, module, name in ROW.findall(DOC)}


def stated_value(text: str, name: str) -> float:
    """'16 MB' (of a *_BYTES constant: bytes), '1,024 MB' (of a *_MB constant), '10,000', '10^38'."""
    if "^" in text:
        base, exponent = text.split("^")
        return float(base) ** float(exponent)
    number = float(text.removesuffix(" MB").replace(",", ""))
    return number * 1024 * 1024 if name.endswith("_BYTES") else number


def test_the_doc_has_a_table_of_limits():
    assert len(documented()) >= 10


def test_every_documented_value_is_the_constant_in_the_code():
    for (module, name), text in documented().items():
        value = getattr(importlib.import_module(f"streamc.{module}"), name)
        assert stated_value(text, name) == value, f"docs/limits.md says {name} is {text}; the code has {value}"


def test_every_limit_constant_is_documented():
    constants = {n for n in vars(limits) if re.fullmatch(r"(MAX|LIMIT)_[A-Z_]+", n)}
    assert constants <= {name for module, name in documented() if module == "limits"}
