"""The PostgreSQL side of the job store: connecting (psycopg 3, imported only here) and hiding the password.

Several servers of a lab can share one PostgreSQL database; the store's SQL is the SQLite store's, with
``%s`` placeholders, an identity column for ``seq`` and double-precision timestamps. Only a ``postgresql://``
URL brings psycopg in, so ``import workbench`` and a SQLite server never load it.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from workbench.errors import InputError

SCHEMES = ("postgresql://", "postgres://")
#: One key for all servers: the schema is created under this advisory lock, so two servers starting at
#: once do not both try to create the table (``CREATE TABLE IF NOT EXISTS`` is not safe against that).
_SCHEMA_LOCK = 0x776F726B62656E  # "workben"


def is_postgres(url: str) -> bool:
    return url.startswith(SCHEMES)


def mask_url(url: str) -> str:
    """The URL with its password (if any) replaced by ``***``: what messages and reprs may show."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:  # an unparsable URL: show only its scheme
        return url.split("://", 1)[0] + "://***"


#: Each store holds the session advisory lock (_OWNER_CLASS, owner) while its connection lives and stamps
#: the jobs it creates or moves with ``owner``; PostgreSQL drops the lock when the connection goes (a
#: crashed server's connection too), so ``ALIVE`` tells a job of a stopped server from one that another
#: server sharing the database is running right now.
_OWNER_CLASS = 0x776B  # "wk"
ALIVE = ("owner IN (SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid = "
         f"{_OWNER_CLASS} AND objsubid = 2 AND granted)")
#: PostgreSQL only: which store last created or moved a job (servers share the table, see ALIVE).
OWNER_COLUMN = "ALTER TABLE jobs ADD COLUMN IF NOT EXISTS owner BIGINT"


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def connect(url: str, schema: str) -> tuple[Any, tuple[type[BaseException], ...], int]:
    """An autocommit connection with the ``jobs`` table in place, the exception a duplicate id raises, and
    this store's owner number (its advisory lock held by the connection).

    Autocommit because every store operation is one statement: its ``WHERE`` is the compare-and-set, and
    PostgreSQL's row lock makes a second concurrent ``UPDATE`` re-check it and find the state gone.
    """
    import psycopg
    from psycopg.rows import dict_row

    try:
        conn = psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=10)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in filter(str.strip, schema.split(";")):
                conn.execute(statement)
            conn.execute(OWNER_COLUMN)
        owner = 0
        while not owner:  # a random number no live store holds
            owner = secrets.randbelow(2**31 - 2) + 1
            if not conn.execute("SELECT pg_try_advisory_lock(%s, %s) AS ok", (_OWNER_CLASS, owner)).fetchone()["ok"]:
                owner = 0
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        password = _password(url)
        if password:
            reason = reason.replace(password, "***")
        raise InputError(f"cannot use the PostgreSQL job store {mask_url(url)}: {reason}", "--store") from None
    return conn, (psycopg.IntegrityError,), owner
