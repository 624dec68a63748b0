"""What runs in the aer executor's helper process (started by :mod:`workbench.executors.aer.helper`).

It reads simulation requests from the socket whose descriptor is its first argument, runs them on Aer
and sends back the bits per shot (decoded here, so a million shots travel as one int8 array rather
than a million strings) and the statevector when asked for. It imports neither the workbench nor
anything but numpy and qiskit-aer, and it is run by path with ``-P``, so it starts as fast as Aer
imports and finds the same libraries as the process that started it.

Every failure is an answer (``("error", text)``), never a traceback: the calling process turns it
into the executor's usual one-line error.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
from typing import Any

PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Linux: be killed when the process that started us ends, even by SIGKILL (a simulation in C++
    would otherwise run on for minutes with nobody waiting for it)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)


def decode_memory(memory: list[str], width: int, np: Any) -> Any:
    """Aer's per-shot hex memory (bit m = classical bit m) as (shots, width) int8 bits, decoded once per
    distinct value."""
    shots = len(memory)
    if width == 0 or shots == 0:
        return np.zeros((shots, width), dtype=np.int8)
    distinct = list(dict.fromkeys(memory))
    index = dict(zip(distinct, range(len(distinct)), strict=True))
    rows = np.fromiter(map(index.__getitem__, memory), dtype=np.int64, count=shots)
    values = [int(h, 16) for h in distinct]
    if width <= 62:
        table = ((np.array(values, dtype=np.int64)[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.int8)
    else:  # wider than an int64
        table = np.array([[(v >> m) & 1 for m in range(width)] for v in values], dtype=np.int8)
    return table[rows]


def _one_line(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _simulate(request: dict[str, Any], simulators: dict[str, Any], np: Any) -> tuple[str, Any]:
    from qiskit_aer import AerSimulator

    method = request["method"]
    if method not in simulators:
        simulators[method] = AerSimulator(method=method)
    circuit = request["circuit"]
    if request.get("save_statevector"):
        circuit = circuit.copy()
        circuit.save_statevector()
    try:
        result = simulators[method].run(circuit, shots=request["shots"], seed_simulator=request["seed"],
                                        memory=True).result()
    except Exception as exc:
        return "error", _one_line(exc)
    if not result.success:
        return "error", _one_line(result.status)
    hexes = getattr(result.results[0].data, "memory", None)
    width = int(request["width"])
    bits = decode_memory(list(hexes), width, np) if hexes is not None and width else None
    vector = np.asarray(result.data(0)["statevector"], dtype=complex) if request.get("save_statevector") else None
    return "ok", (bits, vector)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the calling process decides when a run stops
    fd, parent = int(sys.argv[1]), int(sys.argv[2])
    _die_with_parent(parent)
    from multiprocessing.connection import Connection

    connection = Connection(fd)
    try:
        import numpy as np
        import qiskit_aer  # noqa: F401 (the import is what may fail)
    except BaseException as exc:
        connection.send(("error", f"cannot import qiskit-aer in the helper process: {_one_line(exc)}"))
        return
    connection.send(("ready", os.getpid()))
    simulators: dict[str, Any] = {}
    while True:
        try:
            raw = connection.recv_bytes()
        except (EOFError, OSError):
            return  # the calling process is gone or done with us
        try:
            reply = _simulate(pickle.loads(raw), simulators, np)
        except Exception as exc:
            reply = ("error", f"{type(exc).__name__}: {_one_line(exc)}")
        try:
            connection.send(reply)
        except (OSError, pickle.PicklingError) as exc:
            try:
                connection.send(("error", f"cannot send the result back: {_one_line(exc)}"))
            except OSError:
                return


if __name__ == "__main__":
    main()
