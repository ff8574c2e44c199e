"""The file checks of the injection tests find a broken file of each type (and pass the same file done right)."""

from __future__ import annotations

import pytest

from emitted_checks import BuildContext, file_problems

PAYLOAD = "PWN x'\"\n$(id) {{ v }} | ]"


def ctx(**kw) -> BuildContext:
    return BuildContext(payload=PAYLOAD, **kw)


# (path, backend, benign file, hostile file written right, hostile file written wrong, expected wording)
CASES = [
    ("a.py", "x",
     'DOC = "PWN benign"\n',
     "DOC = 'PWN x\\'\"\\n$(id) {{ v }} | ]'\n",
     'DOC = "PWN x\'"\n$(id) {{ v }} | ]"\n', "not valid Python"),
    ("b.py", "x",
     'f(note="PWN benign")\n',
     "f(note='PWN x\\'\"\\n$(id) {{ v }} | ]')\n",
     'f(note="PWN x", evil=__import__("os"))\n', "Python code differs"),
    ("c.py", "x",
     '"""PWN benign"""\n',
     '"""PWN x\'\\"\n$(id) {{ v }} | ]"""\n',
     '"""PWN x\'"\n$(id) {{ v }} | \\]"""\n', "does not hold the spec text"),
    ("q.sql", "x",
     "SELECT 'PWN benign' AS a;\n",
     "SELECT 'PWN x''\"\n$(id) {{ v }} | ]' AS a;\n",
     "SELECT 'PWN x'\"\n$(id) {{ v }} | ]' AS a;\n", "quoting broken"),
    ("r.sql", "x",
     "-- note: PWN benign\nSELECT 1;\n",
     "-- note: PWN x'\" $(id) {{ v }} | ]\nSELECT 1;\n",
     "-- note: PWN x'\"\n$(id) {{ v }} | ]\nSELECT 1;\n", "differ"),
    ("f.sql", "flink",
     "SELECT 'PWN benign' AS a;\n",
     "SELECT 'PWN x''\"\n$(id) {{ v }} | ]' AS a;\n",
     "SELECT 'PWN x\\'\"\n$(id) {{ v }} | ]' AS a;\n", "quoting broken"),
    ("t.yaml", "x",
     "# PWN benign\nitems: []\n",
     "# PWN x'\" $(id) {{ v }} | ]\nitems: []\n",
     "# PWN x'\"\x85evil: 1\nitems: []\n", "YAML"),
    ("t.json", "x",
     '{"a": "PWN benign"}',
     '{"a": "PWN x\'\\"\\n$(id) {{ v }} | ]"}',
     '{"a": "PWN x\'\\"\\n(id) {{ v }} | ]"}', "JSON value differs"),
    ("m.mmd", "x",
     'flowchart LR\n  n["PWN benign"]\n',
     'flowchart LR\n  n["PWN x\'#quot;<br>$(id) {{ v }} | ]"]\n',
     'flowchart LR\n  n["PWN x\'"<br>$(id) {{ v }} | ]"]\n', "Mermaid"),
    ("d.md", "x",
     "| a | b |\n|---|---|\n| PWN benign | 1 |\n",
     "| a | b |\n|---|---|\n| PWN x'\" $(id) {{ v }} \\| ] | 1 |\n",
     "| a | b |\n|---|---|\n| PWN x'\" $(id) {{ v }} | ] | 1 |\n", "Markdown table"),
    ("s.sh", "x",
     "echo 'PWN benign'\n",
     "echo 'PWN x'\\''\"\n$(id) {{ v }} | ]'\n",
     "echo \"PWN x'\\\"\n$(id) {{ v }} | ]\"\n", "shell"),
]


@pytest.mark.parametrize("path, backend, benign, right, wrong, wording", CASES, ids=[c[0] for c in CASES])
def test_a_file_done_right_passes_and_done_wrong_is_reported(path, backend, benign, right, wrong, wording):
    assert file_problems(path, right, benign, ctx(), backend) == []
    problems = file_problems(path, wrong, benign, ctx(), backend)
    assert problems and any(wording in p for p in problems), problems


def test_dbt_files_are_read_as_jinja_templates():
    benign = "models:\n  - name: m\n    description: \"PWN benign\"\n"
    right = "models:\n  - name: m\n    description: \"PWN x'\\\"\\n$(id) {{ '{' }}{ v }} | ]\"\n"
    wrong = "models:\n  - name: m\n    description: \"PWN x'\\\"\\n$(id) {{ v }} | ]\"\n"
    c = ctx(dbt_roots=("dbt",))
    assert file_problems("dbt/models/schema.yml", right, benign, c, "dbt") == []
    assert any("live Jinja" in p for p in file_problems("dbt/models/schema.yml", wrong, benign, c, "dbt"))


def test_soda_and_kafka_connect_placeholders_are_resolved_like_the_tools_do():
    benign = "q: \"SELECT 1 FROM ${var.S}.t WHERE a = 'PWN benign'\"\n"
    hostile = "q: \"SELECT 1 FROM ${var.S}.t WHERE a = 'PWN ${var.X}'\"\n"
    c = BuildContext(payload="PWN ${var.X}")
    assert any("YAML value differs" in p for p in file_problems("c.yml", hostile, benign, c, "quality"))
    benign = '{"a": "${env:HOST}", "b": "PWN benign"}'
    hostile = '{"a": "${env:HOST}", "b": "PWN ${env:AWS_SECRET}"}'
    c = BuildContext(payload="PWN ${env:AWS_SECRET}")
    assert any("JSON value differs" in p for p in file_problems("c.json", hostile, benign, c, "debezium"))
