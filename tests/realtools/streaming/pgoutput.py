"""Read a pgoutput logical replication slot through SQL and decode its messages.

test_decoding ignores publications, so it cannot prove what a publication captures. pgoutput can be
read without a replication connection through the SQL functions
`pg_logical_slot_peek_binary_changes(slot, upto_lsn, upto_nchanges, 'proto_version', '1',
'publication_names', 'pub')` (the _get_ variant also consumes). Only the *binary* variants work:
pgoutput emits binary output, so pg_logical_slot_peek_changes() fails with "logical decoding output
plugin "pgoutput" produces binary output, but function ... expects textual data".

This decodes protocol version 1 messages (Begin, Commit, Relation, Insert, Update, Delete,
Truncate; Origin/Type/Message are skipped): see PostgreSQL's "Logical Replication Message Formats".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = ["Change", "create_pgoutput_slot", "peek_pgoutput_changes", "decode_messages", "drop_slot"]


@dataclass
class Change:
    op: str                       # insert | update | delete | truncate
    table: str                    # schema.table
    new: dict[str, str | None] = field(default_factory=dict)   # column -> text value (None = NULL)
    old: dict[str, str | None] = field(default_factory=dict)   # before-image (REPLICA IDENTITY)


class _Reader:
    def __init__(self, data: bytes):
        self.d = data
        self.i = 0

    def byte(self) -> str:
        c = chr(self.d[self.i])
        self.i += 1
        return c

    def int8(self) -> int:
        v = self.d[self.i]
        self.i += 1
        return v

    def int16(self) -> int:
        (v,) = struct.unpack_from(">h", self.d, self.i)
        self.i += 2
        return v

    def int32(self) -> int:
        (v,) = struct.unpack_from(">i", self.d, self.i)
        self.i += 4
        return v

    def int64(self) -> int:
        (v,) = struct.unpack_from(">q", self.d, self.i)
        self.i += 8
        return v

    def cstring(self) -> str:
        end = self.d.index(b"\0", self.i)
        s = self.d[self.i:end].decode()
        self.i = end + 1
        return s

    def raw(self, n: int) -> bytes:
        b = self.d[self.i:self.i + n]
        self.i += n
        return b


def _tuple(r: _Reader, cols: list[str]) -> dict[str, str | None]:
    n = r.int16()
    out: dict[str, str | None] = {}
    for k in range(n):
        name = cols[k] if k < len(cols) else f"col{k}"
        kind = r.byte()
        if kind == "n":
            out[name] = None
        elif kind == "u":
            out[name] = "<unchanged-toast>"
        elif kind in ("t", "b"):
            ln = r.int32()
            out[name] = r.raw(ln).decode(errors="replace")
        else:
            raise ValueError(f"unknown tuple column kind {kind!r}")
    return out


def decode_messages(messages: list[bytes]) -> list[Change]:
    """Decode a sequence of pgoutput (proto v1) messages into row changes."""
    relations: dict[int, tuple[str, list[str]]] = {}
    changes: list[Change] = []
    for msg in messages:
        r = _Reader(msg)
        kind = r.byte()
        if kind == "R":
            relid = r.int32()
            ns = r.cstring()
            name = r.cstring()
            r.int8()  # replica identity setting
            ncols = r.int16()
            cols = []
            for _ in range(ncols):
                r.int8()
                cols.append(r.cstring())
                r.int32()
                r.int32()
            relations[relid] = (f"{ns}.{name}", cols)
        elif kind == "I":
            relid = r.int32()
            table, cols = relations[relid]
            assert r.byte() == "N"
            changes.append(Change("insert", table, new=_tuple(r, cols)))
        elif kind == "U":
            relid = r.int32()
            table, cols = relations[relid]
            old: dict[str, str | None] = {}
            t = r.byte()
            if t in ("K", "O"):
                old = _tuple(r, cols)
                t = r.byte()
            assert t == "N"
            changes.append(Change("update", table, new=_tuple(r, cols), old=old))
        elif kind == "D":
            relid = r.int32()
            table, cols = relations[relid]
            t = r.byte()
            assert t in ("K", "O")
            changes.append(Change("delete", table, old=_tuple(r, cols)))
        elif kind == "T":
            nrel = r.int32()
            r.int8()
            for _ in range(nrel):
                relid = r.int32()
                changes.append(Change("truncate", relations.get(relid, (f"oid:{relid}", []))[0]))
        # B(egin), C(ommit), O(rigin), Y(type), M(essage): nothing to collect
    return changes


def create_pgoutput_slot(pg, slot: str, *, dbname: str | None = None, user: str | None = None,
                         password: str | None = None) -> str:
    """Create a logical slot with the pgoutput plugin; return its starting LSN."""
    rows = pg.query(f"SELECT lsn FROM pg_create_logical_replication_slot('{slot}', 'pgoutput')",
                    dbname=dbname, user=user, password=password)
    return rows[0][0]


def peek_pgoutput_changes(pg, slot: str, publications: list[str], *, dbname: str | None = None,
                          user: str | None = None, password: str | None = None,
                          consume: bool = False) -> list[Change]:
    """Changes waiting in `slot`, filtered by the publications exactly as a subscriber would see them."""
    fn = "pg_logical_slot_get_binary_changes" if consume else "pg_logical_slot_peek_binary_changes"
    pubs = ",".join(publications)
    rows = pg.query(
        f"SELECT encode(data, 'hex') FROM {fn}('{slot}', NULL, NULL, "
        f"'proto_version', '1', 'publication_names', '{pubs}')",
        dbname=dbname, user=user, password=password)
    return decode_messages([bytes.fromhex(r[0]) for r in rows])


def drop_slot(pg, slot: str, *, dbname: str | None = None) -> None:
    pg.execute(f"SELECT pg_drop_replication_slot('{slot}')", dbname=dbname)
