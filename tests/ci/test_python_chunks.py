"""Formatting statement by statement (streamc.python_chunks) gives exactly what black gives for the whole module."""

from __future__ import annotations

from functools import lru_cache

import pytest
from conftest import SPECS

from streamc import python_chunks
from streamc.backend_api import Registry
from streamc.compiler import compile_files
from streamc.python_format import PythonFormatter, format_python

TRICKY = {
    "comments and decorators": '''"""Doc."""
import os
# attached to f
def f():
    return 1
# separated from g

@decorator(
  a=1,
)
@other
def g(): pass
x=1
class C:

    y = 2
# trailing comment
''',
    "strings hiding column-0 lines": '''SQL = """
SELECT 1
def not_a_def():
  'still in the string \\""" here'
"""
Q = 'a # not a comment (' + "b ) \\" c"
R = r"\\d+(" ; S = (
1,
)
''',
    "top-level compound statements": '''import sys
if sys.version_info >= (3, 11):
    X = 1

elif True:
    X = 2
else:
    X = 3
try:
    import json
except ImportError:  # comment
    json = None
finally:
    pass
for i in range(3):
  print(i)
with open("f") as fh:

    data = fh.read()
async def main():
    await x
''',
    "backslash continuation and no docstring": '''from a import (b,
   c)
total = 1 + \\
    2
def h(x,
      y):
    return x
''',
    "bare string after the first statement": '''x = 1
"""not a docstring"""
y = 2
def f(): pass
''',
}


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_modules_format_as_black_formats_them_whole(name, tmp_path):
    text = TRICKY[name]
    assert PythonFormatter(tmp_path)(text) == format_python(text)


@lru_cache(maxsize=None)
def raw_modules() -> dict[str, str]:
    """Every Python module the built-in backends emit for the specs, before formatting."""
    registry = Registry()
    out = {}
    for spec in SPECS:
        result = compile_files([spec])
        for name in registry.names():
            backend = registry.get(name)
            for path, text in backend.emit(result.spec, backend.options_model()).items():
                if path.endswith(".py"):
                    out[f"{spec.stem}/{path}"] = text
    return out


def test_every_generated_module_formats_as_black_formats_it_whole(tmp_path):
    modules = raw_modules()
    assert len(modules) >= 8
    split_used = 0
    for key, text in modules.items():
        chunks = python_chunks.split(text)
        split_used += chunks is not None and len(chunks) >= 3
        assert PythonFormatter(tmp_path)(text) == format_python(text), key
    assert split_used >= len(modules) // 2, "the statement split applies to the generated modules"


def test_a_changed_statement_is_the_only_one_formatted_again(tmp_path):
    text = next(t for k, t in raw_modules().items() if k.endswith("dagster/definitions.py"))
    PythonFormatter(tmp_path)(text)
    chunks = python_chunks.split(text)
    assert chunks is not None
    changed = text.replace('"""', '"""Edited. ', 1)  # the module docstring only
    again = PythonFormatter(tmp_path)
    assert again(changed) == format_python(changed)
    assert again.formatted == 2, "the skeleton and the one changed statement"


def test_unbalanced_or_unusual_text_falls_back_to_black_whole(tmp_path):
    for text in ("x = (1,\n", "  indented = 1\n", "@decorator\nx = 1\n", ")\n"):
        assert python_chunks.split(text) is None
