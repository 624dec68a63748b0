"""Ctrl-C and SIGTERM for the command line: the first one stops the command cleanly, a second one at once.

The first SIGINT (or SIGTERM) sets the command's cancel flag (:func:`cancel_event`, which the run
polls: the aer executor kills its helper process, a parallel run drops its Dask tasks) and raises
:class:`Interrupted` in the main thread, wherever it is, so staging folders are removed on the way
out. An exception raised by a signal handler can be swallowed (inside a garbage-collector callback,
for one); the flag still stops the run, and :func:`check` catches what is left. ``main`` then prints
one line and the program leaves with 128 + the signal number (130, 143) without the interpreter's
slow teardown: worker and helper processes are killed, not closed politely.

A second signal while that happens, or any signal once the command is over, ends the process at once
with the same line and code: never a traceback from a thread being joined, never death by signal.
What an abrupt end leaves behind (a ``.partial`` staging folder) the next run removes
(:func:`workbench.results.exports.remove_stale_staging`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The first SIGINT or SIGTERM: a ``KeyboardInterrupt``, so every cleanup written for Ctrl-C runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _State:
    def __init__(self) -> None:
        self.signum: int | None = None  # the first signal received
        self.finishing = False  # the command is over: no more exceptions, only a quick exit
        self.announced = False  # the one line has been printed
        self.cancel = threading.Event()


_state = _State()


def message(signum: int) -> str:
    return "error: interrupted" if signum == signal.SIGINT else f"error: terminated ({signal.Signals(signum).name})"


def cancel_event() -> threading.Event:
    """The flag a command passes to its runs as ``cancel``: set by the first signal."""
    return _state.cancel


def signalled() -> bool:
    return _state.signum is not None


def check() -> None:
    """Raise :class:`Interrupted` if a signal arrived whose exception was swallowed on its way."""
    if _state.signum is not None:
        raise Interrupted(_state.signum)


def announce(exc: BaseException | None = None) -> int:
    """Print the one line for the interruption and return the exit code (128 + signal)."""
    signum = _state.signum if _state.signum is not None else int(getattr(exc, "signum", signal.SIGINT))
    print(message(signum), file=sys.stderr, flush=True)
    _state.announced = True
    _state.signum = signum
    return 128 + signum


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state.signum is not None or _state.finishing:
        _leave_now(signum if _state.signum is None else _state.signum)
    _state.signum = signum
    _state.cancel.set()
    raise Interrupted(signum)


def _quick_teardown() -> None:
    """End the processes this one started (aer's helper, the local Dask cluster's workers) without the
    polite protocols that take seconds, and release what ``multiprocessing`` registered for them (else
    its resource tracker warns about leaked semaphores). Logging is switched off first: the one line has
    been said, and Dask's process monitor would otherwise log the workers it sees killed."""
    logging.disable(logging.CRITICAL)
    aer = sys.modules.get("workbench.executors.aer.helper")
    pid = aer.helper_pid() if aer is not None else None
    if pid is not None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    mp = sys.modules.get("multiprocessing")
    if mp is not None:
        for child in mp.active_children():
            with contextlib.suppress(Exception):
                child.kill()
        util = sys.modules.get("multiprocessing.util")
        if util is not None:
            with contextlib.suppress(Exception):
                util._exit_function()  # joins the killed children and runs the finalizers


def _leave_now(signum: int) -> None:
    """A signal while cleaning up or shutting down: no Python cleanup (it may be what hangs)."""
    _state.finishing = True
    for s in HANDLED:  # a third signal during the teardown below must not interrupt it
        with contextlib.suppress(ValueError, OSError):
            signal.signal(s, signal.SIG_IGN)
    _quick_teardown()
    if not _state.announced:
        with contextlib.suppress(OSError):
            os.write(2, (message(signum) + "\n").encode())
    os._exit(128 + signum)


def _exit_interrupted(code: int) -> None:
    """The program after an interruption: out, without the interpreter's teardown of every imported
    library and every atexit handler (seconds with Dask loaded: closing a local cluster politely takes
    2 to 4 s), during which Python restores the default handlers and a further Ctrl-C would kill it by
    signal instead of exit code 130."""
    for s in HANDLED:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(s, signal.SIG_IGN)
    _quick_teardown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


@contextlib.contextmanager
def handled(keep: bool) -> Iterator[None]:
    """Install the handlers for the block. ``keep``: the ``workbench`` program itself, whose handlers
    stay for its shutdown and which leaves quickly after an interruption; otherwise (``main`` called
    from Python) the previous handlers come back. Outside the main thread: nothing is installed."""
    global _state
    _state = _State()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {s: signal.getsignal(s) for s in HANDLED}
    for s in HANDLED:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        _state.finishing = True
        if not keep:
            for s, handler in previous.items():
                signal.signal(s, handler)
        elif _state.announced and _state.signum is not None:
            _exit_interrupted(128 + _state.signum)
