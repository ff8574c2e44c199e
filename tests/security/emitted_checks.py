"""Per-file-type checks that hostile spec text stays data in every emitted file, judged against the benign build.

Each emitted file is parsed the way its tool reads it (Python AST, SQL in the file's dialect, JSON, YAML, TOML,
shell, Jinja for files of a dbt project, Mermaid labels); every string value of the hostile build, with the payload
mapped back to the benign text (hostile_specs.to_benign), must then equal the benign build's value, and everything
around the values (code, statements, keys, document structure) must be identical. A payload that escapes its
quoting changes that structure, so it is reported with the file and the first difference.
"""

from __future__ import annotations

import ast
import io
import json
import re
import shlex
import shutil
import subprocess
import tomllib
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath

import jinja2
import sqlglot
import yaml
from sqlglot import exp

from hostile_specs import MARKER, to_benign

SPAN_KEYS = {"line", "column", "end_line", "end_column"}  # move with the payload's length
SQL_START = re.compile(r"^\s*(?:--[^\n]*\n\s*)*(select|with|insert|merge|create|delete|update)\b", re.I)


@dataclass
class BuildContext:
    """What a check needs to know about the build besides the file: the SQL dialects of its connections."""

    payload: str
    warehouse_dialect: str = "postgres"
    source_dialect: str = "postgres"
    dbt_roots: tuple[str, ...] = ()  # folders holding a dbt_project.yml: their .sql / .yml are Jinja templates
    problems: list[str] = field(default_factory=list)

    def benign(self, text: str) -> str:
        return to_benign(text, self.payload)


def dialect_for(path: str, backend: str, ctx: BuildContext) -> str:
    if backend == "flink":
        return "flink"
    if backend == "debezium":
        return ctx.source_dialect
    return ctx.warehouse_dialect


# ------------------------------------------------------------------ templates the tools render


class _Anything:
    """A stub for dbt's context objects: any attribute or call yields a plain SQL-safe word."""

    def __init__(self, name: str):
        self.name = name

    def __getattr__(self, item):
        return _Anything(f"{self.name}_{item}")

    def __call__(self, *args, **kwargs):
        return f"stub_{self.name}"

    def __str__(self):
        return f"stub_{self.name}"


@lru_cache(maxsize=2)
def _dbt_env(incremental: bool) -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters.update(as_number=lambda v: v, as_bool=lambda v: v, as_text=lambda v: v, as_native=lambda v: v)
    env.globals.update(
        ref=lambda *a, **k: "ref_" + "_".join(map(str, a)),
        source=lambda *a, **k: "source_" + "_".join(map(str, a)),
        config=lambda *a, **k: "",
        var=lambda name, default=None: default if default is not None else f"var_{name}",
        env_var=lambda name, default=None: default if default is not None else f"env_{name}",
        is_incremental=lambda: incremental,
        this=_Anything("this"), dbt=_Anything("dbt"), adapter=_Anything("adapter"), target=_Anything("target"),
        model=_Anything("model"), run_started_at=_Anything("run_started_at"), return_value=lambda x: x,
        **{"return": lambda x: x})
    return env


_DBT_TAGS = re.compile(r"\{%(-?)\s*(end)?(test|materialization|snapshot)\b")


@lru_cache(maxsize=4096)
def render_dbt(text: str, incremental: bool = False) -> str:
    """Render like dbt: StrictUndefined, so a `{{ name }}` or `{% tag %}` from the spec fails or changes the text."""
    if "{" not in text:
        return text  # nothing Jinja would read
    text = _DBT_TAGS.sub(lambda m: "{%" + m.group(1) + " " + ("end" if m.group(2) else "") + "macro", text)
    return _dbt_env(incremental).from_string(text).render()


DBT_LOOKS_LIKE_CALL = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$", re.S)


def render_dbt_value(text: str) -> str:
    """A YAML string value as dbt reads it: a test argument that looks like `ref(...)`, `env_var(...)` and the
    like is evaluated as an expression (dbt.clients.jinja.add_rendered_test_kwargs), anything else rendered."""
    if DBT_LOOKS_LIKE_CALL.match(text):
        text = "{{ " + text + " }}"
    return render_dbt(text)


def render_airflow(text: str) -> str:
    """Airflow renders templated fields (an operator's `sql`) with Jinja; undefined names render as a marker."""

    class Marked(jinja2.ChainableUndefined):
        def __str__(self):
            return "airflow_context_value"

    return jinja2.Environment(undefined=Marked).from_string(text).render()


# How tools that read `${...}` in a value find their references (and replace them when the file is read)
SODA_VARIABLE = re.compile(r"\$\{ *([a-z]+)\.([a-zA-Z_][a-zA-Z_0-9]*) *\}")  # soda_core VariableResolver
CONNECT_PROVIDER = re.compile(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}")  # Kafka Connect ConfigTransformer


def placeholder_resolver(benign_text: str):
    """The `${...}` syntax the file's tool resolves, told by what the benign build itself writes."""
    if SODA_VARIABLE.search(benign_text):
        pattern = SODA_VARIABLE
    elif CONNECT_PROVIDER.search(benign_text):
        pattern = CONNECT_PROVIDER
    else:
        return None
    return lambda text: pattern.sub(lambda m: "<resolved " + m.group(0)[2:-1] + ">", text)


# ------------------------------------------------------------------ value trees (JSON, YAML, TOML)


def normalize_values(value, ctx: BuildContext, render=None):
    if isinstance(value, dict):
        return {normalize_values(k, ctx, render): ("<position>" if k in SPAN_KEYS and isinstance(v, int)
                                                   else normalize_values(v, ctx, render))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize_values(v, ctx, render) for v in value]
    if isinstance(value, str):
        return ctx.benign(render(value) if render else value)
    return value


def first_difference(a, b, where: str = "") -> str:
    if type(a) is not type(b):
        return f"{where or '(top)'}: {type(a).__name__} {str(a)[:160]!r} vs {type(b).__name__} {str(b)[:160]!r}"
    if isinstance(a, dict):
        if set(a) != set(b):
            return f"{where or '(top)'}: keys {sorted(set(a) ^ set(b), key=str)[:5]!r} differ"
        for k in a:
            if a[k] != b[k]:
                return first_difference(a[k], b[k], f"{where}.{k}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where or '(top)'}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{where}[{i}]")
    return f"{where or '(top)'}: {str(a)[:200]!r} vs {str(b)[:200]!r}"


def _tree_problems(kind: str, hostile, benign, ctx: BuildContext, render=None) -> list[str]:
    h = normalize_values(hostile, ctx, render)
    b = normalize_values(benign, ctx, render)
    if h != b:
        return [f"{kind} value differs from the benign build at {first_difference(h, b)}"]
    return []


def _template_render(path: str, ctx: BuildContext, benign_text: str):
    """The renderer the file's tool applies to its string values, if any."""
    renders = []
    if any(path.startswith(root + "/") for root in ctx.dbt_roots):
        renders.append(render_dbt_value)
    resolver = placeholder_resolver(benign_text)
    if resolver is not None:
        renders.append(resolver)
    if not renders:
        return None

    def render(s: str) -> str:
        for r in renders:
            s = r(s)
        return s
    return render


def json_problems(path, hostile, benign, ctx):
    try:
        h = json.loads(hostile)
    except ValueError as e:
        return [f"not valid JSON: {e}"]
    return _guard(lambda: _tree_problems("JSON", h, json.loads(benign), ctx, _template_render(path, ctx, benign)))


def load_yaml(text: str) -> list:
    """All documents, as yaml.safe_load_all reads them (with libyaml when present: same results, faster)."""
    return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def yaml_problems(path, hostile, benign, ctx):
    try:
        h = load_yaml(hostile)
    except yaml.YAMLError as e:
        return [f"not valid YAML: {str(e)[:300]}"]
    return _guard(lambda: _tree_problems("YAML", h, load_yaml(benign), ctx,
                                         _template_render(path, ctx, benign)))


def toml_problems(path, hostile, benign, ctx):
    try:
        h = tomllib.loads(hostile)
    except tomllib.TOMLDecodeError as e:
        return [f"not valid TOML: {e}"]
    return _tree_problems("TOML", h, tomllib.loads(benign), ctx)


def _guard(check) -> list[str]:
    """A template the spec's text broke (a Jinja syntax error, an undefined name) is a finding, not a crash."""
    try:
        return check()
    except jinja2.TemplateError as e:
        return [f"spec text is live Jinja: {type(e).__name__}: {str(e)[:200]}"]


# ------------------------------------------------------------------ SQL


@dataclass(frozen=True)
class SqlLexicon:
    """How a dialect quotes: enough to split a script into statements and tokens the way its engine does."""

    backslash_escapes: bool = False  # 'it\'s' (Snowflake, BigQuery, MySQL)
    double_quoted_strings: bool = False  # "text" is a string (BigQuery, MySQL)
    identifier_quotes: str = '"'
    hash_comments: bool = False
    dollar_quotes: bool = False  # $$...$$ / $tag$...$tag$ (Postgres, Snowflake)
    psql_meta: bool = False  # a backslash at the start of a line runs to its end (\set, \if, \gexec)


LEXICONS = {
    "postgres": SqlLexicon(dollar_quotes=True, psql_meta=True),
    "duckdb": SqlLexicon(dollar_quotes=True),
    "snowflake": SqlLexicon(backslash_escapes=True, dollar_quotes=True),
    "bigquery": SqlLexicon(backslash_escapes=True, double_quoted_strings=True, identifier_quotes="`",
                           hash_comments=True),
    "mysql": SqlLexicon(backslash_escapes=True, double_quoted_strings=True, identifier_quotes="`",
                        hash_comments=True),
    "tsql": SqlLexicon(identifier_quotes='"['),
    "flink": SqlLexicon(identifier_quotes="`"),
}


class SqlLexError(ValueError):
    pass


def sql_tokens(text: str, lex: SqlLexicon) -> list[tuple[str, str]]:
    """(kind, text) tokens: 'str' and 'ident' carry their unquoted value; comments and whitespace are dropped."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        ch = text[i]
        if ch in " \t\f\v":
            i += 1
            continue
        if ch in "\r\n":
            i += 1
            line_start = True
            continue
        at_line_start, line_start = line_start, False
        if text.startswith("--", i) or (lex.hash_comments and ch == "#"):
            m = re.compile(r"[^\r\n]*").match(text, i)
            i = m.end()
            continue
        if text.startswith("/*", i):
            depth, i = 1, i + 2
            while depth:
                if i >= n:
                    raise SqlLexError("unterminated /* comment")
                if text.startswith("/*", i) and lex.dollar_quotes:
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            continue
        if lex.psql_meta and at_line_start and ch == "\\":
            m = re.compile(r"[^\r\n]*").match(text, i)
            out.append(("meta", m.group(0)))
            i = m.end()
            continue
        if ch == "'" or (lex.double_quoted_strings and ch == '"') or (ch in "eE" and text.startswith("'", i + 1)):
            escape = lex.backslash_escapes or ch in "eE"
            if ch in "eE":
                i += 1
            quote, i, value = text[i], i + 1, []
            while True:
                if i >= n:
                    raise SqlLexError("unterminated string")
                c = text[i]
                if escape and c == "\\" and i + 1 < n:
                    value.append(text[i:i + 2])
                    i += 2
                elif c == quote and text.startswith(quote * 2, i):
                    value.append(quote)
                    i += 2
                elif c == quote:
                    i += 1
                    break
                else:
                    value.append(c)
                    i += 1
            out.append(("str", "".join(value)))
            continue
        if lex.dollar_quotes and ch == "$":
            m = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$").match(text, i)
            if m:
                end = text.find(m.group(0), m.end())
                if end < 0:
                    raise SqlLexError("unterminated dollar-quoted string")
                out.append(("str", text[m.end():end]))
                i = end + len(m.group(0))
                continue
        if ch in lex.identifier_quotes:
            close = "]" if ch == "[" else ch
            i, value = i + 1, []
            while True:
                if i >= n:
                    raise SqlLexError("unterminated quoted identifier")
                if text.startswith(close * 2, i) and close != "]":
                    value.append(close)
                    i += 2
                elif text[i] == close:
                    i += 1
                    break
                else:
                    value.append(text[i])
                    i += 1
            out.append(("ident", "".join(value)))
            continue
        m = re.compile(r"[A-Za-z_0-9]+|\S").match(text, i)
        out.append(("word", m.group(0).lower()))
        i = m.end()
    return out


def statements_of(tokens: list[tuple[str, str]]) -> int:
    return sum(1 for kind, t in tokens if kind == "word" and t == ";") + 1


def sql_lex_problems(hostile: str, benign: str, lex: SqlLexicon, ctx: BuildContext, what: str) -> list[str]:
    """Tokens of the hostile script equal the benign one's, string and identifier values mapped back to the benign
    text: the payload changed no keyword, operator or statement boundary."""
    b_tokens = sql_tokens(benign, lex)
    try:
        h_tokens = sql_tokens(hostile, lex)
    except SqlLexError as e:
        return [f"{what}: quoting broken: {e}"]
    if statements_of(h_tokens) != statements_of(b_tokens):
        return [f"{what} has {statements_of(h_tokens)} statements instead of {statements_of(b_tokens)}"]
    norm = [(k, ctx.benign(v) if k in ("str", "ident", "meta") else v) for k, v in h_tokens]
    expected = [(k, ctx.benign(v) if k in ("str", "ident", "meta") else v) for k, v in b_tokens]
    if norm != expected:
        i = next((i for i, (x, y) in enumerate(zip(norm, expected)) if x != y), min(len(norm), len(expected)))
        return [f"{what} tokens differ from the benign build at token {i}: {norm[i:i + 3]} vs {expected[i:i + 3]}"]
    return []


@lru_cache(maxsize=2048)
def _parsed(text: str, dialect: str) -> tuple:
    """sqlglot's statements of `text` (kept: the benign build's files are compared with every payload's)."""
    return tuple(s for s in sqlglot.parse(text, read=dialect) if s is not None)


def sql_shape(text: str, dialect, ctx: BuildContext) -> list[str]:
    """Each statement re-rendered with literals and identifiers mapped to the benign text and comments dropped."""
    out = []
    statements = _parsed(text, dialect)
    for stmt in statements:
        def benign_node(node):
            if isinstance(node, exp.Literal) and node.is_string:
                return exp.Literal.string(ctx.benign(node.this))
            if isinstance(node, exp.Identifier):
                return exp.Identifier(this=ctx.benign(node.this), quoted=node.args.get("quoted"))
            return node
        tree = stmt.transform(benign_node)
        for node in tree.walk():
            node.comments = None
        out.append(tree.sql(dialect=dialect))
    return out


def sql_problems_of(hostile: str, benign: str, dialect: str, ctx: BuildContext, what: str = "SQL") -> list[str]:
    """The lexical comparison always; sqlglot's parse of the dialect too where it reads the benign text."""
    found = sql_lex_problems(hostile, benign, LEXICONS[dialect], ctx, what)
    if found or dialect == "flink":
        return found
    try:
        expected = sql_shape(benign, dialect, ctx)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return []  # psql meta-commands, dialect corners sqlglot does not read: the token comparison stands
    try:
        got = sql_shape(hostile, dialect, ctx)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as e:
        return [f"{what} no longer parses in {dialect}: {str(e).splitlines()[0][:200]}"]
    if got != expected:
        pair = next(((g, e) for g, e in zip(got, expected) if g != e), (got, expected))
        return [f"{what} statement differs from the benign build:\n    {str(pair[0])[:400]}\n  vs {str(pair[1])[:400]}"]
    return []


def sql_file_problems(path, hostile, benign, ctx, backend):
    dialect = dialect_for(path, backend, ctx)
    if any(path.startswith(root + "/") for root in ctx.dbt_roots):
        problems = []
        for incremental in (False, True):
            try:
                b = render_dbt(benign, incremental)
            except jinja2.TemplateError:
                return []  # a macro file or a template this stub cannot render: the payload never reaches those
            try:
                h = render_dbt(hostile, incremental)
            except jinja2.TemplateError as e:
                return [f"spec text is live Jinja: {type(e).__name__}: {str(e)[:200]}"]
            problems += sql_problems_of(h, b, dialect, ctx, "rendered dbt SQL")
        return problems[:1]
    return sql_problems_of(hostile, benign, dialect, ctx)


# ------------------------------------------------------------------ Python

IDENT_FIELDS = {"id", "attr", "name", "arg", "module", "asname"}
TEXT_SLOT = re.compile(r"\{[A-Za-z_][\w:.]*\}")  # `{raw:shop_db}`, `{partition_start}`: replaced before running
DIGEST = re.compile(r"^[0-9a-f]{8,64}$")  # content hashes (Dagster code versions) change with any text


def python_strings(tree: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def python_shape(tree: ast.AST) -> str:
    """The AST with every string constant blanked (in place): the code around the data."""
    class Blank(ast.NodeTransformer):
        def visit_Constant(self, node):
            return ast.Constant("<str>") if isinstance(node.value, str) else node
    return ast.dump(Blank().visit(tree))


def python_problems(path, hostile, benign, ctx, backend):
    try:
        with warnings.catch_warnings():  # an invalid escape sequence is reported below as a changed string
            warnings.simplefilter("ignore")
            h_tree = ast.parse(hostile)
    except SyntaxError as e:
        return [f"not valid Python: {e.msg} at line {e.lineno}: {hostile.splitlines()[(e.lineno or 1) - 1][:200]!r}"]
    b_tree = ast.parse(benign)
    problems = []
    for node in ast.walk(h_tree):
        for name in IDENT_FIELDS:
            v = getattr(node, name, None)
            if isinstance(v, str) and MARKER in v:
                problems.append(f"spec text became Python code: {type(node).__name__}.{name} = {v[:80]!r}")
    h_strings, b_strings = python_strings(h_tree), python_strings(b_tree)
    h_shape, b_shape = python_shape(h_tree), python_shape(b_tree)
    if h_shape != b_shape:
        i = next((i for i, (x, y) in enumerate(zip(h_shape, b_shape)) if x != y), min(len(h_shape), len(b_shape)))
        return problems + [f"Python code differs from the benign build: ...{h_shape[max(i - 200, 0):i + 200]}..."]
    airflow = bool(re.search(r"^\s*(from|import) airflow\b", benign, re.M))
    for h, b in zip(h_strings, b_strings):
        if DIGEST.match(h) and DIGEST.match(b):
            continue
        if not SQL_START.match(b):
            if ctx.benign(h) != ctx.benign(b):
                return problems + [f"Python string does not hold the spec text as written:\n    {h[:300]!r}\n"
                                   f"  vs {b[:300]!r}"]
            continue
        # SQL carried in a Python string runs on the warehouse: the same statements, the text only in literals.
        # Its tool fills it first: Airflow renders Jinja; other code replaces the `{slot}`s it writes itself.
        slots = set(TEXT_SLOT.findall(b))
        for slot in sorted(slots, key=len, reverse=True):
            h, b = h.replace(slot, "stub_slot"), b.replace(slot, "stub_slot")
        if airflow:
            try:
                b = render_airflow(b)
            except jinja2.TemplateError:
                continue
            try:
                h = render_airflow(h)
            except jinja2.TemplateError as e:
                return problems + [f"SQL in a templated Python string is live Jinja: {e}"]
        found = sql_problems_of(h, b, ctx.warehouse_dialect, ctx, "SQL in a Python string")
        if found:
            return problems + found
    return problems


# ------------------------------------------------------------------ shell


def shell_words(text: str) -> list[str]:
    lex = shlex.shlex(io.StringIO(text), posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    lex.commenters = "#"
    return list(lex)


def expanding_occurrences(text: str) -> list[int]:
    """Offsets of the marker where the shell would expand `$` or backticks: unquoted or inside double quotes."""
    out, state, i = [], None, 0
    while i < len(text):
        ch = text[i]
        if state is None:
            if ch == "#" and (i == 0 or text[i - 1] in " \t\n;"):
                i = text.find("\n", i)
                if i < 0:
                    break
                continue
            if ch in "'\"":
                state = ch
            elif ch == "\\":
                i += 1
        elif state == "'":
            if ch == "'":
                state = None
        elif state == '"':
            if ch == "\\":
                i += 1
            elif ch == '"':
                state = None
        if state != "'" and text.startswith(MARKER, i):
            out.append(i)
        i += 1
    return out


def shell_problems(path, hostile, benign, ctx):
    bash = shutil.which("bash")
    if bash:
        proc = subprocess.run([bash, "-n"], input=hostile, text=True, capture_output=True, timeout=60)
        if proc.returncode != 0:
            return [f"bash -n fails: {proc.stderr.strip()[:300]}"]
    try:
        h_words = shell_words(hostile)
    except ValueError as e:
        return [f"shell quoting broken: {e}"]
    if [ctx.benign(w) for w in h_words] != [ctx.benign(w) for w in shell_words(benign)]:
        return ["shell words differ from the benign build"]
    hits = [o for o in expanding_occurrences(hostile) if "$" in ctx.payload or "`" in ctx.payload]
    if hits:
        line = hostile.count("\n", 0, hits[0]) + 1
        return [f"spec text stands where the shell expands $ and backticks (line {line})"]
    return []


# ------------------------------------------------------------------ Mermaid and Markdown

MERMAID_ENTITIES = {"#quot;": '"', "#lt;": "<", "#gt;": ">", "#amp;": "&", "#92;": "\\", "#96;": "`",
                    "#37;": "%", "#32;": " ", "#35;": "#"}
QUOTED = re.compile(r'"[^"\n]*"')


def mermaid_label_text(label: str) -> str:
    text = label.replace("<br>", "\n")
    return re.sub(r"#(quot|lt|gt|amp|92|96|37|32|35);", lambda m: MERMAID_ENTITIES[m.group(0)], text)


def mermaid_problems(hostile: str, benign: str, ctx: BuildContext) -> list[str]:
    """Every payload sits in a double-quoted label, escaped (no raw quote, <, %%, backtick), and decodes to the text."""
    h_lines, b_lines = hostile.splitlines(), benign.splitlines()
    if len(h_lines) != len(b_lines):
        return [f"Mermaid has {len(h_lines)} lines instead of {len(b_lines)}"]
    for n, (h, b) in enumerate(zip(h_lines, b_lines), 1):
        if QUOTED.sub('""', h) != QUOTED.sub('""', b):
            return [f"Mermaid line {n} differs outside its quoted labels: {h[:200]!r}"]
        for label in QUOTED.findall(h):
            inner = label[1:-1]
            if MARKER in inner and re.search(r"[<>`]|%%", inner.replace("<br>", "")):
                return [f"Mermaid label on line {n} holds raw markup: {inner[:200]!r}"]
        h_labels = [_mermaid_benign(label, ctx) for label in QUOTED.findall(h)]
        b_labels = [_mermaid_benign(label, ctx) for label in QUOTED.findall(b)]
        if h_labels != b_labels:
            return [f"Mermaid label on line {n} does not decode to the spec text: {h[:200]!r}"]
    return []


def _mermaid_benign(label: str, ctx: BuildContext) -> str:
    text = mermaid_label_text(label[1:-1])
    return ctx.benign(text)


FENCE = re.compile(r"^ {0,3}(```|~~~)")


def markdown_problems(hostile: str, benign: str, ctx: BuildContext) -> list[str]:
    """Code fences and table rows keep their shape; Mermaid blocks pass the Mermaid check."""
    def shape(text):
        lines = re.split(r"\r\n|\r|\n", text)  # Markdown's line endings (not U+2028 and the like)
        fences = [ln.strip() for ln in lines if FENCE.match(ln)]
        cells = [len(re.findall(r"(?<!\\)\|", ln)) for ln in lines if ln.lstrip().startswith("|")]
        return fences, cells

    (hf, hc), (bf, bc) = shape(hostile), shape(benign)
    if hf != bf:
        return [f"Markdown code fences differ: {hf} vs {bf}"]
    if hc != bc:
        i = next((i for i, (x, y) in enumerate(zip(hc, bc)) if x != y), min(len(hc), len(bc)))
        rows = [ln for ln in re.split(r"\r\n|\r|\n", hostile) if ln.lstrip().startswith("|")]
        return [f"Markdown table rows have other cell counts than the benign build, from row {i}: "
                f"{rows[i][:200] if i < len(rows) else '(missing)'!r}"]
    blocks = re.compile(r"^```mermaid\n(.*?)^```", re.S | re.M)
    for hb, bb in zip(blocks.findall(hostile), blocks.findall(benign)):
        found = mermaid_problems(hb, bb, ctx)
        if found:
            return found
    return []


# ------------------------------------------------------------------ dispatch


def file_problems(path: str, hostile: str, benign: str | None, ctx: BuildContext, backend: str) -> list[str]:
    """Problems of one emitted file; `benign` is the same path from the benign build (None: the file is new)."""
    if benign is None:
        return ["file exists only in the hostile build"]
    suffix = PurePosixPath(path).suffix
    if suffix == ".py":
        return python_problems(path, hostile, benign, ctx, backend)
    if suffix == ".sql":
        return sql_file_problems(path, hostile, benign, ctx, backend)
    if suffix == ".json":
        return json_problems(path, hostile, benign, ctx)
    if suffix in (".yml", ".yaml"):
        return yaml_problems(path, hostile, benign, ctx)
    if suffix == ".toml":
        return toml_problems(path, hostile, benign, ctx)
    if suffix == ".sh":
        return shell_problems(path, hostile, benign, ctx)
    if suffix == ".mmd":
        return mermaid_problems(hostile, benign, ctx)
    if suffix == ".md":
        return markdown_problems(hostile, benign, ctx)
    if ctx.benign(hostile) != ctx.benign(benign):
        return ["text differs from the benign build beyond the spec's text"]
    return []
