"""Bits -> counts -> distributions, in Qiskit's bit-string convention.

A count key has one character per memory slot, slot 0 rightmost (``"01"`` = slot 0 read 1). The
distribution of an experiment is its counts divided by the shots, rounded so that the values add up
to exactly 1.0 however they are summed (the QHAna interface asks for an exact 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from workbench.circuits.program import split_registers

__all__ = ["bitstring_counts", "distribution", "split_registers"]

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
