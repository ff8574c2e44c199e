"""Deterministic sample rows for every dbt source, generated from the column contracts and the quality gates."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

import sqlglot
from sqlglot import exp

from streamc.ir import CheckKind, Column
from streamc.sql_analysis import READ_DIALECT

from .project import Project

ANCHOR = datetime(2024, 1, 1)
DAYS = 8  # rows spread evenly over this many days (volume baselines see a steady history)


def sample_as_of() -> str:
    """The "now" of the sample data: just after its newest timestamp (recency tests use it as streamc_as_of)."""
    return (ANCHOR + timedelta(days=DAYS)).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Rules:
    """What the generated values of one source column must satisfy."""

    unique: bool = False
    not_null: bool = False
    values: tuple[str, ...] = ()
    low: Decimal | None = None
    low_strict: bool = False
    high: Decimal | None = None
    high_strict: bool = False
    pattern: str | None = None
    references: tuple[str, str] | None = None  # (source, column)
    extra: list[str] = field(default_factory=list)

    def bound(self, op: str, value: Decimal) -> None:
        if op in (">", ">=") and (self.low is None or value >= self.low):
            self.low, self.low_strict = value, op == ">"
        if op in ("<", "<=") and (self.high is None or value <= self.high):
            self.high, self.high_strict = value, op == "<"


def _comparison(sql: str, column: str) -> list[tuple[str, Decimal]]:
    """`x >= 0 and x < 10` -> [('>=', 0), ('<', 10)] for column x (other shapes are ignored)."""
    ops = {exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
    flip = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
    out = []
    try:
        tree = sqlglot.parse_one(sql, read=READ_DIALECT)
    except sqlglot.errors.ParseError:
        return out
    for node in tree.find_all(*ops):
        left, right = node.this, node.expression
        op = ops[type(node)]
        if isinstance(right, exp.Column) and isinstance(left, exp.Literal):
            left, right, op = right, left, flip[op]
        if (
            isinstance(left, exp.Column)
            and left.name == column
            and isinstance(right, exp.Literal)
            and not right.is_string
        ):
            out.append((op, Decimal(right.this)))
    return out


def collect_rules(project: Project) -> dict[tuple[str, str], Rules]:
    rules: dict[tuple[str, str], Rules] = {}
    for src in project.sources.values():
        s = src.source
        for c in src.columns:
            r = rules.setdefault((s.name, c.name), Rules())
            r.unique = c.unique or (c.name in s.primary_key and len(s.primary_key) == 1)
            r.not_null = c.not_null or c.name in s.primary_key
            r.values = c.accepted_values or c.type.values
            if c.references is not None:
                r.references = (c.references.node, c.references.column)
            for chk in c.checks:
                for op, value in _comparison(chk.text, c.name):
                    r.bound(op, value)
    for check in project.checks:
        for col in check.columns:
            origin = project.trace(check.target, col)
            r = rules.get(origin) if origin else None
            if r is None:
                continue
            if check.kind == CheckKind.unique and len(check.columns) == 1:
                r.unique = True
            elif check.kind == CheckKind.not_null:
                r.not_null = True
            elif check.kind == CheckKind.accepted_values:
                r.values = check.values
            elif check.kind == CheckKind.range:
                if check.min is not None:
                    r.bound(">=", Decimal(str(check.min)))
                if check.max is not None:
                    r.bound("<=", Decimal(str(check.max)))
            elif check.kind == CheckKind.regex:
                r.pattern = check.pattern
            elif check.kind == CheckKind.relationships and check.reference is not None:
                target = project.trace(check.reference.node, check.reference.column)
                if target is not None:
                    r.references = target
    return rules


# ---------------------------------------------------------------------- values


def regex_sample(pattern: str, i: int) -> str:
    """A string matching `pattern` (literals, classes, repeats, groups, alternation), varied by `i`."""

    def gen(items, salt: int) -> str:
        out = []
        for op, av in items:
            if op == sre_c.LITERAL:
                out.append(chr(av))
            elif op == sre_c.IN:
                choices: list[str] = []
                for o, a in av:
                    if o == sre_c.LITERAL:
                        choices.append(chr(a))
                    elif o == sre_c.RANGE:
                        choices.extend(chr(x) for x in range(a[0], a[1] + 1))
                    elif o == sre_c.CATEGORY:
                        choices.extend("0123456789" if a == sre_c.CATEGORY_DIGIT else "abcdefghij")
                out.append(choices[(salt * 7 + len(out) * 3) % len(choices)] if choices else "x")
            elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
                low, _high, sub = av
                for k in range(max(low, 1) if low else 1):
                    out.append(gen(sub, salt + k * 13))
            elif op == sre_c.SUBPATTERN:
                out.append(gen(av[-1], salt))
            elif op == sre_c.BRANCH:
                out.append(gen(av[1][salt % len(av[1])], salt))
            elif op == sre_c.CATEGORY:
                out.append("7" if av == sre_c.CATEGORY_DIGIT else "a")
            elif op in (sre_c.ANY, sre_c.NOT_LITERAL):
                out.append("x")
            salt = salt // 3 + 1
        return "".join(out)

    return gen(sre_parse.parse(pattern), i + 1)


def _number(r: Rules, i: int, scale: int, integral: bool) -> Decimal:
    step = Decimal(1) if integral else Decimal(1).scaleb(-scale)
    low = r.low if r.low is not None else Decimal(1)
    if r.low_strict:
        low += step
    high = r.high if r.high is not None else low + 999
    if r.high_strict:
        high -= step
    span = max(high - low, Decimal(0))
    frac = Decimal((i * 37) % 101) / 100
    value = low + span * frac
    return value.quantize(step) if not integral else Decimal(int(value))


def column_value(source: str, c: Column, r: Rules, i: int, n: int, refs: dict[tuple[str, str], list[str]]) -> str:
    t = c.type.name
    day = ANCHOR + timedelta(days=i % DAYS)
    if r.references and r.references in refs and refs[r.references]:
        pool = refs[r.references]
        return pool[(i * 3) % len(pool)]
    if r.values:
        return r.values[i % len(r.values)]
    if t in ("bigint", "integer", "smallint"):
        return str(i + 1) if r.unique else str(_number(r, i, 0, True))
    if t in ("numeric", "double", "real"):
        scale = c.type.params[1] if len(c.type.params) == 2 else 2
        return str(_number(r, i, scale, False))
    if t == "date":
        return day.strftime("%Y-%m-%d")
    if t in ("timestamp", "timestamptz"):
        # the first row of each day is its last second: the newest row is one second before sample_as_of()
        seconds = 86399 - ((i // DAYS) * 617) % 86400
        return (day + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")
    if t == "boolean":
        return "true" if i % 2 == 0 else "false"
    if t == "uuid":
        return f"00000000-0000-4000-8000-{i + 1:012d}"
    if t == "json":
        return "{}"
    if r.pattern:
        return regex_sample(r.pattern, i)
    if "email" in c.name:
        return f"user{i + 1}@example.com"
    if r.unique:
        return f"{c.name}-{i + 1:05d}"
    return f"{c.name}_{i % 17}"


def _order(project: Project) -> list[str]:
    """Sources in an order where every referenced source comes first."""
    done: list[str] = []
    pending = sorted(project.sources)
    while pending:
        for name in pending:
            deps = {c.references.node for c in project.sources[name].columns if c.references} - {name}
            if deps <= set(done) | (deps - set(project.sources)):
                done.append(name)
                pending.remove(name)
                break
        else:
            done += pending
            break
    return done


def sample_tables(project: Project, n: int) -> dict[str, str]:
    """{source name: CSV text with a header row} — `n` rows each, the same on every run."""
    rules = collect_rules(project)
    refs: dict[tuple[str, str], list[str]] = {}
    out: dict[str, str] = {}
    for name in _order(project):
        src = project.sources[name]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([c.name for c in src.columns])
        rows = [[column_value(name, c, rules[(name, c.name)], i, n, refs) for c in src.columns] for i in range(n)]
        writer.writerows(rows)
        for k, c in enumerate(src.columns):
            refs[(name, c.name)] = [row[k] for row in rows]
        out[name] = buf.getvalue()
    return out


def check_pattern(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None
