"""qiskit-aer in a helper process, so that Ctrl-C and Cancel stop a run within a fraction of a second.

Aer's simulators hold Python's global interpreter lock for the whole of a run: a deep 21-qubit circuit
kept the calling process from running any Python for 40 s and more (no signal handler, so Ctrl-C was
ignored until the end; no Cancel button; no Dask heartbeat), and a run cannot be stopped from inside.
So each simulation is sent to a helper process (:mod:`workbench.executors.aer.helper_main`) while this
process waits in short polls, looking at ``cancel`` and letting Ctrl-C through; stopping a run kills
the helper, which stops the C++ simulation at once.

The helper is started on first use and kept for the process, like the local Dask cluster: starting it
and importing Aer costs about a second once, a simulation's round trip well under a millisecond plus
the bits (``benchmarks/bench_aer.py``). One run at a time uses it; another thread waits its turn.
On Linux the helper dies with the thread that started it; it also leaves when this process closes
the connection. Where there is no ``socketpair`` to hand over (not POSIX), Aer runs in this process.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from workbench.errors import CancelledError, ExecutionError

log = logging.getLogger(__name__)

POLL = 0.05  # s between looks at ``cancel`` while the helper works
SERVER = Path(__file__).with_name("helper_main.py")
AVAILABLE = os.name == "posix" and hasattr(socket, "socketpair")

_lock = threading.Lock()
_helper: _Helper | None = None
_atexit_registered = False


class _Helper:
    """One helper process and its connection."""

    def __init__(self) -> None:
        from multiprocessing.connection import Connection

        ours, theirs = socket.socketpair()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-P", str(SERVER), str(theirs.fileno()), str(os.getpid())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                start_new_session=True)  # Ctrl-C in a terminal reaches this process only; it decides
        except OSError as exc:
            ours.close()
            self._stderr.close()
            raise ExecutionError(f"cannot start the helper process for qiskit-aer ({exc.strerror or exc})") from None
        finally:
            theirs.close()
        self.connection = Connection(ours.detach())
        self.ready = False

    def alive(self) -> bool:
        return self.process.poll() is None

    def call(self, request: dict[str, Any], cancel: Any, what: str) -> Any:
        if not self.ready:
            self._answer(cancel, "starting")
            self.ready = True
            log.info("qiskit-aer helper process %d started", self.process.pid)
        try:
            self.connection.send_bytes(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
        except (OSError, pickle.PicklingError) as exc:
            raise ExecutionError(f"cannot hand {what} to qiskit-aer's helper process: {exc}") from None
        return self._answer(cancel, what)

    def _answer(self, cancel: Any, what: str) -> Any:
        while not self.connection.poll(POLL):
            if cancel is not None and cancel.is_set():
                raise CancelledError("run cancelled")
            if not self.alive():
                break
        try:
            kind, value = self.connection.recv()
        except (EOFError, OSError):
            raise ExecutionError(self._death(what)) from None
        if kind == "error":
            raise ExecutionError(f"qiskit-aer failed on {what}: {value}")
        return value

    def _death(self, what: str) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._stderr.seek(0)
        tail = " ".join(self._stderr.read()[-2000:].decode("utf-8", "replace").split())[-300:]
        if code is not None and code < 0:
            how = f"was killed by signal {-code}" + (" (out of memory?)" if -code == 9 else "")
        else:
            how = f"exited with code {code}"
        return f"qiskit-aer's helper process {how} while running {what}" + (f": {tail}" if tail else "")

    def stop(self) -> None:
        """Kill the helper (a simulation in progress cannot be stopped any other way) and reap it."""
        with contextlib.suppress(OSError):
            self.connection.close()
        if self.alive():
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process that outlives SIGKILL
            log.warning("qiskit-aer's helper process %d did not end", self.process.pid)
        self._stderr.close()


def simulate(request: dict[str, Any], cancel: Any = None, what: str = "a circuit") -> Any:
    """Run one request in the helper and return its answer, within ``POLL`` s of ``cancel`` being set.

    ``request``: ``circuit``, ``method``, ``shots``, ``seed``, ``width`` (classical bits to decode) and
    ``save_statevector``; the answer is ``(bits or None, statevector or None)``. Raises
    :class:`CancelledError` on cancel, :class:`ExecutionError` when Aer or the helper fails. On any
    interruption, ``KeyboardInterrupt`` included, the helper is killed and the next call starts another.
    """
    global _helper, _atexit_registered
    while not _lock.acquire(timeout=POLL):
        if cancel is not None and cancel.is_set():
            raise CancelledError("run cancelled")
    try:
        if _helper is not None and not _helper.alive():
            _helper.stop()
            _helper = None
        if _helper is None:
            _helper = _Helper()
            if not _atexit_registered:
                atexit.register(stop_helper)
                _atexit_registered = True
        helper = _helper
        try:
            return helper.call(request, cancel, what)
        except BaseException:
            helper.stop()
            _helper = None
            raise
    finally:
        _lock.release()


def stop_helper() -> None:
    """Stop this process's helper, if any (the next simulation starts another)."""
    global _helper
    helper, _helper = _helper, None
    if helper is not None:
        helper.stop()


def helper_pid() -> int | None:
    """The helper's process id (for tests and diagnostics), or None when there is none."""
    helper = _helper
    return helper.process.pid if helper is not None and helper.alive() else None
