"""Finds credentials written as literals in emitted files: credential-named keys holding plain values, passwords in
URLs and connection strings, SQL PASSWORD literals, and long high-entropy tokens."""

from __future__ import annotations

import ast
import json
import math
import re
import tomllib
from collections import Counter
from pathlib import PurePosixPath

import yaml

# keys whose value is a credential (compare streamc.analysis.SECRET_KEY, which guards the spec side)
CREDENTIAL_KEY = re.compile(r"(^|[_.\-])(pass(word|wd|phrase)?|pwd|secret|token|api_?key|private_?key|"
                            r"access_?key|account_?key|client_?secret|credentials?|keyfile_json)$", re.I)
# a value that is a reference the tool resolves at run time, not the credential itself
REFERENCE = re.compile(r"\{\{.*\}\}|\$\{[^}]+\}|^\$[A-Z_][A-Z0-9_]*$|^<[^>]+>$|^:'?\w+'?$")
URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'\"]+:([^/\s@'\"]+)@")
CONN_STRING_PASSWORD = re.compile(r"(?<![A-Za-z])(?:password|pwd)\s*=\s*([^;&\s'\"]+)", re.I)
SQL_PASSWORD = re.compile(r"\bPASSWORD\s+'([^']*)'", re.I)
TOKEN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/_-])")


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_random(token: str) -> bool:
    """A long token mixing cases and digits with high entropy (API keys, base64 secrets), not an identifier or
    a hex digest (those are lower-case and low in entropy per character)."""
    return (entropy(token) > 4.3 and any(c.isupper() for c in token) and any(c.islower() for c in token)
            and any(c.isdigit() for c in token) and "_" not in token.strip("_"))


def _is_literal_credential(value: object, secret_names: frozenset[str] = frozenset()) -> bool:
    """A plain value: not empty, not a reference, not an elided `...`, not the name of one of the spec's secrets
    (the IR and the docs name the secret a value comes from)."""
    if not isinstance(value, str):
        return False
    v = value.strip()
    return v != "" and not REFERENCE.search(v) and not re.fullmatch(r"\.+", v) and v not in secret_names


def _walk(value, secrets: frozenset[str], path: str = ""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, secrets, f"{path}.{k}")
            if isinstance(k, str) and CREDENTIAL_KEY.search(k) and _is_literal_credential(v, secrets):
                yield f"{path}.{k} = {v!r}"
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, secrets, f"{path}[{i}]")


def _python_findings(text: str, secrets: frozenset[str]):
    for node in ast.walk(ast.parse(text)):
        pairs = []
        if isinstance(node, ast.keyword) and node.arg:
            pairs.append((node.arg, node.value))
        elif isinstance(node, ast.Assign):
            pairs += [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.Dict):
            pairs += [(k.value, v) for k, v in zip(node.keys, node.values)
                      if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        for key, value in pairs:
            if (CREDENTIAL_KEY.search(key) and isinstance(value, ast.Constant)
                    and _is_literal_credential(value.value, secrets)):
                yield f"{key} = {value.value!r} (line {node.lineno if hasattr(node, 'lineno') else '?'})"


def credential_literals(path: str, text: str, secret_names: frozenset[str] = frozenset()) -> list[str]:
    """What in `text` (an emitted file at `path`) looks like a credential written out; `secret_names` are the
    spec's secret names (references, not values)."""
    found: list[str] = []
    suffix = PurePosixPath(path).suffix
    texts = [text]
    if suffix == ".py":
        found += _python_findings(text, secret_names)
        tree = ast.parse(text)
        texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    elif suffix == ".json":
        found += _walk(json.loads(text), secret_names)
    elif suffix in (".yml", ".yaml"):
        for doc in yaml.safe_load_all(text):
            found += _walk(doc, secret_names)
    elif suffix == ".toml":
        found += _walk(tomllib.loads(text), secret_names)
    for t in texts:
        if suffix == ".sql":
            found += [f"SQL PASSWORD literal {m.group(0)!r}" for m in SQL_PASSWORD.finditer(t)
                      if _is_literal_credential(m.group(1), secret_names)]
        for pattern, what in ((URL_PASSWORD, "password in a URL"),
                              (CONN_STRING_PASSWORD, "password in a connection string")):
            found += [f"{what}: {m.group(0)!r}" for m in pattern.finditer(t)
                      if _is_literal_credential(m.group(1), secret_names)
                      and not m.group(1).startswith(("<", "$", "{", "%", ":"))]
        found += [f"high-entropy token {m.group(0)[:12]}..." for m in TOKEN.finditer(t) if looks_random(m.group(0))]
    return found
