"""``tergite-result.json``: our run as the job document Tergite's backend returns for a job.

Tergite's backend (``GET /jobs/{job_id}``, and the job documents it pushes to its front end) answers
``{"job_id", "status", "device", "result": {"memory": ...}, ...}``; the Tergite SDK and Tergite-side
tools read ``result.memory`` only:

* meas_level 2: per experiment (job order), per shot, one hex string (Python ``hex``) of the shot's
  bits, **bit i = memory slot i** (``"0x1"``: slot 0 read 1; Qiskit shows it as ``"01"``);
* meas_level 1: per experiment, per shot, one ``[I, Q]`` pair per acquired memory slot in slot order;
  with ``meas_return: avg`` one entry per experiment holding the averages (non-finite values become 0.0,
  as Tergite's backend writes them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from workbench.results.result import Result


def _hex_memory(memory: np.ndarray, slot_qubit: np.ndarray) -> list[list[str]]:
    """Python's ``hex`` of each shot's bits; ``hex`` runs once per distinct value, not per shot."""
    values = np.zeros(memory.shape[:2], np.int64)
    for e in range(memory.shape[0]):
        slots = np.flatnonzero(slot_qubit[e] >= 0)
        if slots.size:
            values[e] = memory[e][:, slots].astype(np.int64) @ (np.int64(1) << slots.astype(np.int64))
    distinct, where = np.unique(values, return_inverse=True)
    text = np.array([hex(int(v)) for v in distinct], dtype=object)
    return text[where.reshape(values.shape)].tolist()


def _pair(value: complex) -> list[float]:
    value = complex(value)
    if not (np.isfinite(value.real) and np.isfinite(value.imag)):
        return [0.0, 0.0]
    return [float(value.real), float(value.imag)]


def _iq_memory(iq: np.ndarray, slot_qubit: np.ndarray) -> list[list[list[list[float]]]]:
    out = []
    for e in range(iq.shape[0]):
        slots = np.flatnonzero(slot_qubit[e] >= 0)
        out.append([[_pair(shot[s]) for s in slots] for shot in iq[e]])
    return out


def tergite_result(result: Result) -> dict[str, Any] | None:
    """The job document, or None when the run has neither bits nor IQ points (nothing Tergite returns)."""
    ds = result.dataset
    slot_qubit = np.asarray(ds["slot_qubit"].values)
    if "memory" in ds:
        memory: Any = _hex_memory(np.asarray(ds["memory"].values), slot_qubit)
    elif "iq" in ds:
        memory = _iq_memory(np.asarray(ds["iq"].values), slot_qubit)
    elif "iq_mean" in ds:
        memory = _iq_memory(np.asarray(ds["iq_mean"].values)[:, None, :], slot_qubit)
    else:
        return None
    return {"job_id": str(result.trace.get("jobId") or result.job_id), "status": "successful",
            "device": result.device, "result": {"memory": memory}}
