"""YAML read with positions (yaml.compose): typed field access that reports unknown, missing and invalid fields."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..diagnostics import Diagnostics
from ..ir import Span


def span_of(node: yaml.Node, file: str) -> Span:
    s, e = node.start_mark, node.end_mark
    if e.line > s.line and e.column == 0:  # a block ends at the start of the next line: end on the last one
        return Span(file=file, line=s.line + 1, column=s.column + 1, end_line=s.line + 1, end_column=s.column + 2)
    return Span(file=file, line=s.line + 1, column=s.column + 1, end_line=e.line + 1, end_column=e.column + 1)


class HandoffError(Exception):
    """Raised to stop reading a handoff once an error has been reported."""


@dataclass
class Node:
    """A YAML node with its position; `where` names it for messages (`source_models[0].columns[2]`)."""

    node: yaml.Node
    file: str
    where: str
    diags: Diagnostics
    used: set[str] = field(default_factory=set)
    key: yaml.Node | None = None  # the key this value is under (where a missing field of it is reported)

    @property
    def span(self) -> Span:
        return span_of(self.node, self.file)

    # ------------------------------------------------------------------ kinds

    def is_map(self) -> bool:
        return isinstance(self.node, yaml.MappingNode)

    def is_list(self) -> bool:
        return isinstance(self.node, yaml.SequenceNode)

    def is_scalar(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode)

    def keys(self) -> list[tuple[str, yaml.Node, yaml.Node]]:
        return [(k.value, k, v) for k, v in self.node.value] if self.is_map() else []

    def get(self, key: str) -> Node | None:
        for name, k, v in self.keys():
            if name == key:
                self.used.add(key)
                return Node(v, self.file, f"{self.where}.{key}" if self.where else key, self.diags, key=k)
        return None

    def has(self, key: str) -> bool:
        return any(name == key for name, _, _ in self.keys())

    # ------------------------------------------------------------------ typed access

    def require(self, key: str, what: str) -> Node:
        found = self.get(key)
        if found is None:
            at = span_of(self.key, self.file) if self.key is not None else self.span
            self.diags.add("E132", at, where=self.where or "the handoff", field=key,
                           hint=f"add `{key}:` ({what})")
            raise HandoffError
        return found

    def mapping(self) -> Node:
        if not self.is_map():
            self.invalid("a mapping (`key: value` lines)")
        return self

    def items(self) -> list[Node]:
        if not self.is_list():
            self.invalid("a list (`- ...` items)")
        return [Node(v, self.file, f"{self.where}[{i}]", self.diags) for i, v in enumerate(self.node.value)]

    def text(self) -> str:
        if not self.is_scalar() or self.node.tag == "tag:yaml.org,2002:null":
            self.invalid("a single value")
        return str(self.node.value).strip()

    def number(self) -> float:
        value = self.text()
        try:
            return float(value.replace("_", "").replace(",", ""))
        except ValueError:
            self.invalid("a number")
        raise AssertionError  # unreachable

    def boolean(self) -> bool:
        value = self.text().lower()
        if value in ("true", "yes", "on"):
            return True
        if value in ("false", "no", "off"):
            return False
        self.invalid("true or false")
        raise AssertionError

    def texts(self) -> list[str]:
        """A list of values, or one value (`columns: [a, b]` or `columns: a`)."""
        if self.is_scalar():
            return [self.text()]
        return [n.text() for n in self.items()]

    def invalid(self, expected: str, value: str | None = None) -> None:
        shown = value if value is not None else (self.node.value if self.is_scalar() else self.node.id)
        self.diags.add("E133", self.span, what=self.where or "value", value=str(shown)[:60],
                       hint=f"expected {expected}")
        raise HandoffError

    def close(self, known: dict[str, str]) -> None:
        """Every key must be one the format defines: report the others (with a did-you-mean)."""
        for name, key_node, _ in self.keys():
            if name not in known:
                close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
                hint = (f"did you mean '{close[0]}'?" if close else
                        "the fields here are: " + ", ".join(sorted(known)))
                self.diags.add("E131", span_of(key_node, self.file), field=name, where=self.where or "the handoff",
                               hint=hint)


def compose(text: str, file: str, diags: Diagnostics) -> Node | None:
    try:
        root: Any = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        diags.add("E134", Span(file=file, line=line, column=col, end_line=line, end_column=col + 1),
                  problem=str(e.problem or e.context or "syntax error"))
        return None
    except yaml.YAMLError as e:
        diags.add("E134", Span(file=file, line=1, column=1, end_line=1, end_column=2), problem=str(e))
        return None
    if root is None or not isinstance(root, yaml.MappingNode):
        diags.add("E130", Span(file=file, line=1, column=1, end_line=1, end_column=2),
                  found="an empty document" if root is None else "a document that is not a mapping")
        return None
    return Node(root, file, "", diags)
