"""Bits -> counts -> distributions, in Qiskit's bit-string convention.

A count key has one character per memory slot, slot 0 rightmost (``"01"`` = slot 0 read 1). The
distribution of an experiment is its counts divided by the shots, nudged by the last ulp where needed
so that the values add up to exactly 1.0 when summed in listing order (the QHAna interface asks for
an exact 1 and consumers sum naively).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def bitstring_counts(memory: np.ndarray, slots: int) -> dict[str, int]:
    """Counts of one experiment from its (shots, slots) bit array, most frequent first."""
    if slots == 0:
        return {"": int(memory.shape[0])}
    weights = (1 << np.arange(slots, dtype=np.int64))
    values = memory[:, :slots].astype(np.int64) @ weights
    unique, counts = np.unique(values, return_counts=True)
    order = sorted(range(unique.size), key=lambda i: (-counts[i], unique[i]))
    return {format(int(unique[i]), f"0{slots}b"): int(counts[i]) for i in order}


def _sums_to_one(values: list[float]) -> bool:
    naive = 0.0
    for v in values:
        naive += v
    return naive == 1.0 and math.fsum(values) == 1.0


def distribution(counts: Mapping[str, int]) -> dict[str, float]:
    """Probabilities from counts, summing to exactly 1.0 in listing order."""
    total = sum(counts.values())
    if total <= 0:
        return {}
    keys = list(counts)
    values = [counts[k] / total for k in keys]
    largest = max(range(len(values)), key=lambda i: values[i])
    for _ in range(64):
        if _sums_to_one(values):
            break
        naive = 0.0
        for v in values:
            naive += v
        direction = -math.inf if naive > 1.0 or math.fsum(values) > 1.0 else math.inf
        values[largest] = math.nextafter(values[largest], direction)
    return dict(zip(keys, values, strict=True))
