"""One job's :class:`ExecutionData` from the parts its tasks returned, as a serial run would have built it.

Parts cover disjoint sets of experiments (not always contiguous: the pulse simulator batches by the
qubits an experiment touches). Each part is only as wide as its own widest experiment in memory slots,
so arrays are padded with what an executor writes where nothing was acquired: NaN for IQ and other
float data, -1 for ``slot_qubit``, 0 for bits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench.executors.base import ExecutionData


def merge(parts: Sequence[tuple[Sequence[int], ExecutionData]], n_exp: int,
          info_rules: Mapping[str, str] | None = None) -> ExecutionData:
    """Stitch ``(experiment indices, data)`` parts into the data of ``n_exp`` experiments."""
    if len(parts) == 1 and list(parts[0][0]) == list(range(n_exp)):
        return parts[0][1]
    seen = sorted(i for ids, _ in parts for i in ids)
    if seen != list(range(n_exp)):
        raise ValueError(f"parts cover experiments {seen[:10]}..., not 0..{n_exp - 1} once each")
    slots = max((d.slot_qubit.shape[1] for _, d in parts), default=0)
    rows = [np.asarray(ids, dtype=np.int64) for ids, _ in parts]

    def stitch(get: Any, fill: Any) -> np.ndarray | None:
        arrays = [get(d) for _, d in parts]
        if all(a is None for a in arrays):
            return None
        if any(a is None for a in arrays):
            raise ValueError("tasks returned different kinds of data for one job")
        first = arrays[0]
        shape = (n_exp, *first.shape[1:-1], slots)
        out = np.full(shape, fill, dtype=first.dtype)
        for idx, a in zip(rows, arrays, strict=True):
            out[idx, ..., : a.shape[-1]] = a
        return out

    slot_qubit = stitch(lambda d: d.slot_qubit, -1)
    assert slot_qubit is not None
    merged = ExecutionData(
        slot_qubit=slot_qubit,
        iq=stitch(lambda d: d.iq, np.nan + 1j * np.nan),
        memory=stitch(lambda d: d.memory, 0),
        iq_mean=stitch(lambda d: d.iq_mean, np.nan + 1j * np.nan),
    )
    for name in dict.fromkeys(k for _, d in parts for k in d.extras):
        merged.extras[name] = _merge_extra(name, parts, rows, n_exp, slots)
    vectors = [d.statevector for _, d in parts]
    if any(v is not None for v in vectors):
        ordered: list[np.ndarray | None] = [None] * n_exp
        for ids, v in zip(rows, vectors, strict=True):
            if v is None or len(v) != len(ids):
                raise ValueError("a task returned statevectors for some of its experiments only")
            for i, vector in zip(ids.tolist(), v, strict=True):
                ordered[i] = vector
        merged.statevector = ordered  # type: ignore[assignment]
    merged.warnings = list(dict.fromkeys(w for _, d in parts for w in d.warnings))
    seconds = [d.qpu_seconds for _, d in parts if d.qpu_seconds is not None]
    merged.qpu_seconds = float(sum(seconds)) if seconds else None
    merged.info = merge_info([(list(ids), d.info) for ids, d in parts], info_rules)
    for _, d in parts:
        for key, value in d.artifacts.items():
            merged.artifacts.setdefault(key, value)
    return merged


def _merge_extra(name: str, parts: Sequence[tuple[Sequence[int], ExecutionData]], rows: list[np.ndarray],
                 n_exp: int, slots: int) -> tuple[tuple[str, ...], np.ndarray]:
    """An extra variable, padded along ``slot`` (if it has that dimension) like the IQ data."""
    dims = parts[0][1].extras[name][0]
    if "experiment" not in dims:
        return parts[0][1].extras[name]
    arrays = []
    for _, d in parts:
        if name not in d.extras or d.extras[name][0] != dims:
            raise ValueError(f"tasks returned '{name}' with different dimensions")
        arrays.append(np.asarray(d.extras[name][1]))
    first = arrays[0]
    axis_e = dims.index("experiment")
    shape = [max(a.shape[k] for a in arrays) for k in range(first.ndim)]
    shape[axis_e] = n_exp
    if "slot" in dims:
        shape[dims.index("slot")] = slots
    fill: Any = np.nan if np.issubdtype(first.dtype, np.inexact) else 0
    if np.issubdtype(first.dtype, np.complexfloating):
        fill = np.nan + 1j * np.nan
    out = np.full(shape, fill, dtype=first.dtype)
    for idx, a in zip(rows, arrays, strict=True):
        target: list[Any] = [slice(0, n) for n in a.shape]
        target[axis_e] = idx
        out[tuple(target)] = a
    return dims, out


def merge_info(parts: Sequence[tuple[Sequence[int], Mapping[str, Any]]],
               rules: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Executor facts of the parts as one run's.

    ``rules`` come from the executor class (``info_merge``): ``experiments`` (one value per experiment:
    concatenated in experiment order), ``sum``, ``max``, ``union`` (sorted union of lists). Other keys
    keep their value when every part agrees, else become the list of the parts' values, so nothing is
    silently dropped or invented.
    """
    if len(parts) == 1:
        return dict(parts[0][1])
    rules = dict(rules or {})
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for _, info in parts for k in info):
        present = [(ids, info[key]) for ids, info in parts if key in info]
        values = [v for _, v in present]
        rule = rules.get(key)
        if rule == "experiments":
            pairs = sorted((i, n, v) for n, (ids, value) in enumerate(present)
                           for i, v in zip(ids, value, strict=True))
            out[key] = [v for _, _, v in pairs]
        elif rule == "sum":
            total = sum(values)
            out[key] = round(total, 6) if isinstance(total, float) else total
        elif rule == "max":
            out[key] = max(values)
        elif rule == "union":
            out[key] = sorted({x for v in values for x in v})
        elif all(_same(v, values[0]) for v in values):
            out[key] = values[0]
        else:
            out[key] = values
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # arrays and other values without a plain truth value
        return False
