"""A private, throw-away PostgreSQL server for tests (logical decoding enabled).

    with PostgresServer() as pg:
        pg.execute("CREATE TABLE t (id int primary key)")
        rows = pg.query("SELECT id FROM t")      # list of tuples of str | None
        pg.dsn                                    # postgresql://postgres:...@127.0.0.1:PORT/postgres

initdb runs into a fresh temp dir, the server listens on 127.0.0.1 at a free port (and on a
unix socket inside that temp dir only), with wal_level=logical. synchronous_commit stays on: SQL-level slot reads
(pg_logical_slot_peek_binary_changes) only see WAL that is flushed. stop() stops exactly that server
(pg_ctl -D <its data dir>) and removes the temp dir.

SQL goes through the `psql` client (Debian package postgresql-client-15; setup.sh installs it):
no Python driver is needed in the main venv.

initdb refuses to run as root: when we are root, the server files belong to (and the server runs
as) the OS user `postgres` (created if missing; Debian's postgresql-common package creates it).
"""

from __future__ import annotations

import csv
import glob
import io
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["PostgresServer", "PsqlError", "find_pg_bindir"]

NULL_MARK = "\x01NULL\x01"


class PsqlError(RuntimeError):
    """A psql run that failed; .stderr has the server's message."""

    def __init__(self, message: str, stderr: str, sql: str):
        super().__init__(message)
        self.stderr = stderr
        self.sql = sql


def find_pg_bindir() -> Path:
    """Directory holding initdb/pg_ctl/postgres: $STREAMC_PG_BINDIR, else Debian's newest
    /usr/lib/postgresql/<N>/bin, else wherever `initdb` is on PATH."""
    env = os.environ.get("STREAMC_PG_BINDIR")
    if env:
        return Path(env)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    raise RuntimeError("PostgreSQL server binaries not found: run tests/realtools/streaming/setup.sh "
                       "(installs Debian's postgresql-15) or set STREAMC_PG_BINDIR")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """Context manager; also usable as start()/stop() from a pytest fixture."""

    def __init__(self, *, os_user: str = "postgres", superuser: str = "postgres",
                 extra_conf: dict[str, str] | None = None, start_timeout: float = 30.0):
        self.bindir = find_pg_bindir()
        self.psql_bin = shutil.which("psql") or str(self.bindir / "psql")
        self.os_user = os_user
        self.superuser = superuser
        self.password = "pw_" + secrets.token_hex(8)
        self.host = "127.0.0.1"
        self.port = 0
        self.dbname = "postgres"
        self.extra_conf = dict(extra_conf or {})
        self.start_timeout = start_timeout
        self.tmpdir: Path | None = None
        self.datadir: Path | None = None
        self._started = False

    # ---------------------------------------------------------------- lifecycle
    @property
    def dsn(self) -> str:
        return f"postgresql://{self.superuser}:{self.password}@{self.host}:{self.port}/{self.dbname}"

    def dsn_for(self, user: str, password: str, dbname: str | None = None) -> str:
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{dbname or self.dbname}"

    @property
    def server_version(self) -> str:
        return self.query("SHOW server_version")[0][0]

    def _as_owner(self, cmd: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return cmd
        return ["runuser", "-u", self.os_user, "--", *cmd]

    def _ensure_os_user(self) -> None:
        if os.geteuid() != 0:
            return
        try:
            pwd.getpwnam(self.os_user)
        except KeyError:
            subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                            "--shell", "/usr/sbin/nologin", self.os_user], check=True)

    def start(self) -> "PostgresServer":
        if self._started:
            return self
        self._ensure_os_user()
        # as root the server user must reach the dir: keep it out of a root-only $TMPDIR
        base = os.environ.get("STREAMC_PG_TMPDIR") or ("/tmp" if os.geteuid() == 0 else None)
        self.tmpdir = Path(tempfile.mkdtemp(prefix="streamc-pg-", dir=base))
        self.datadir = self.tmpdir / "data"
        pwfile = self.tmpdir / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            ent = pwd.getpwnam(self.os_user)
            os.chown(self.tmpdir, ent.pw_uid, ent.pw_gid)
            os.chown(pwfile, ent.pw_uid, ent.pw_gid)
        os.chmod(self.tmpdir, 0o700)
        try:
            self._run_checked(self._as_owner([
                str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", self.superuser,
                f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                "--encoding=UTF8", "--locale=C", "--no-sync"]), "initdb")
            pwfile.unlink()
            conf = {
                "listen_addresses": "'127.0.0.1'",
                "unix_socket_directories": f"'{self.tmpdir}'",
                "wal_level": "logical",
                "max_replication_slots": "10",
                "max_wal_senders": "10",
                "max_connections": "50",
                "fsync": "off",
                "full_page_writes": "off",
                "shared_buffers": "32MB",
                "log_min_messages": "warning",
                **self.extra_conf,
            }
            with open(self.datadir / "postgresql.conf", "a") as fh:
                fh.write("\n# streamc test server\n")
                for k, v in conf.items():
                    fh.write(f"{k} = {v}\n")
            last_err = ""
            for _attempt in range(5):
                self.port = _free_port()
                proc = subprocess.run(self._as_owner([
                    str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.tmpdir / "server.log"),
                    "-o", f"-p {self.port}", "-w", "-t", str(int(self.start_timeout)), "start"]),
                    text=True, capture_output=True)
                if proc.returncode == 0:
                    self._started = True
                    break
                last_err = proc.stdout + proc.stderr + self.server_log()
                if "already in use" not in last_err and "could not bind" not in last_err:
                    break
            if not self._started:
                raise RuntimeError(f"pg_ctl start failed:\n{last_err}")
            self._wait_ready()
            return self
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                self.query("SELECT 1")
                return
            except PsqlError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop this server only (pg_ctl on its own data dir) and delete its files."""
        if self._started and self.datadir is not None:
            subprocess.run(self._as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
                                           "-m", "fast", "-w", "-t", "30", "stop"]),
                           text=True, capture_output=True)
            self._started = False
        if self.tmpdir is not None and self.tmpdir.exists():
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.tmpdir = None

    def server_log(self) -> str:
        if self.tmpdir is None:
            return ""
        try:
            return (self.tmpdir / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---------------------------------------------------------------- SQL
    @staticmethod
    def _run_checked(cmd: list[str], what: str) -> None:
        proc = subprocess.run(cmd, text=True, capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")

    def _psql(self, args: list[str], sql: str, *, user: str | None, password: str | None,
              dbname: str | None, timeout: float) -> str:
        env = dict(os.environ)
        env["PGPASSWORD"] = self.password if user is None else (password or "")
        env.pop("PGSERVICE", None)
        env["PGCONNECT_TIMEOUT"] = "10"
        cmd = [self.psql_bin, "-X", "-q", "-v", "ON_ERROR_STOP=1",
               "-h", self.host, "-p", str(self.port), "-U", user or self.superuser,
               "-d", dbname or self.dbname, *args]
        proc = subprocess.run(cmd, input=sql, text=True, capture_output=True, env=env, timeout=timeout)
        if proc.returncode != 0:
            raise PsqlError(f"psql failed ({proc.returncode}): {proc.stderr.strip()}", proc.stderr, sql)
        return proc.stdout

    def execute(self, sql: str, *, user: str | None = None, password: str | None = None,
                dbname: str | None = None, single_transaction: bool = False, timeout: float = 120) -> str:
        """Run a SQL script (many statements allowed); raise PsqlError at the first error."""
        args = ["-1"] if single_transaction else []
        return self._psql(args, sql, user=user, password=password, dbname=dbname, timeout=timeout)

    def execute_file(self, path: str | os.PathLike, **kw) -> str:
        return self.execute(Path(path).read_text(), **kw)

    def query(self, sql: str, *, user: str | None = None, password: str | None = None,
              dbname: str | None = None, timeout: float = 120) -> list[tuple[str | None, ...]]:
        """Result rows as tuples of text (NULL -> None). Give one statement: psql prints the rows of
        every statement of a script one after the other."""
        out = self._psql(["--csv", "-t", "-P", f"null={NULL_MARK}"], sql, user=user, password=password,
                         dbname=dbname, timeout=timeout)
        rows = []
        for rec in csv.reader(io.StringIO(out)):
            rows.append(tuple(None if v == NULL_MARK else v for v in rec))
        return rows

    def create_database(self, name: str) -> None:
        self.execute(f'CREATE DATABASE "{name}"')
