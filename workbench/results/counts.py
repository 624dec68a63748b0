"""Bits -> counts -> distributions, in Qiskit's bit-string convention.

A count key has one character per memory slot, slot 0 rightmost (``"01"`` = slot 0 read 1). The
distribution of an experiment is its counts divided by the shots, rounded so that the values add up
to exactly 1.0 however they are summed (the QHAna interface asks for an exact 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from workbench.circuits.program import split_registers

__all__ = ["bitstring_counts", "distribution", "experiment_counts", "split_registers"]

_BINCOUNT_SLOTS = 12  # up to 4096 outcomes: a histogram of them is cheaper than sorting the shots


def bitstring_counts(
    memory: np.ndarray, slots: int, creg_sizes: Sequence[tuple[str, int]] = ()
) -> dict[str, int]:
    """Counts of one experiment from its (shots, slots) bit array, most frequent first.

    Keys follow Qiskit: slot 0 rightmost; with several classical registers, one space between
    registers; no classical bits at all gives ``{"": shots}``.
    """
    if slots == 0:
        return {"": int(memory.shape[0])}
    weights = (1 << np.arange(slots, dtype=np.int64))
    values = memory[:, :slots].astype(np.int64) @ weights
    if slots <= _BINCOUNT_SLOTS:  # a histogram instead of np.unique's sort (a sweep counts every experiment)
        histogram = np.bincount(values, minlength=1 << slots)
        unique = np.flatnonzero(histogram)
        counts = histogram[unique]
    else:
        unique, counts = np.unique(values, return_counts=True)
    order = sorted(range(unique.size), key=lambda i: (-counts[i], unique[i]))
    return {split_registers(format(int(unique[i]), f"0{slots}b"), creg_sizes): int(counts[i]) for i in order}


_HISTOGRAM_CELLS = 1 << 22  # experiments x outcomes counted in one bincount (32 MiB of int64)


def experiment_counts(
    memory: np.ndarray, slots: Sequence[int], creg_sizes: Sequence[Sequence[tuple[str, int]]]
) -> list[dict[str, int]]:
    """:func:`bitstring_counts` of every experiment of a (experiments, shots, slots) bit array.

    Experiments with the same slots and registers (a sweep's) are counted together: one histogram over
    all of them, instead of one small numpy pipeline per experiment. Same dicts, same order."""
    out: list[dict[str, int]] = [{} for _ in slots]
    groups: dict[tuple[int, tuple[tuple[str, int], ...]], list[int]] = {}
    for e, (m, cregs) in enumerate(zip(slots, creg_sizes, strict=True)):
        groups.setdefault((int(m), tuple(tuple(c) for c in cregs)), []).append(e)
    for (m, cregs), members in groups.items():
        if m == 0 or m > _BINCOUNT_SLOTS:
            for e in members:
                out[e] = bitstring_counts(memory[e], m, cregs)
            continue
        size = 1 << m
        weights = 1 << np.arange(m, dtype=np.int64)
        labels: dict[int, str] = {}
        step = max(1, _HISTOGRAM_CELLS // size)
        for start in range(0, len(members), step):
            part = members[start : start + step]
            values = memory[part, :, :m].astype(np.int64) @ weights  # (experiments, shots)
            values += (np.arange(len(part), dtype=np.int64) * size)[:, None]
            histogram = np.bincount(values.reshape(-1), minlength=len(part) * size).reshape(len(part), size)
            rows = histogram.tolist() if size <= 64 else histogram  # few outcomes: plain lists are quicker
            for e, row in zip(part, rows, strict=True):
                if size <= 64:
                    ranked = sorted((-c, v) for v, c in enumerate(row) if c)
                else:
                    present = np.flatnonzero(row)
                    ranked = sorted(zip((-row[present]).tolist(), present.tolist(), strict=True))
                table = {}
                for c, v in ranked:
                    if v not in labels:
                        labels[v] = split_registers(format(v, f"0{m}b"), cregs)
                    table[labels[v]] = -c
                out[e] = table
    return out


_GRID = 2**52  # every multiple of 2**-52 in [0, 2) is an exact double


def distribution(counts: Mapping[str, int]) -> dict[str, float]:
    """Probabilities from counts that sum to exactly 1.0 in any summation order.

    Each value is rounded to a multiple of 2**-52, so every partial sum is exact, and the rounding
    residue (a few units of 2**-52) is taken from the largest value. Values differ from
    ``count / shots`` by at most a few 1e-16.
    """
    total = sum(counts.values())
    if total <= 0:
        return {}
    keys = list(counts)
    units = [round(counts[k] * _GRID / total) for k in keys]
    largest = max(range(len(units)), key=lambda i: units[i])
    units[largest] -= sum(units) - _GRID
    return {k: u / _GRID for k, u in zip(keys, units, strict=True)}
