"""Python source fragments for generated DAG files: literals, raw expressions and call arguments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from streamc.text_escape import one_line


@dataclass(frozen=True)
class Code:
    """A Python expression written as source text (an import name, a call, a constant)."""

    text: str


@dataclass(frozen=True)
class Arg:
    """One keyword argument of a generated call: `name=<code>`."""

    name: str
    code: str


def literal(value: object) -> str:
    """Python source for a value; strings with line breaks become triple-quoted blocks (black keeps them)."""
    if isinstance(value, Code):
        return value.text
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, timedelta):
        return duration(value.total_seconds())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


def string(text: str) -> str:
    """Exact Python source for `text`: a triple-quoted block when it spans lines, else a plain literal."""
    if "\n" in text and '"""' not in text and not text.endswith('"') and "\r" not in text:
        return '"""' + text.replace("\\", "\\\\") + '"""'
    return repr(text)


def duration(seconds: float) -> str:
    """`timedelta(...)` in the largest whole unit (days, hours, minutes, seconds)."""
    whole = int(seconds)
    if whole != seconds:
        return f"timedelta(seconds={seconds!r})"
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if whole and whole % size == 0:
            return f"timedelta({unit}={whole // size})"
    return f"timedelta(seconds={whole})"


def args(**kwargs: object) -> tuple[Arg, ...]:
    """Keyword arguments in the order given; None values are left out."""
    return tuple(Arg(k, literal(v)) for k, v in kwargs.items() if v is not None)


def identifier(text: str) -> str:
    """A safe Python identifier from a task id or node name."""
    out = "".join(c if c.isalnum() else "_" for c in text)
    return out if out and not out[0].isdigit() else f"t_{out}"


STDLIB = {"datetime", "hashlib", "logging", "time", "json", "os", "re"}


def import_block(lines: set[str] | tuple[str, ...]) -> str:
    """Import lines merged per module and grouped as isort would: standard library, then third party."""
    plain: dict[str, set[str]] = {}
    names: dict[str, set[str]] = {}
    for line in lines:
        if line.startswith("from "):
            module, _, imported = line[5:].partition(" import ")
            names.setdefault(module, set()).update(n.strip() for n in imported.split(","))
        else:
            module = line[7:].strip()
            plain.setdefault(module, set())
    groups = []
    for stdlib in (True, False):
        block = [f"import {m}" for m in sorted(plain) if (m.split(".")[0] in STDLIB) == stdlib]
        block += [f"from {m} import {', '.join(sorted(names[m]))}" for m in sorted(names)
                  if (m.split(".")[0] in STDLIB) == stdlib]
        if block:
            groups.append("\n".join(block))
    return "\n\n".join(groups)


def comment_lines(text: str, width: int = 108) -> list[str]:
    """A comment wrapped to fit the 120-column layout at the indentation tasks have; spec text in it never
    breaks the line it stands on (`# ...` stays a comment whatever the text holds)."""
    import textwrap

    return textwrap.wrap(one_line(text), width=width, break_on_hyphens=False) or [""]
