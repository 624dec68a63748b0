"""Bits -> counts -> distributions, in Qiskit's bit-string convention.

A count key has one character per memory slot, slot 0 rightmost (``"01"`` = slot 0 read 1). The
distribution of an experiment is its counts divided by the shots, rounded so that the values add up
to exactly 1.0 however they are summed (the QHAna interface asks for an exact 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from workbench.circuits.program import split_registers

__all__ = ["bitstring_counts", "distribution", "experiment_counts", "split_registers"]

_BINCOUNT_SLOTS = 12  # up to 4096 outcomes: a histogram of them is cheaper than sorting the shots


def bitstring_counts(
    memory: np.ndarray, slots: int, creg_sizes: Sequence[tuple[str, int]] = ()
) -> dict[str, int]:
    """Counts of one experiment from its (shots, slots) bit array, most frequent first (then by value).

    Keys follow Qiskit: slot 0 rightmost; with several classical registers, one space between
    registers; no classical bits at all gives ``{"": shots}``.
    """
    return experiment_counts(memory[None], [slots], [creg_sizes])[0]


_HISTOGRAM_CELLS = 1 << 22  # experiments x outcomes counted in one bincount (32 MiB of int64)


def experiment_counts(
    memory: np.ndarray, slots: Sequence[int], creg_sizes: Sequence[Sequence[tuple[str, int]]]
) -> list[dict[str, int]]:
    """:func:`bitstring_counts` of every experiment of a (experiments, shots, slots) bit array.

    Experiments with the same slots and registers (a sweep's) are counted together: up to 12 slots, one
    histogram over all of them instead of one small numpy pipeline per experiment; beyond, a sort of each
    experiment's shot values."""
    out: list[dict[str, int]] = [{} for _ in slots]
    groups: dict[tuple[int, tuple[tuple[str, int], ...]], list[int]] = {}
    for e, (m, cregs) in enumerate(zip(slots, creg_sizes, strict=True)):
        groups.setdefault((int(m), tuple(tuple(c) for c in cregs)), []).append(e)
    for (m, cregs), members in groups.items():
        if m == 0:
            for e in members:
                out[e] = {"": int(memory.shape[1])}
            continue
        weights = 1 << np.arange(m, dtype=np.int64)
        labels: dict[int, str] = {}
        if m > _BINCOUNT_SLOTS:
            for e in members:
                unique, counts = np.unique(memory[e, :, :m].astype(np.int64) @ weights, return_counts=True)
                out[e] = _table(zip(unique.tolist(), counts.tolist(), strict=True), m, cregs, labels)
            continue
        size = 1 << m
        step = max(1, _HISTOGRAM_CELLS // size)
        for start in range(0, len(members), step):
            part = members[start : start + step]
            values = memory[part, :, :m].astype(np.int64) @ weights  # (experiments, shots)
            values += (np.arange(len(part), dtype=np.int64) * size)[:, None]
            histogram = np.bincount(values.reshape(-1), minlength=len(part) * size).reshape(len(part), size)
            for e, row in zip(part, histogram, strict=True):
                if size <= 64:  # few outcomes: a plain list is quicker than numpy's calls
                    pairs: Any = ((v, c) for v, c in enumerate(row.tolist()) if c)
                else:
                    present = np.flatnonzero(row)
                    pairs = zip(present.tolist(), row[present].tolist(), strict=True)
                out[e] = _table(pairs, m, cregs, labels)
    return out


def _table(pairs: Iterable[tuple[int, int]], slots: int, creg_sizes: Sequence[tuple[str, int]],
           labels: dict[int, str]) -> dict[str, int]:
    """``{key: count}`` from (value, count) pairs, most frequent first, then by value; ``labels`` keeps the
    keys of values already seen (a sweep's experiments share them)."""
    table = {}
    for minus, value in sorted((-c, v) for v, c in pairs):
        label = labels.get(value)
        if label is None:
            label = labels[value] = split_registers(format(value, f"0{slots}b"), creg_sizes)
        table[label] = -minus
    return table


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
