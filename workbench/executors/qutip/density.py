"""The ``ode`` method: the master equation on the density matrix, with sparse operators.

For three qutrits with decoherence the dense superoperator is 729 x 729 and each exact propagator
costs a 729-dimensional ``expm``; the Lindbladian itself has about twenty nonzeros per row. This
engine never builds a dense superoperator (:mod:`.operators`) and advances each piecewise-constant
step of the schedule in one of two exact ways:

* **series**: ``exp(tau L) rho`` by its Taylor series, summed on the states until the terms fall
  below double precision, ``L`` applied as a diagonal, a sparse jump matrix and the sparse
  commutators of the controls the step uses. The cost is a few sparse products per unit of
  ``||tau L||``; all rows of a column (experiments and measurement branches) go together;
* **blocks**: when a step is long (an idle wait, a flat-top coupler pulse), ``L`` is cut into the
  sectors of the qubits it does not drive (:func:`.operators.sectors`) and each block is
  exponentiated exactly, once per distinct step.

Which one a step gets is decided per distinct step from their estimated costs; both agree with the
dense propagators to ~1e-12 (tested). Measurements, branching and outcomes are those of
:class:`.propagate.Propagator`, whose state layout (row-major vectorised density matrices) this
engine shares.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from workbench.errors import CancelledError
from workbench.executors.qutip.operators import (
    BlockMatvec,
    SectorPartition,
    Superoperators,
    active_positions,
    apply_blocks,
    block_exponentials,
    sectors,
)
from workbench.executors.qutip.propagate import Layout, Propagator

THETA = 10.0  # ||tau L|| per series sub-step
MAX_TERMS = 80
EXPM_COST = 30.0  # complex multiply-adds per k^3 of a k x k expm (scaling and squaring, Pade 13)
SERIES_TERMS = 2.2  # series terms per unit of ||tau L||, plus
SERIES_FIXED = 10.0  # ... this many per sub-step


class DensityPropagator(Propagator):
    """Runs a batch of programs on density matrices with sparse operators (method ``ode``)."""

    def __init__(self, layout: Layout, operators: Superoperators | None = None, budget: int | None = None):
        super().__init__(layout, **({"budget": budget} if budget is not None else {}))
        if not layout.lindblad:
            raise ValueError("the ode method evolves density matrices")
        self.ops = operators or Superoperators(layout.system)
        self._partitions: dict[tuple[int, ...], SectorPartition] = {}
        self._exact = np.zeros(0, dtype=bool)
        self._active: list[tuple[int, ...]] = []
        self._substeps = np.zeros(0, dtype=np.int64)
        self._blocks: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._held = 0

    @property
    def uses_scipy(self) -> bool:
        """Exact blocks are exponentiated by scipy.linalg's ``expm`` (:func:`.operators.block_exponentials`)."""
        return True

    def _partition(self, active: tuple[int, ...]) -> SectorPartition:
        if active not in self._partitions:
            self._partitions[active] = sectors(self.rep.system, active)
        return self._partitions[active]

    def _prepare_table(self) -> None:
        """Norm bounds, sub-steps and the series-or-blocks choice of every distinct step."""
        table, ops = self._table, self.ops
        nq = len(self.rep.system.qubits)
        count = len(table)
        self._bounds = np.full(count, np.inf)
        self._substeps = np.zeros(count, dtype=np.int64)
        self._exact = np.zeros(count, dtype=bool)
        self._active = [()] * count
        self._blocks.clear()
        self._held = 0
        if not count:
            return
        evolve = table[:, 0] == 0.0
        self._bounds[evolve] = ops.bounds(table[evolve])
        values = table[:, 2 + nq :]
        nnz = ops.indices.size
        uses = np.maximum(self._uses, 1)
        for i in np.flatnonzero(evolve):
            active = active_positions(values[i], ops.control_positions)
            self._active[i] = active
            substeps = max(1, math.ceil(self._bounds[i] / THETA))
            self._substeps[i] = substeps
            series = uses[i] * nnz * (SERIES_TERMS * self._bounds[i] + SERIES_FIXED * substeps)
            if substeps <= 4:
                continue  # a sample of a pulse: the series is always cheaper
            part = self._partition(active)
            exact = EXPM_COST * part.cubes + uses[i] * part.squares
            self._exact[i] = exact < series

    def _blocks_of(self, i: int) -> list[tuple[np.ndarray, np.ndarray]]:
        blocks = self._blocks.get(i)
        if blocks is None:
            blocks = block_exponentials(self.ops.matrix(self._table[i]), self._partition(self._active[i]))
            self.stats.propagators += 1
            size = sum(u.nbytes + idx.nbytes for idx, u in blocks)
            if self._held + size > self.budget:
                self._blocks.clear()
                self._held = 0
            if size <= self.budget:
                self._blocks[i] = blocks
                self._held += size
        return blocks

    def _apply(self, states: np.ndarray, idx: np.ndarray, cancel: threading.Event | None) -> np.ndarray:
        rows, width = idx.shape
        if width == 0 or rows == 0:
            return states
        table = self._table
        nq = len(self.rep.system.qubits)
        occupation = self.rep.system.occupation
        for j in range(width):
            if cancel is not None and j % 64 == 0 and cancel.is_set():
                raise CancelledError("run cancelled")
            col = idx[:, j]
            live = np.flatnonzero(col >= 0)
            if live.size == 0:
                continue
            ids = col[live]
            kind = table[ids, 0]
            frame = live[kind == 1.0]
            if frame.size:
                steps = table[col[frame]]
                theta = (steps[:, 2 : 2 + nq] @ occupation) * steps[:, 1:2]
                states[frame] *= np.exp(1j * (theta[:, :, None] - theta[:, None, :])).reshape(frame.size, -1)
            evolving = live[kind == 0.0]
            if evolving.size == 0:
                continue
            exact = self._exact[col[evolving]]
            for i in np.unique(col[evolving[exact]]).tolist():
                chosen = evolving[col[evolving] == i]
                states[chosen] = apply_blocks(states[chosen], self._blocks_of(i))
            series = evolving[~exact]
            if series.size:
                substeps = self._substeps[col[series]]
                for s in np.unique(substeps).tolist():
                    chosen = series[substeps == s]
                    states[chosen] = self._series(states[chosen], table[col[chosen]], int(s))
                self.stats.taylor += series.size
        self.stats.steps += rows * width
        return states

    def _series(self, states: np.ndarray, steps: np.ndarray, substeps: int) -> np.ndarray:
        """``exp(tau L) rho`` per row by the Taylor series, all rows in one block-diagonal sparse product."""
        r, dim = states.shape
        matvec = BlockMatvec(self.ops, self.ops.data(self.ops.coefficients(steps) / substeps))
        vector = states.reshape(-1)
        for _ in range(substeps):
            limit = 2.0**-53 * float(np.min(np.abs(vector).reshape(r, dim).sum(axis=1)))
            term = vector
            total = vector.copy()
            for k in range(1, MAX_TERMS + 1):
                term = matvec(term)
                term *= 1.0 / k
                total += term
                if k >= 6 and k % 2 == 0 and np.abs(term).max() <= limit:
                    break
            vector = total
        return vector.reshape(r, dim)
