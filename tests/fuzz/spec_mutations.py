"""Seeded mutations of spec files: truncations, byte flips, token edits, huge values, deep nesting, odd encodings."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Callable

TOKEN = re.compile(rb'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|[0-9][0-9A-Za-z./%:]*|\s+|.', re.S)
NUMBER = re.compile(rb"^[0-9]")
NAME = re.compile(rb"^[A-Za-z_]")

HUGE_NUMBERS = (b"1" + b"0" * 400, b"99999999999999999999TB", b"99999999999999999999999999999d", b"1e400",
                b"0", b"0s", b"-0", b"-1d", b"0.000000000001s", b"18446744073709551616", b"9" * 5000 + b"/s",
                b"1" + b"0" * 400 + b"%", b"999:99", b"24:00", b"00:60", b"1.5.5", b"NaN", b"inf")
NESTINGS = (b"(" * 1000 + b")" * 1000, b"{" * 1000 + b"}" * 1000, b"(" * 1000, b"{" * 1000, b"}" * 1000,
            b"[" * 1000, b'"""' + b"(" * 1000 + b'"""', b"select " + b"(" * 1000 + b"1" + b")" * 1000)
BAD_BYTES = (b"\xff", b"\xfe", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80",
             b"\xe2\x82", b"\xf4\x90\x80\x80")
LOOK_ALIKES = {  # ASCII -> characters that look the same or are invisible / odd whitespace
    "a": "\u0430", "e": "\u0435", "o": "\u03bf", "p": "\u0440", "c": "\u0441", "i": "\u0456", "{": "\uff5b",
    "}": "\uff5d", '"': "\u201c", "(": "\uff08", " ": "\u00a0", "-": "\u2212", "<": "\u2039", ":": "\u2236",
    ".": "\u2024", "_": "\uff3f", "\n": "\u2028",
}
ODD_CHARS = ("\u200b", "\u202e", "\u2028", "\u2029", "\x0c", "\x0b", "\x85", "\ufeff", "\t", "\u00a0", "\u3000",
             "\U0001f600", "\x1b[31m", "\x7f", "e\u0301", "\ud800")


def tokens(data: bytes) -> list[bytes]:
    return TOKEN.findall(data)


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randint(0, len(data))


def _word_index(rng: random.Random, toks: list[bytes], pattern: re.Pattern | None = None) -> int | None:
    picks = [i for i, t in enumerate(toks) if not t.isspace() and (pattern is None or pattern.match(t))]
    return rng.choice(picks) if picks else None


def truncate(rng, data, corpus):
    return data[:_pos(rng, data)]


def flip_byte(rng, data, corpus):
    if not data:
        return bytes([rng.randrange(256)])
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(b))
        b[i] = b[i] ^ (1 << rng.randrange(8)) if rng.random() < 0.5 else rng.randrange(256)
    return bytes(b)


def swap_tokens(rng, data, corpus):
    toks = tokens(data)
    i, j = _word_index(rng, toks), _word_index(rng, toks)
    if i is None or j is None:
        return data
    toks[i], toks[j] = toks[j], toks[i]
    return b"".join(toks)


def delete_token(rng, data, corpus):
    toks = tokens(data)
    for _ in range(rng.randint(1, 3)):
        i = _word_index(rng, toks)
        if i is None:
            break
        del toks[i]
    return b"".join(toks)


def duplicate_token(rng, data, corpus):
    toks = tokens(data)
    i = _word_index(rng, toks)
    if i is None:
        return data
    toks.insert(i, toks[i] + (b" " if rng.random() < 0.7 else b""))
    return b"".join(toks)


def duplicate_line(rng, data, corpus):
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    lines[i:i] = [lines[i]] * rng.randint(1, 3)
    return b"\n".join(lines)


def huge_number(rng, data, corpus):
    toks = tokens(data)
    i = _word_index(rng, toks, NUMBER)
    value = rng.choice(HUGE_NUMBERS)
    if i is None:
        return data[: (p := _pos(rng, data))] + b" " + value + b" " + data[p:]
    toks[i] = value
    return b"".join(toks)


def long_name(rng, data, corpus):
    toks = tokens(data)
    i = _word_index(rng, toks, NAME)
    name = rng.choice((b"n", b"Orders_", b"x_")) * rng.choice((64, 3000, 10000))
    if i is None:
        return data + b"\nmodel " + name + b" from s { select id }\n"
    toks[i] = name[:10000]
    return b"".join(toks)


def deep_nesting(rng, data, corpus):
    p = _pos(rng, data)
    return data[:p] + rng.choice(NESTINGS) + data[p:]


def bad_bytes(rng, data, corpus):
    p = _pos(rng, data)
    return data[:p] + rng.choice(BAD_BYTES) + data[p:]


def bom(rng, data, corpus):
    if rng.random() < 0.6:
        return b"\xef\xbb\xbf" + data
    p = _pos(rng, data)
    return data[:p] + b"\xef\xbb\xbf" + data[p:]


def line_endings(rng, data, corpus):
    ending = rng.choice((b"\r\n", b"\r", b"\n\r", b"\r\r\n"))
    if rng.random() < 0.7:
        return data.replace(b"\n", ending)
    lines = data.split(b"\n")  # mixed: only some lines
    return b"".join(ln + (ending if rng.random() < 0.5 else b"\n") for ln in lines[:-1]) + lines[-1]


def nul_byte(rng, data, corpus):
    p = _pos(rng, data)
    return data[:p] + b"\x00" * rng.randint(1, 3) + data[p:]


def tabs(rng, data, corpus):
    if rng.random() < 0.5:
        return data.replace(b"  ", b"\t")
    p = _pos(rng, data)
    return data[:p] + b"\t" * rng.randint(1, 5) + data[p:]


def look_alike(rng, data, corpus):
    text = data.decode("utf-8", "surrogateescape")
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        candidates = [i for i, ch in enumerate(chars) if ch in LOOK_ALIKES]
        if rng.random() < 0.4 or not candidates:
            p = rng.randint(0, len(chars))
            chars.insert(p, rng.choice(ODD_CHARS))
        else:
            i = rng.choice(candidates)
            chars[i] = LOOK_ALIKES[chars[i]]
    text = "".join(chars)
    try:
        return text.encode("utf-8", "surrogateescape")  # undecodable bytes of the input stay as they were
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")  # a lone surrogate inserted on purpose: invalid UTF-8


def splice(rng, data, corpus):
    other = rng.choice(corpus)
    a = _pos(rng, other)
    b = min(len(other), a + rng.randint(1, 400))
    p = _pos(rng, data)
    return data[:p] + other[a:b] + data[p:]


def hostile_import(rng, data, corpus):
    target = rng.choice((b"", b".", b"/", b"..", b"nowhere.stream", b"../" * 40 + b"etc", b"a" * 5000,
                         b"mutant.stream", b"sub/../mutant.stream", b"\\\\server\\share", b"C:\\\\x.stream"))
    return b'import "' + target + b'"\n' + data


MUTATORS: tuple[Callable, ...] = (truncate, flip_byte, swap_tokens, delete_token, duplicate_token, duplicate_line,
                                  huge_number, long_name, deep_nesting, bad_bytes, bom, line_endings, nul_byte, tabs,
                                  look_alike, splice, hostile_import)
def leading_bom(rng, data, corpus):
    return b"\xef\xbb\xbf" + data


def crlf(rng, data, corpus):
    return data.replace(b"\n", b"\r\n")


def indent_tabs(rng, data, corpus):
    return re.sub(rb"(?m)^  ", b"\t", data)


# edits that keep a valid spec valid (for CLI runs that should succeed)
GENTLE: tuple[Callable, ...] = (leading_bom, crlf, indent_tabs)


@dataclass
class Mutant:
    data: bytes
    origin: str  # corpus file name
    steps: tuple[str, ...]  # mutator names, in order

    def describe(self) -> str:
        return f"{self.origin} <- {' + '.join(self.steps) or 'unchanged'}"


def mutants(seed: int, count: int, corpus: dict[str, bytes], mutators=MUTATORS, max_steps: int = 3):
    """`count` mutants of corpus files, the same ones for the same seed."""
    rng = random.Random(seed)
    names = sorted(corpus)
    blobs = [corpus[n] for n in names]
    for _ in range(count):
        origin = rng.choice(names)
        data = corpus[origin]
        steps = []
        for _ in range(rng.randint(1, max_steps)):
            m = rng.choice(mutators)
            data = m(rng, data, blobs)
            steps.append(m.__name__)
        yield Mutant(data=data, origin=origin, steps=tuple(steps))
