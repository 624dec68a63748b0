"""The job store: every job the server accepted, its state and where its run was kept.

An embedded SQLite database (WAL mode) beside the data directory holds the jobs; the runs themselves
are kept in the data directory (:mod:`workbench.results.datadir`). Every state change is one SQL
statement whose ``WHERE`` names the state it leaves, so two workers can never both claim a job, and a
restarted server knows exactly what happened: a job still ``queued`` runs once, a job that was
``running`` when the server stopped is marked ``failed`` with the reason (it may have half-driven an
instrument; running it again silently could run it twice).

Nothing secret is stored: credentials live in the runner's memory only, for one run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import InputError
from workbench.serve import store_postgres

#: Job states, in the order a job passes through them (``awaiting-auth`` only for QHAna tasks whose
#: executor needs credentials that were not given).
REGISTERED, AWAITING_AUTH, QUEUED, RUNNING, DONE, FAILED, CANCELLED = (
    "registered", "awaiting-auth", "queued", "running", "done", "failed", "cancelled")
FINAL = (DONE, FAILED, CANCELLED)
UNFINISHED = (REGISTERED, AWAITING_AUTH, QUEUED, RUNNING)
STOPPED_REASON = "the server stopped while the job was running; it was not run again (submit it again)"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq {seq},
    id TEXT UNIQUE NOT NULL,
    api TEXT NOT NULL,
    client TEXT NOT NULL,
    device TEXT NOT NULL,
    status TEXT NOT NULL,
    created {real} NOT NULL,
    updated {real} NOT NULL,
    request TEXT NOT NULL DEFAULT '{{}}',
    source TEXT,
    log TEXT NOT NULL DEFAULT '',
    error TEXT,
    tuid TEXT,
    folder TEXT,
    document TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
"""
#: The only differences between the dialects: the ``seq`` column and an 8-byte float (PostgreSQL's REAL
#: has 4 bytes, too few for a timestamp); placeholders are ``?`` in the SQL below and ``%s`` for psycopg.
_SQLITE_SCHEMA = _SCHEMA.format(seq="INTEGER PRIMARY KEY AUTOINCREMENT", real="REAL")
_POSTGRES_SCHEMA = _SCHEMA.format(seq="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", real="DOUBLE PRECISION")


class JobNotFoundError(InputError, LookupError):
    """No job with this id in the store."""


@dataclass(frozen=True)
class JobRecord:
    """One row of the store, as plain data."""

    seq: int
    id: str
    api: str  # "tergite" or "qhana"
    client: str
    device: str
    status: str
    created: float
    updated: float
    request: dict[str, Any]
    source: str | None
    log: str
    error: str | None
    tuid: str | None
    folder: str | None
    document: dict[str, Any] | None

    @property
    def final(self) -> bool:
        return self.status in FINAL


def _record(row: Mapping[str, Any]) -> JobRecord:
    data = dict(row)
    data.pop("owner", None)  # PostgreSQL's bookkeeping of which server holds the job
    data["request"] = json.loads(data["request"] or "{}")
    data["document"] = json.loads(data["document"]) if data["document"] else None
    return JobRecord(**data)


class JobStore:
    """Jobs in SQLite (``sqlite:///path`` or a plain path) or PostgreSQL (``postgresql://user@host/db``);
    thread-safe, one connection per store (docs/serve.md, "The store")."""

    def __init__(self, url: str | Path):
        text = str(url)
        self._lock = threading.RLock()
        self.path: Path | None = None
        if store_postgres.is_postgres(text):
            self.location = store_postgres.mask_url(text)  # the password never leaves connect()
            self._db, self._duplicate, owner = store_postgres.connect(text, _POSTGRES_SCHEMA)
            self._mark = "%s"
            self._stamp = {"owner": owner}
            self._orphan = f" AND NOT {store_postgres.ALIVE}"
            return
        path = Path(text.removeprefix("sqlite:///")) if text.startswith("sqlite:///") else Path(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.location = str(path)
        self._duplicate = (sqlite3.IntegrityError,)
        self._mark = "?"
        self._stamp: dict[str, Any] = {}  # columns every write sets (PostgreSQL: the owner, see recover)
        self._orphan = ""  # one server per SQLite file: every job in it is this server's
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SQLITE_SCHEMA)

    def __repr__(self) -> str:
        return f"JobStore({self.location!r})"

    def _run(self, query: str, args: tuple[Any, ...] | list[Any] = ()) -> Any:
        """One statement, written with ``?`` placeholders, on this store's connection; its cursor."""
        if self._mark != "?":
            query = query.replace("?", self._mark)
        return self._db.execute(query, args)

    def close(self) -> None:
        with self._lock:
            if self._stamp:  # release the owner lock now, not when PostgreSQL notices the closed connection
                self._db.execute("SELECT pg_advisory_unlock_all()")
            self._db.close()

    # -- recovery -------------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """After a (re)start: jobs left ``running`` fail with the reason; the ``queued`` ones, oldest first,
        are returned to be queued again (each still runs exactly once). On PostgreSQL only the jobs of
        servers that are gone: those of a server still connected to the same database stay its own."""
        now = time.time()
        with self._lock:
            self._run("UPDATE jobs SET status=?, error=?, updated=? WHERE status=?" + self._orphan,
                      (FAILED, STOPPED_REASON, now, RUNNING))
            rows = self._run("SELECT id FROM jobs WHERE status=?" + self._orphan + " ORDER BY seq",
                             (QUEUED,)).fetchall()
        return [r["id"] for r in rows]

    # -- writes ---------------------------------------------------------------------------------
    def create(self, *, api: str, client: str, device: str, status: str, request: Mapping[str, Any] | None = None,
               source: str | None = None, job_id: str | None = None, log: str = "") -> JobRecord:
        job_id = job_id or str(uuid.uuid4())
        now = time.time()
        with self._lock:
            try:
                columns = ("id", "api", "client", "device", "status", "created", "updated", "request", "source",
                           "log", *self._stamp)
                self._run(f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                          (job_id, api, client, device, status, now, now, json.dumps(dict(request or {})), source,
                           log, *self._stamp.values()))
            except self._duplicate:
                raise InputError(f"job {job_id} exists already", "job_id") from None
        return self.get(job_id)

    def transition(self, job_id: str, from_states: tuple[str, ...], to: str, **fields: Any) -> bool:
        """Move a job from one of ``from_states`` to ``to`` (setting ``fields``); False when it was in
        none of them (another worker claimed it, it was cancelled, ...)."""
        allowed = {"source", "error", "tuid", "folder", "document", "request", "device", "log"}
        sets = ["status=?", "updated=?", *(f"{key}=?" for key in self._stamp)]
        values: list[Any] = [to, time.time(), *self._stamp.values()]
        for key, value in fields.items():
            if key not in allowed:
                raise ValueError(f"unknown job field {key}")
            sets.append(f"{key}=?")
            values.append(json.dumps(value) if key in ("document", "request") else value)
        marks = ",".join("?" * len(from_states))
        with self._lock:
            cur = self._run(f"UPDATE jobs SET {', '.join(sets)} WHERE id=? AND status IN ({marks})",
                            (*values, job_id, *from_states))
            return cur.rowcount == 1

    def expire_registered(self, max_age: float) -> int:
        """Registered jobs whose file never came (a client that gave up) stop counting against the limits."""
        now = time.time()
        with self._lock:
            cur = self._run("UPDATE jobs SET status=?, error=?, updated=? WHERE status=? AND created<?",
                            (CANCELLED, f"no job file was uploaded within {max_age:.0f} s", now, REGISTERED,
                             now - max_age))
            return cur.rowcount

    def append_log(self, job_id: str, line: str) -> None:
        with self._lock:
            self._run("UPDATE jobs SET log = CASE WHEN log = '' THEN ? ELSE log || ? || ? END, "
                      "updated=? WHERE id=?", (line, "\n", line, time.time(), job_id))

    # -- reads ----------------------------------------------------------------------------------
    def get(self, job_id: str) -> JobRecord:
        with self._lock:
            row = self._run("SELECT * FROM jobs WHERE id=?", (str(job_id),)).fetchone()
        if row is None:
            raise JobNotFoundError(f"no job with id {str(job_id)[:64]!r}")
        return _record(row)

    def get_seq(self, seq: int) -> JobRecord:
        with self._lock:
            row = self._run("SELECT * FROM jobs WHERE seq=?", (int(seq),)).fetchone()
        if row is None:
            raise JobNotFoundError(f"no task {seq}")
        return _record(row)

    def count(self, statuses: tuple[str, ...], client: str | None = None) -> int:
        marks = ",".join("?" * len(statuses))
        query = f"SELECT COUNT(*) AS n FROM jobs WHERE status IN ({marks})"
        args: list[Any] = list(statuses)
        if client is not None:
            query += " AND client=?"
            args.append(client)
        with self._lock:
            return int(self._run(query, args).fetchone()["n"])

    def all(self) -> Iterator[JobRecord]:
        with self._lock:
            rows = self._run("SELECT * FROM jobs ORDER BY seq").fetchall()
        return (_record(r) for r in rows)
