"""Python source literals for generated code: strings, SQL blocks, tuples and keys, always valid and deterministic."""

from __future__ import annotations

import keyword


def string(text: str) -> str:
    """A Python string literal (double-quoted when possible, as black prefers)."""
    r = repr(text)
    if r.startswith("'") and '"' not in text:
        r = '"' + r[1:-1].replace("\\'", "'") + '"'
    return r


def sql_block(text: str) -> str:
    """SQL as a readable triple-quoted literal when that is exact, else a plain literal."""
    if '"""' in text or "\\" in text or text.endswith('"') or "\r" in text:
        return string(text)
    if "\n" not in text:
        return string(text)
    return '"""\n' + text + '\n"""'


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def strings(items) -> str:
    items = list(items)
    if not items:
        return "()"
    return "(" + ", ".join(string(i) for i in items) + ("," if len(items) == 1 else "") + ")"


def identifier(name: str, taken: set[str]) -> str:
    """A Python name for a node: the node name unless it is a keyword or clashes with the module's own names."""
    out = name if name.isidentifier() else "n_" + "".join(ch if ch.isalnum() else "_" for ch in name)
    while keyword.iskeyword(out) or keyword.issoftkeyword(out) or out in taken:
        out += "_"
    return out
