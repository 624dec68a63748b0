"""What a job's experiments cost in memory and output, read from the IR (or circuits) without running them.

The estimates are the ones every executor shares: pulse samples held by the schedules, measurement
results a run returns (shots x experiments x memory slots) and the size of the result. Executors add
their own (a simulator's steps) through :meth:`workbench.executors.base.QuantumExecutor.cost`; the core
compares both with the budgets (:mod:`workbench.budgets`) before anything runs. Everything here is a
sum over instructions: no sample array is built or copied to count it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Bytes a result holds per measurement result: IQ point (complex128) + discriminated bit (int8),
#: about the same again in the output folder's files (NetCDF plus the per-shot exports).
BYTES_PER_OUTCOME = 2 * (16 + 1)
BYTES_PER_SAMPLE = 16  # complex128


def play_samples(programs: Sequence[Any]) -> int:
    """Samples of every play of every schedule (0 for circuits, which hold no pulses)."""
    return sum(sum(play.samples.shape[0] for play in getattr(p, "plays", ())) for p in programs)


def outcomes(programs: Sequence[Any], shots: int, meas_level: int = 2, meas_return: str = "single") -> int:
    """Measurement results a run returns: shots x experiments x memory slots (slots padded to the widest,
    as the result Dataset stores them). Averaged IQ still holds one row per shot while it is averaged."""
    slots = max((int(getattr(p, "memory_slots", 0)) for p in programs), default=0)
    return int(shots) * len(programs) * max(slots, 1)


def estimates(programs: Sequence[Any], *, shots: int, meas_level: int, meas_return: str,
              source_bytes: int = 0) -> dict[str, float]:
    """The shared estimates, keyed by the budget option each is checked against."""
    samples = play_samples(programs)
    results = outcomes(programs, shots, meas_level, meas_return)
    output = results * BYTES_PER_OUTCOME + 2 * source_bytes + samples * BYTES_PER_SAMPLE
    return {"max_samples": samples, "max_outcomes": results, "max_output_mb": output / 2**20}
