"""A throw-away PostgreSQL server for the job store tests: ``initdb`` + ``pg_ctl`` in a temporary folder.

PostgreSQL refuses to run as root, so under root the cluster belongs to the ``postgres`` system user
(``runuser``). ``find_bin`` says why no server can be started when the binaries are missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from serve_support import free_port

SUPERUSER = "workbench"
PASSWORD = "not-a-real-pw-5f3a"  # trust auth ignores it; the tests check it never shows


def find_bin() -> tuple[Path | None, str]:
    """The folder with ``initdb`` and ``pg_ctl``, or None and the reason."""
    found = shutil.which("initdb") and shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(shutil.which("pg_ctl"))).parent, ""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder), ""
    return None, ("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin; "
                  "install them (Debian: apt-get install postgresql) to run the store against PostgreSQL")


def _as_owner(args: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *args] if owner else args


@contextlib.contextmanager
def cluster(bindir: Path) -> Iterator[str]:
    """A running server on a free local port; yields the URL of its ``postgres`` database (with a password)."""
    owner = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root and there is no 'postgres' user to run the server") from None
        owner = "postgres"
    root = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
    if owner:
        shutil.chown(root, owner)
    data, port = root / "data", free_port()
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(_as_owner([str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
                              "--no-sync", "-E", "UTF8"], owner), check=True, capture_output=True, env=env)
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c fsync=off"
    subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options,
                              "-w", "-t", "60", "start"], owner), check=True, capture_output=True, env=env)
    try:
        yield f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                                 owner), capture_output=True, env=env)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    """An empty database on the cluster of ``url``; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name
