"""The LALR parser for .stream files: grammar loading (built once), syntax errors as diagnostics, recovery."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .diagnostics import Diagnostic, make
from .ir import Span
from .limits import MAX_NODES, MAX_REPARSE_TOKENS, MAX_SPEC_TOKENS, Budget, current_budget

TOP_LEVEL = ("import", "pipeline", "connection", "env", "source", "model", "metric", "sink", "expect")

# Friendly names for terminals in "expected ..." lists.
TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": "a \"string\"",
    "QUANTITY": "a number or quantity (e.g. 5m, 100/s, 1KB)",
    "TIME": "a time (HH:MM)",
    "CMP": "a comparison (<, <=, >, >=)",
    "SQL_LINE": "SQL",
    "SQL_PAREN": "a parenthesised SQL expression",
    "SQL_BLOCK": "a \"\"\"triple-quoted\"\"\" SQL block",
    "$END": "end of file",
}

# Catalogue of known mistakes: lark's match_examples maps the parser state of an error to a hint.
KNOWN_MISTAKES: dict[str, list[str]] = {
    "write a property and its value separated by a space, without '=' or ':'": [
        'pipeline p { owner = "x" }',
        'pipeline p { tier = critical }',
        'source s from c { table = a }',
        'source s from c { capture = cdc }',
        'sink s to c { mode = upsert }',
    ],
    "names are written bare, not quoted: `source orders from db { ... }`": [
        'source "orders" from db { }',
        'model "m" { }',
        'sink "s" to c { }',
        'metric "m" from s { }',
        'pipeline "p" { }',
        'expect "m" { }',
    ],
    "a source names its connection: `source NAME from CONNECTION { ... }`": [
        'source orders { }',
        'source orders db { }',
    ],
    "a sink names its target connection: `sink NAME to CONNECTION { ... }`": [
        'sink s { }',
        'sink s warehouse { }',
    ],
    "a metric names what it reads: `metric NAME from MODEL_OR_SOURCE { ... }`": [
        'metric m { }',
    ],
    "a connection is `connection NAME KIND`, e.g. `connection warehouse snowflake`": [
        'connection db',
        'connection db { }',
    ],
    "columns are `name type constraints...`, one per line, e.g. `id bigint primary key`": [
        'source s from c { columns { "id" bigint } }',
        'source s from c { columns { id: bigint } }',
        'source s from c { columns { id bigint, name text } }',
    ],
    "list names separated by commas: `not_null a, b, c`": [
        'expect m { not_null a b }',
        'expect m { unique a b }',
    ],
    "a model body is `select ...` (with `from` in the header) or `sql \"\"\"...\"\"\"`": [
        'model m { sql "select 1" }',
        'model m { sql select 1 }',
    ],
    "a range is `range COLUMN MIN .. MAX`": [
        'expect m { range x 0 10 }',
        'expect m { range x between 0 and 10 }',
    ],
}


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return resources.files("streamc.grammar").joinpath("stream.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def get_parser() -> Lark:
    """Build the LALR parser once per process; lark caches the tables on disk across processes."""
    return Lark(grammar_text(), parser="lalr", strict=True, propagate_positions=True, maybe_placeholders=False,
                cache=True)


def token_span(tok: Token, file: str) -> Span:
    return Span(file=file, line=tok.line or 1, column=tok.column or 1,
                end_line=tok.end_line or tok.line or 1, end_column=tok.end_column or (tok.column or 1) + 1)


def tree_span(tree: Tree, file: str) -> Span:
    m = tree.meta
    if getattr(m, "empty", True):
        return Span(file=file, line=1, column=1, end_line=1, end_column=2)
    return Span(file=file, line=m.line, column=m.column, end_line=m.end_line, end_column=m.end_column)


def _describe_expected(expected: set[str]) -> str:
    parser = get_parser()
    words = []
    for name in expected:
        if name in TERMINAL_WORDS:
            words.append(TERMINAL_WORDS[name])
            continue
        try:
            term = parser.get_terminal(name)
        except KeyError:
            words.append(name.lower())
            continue
        if term.pattern.type == "str":
            words.append(f"'{term.pattern.value}'")
        else:
            words.append(name.lower())
    words = sorted(set(words), key=lambda w: (not w.startswith("'"), w))
    if len(words) > 8:
        words = words[:8] + ["..."]
    return ", ".join(words) if words else "nothing more"


FREE_TEXT = ("SQL_LINE", "SQL_PAREN", "SQL_BLOCK")


def _first_word(tok: Token) -> Token:
    """A free-text token matched where it was not expected: blame only its first word."""
    if tok.type not in FREE_TEXT:
        return tok
    m = _FIRST_WORD.match(str(tok))
    word = m.group(0) if m else str(tok)[:1]
    return Token.new_borrow_pos("WORD", word, tok)


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    value = str(tok)
    if len(value) > 30:
        value = value[:27] + "..."
    return f"'{value}'"


@lru_cache(maxsize=1)
def _mistake_matcher():
    parser = get_parser()
    return lambda e: e.match_examples(parser.parse, KNOWN_MISTAKES, use_accepts=True)


# strings as unrolled loops (plain run, then (escape plain run)*): linear, and no per-character state in re
_STRING_OR_UNCLOSED = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"?')
_FIRST_WORD = re.compile(r'[A-Za-z0-9_]+|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\S')
_PLAIN_RUN = re.compile(r'[^"#{}\n]+')  # characters _unclosed_brace only counts


def _unclosed_brace(text: str, file: str) -> Span | None:
    """Position of the last '{' left open (strings, SQL blocks and comments skipped)."""
    stack: list[tuple[int, int]] = []
    line, col, i, n = 1, 1, 0, len(text)
    while i < n:
        run = _PLAIN_RUN.match(text, i)
        if run is not None:  # skip a run of plain characters at once: a 16 MB spec is 16M loop turns otherwise
            col += run.end() - i
            i = run.end()
            continue
        ch = text[i]
        if text.startswith('"""', i):
            end = text.find('"""', i + 3)
            end = n if end < 0 else end + 3
            chunk = text[i:end]
            line += chunk.count("\n")
            col = len(chunk) - chunk.rfind("\n") if "\n" in chunk else col + len(chunk)
            i = end
            continue
        if ch == "#" or ch == '"':
            stop = text.find("\n", i)
            if ch == '"':
                m = _STRING_OR_UNCLOSED.match(text, i)  # at i, not on a copy of the rest (quadratic)
                stop = m.end() if m else i + 1
            stop = n if stop < 0 else stop
            col += stop - i
            i = stop
            continue
        if ch == "{":
            stack.append((line, col))
        elif ch == "}" and stack:
            stack.pop()
        if ch == "\n":
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
    if not stack:
        return None
    ln, cl = stack[-1]
    return Span(file=file, line=ln, column=cl, end_line=ln, end_column=cl + 1)


def syntax_diagnostic(e: UnexpectedInput, text: str, file: str) -> Diagnostic:
    if isinstance(e, UnexpectedCharacters):
        span = Span(file=file, line=e.line, column=e.column, end_line=e.line, end_column=e.column + 1)
        ch = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        if text.startswith('"""', e.pos_in_stream):
            return make("E003", span, what='"""SQL block', closer='"""')
        if ch == '"':
            return make("E003", span, what="string", closer='a closing " on the same line')
        hints = {
            "'": "strings use double quotes: \"text\"",
            "=": "no '=' is needed: write the property, a space, then its value",
            ":": "no ':' is needed: write the property, a space, then its value",
            ";": "statements end at the end of the line; remove the ';'",
            "(": "parentheses are only used after check, pii, in, incremental and type names",
        }
        hint = hints.get(ch) or f"expected {_describe_expected(set(e.allowed or ()))}"
        return make("E002", span, char=ch, hint=hint)
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        open_span = _unclosed_brace(text, file)
        if open_span is not None:
            return make("E003", open_span, what="block: this '{' is never closed", closer="'}'")
        # the end of the last non-blank line; lines split on "\n" only, as the lexer counts them (str.splitlines
        # would also break at form feeds, \x85, \u2028, ...)
        lines = text.split("\n")
        while len(lines) > 1 and not lines[-1].strip():
            lines.pop()
        last = lines[-1].rstrip()
        span = Span(file=file, line=len(lines), column=len(last) + 1, end_line=len(lines), end_column=len(last) + 2)
        expected = _describe_expected(set(getattr(e, "expected", ()) or ()))
        return make("E001", span, found="end of file", expected=expected, hint="the spec ends too early")
    assert isinstance(e, UnexpectedToken)
    tok = _first_word(e.token)
    span = Span(file=file, line=tok.line or 1, column=tok.column or 1, end_line=tok.line or 1,
                end_column=(tok.column or 1) + len(str(tok)))
    expected = _describe_expected(set(e.expected or ()))
    label = None
    try:
        label = _mistake_matcher()(e)
    except Exception:  # noqa: BLE001 - the catalogue is advisory; a failure there must not hide the error
        label = None
    hint = label or f"expected {expected}"
    return make("E001", span, found=_describe_token(tok), expected=expected, hint=hint)


def _blank_item(text: str, line: int) -> str | None:
    """Blank out (keeping newlines) the top-level item that contains `line`, to look for further errors."""
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if ln.split(" ", 1)[0] in TOP_LEVEL]
    before = [s for s in starts if s <= line - 1]
    if not before:
        return None
    start = before[-1]
    after = [s for s in starts if s > line - 1]
    end = after[0] if after else len(lines)
    for i in range(start, end):
        lines[i] = ""
    return "\n".join(lines)


# keywords the contextual lexer produces only where a node is declared (`sources`, `models`, ... are others)
NODE_KEYWORDS = frozenset({"SOURCE", "MODEL", "METRIC", "SINK", "EXPECT"})


class LimitExceeded(Exception):
    """A resource limit (streamc/limits.py) ran out while parsing; the diagnostic points at the token where."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class CountingParse:
    """One LALR parse, token by token, counting tokens and node declarations against the compile's budget."""

    def __init__(self, file: str, budget: Budget):
        self.file, self.budget = file, budget
        self.tokens = self.nodes = 0

    def run(self, text: str) -> Tree:
        ip = get_parser().parse_interactive(text)
        for tok in ip.iter_parse():
            self.tokens += 1
            if self.tokens > self.budget.spec_tokens:
                raise LimitExceeded(make("E153", token_span(tok, self.file), what="the spec (with its imports)",
                                         limit=f"{MAX_SPEC_TOKENS:,}", hint="split the pipeline into several specs"))
            if tok.type in NODE_KEYWORDS:
                self.nodes += 1
                if self.nodes > self.budget.nodes:
                    raise LimitExceeded(make("E151", token_span(tok, self.file), limit=f"{MAX_NODES:,}"))
        return ip.feed_eof(ip.lexer_thread.state.last_token)


def parse(text: str, file: str, max_errors: int = 20) -> tuple[Tree | None, list[Diagnostic]]:
    """Parse a spec. On a syntax error, blank the broken item and continue, to report several at once.

    Tokens and node declarations draw on the compile's budget (streamc/limits.py); a limit that runs out ends the
    parse with its diagnostic. Re-parsing after errors stops once it has read MAX_REPARSE_TOKENS, so a large spec
    full of mistakes costs at most about three parses of the largest spec accepted.
    """
    budget = current_budget()
    diags: list[Diagnostic] = []
    current = text
    reparsed = 0  # tokens read by the attempts that failed
    for _ in range(max_errors):
        attempt = CountingParse(file, budget)
        try:
            tree = attempt.run(current)
        except LimitExceeded as e:
            diags.append(e.diagnostic)
            break
        except UnexpectedInput as e:
            diags.append(syntax_diagnostic(e, current, file))
            reparsed += attempt.tokens
            line = getattr(e, "line", -1)
            if not isinstance(line, int) or line < 1 or reparsed > MAX_REPARSE_TOKENS:
                break
            nxt = _blank_item(current, line)
            if nxt is None or nxt == current:
                break
            current = nxt
            continue
        if diags:
            return None, diags
        budget.spec_tokens -= attempt.tokens
        budget.nodes -= attempt.nodes
        return tree, diags
    return None, diags
