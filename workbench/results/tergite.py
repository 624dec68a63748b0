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

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from workbench.results.result import Result


def _shot_values(memory: np.ndarray, slot_qubit: np.ndarray) -> np.ndarray:
    """Each shot's bits as one integer (bit i = memory slot i), (experiments, shots)."""
    values = np.zeros(memory.shape[:2], np.int64)
    for e in range(memory.shape[0]):
        slots = np.flatnonzero(slot_qubit[e] >= 0)
        if slots.size:
            values[e] = memory[e][:, slots].astype(np.int64) @ (np.int64(1) << slots.astype(np.int64))
    return values


def _texts(values: np.ndarray, text: Callable[[int], str]) -> np.ndarray:
    """``text(v)`` for each value, as an object array of values' shape; ``text`` runs once per distinct
    value. Few slots give small values: a lookup table then replaces ``np.unique``'s sort."""
    flat = values.reshape(-1)
    if flat.size and int(flat.min()) >= 0 and int(flat.max()) < max(4096, 4 * flat.size):
        present = np.flatnonzero(np.bincount(flat))
        table = np.empty(int(present[-1]) + 1, dtype=object)
        table[present] = [text(int(v)) for v in present]
        return table[values]
    distinct, where = np.unique(flat, return_inverse=True)
    return np.array([text(int(v)) for v in distinct], dtype=object)[where.reshape(values.shape)]


def _hex_memory(memory: np.ndarray, slot_qubit: np.ndarray) -> list[list[str]]:
    """Python's ``hex`` of each shot's bits."""
    return _texts(_shot_values(memory, slot_qubit), hex).tolist()


def _hex_memory_json(memory: np.ndarray, slot_qubit: np.ndarray) -> str:
    """``json.dumps(_hex_memory(...))``, joined from the quoted strings of the distinct values: the encoder
    would otherwise escape-check each of a sweep's 200 000 short strings (a few times slower)."""
    quoted = _texts(_shot_values(memory, slot_qubit), lambda v: f'"{hex(v)}"')
    return "[" + ", ".join("[" + ", ".join(row) + "]" for row in quoted.tolist()) + "]"


def _iq_memory(iq: np.ndarray, slot_qubit: np.ndarray) -> list[list[list[list[float]]]]:
    out = []
    for e in range(iq.shape[0]):
        slots = np.flatnonzero(slot_qubit[e] >= 0)
        points = iq[e][:, slots]  # (shots, slots)
        pairs = np.stack([points.real, points.imag], axis=-1).astype(float)
        pairs[~(np.isfinite(points.real) & np.isfinite(points.imag))] = 0.0  # as Tergite's backend writes them
        out.append(pairs.tolist())
    return out


def _document(result: Result, memory: Any) -> dict[str, Any]:
    return {"job_id": str(result.trace.get("jobId") or result.job_id), "status": "successful",
            "device": result.device, "result": {"memory": memory}}


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
    return _document(result, memory)


def tergite_json(result: Result) -> str | None:
    """``json.dumps(tergite_result(result))``, the text of ``tergite-result.json``, written faster."""
    ds = result.dataset
    if "memory" not in ds:
        document = tergite_result(result)
        return None if document is None else json.dumps(document)
    memory = _hex_memory_json(np.asarray(ds["memory"].values), np.asarray(ds["slot_qubit"].values))
    head = _document(result, None)
    del head["result"]
    return json.dumps(head)[:-1] + ', "result": {"memory": ' + memory + "}}"
