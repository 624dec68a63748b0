"""Reaching a real cluster without hanging, and never sharing one between two runs.

qblox-instruments opens its SCPI connection with a long socket timeout, so an address that drops
packets or a host that accepts and never answers would freeze a run. :func:`probe` asks the
instrument's identity itself with a bounded timeout first. :class:`ClusterLock` serialises runs on one
cluster: a threading lock for runs in this process and an OS file lock (``filelock``: ``flock`` on Unix,
``msvcrt`` on Windows) on a file named after the cluster for runs in other processes (the OS releases
it if a process dies). The holder writes its pid next to the lock file, so a run that gives up can say
whom it waited for.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
import threading
import time
from pathlib import Path

from filelock import FileLock, Timeout

from workbench.errors import ExecutionError

SCPI_PORT = 5025  # Qblox clusters speak SCPI on this TCP port
LOCK_DIR_NAME = "workbench-qblox-locks"
_POLL = 0.05

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def probe(address: str, timeout: float, port: int = SCPI_PORT) -> str:
    """The instrument's ``*IDN?`` answer, within ``timeout`` seconds in total, or an ExecutionError.

    Connecting proves little (a firewall or a stuck service accepts and never answers); an answer to
    ``*IDN?`` proves an instrument is there and listening.
    """
    deadline = time.monotonic() + timeout
    where = f"{address}:{port}"
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except TimeoutError:
        raise ExecutionError(f"cluster at {where} did not accept a connection within {timeout:g} s") from None
    except OSError as exc:
        raise ExecutionError(f"cannot connect to the cluster at {where}: {exc.strerror or exc}") from None
    with sock:
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sock.sendall(b"*IDN?\n")
            answer = b""
            while not answer.endswith(b"\n"):
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = sock.recv(4096)
                if not chunk:
                    raise ExecutionError(f"the instrument at {where} closed the connection without answering *IDN?")
                answer += chunk
                if len(answer) > 65536:
                    break
        except TimeoutError:
            raise ExecutionError(f"the instrument at {where} accepted a connection but did not answer *IDN? "
                                 f"within {timeout:g} s") from None
        except OSError as exc:
            raise ExecutionError(f"lost the connection to {where}: {exc.strerror or exc}") from None
    text = answer.decode("ascii", "replace").strip()
    if "cluster" not in text.lower():
        raise ExecutionError(f"the instrument at {where} is not a Qblox cluster (*IDN? answered {text[:80]!r})")
    return text


def lock_path(cluster: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", cluster)
    return Path(tempfile.gettempdir()) / LOCK_DIR_NAME / f"{safe}.lock"


class ClusterLock:
    """Exclusive use of one cluster (by config name) across threads and processes."""

    def __init__(self, cluster: str, timeout: float):
        self.cluster = cluster
        self.timeout = timeout
        self.path = lock_path(cluster)
        self.holder_path = self.path.with_suffix(".holder")
        self._file_lock: FileLock | None = None
        self._thread_lock: threading.Lock | None = None

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        with _thread_locks_guard:
            lock = _thread_locks.setdefault(self.cluster, threading.Lock())
        if not lock.acquire(timeout=max(self.timeout, 0)):
            raise ExecutionError(f"cluster '{self.cluster}' is busy with another run in this process "
                                 f"(waited {self.timeout:g} s)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # thread_local=False: the run that acquired may be released from another thread, as the
            # threading lock in front of it allows
            file_lock = FileLock(str(self.path), thread_local=False)
            try:
                file_lock.acquire(timeout=max(deadline - time.monotonic(), 0), poll_interval=_POLL)
            except Timeout:
                raise ExecutionError(f"cluster '{self.cluster}' is busy with a run of {self._holder()} "
                                     f"(lock {self.path}, waited {self.timeout:g} s)") from None
            try:
                self._write_holder()
            except BaseException:
                file_lock.release()
                raise
        except BaseException:
            lock.release()
            raise
        self._file_lock = file_lock
        self._thread_lock = lock

    def _write_holder(self) -> None:
        """``pid N`` into the holder file; never through a link someone planted in the shared folder."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(self.holder_path, flags, 0o644), "w", encoding="utf-8") as handle:
            handle.write(f"pid {os.getpid()}")

    def _holder(self) -> str:
        """Who holds the lock, as its holder wrote it (bounded, one line), or "another process"."""
        try:
            with open(self.holder_path, encoding="utf-8", errors="replace") as handle:
                text = " ".join(handle.read(80).split())
        except OSError:
            text = ""
        return text or "another process"

    def release(self) -> None:
        if self._file_lock is not None:
            with contextlib.suppress(OSError):  # removed while still held, so never the next holder's file
                self.holder_path.unlink()
            self._file_lock.release()
            self._file_lock = None
        if self._thread_lock is not None:
            self._thread_lock.release()
            self._thread_lock = None

    @property
    def held(self) -> bool:
        return self._file_lock is not None

    def __enter__(self) -> ClusterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
