"""A small deterministic YAML writer for the dbt project files (block style, insertion order, safe quoting)."""

from __future__ import annotations

import json
import re

from .jinja_text import Template, escape_text

PLAIN = re.compile(r"^[A-Za-z_+][A-Za-z0-9_./+-]*( [A-Za-z0-9_./+()'-]+)*$")
RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def scalar(value: object) -> str:
    """A YAML scalar; text that is not a streamc Template is escaped, since dbt renders string values with Jinja."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value) if isinstance(value, Template) else escape_text(str(value))
    if PLAIN.match(text) and text.lower() not in RESERVED and not text.endswith(":"):
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def _flow(value: object) -> str | None:
    """Short lists of scalars stay on one line: `[a, b]`."""
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        text = "[" + ", ".join(scalar(v) for v in value) + "]"
        return text if len(text) <= 80 else None
    return None


def _lines(value: object, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, v in value.items():
            k = scalar(key)
            if isinstance(v, (dict, list)) and v:
                flow = _flow(v)
                if flow is not None:
                    out.append(f"{pad}{k}: {flow}")
                else:
                    out.append(f"{pad}{k}:")
                    out += _lines(v, indent + 2)
            elif isinstance(v, (dict, list)):
                out.append(f"{pad}{k}: {'{}' if isinstance(v, dict) else '[]'}")
            else:
                out.append(f"{pad}{k}: {scalar(v)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = _lines(item, indent + 2)
                out.append(f"{pad}- {inner[0].lstrip()}")
                out += inner[1:]
            else:
                out.append(f"{pad}- {scalar(item)}")
    else:
        out.append(pad + scalar(value))
    return out


def dump(value: object, header: str = "") -> str:
    """YAML text for nested dicts/lists of str/int/float/bool/None; `header` lines become comments on top."""
    comments = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    return "\n".join(comments + _lines(value, 0)) + "\n"
