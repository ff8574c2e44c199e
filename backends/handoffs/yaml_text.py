"""A small deterministic YAML writer (block style, insertion order, JSON-quoted strings where plain is unsafe)."""

from __future__ import annotations

import json
import re

PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./+-]*( [A-Za-z0-9_./+()'-]+)*$")
VARIABLE = re.compile(r"^\$\{[a-z]+\.[A-Za-z0-9_]+\}$")  # `${var.NAME}`: plain, so a tool substitutes a number
RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def scalar(value: object, quote: bool = False) -> str:
    """One scalar; `quote` forces strings into double quotes (the reference handoffs quote every string)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    if not quote and (PLAIN.match(text) or VARIABLE.match(text)) and text.lower() not in RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


class Writer:
    def __init__(self, quote: bool = False, flow_width: int = 100):
        self.quote = quote
        self.flow_width = flow_width

    def key(self, key: object) -> str:
        return scalar(key)

    def _flow(self, value: object) -> str | None:
        """Short lists of scalars and small flat mappings stay on one line: `[a, b]`, `{"a": 1}`."""
        if isinstance(value, list) and value and all(not isinstance(v, (dict, list)) for v in value):
            text = "[" + ", ".join(scalar(v, self.quote) for v in value) + "]"
            return text if len(text) <= self.flow_width else None
        return None

    def lines(self, value: object, indent: int) -> list[str]:
        pad = " " * indent
        out: list[str] = []
        if isinstance(value, dict):
            for key, v in value.items():
                k = self.key(key)
                if isinstance(v, (dict, list)) and v:
                    flow = self._flow(v)
                    if flow is not None:
                        out.append(f"{pad}{k}: {flow}")
                    else:
                        out.append(f"{pad}{k}:")
                        out += self.lines(v, indent + 2)
                elif isinstance(v, (dict, list)):
                    out.append(f"{pad}{k}: {'{}' if isinstance(v, dict) else '[]'}")
                elif v is None and not self.quote:
                    out.append(f"{pad}{k}:")
                else:
                    out.append(f"{pad}{k}: {scalar(v, self.quote)}")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, (dict, list)) and item:
                    inner = self.lines(item, indent + 2)
                    out.append(f"{pad}- {inner[0].lstrip()}")
                    out += inner[1:]
                else:
                    out.append(f"{pad}- {scalar(item, self.quote)}")
        else:
            out.append(pad + scalar(value, self.quote))
        return out


def dump(value: object, header: str = "", quote: bool = False, blank_between: bool = False) -> str:
    """YAML text for nested dicts/lists of str/int/float/bool/None; `header` lines become comments on top.

    `quote`: every string double-quoted (and None written `null`); `blank_between`: a blank line between the
    top-level keys and between the items of top-level lists, as the reference handoffs are laid out.
    """
    w = Writer(quote)
    comments = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    body: list[str] = []
    if blank_between and isinstance(value, dict):
        for i, (key, v) in enumerate(value.items()):
            if i:
                body.append("")
            body += w.lines({key: v}, 0)
    else:
        body = w.lines(value, 0)
    return "\n".join(comments + body) + "\n"
