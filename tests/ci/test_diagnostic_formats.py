"""Machine-readable diagnostics for code review: JSON, SARIF 2.1.0 (checked against its schema's shape), GitHub."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ERROR_SPECS = sorted((ROOT / "specs" / "errors").glob("*.stream"))
BROKEN = ROOT / "specs" / "errors" / "unknown_names.stream"
CLEAN = ROOT / "specs" / "customer_marts.stream"

# The part of the SARIF 2.1.0 JSON schema (sarif-schema-2.1.0.json) that streamc's output uses: required
# properties, types, enums and minimums, as a JSON Schema subset checked offline by `validate` below.
POSITIVE = {"type": "integer", "minimum": 1}
LEVEL = {"enum": ["none", "note", "warning", "error"]}
MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
SARIF = {
    "type": "object", "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "pattern": r"^https://"},
        "version": {"enum": ["2.1.0"]},
        "runs": {"type": "array", "items": {
            "type": "object", "required": ["tool"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "version": {"type": "string"},
                        "rules": {"type": "array", "items": {
                            "type": "object", "required": ["id"],
                            "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                           "shortDescription": MESSAGE,
                                           "defaultConfiguration": {"type": "object",
                                                                    "properties": {"level": LEVEL}}}}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["message"],
                    "properties": {
                        "ruleId": {"type": "string"}, "ruleIndex": {"type": "integer", "minimum": -1},
                        "level": LEVEL, "message": MESSAGE,
                        "locations": {"type": "array", "items": {"type": "object", "properties": {
                            "physicalLocation": {"type": "object", "required": ["artifactLocation"], "properties": {
                                "artifactLocation": {"type": "object", "required": ["uri"], "properties": {
                                    "uri": {"type": "string", "pattern": r"^[^/\\][^\\]*$"}}},
                                "region": {"type": "object", "required": ["startLine"], "properties": {
                                    "startLine": POSITIVE, "startColumn": POSITIVE, "endLine": POSITIVE,
                                    "endColumn": POSITIVE}}}}}}}}}},
            }}},
    },
}
TYPES = {"object": dict, "array": list, "string": str, "integer": int}


def validate(value, schema: dict, where: str = "$") -> list[str]:
    """Errors of `value` against a JSON Schema subset: type, required, properties, items, enum, minimum, ..."""
    errors = []
    expected = schema.get("type")
    if expected and not (isinstance(value, TYPES[expected]) and not isinstance(value, bool)):
        return [f"{where}: expected {expected}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{where}: {value} < {schema['minimum']}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(f"{where}: shorter than {schema['minLength']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    for key in schema.get("required", []):
        if key not in value:
            errors.append(f"{where}: missing required '{key}'")
    for key, sub in schema.get("properties", {}).items():
        if isinstance(value, dict) and key in value:
            errors += validate(value[key], sub, f"{where}.{key}")
    if "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{where}[{i}]")
    return errors


def sarif_of(streamc, *args) -> tuple[dict, int]:
    proc = streamc(*args, "--format", "sarif")
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout), proc.returncode


def test_sarif_of_every_error_spec_has_the_2_1_0_shape(streamc):
    doc, code = sarif_of(streamc, "check", *map(str, ERROR_SPECS))
    assert code == 1
    assert validate(doc, SARIF) == []
    (run,) = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "streamc" and run["results"]
    assert len({r["id"] for r in rules}) == len(rules)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]  # ruleIndex points at its rule
        assert re.fullmatch(r"[EW]\d{3}", result["ruleId"])
        for loc in result.get("locations", []):
            uri = loc["physicalLocation"]["artifactLocation"]["uri"]
            assert uri.startswith("specs/errors/") and (ROOT / uri).is_file()  # repository-relative
            region = loc["physicalLocation"]["region"]
            assert (region["endLine"], region["endColumn"]) >= (region["startLine"], region["startColumn"])


def test_sarif_of_a_clean_spec_has_no_results(streamc):
    doc, code = sarif_of(streamc, "check", str(CLEAN))
    assert code == 0 and validate(doc, SARIF) == []
    assert doc["runs"][0]["results"] == []


def test_build_reports_sarif_on_stdout(streamc, tmp_path):
    doc, code = sarif_of(streamc, "build", str(BROKEN), "-o", str(tmp_path / "o"))
    assert code == 1 and validate(doc, SARIF) == []
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} >= {"E100", "E103"}


@pytest.mark.parametrize(("broken", "error"), [
    ({"version": "2.0.0", "runs": []}, "not in ['2.1.0']"),
    ({"version": "2.1.0"}, "missing required 'runs'"),
    ({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}, "missing required 'name'"),
    ({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"level": "fatal",
                                                                                    "message": {"text": "m"}}]}]},
     "'fatal' not in"),
    ({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"},
      "locations": [{"physicalLocation": {"artifactLocation": {"uri": "/abs/x"}, "region": {"startLine": 0}}}]}]}]},
     "startLine: 0 < 1"),
])
def test_the_shape_check_catches_broken_sarif(broken, error):
    assert any(error in e for e in validate(broken, SARIF))


def test_json_diagnostics(streamc):
    proc = streamc("check", str(BROKEN), "--format", "json")
    assert proc.returncode == 1
    diags = json.loads(proc.stdout)["diagnostics"]
    assert diags and all(set(d) == {"code", "slug", "severity", "message", "hint", "file", "line", "column",
                                     "end_line", "end_column"} for d in diags)
    assert [d["line"] for d in diags] == sorted(d["line"] for d in diags)
    assert {d["severity"] for d in diags} <= {"error", "warning"}
    clean = streamc("check", str(CLEAN), "--format", "json")
    assert clean.returncode == 0 and json.loads(clean.stdout) == {"diagnostics": []}


GITHUB_LINE = re.compile(r"^::(error|warning) file=[^,:]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,"
                         r"title=[EW]\d{3} [a-z-]+::\S.*$")


def test_github_annotations(streamc):
    proc = streamc("check", *map(str, ERROR_SPECS), "--format", "github")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines and all(GITHUB_LINE.match(ln) or ln.startswith("::error title=") for ln in lines), lines
    assert any("file=specs/errors/unknown_names.stream,line=" in ln for ln in lines)
