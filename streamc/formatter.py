"""`streamc fmt`: canonical layout of a .stream file from its tokens; comments and line structure are kept."""

from __future__ import annotations

from functools import lru_cache

from lark import Lark, Token
from lark.exceptions import UnexpectedInput

from .diagnostics import Diagnostic
from .parser import grammar_text, parse, syntax_diagnostic

INDENT = "  "
NO_SPACE_BEFORE = {",", ")", "."}
NO_SPACE_AFTER = {"(", "."}
SPACE_BEFORE_PAREN = {"in"}


@lru_cache(maxsize=1)
def _full_parser() -> Lark:
    """A parser that keeps every token (keywords, braces), for layout; built only when formatting."""
    return Lark(grammar_text(), parser="lalr", strict=True, propagate_positions=True, keep_all_tokens=True,
                maybe_placeholders=False)


def _tokens(text: str) -> list[Token]:
    """All tokens of the spec in order, comments included (the parser drops them; find them between tokens)."""
    parser = _full_parser()
    tree = parser.parse(text)
    toks = list(tree.scan_values(lambda v: isinstance(v, Token)))
    occupied = _occupied_ranges(toks)
    comments: list[Token] = []
    i, idx, n = 0, 0, len(text)
    counted, line = 0, 1  # newlines counted up to `counted`: from the start for every comment was quadratic
    while i < n:
        while idx < len(occupied) and occupied[idx][1] <= i:
            idx += 1
        if idx < len(occupied) and occupied[idx][0] <= i < occupied[idx][1]:
            i = occupied[idx][1]
            continue
        if text[i] == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            line += text.count("\n", counted, i)
            counted = i
            col = i - (text.rfind("\n", 0, i) + 1) + 1
            comments.append(Token("COMMENT", text[i:end].rstrip(), start_pos=i, line=line, column=col,
                                  end_line=line, end_column=col + end - i, end_pos=end))
            i = end
            continue
        i += 1
    return sorted(toks + comments, key=lambda t: t.start_pos)


def _occupied_ranges(toks: list[Token]) -> list[tuple[int, int]]:
    return sorted((t.start_pos, t.end_pos) for t in toks)


def _space(a: Token, b: Token) -> str:
    if b.type == "COMMENT":
        return "  "
    if str(b) in NO_SPACE_BEFORE or str(a) in NO_SPACE_AFTER:
        return ""
    if str(b) == "(" and str(a) not in SPACE_BEFORE_PAREN:
        return ""
    return " "


def _lines(toks: list[Token]) -> list[tuple[int, list[Token]]]:
    """Group tokens into output lines; returns (blank lines before, tokens) per line."""
    out: list[tuple[int, list[Token]]] = []
    prev_end_line = 0
    for t in toks:
        if out and t.line <= prev_end_line:
            out[-1][1].append(t)
        else:
            blank = 0 if not out else min(1, max(0, t.line - prev_end_line - 1))
            out.append((blank, [t]))
        prev_end_line = t.end_line if t.end_line is not None else t.line
    return out


def _join(tokens: list[Token]) -> str:
    parts = [str(tokens[0])]
    for a, b in zip(tokens, tokens[1:]):
        parts.append(_space(a, b))
        parts.append(str(b))
    return "".join(parts)


def _type_extent(tokens: list[Token]) -> int:
    """Index after a column type: NAME, or NAME '(' ... ')'."""
    if len(tokens) > 2 and str(tokens[2]) == "(":
        for i in range(3, len(tokens)):
            if str(tokens[i]) == ")":
                return i + 1
    return 2


def format_text(text: str) -> str:
    toks = _tokens(text)
    if not toks:
        return ""
    lines = _lines(toks)
    depth = 0
    rendered: list[tuple[int, int, list[Token], str]] = []  # (blank, depth, tokens, kind)
    block_stack: list[str] = []
    for blank, tokens in lines:
        first = str(tokens[0])
        line_depth = depth - 1 if first == "}" else depth
        kind = "column" if block_stack and block_stack[-1] == "columns" and tokens[0].type == "NAME" else "prop"
        rendered.append((blank, max(line_depth, 0), tokens, kind))
        for i, t in enumerate(tokens):
            if str(t) == "{" and t.type != "COMMENT":
                block_stack.append(str(tokens[i - 1]) if i > 0 else "")
                depth += 1
            elif str(t) == "}" and t.type != "COMMENT":
                if block_stack:
                    block_stack.pop()
                depth = max(depth - 1, 0)

    out: list[str] = []
    i = 0
    while i < len(rendered):
        # a run: consecutive lines (no blank between) of the same kind at the same depth
        j = i + 1
        while (j < len(rendered) and rendered[j][0] == 0 and rendered[j][1] == rendered[i][1]
               and rendered[j][3] == rendered[i][3]):
            j += 1
        run = rendered[i:j]
        if run[0][3] == "column":
            out.extend(_align_columns(run))
        else:
            out.extend(_align_props(run))
        i = j
    return "\n".join(out).rstrip() + "\n"


def _alignable(tokens: list[Token]) -> bool:
    code = _code(tokens)
    return len(code) > 1 and str(code[-1]) != "{" and str(code[0]) != "}" and \
        not any("\n" in str(t) for t in code)


def _code(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.type != "COMMENT"]


def _with_comment(code_text: str, tokens: list[Token], width: int) -> str:
    comment = [t for t in tokens if t.type == "COMMENT"]
    if not comment or not _code(tokens):
        return code_text
    return code_text.ljust(width) + "  " + str(comment[0])


def _align_props(run) -> list[str]:
    """Inside blocks, pad the property keyword; at top level, pad the declared name (`connection a kind`)."""
    rows = [r for r in run if _alignable(r[2])]
    top = run[0][1] == 0
    key = 1 if top else 0
    same_head = len({str(_code(r[2])[0]) for r in rows}) == 1
    align = len(rows) > 1 and (not top or same_head)
    width = max((len(str(_code(r[2])[key])) for r in rows if len(_code(r[2])) > key), default=0)
    texts = []
    for blank, depth, tokens, _ in run:
        code = _code(tokens)
        if align and _alignable(tokens) and len(code) > key + 1:
            head = (_join(code[:key]) + " " if key else "") + str(code[key]).ljust(width)
            texts.append(INDENT * depth + head + " " + _join(code[key + 1:]))
        else:
            texts.append(INDENT * depth + (_join(code) if code else _join(tokens)))
    code_width = max((len(t) for t, r in zip(texts, run) if _code(r[2]) and len(_code(r[2])) < len(r[2])), default=0)
    out = []
    for text, (blank, depth, tokens, _) in zip(texts, run):
        if blank:
            out.append("")
        out.append(_with_comment(text, tokens, code_width))
    return out


def _align_columns(run) -> list[str]:
    cells = []
    for blank, depth, tokens, _ in run:
        if tokens[0].type != "NAME" or len(tokens) < 2:
            cells.append((blank, depth, None, tokens))
            continue
        k = _type_extent(tokens)
        cells.append((blank, depth, (str(tokens[0]), _join(tokens[1:k]), tokens[k:]), tokens))
    name_w = max((len(c[2][0]) for c in cells if c[2]), default=0)
    type_w = max((len(c[2][1]) for c in cells if c[2] and c[2][2]), default=0)
    out = []
    for blank, depth, split, tokens in cells:
        if blank:
            out.append("")
        if split is None:
            out.append(INDENT * depth + _join(tokens))
            continue
        name, type_text, rest = split
        line = name.ljust(name_w) + " " + (type_text.ljust(type_w) if rest else type_text)
        if rest:
            line += (" " if rest[0].type != "COMMENT" else "") + _space(Token("X", ""), rest[0]).strip() + _join(rest)
            line = line.replace("  #", "  #")
        out.append(INDENT * depth + line.rstrip())
    return out


def format_file(text: str, name: str) -> tuple[str | None, list[Diagnostic]]:
    """Format a spec; a spec that does not parse is left alone and its syntax errors returned."""
    if text.startswith("\ufeff"):
        text = text[1:]
    _, diags = parse(text, name)
    if diags:
        return None, diags
    try:
        return format_text(text), []
    except UnexpectedInput as e:  # the layout parser shares the grammar: unreachable after parse() succeeded
        return None, [syntax_diagnostic(e, text, name)]
