"""The ``trajectories`` method: Monte-Carlo wave functions, with exact steps that cost what they touch.

A density matrix of five qutrits has 59,049 elements and its Lindbladian ~10^6 nonzeros; a ket has
243 amplitudes. This engine follows kets (quantum jumps, Dalibard-Castin-Molmer):

* **Between jumps** a ket evolves under ``H_eff = H - i/2 sum_c c^+ c``. Every collapse operator of
  the model (``a`` for T1, ``n`` for dephasing) has a *diagonal* ``c^+ c``, so ``H_eff`` is a diagonal
  plus the controls a step plays. In a step that drives the qubits ``A``, the qubits driven together
  (sharing a coupler, or a ZZ coupling with both driven) form blocks; each block's propagator is a
  small exact ``expm``, one per level configuration of its ZZ neighbours (ZZ is diagonal, so it only
  conditions the block). Everything else is a diagonal phase. So a step on one qubit of eight costs
  a few 3x3 exponentials and one pass over the kets, never a ``3^N``-dimensional matrix.
* **Jumps**: each trajectory draws ``r`` uniform in (0, 1) and jumps when its squared norm falls to
  ``r``; the time is found inside the step (Newton on the norm, exact propagators at any time), the
  collapse operator is drawn with probability ``||c psi||^2``, and the clock restarts.
* **No-jump trajectory computed once** (qutip's "improved sampling"): the trajectory without any jump
  is deterministic. It is computed first, with exact branching at measurements; ``p0`` is its
  smallest final squared norm, the probability that no trajectory of any branch jumps. The others
  draw ``r`` in ``(p0, 1)`` and carry weight ``(1 - p0) / T``. When jumps are rare (five qubits over a
  microsecond: ``1 - p0 ~ 0.1``) the statistical error shrinks by ``1 - p0``.
* **Measurements**: the no-jump trajectory branches into every outcome (Born weights); a stochastic
  trajectory draws its outcome, except at its last measurement, where it branches too (nothing
  follows, so branching is free and removes that sampling noise). A branch keeps its trajectory's
  norm clock. Without collapse operators there is only the no-jump trajectory: the method is then
  exact (``trajectories: 1``).

The estimate is unbiased; the standard error of every population is estimated from the spread of
the trajectories and reported (:attr:`.propagate.Outcome.error`). Random numbers come from one
generator per experiment, consumed in the experiment's own order, so they do not depend on batching.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from workbench.errors import CancelledError, UnsupportedError
from workbench.executors.qutip.compile import Event, Program
from workbench.executors.qutip.hamiltonian import TransmonSystem, embed_dense
from workbench.executors.qutip.operators import active_positions
from workbench.executors.qutip.propagate import (
    DEFAULT_BUDGET,
    MAX_BRANCHES,
    PRUNE,
    SMALL_EXPM,
    Outcome,
    Stats,
    expm_small,
    step_table,
)
from workbench.executors.qutip.threads import single_blas_thread

log = logging.getLogger(__name__)

DENSE_MAX = 243  # largest block (dimension of qubits driven together) held as a dense matrix; larger blocks
# are applied from their local terms by a series and never built
NEWTON_ITERATIONS = 60
NO_JUMP = -1  # trajectory index of the deterministic no-jump rows
MIN_TRAJECTORIES = 32  # jump trajectories per experiment at least (the error estimate needs a spread)


def _digits(count: int, levels: int) -> np.ndarray:
    """(count, levels**count): the level of each of ``count`` qubits in each joint basis state."""
    if count == 0:
        return np.zeros((0, 1), dtype=np.int64)
    size = levels**count
    return np.array(np.unravel_index(np.arange(size), (levels,) * count)).reshape(count, size)


def _series(h: np.ndarray | Local, states: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``exp(-i t_r h[m]) states[r, m]`` for states (r, M, K, X), by the Taylor series per row; ``h`` is
    dense (M, K, K) or a block in local form. The series runs on ``h - c`` (``c`` the middle of the
    diagonal's real range, a narrower spectrum: fewer terms) and the phase ``exp(-i c t)`` is put back."""
    if isinstance(h, Local):
        centre, local = h.centre, h
        norm = float(np.abs(local.diagonal - centre).max()) + sum(
            float(np.abs(mat).sum(axis=0).max()) for _, mat in local.terms)

        def apply(x: np.ndarray) -> np.ndarray:
            return local.apply(x) - centre * x
    else:
        dense = h
        real = np.diagonal(dense, axis1=1, axis2=2).real
        centre = float(real.max() + real.min()) / 2.0
        shifted = dense - centre * np.eye(dense.shape[-1])[None]
        norm = float(np.abs(shifted).sum(axis=1).max())

        def apply(x: np.ndarray) -> np.ndarray:
            return np.matmul(shifted[None], x)

    out = states
    substeps = np.maximum(1, np.ceil(norm * times / 4.0)).astype(int)
    for s in np.unique(substeps).tolist():
        rows = np.flatnonzero(substeps == s)
        scale = (-1j * times[rows] / s)[:, None, None, None]
        vector = states[rows]
        for _ in range(s):
            term = vector
            total = vector.copy()
            for k in range(1, 60):
                term = apply(term) * (scale / k)
                total += term
                if k >= 6 and np.abs(term).max() <= 2.0**-53 * np.abs(total).max():
                    break
            vector = total
        out = out.copy() if out is states else out
        out[rows] = vector * np.exp(-1j * centre * times[rows])[:, None, None, None]
    return out


def _diagonalise(block: Block) -> None:
    """Eigendecomposition of a block's (non-Hermitian) Hamiltonians, kept only if well conditioned."""
    values, vectors = np.linalg.eig(block.hamiltonian)
    good = bool(np.all(np.linalg.cond(vectors) < 1e6))
    block.eigen = (values, vectors, np.linalg.inv(vectors)) if good else ()


def _at_times(block: Block, times: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """``exp(-i t_r H_m) moved[r, m]`` for moved (r, M, K, X): through the block's eigendecomposition
    (computed once per block), or ``expm`` per time where the eigenvectors are ill-conditioned."""
    if block.eigen is None:
        _diagonalise(block)
    if not block.eigen:  # small blocks only: the large ones take the series then
        return np.matmul(_expm(-1j * times[:, None, None, None] * block.hamiltonian[None]), moved)
    values, vectors, inverse = block.eigen
    phases = np.exp(-1j * times[:, None, None] * values[None])  # (r, M, K)
    return np.matmul(vectors[None], phases[..., None] * np.matmul(inverse[None], moved))


def _expm(a: np.ndarray) -> np.ndarray:
    if a.shape[-1] <= SMALL_EXPM:
        return expm_small(a.reshape(-1, *a.shape[-2:])).reshape(a.shape)
    from scipy.linalg import expm

    return expm(a)


@dataclass(frozen=True, eq=False)
class Shape:
    """Qubits ``axes`` driven together, conditioned on the levels of their undriven ZZ neighbours
    ``conditions``: what a block's Hamiltonian needs that does not depend on the step's values."""

    axes: tuple[int, ...]
    conditions: tuple[int, ...]
    occupation: np.ndarray  # (|axes|, K)
    diagonal: np.ndarray  # (M, K) complex: local energies, decay, ZZ inside and to the conditions
    perm: list[int]  # (row, qubits...) -> (conditions..., axes..., row, others...)
    inverse: np.ndarray
    whole: bool  # the block is the whole space (no transposition needed)


@dataclass
class Block:
    """One block of a step: ``hamiltonian[m]`` (K x K, non-Hermitian) is ``H_eff`` of the qubits
    ``shape.axes`` with their ZZ neighbours in the ``m``-th level configuration."""

    shape: Shape
    hamiltonian: np.ndarray | None  # (M, K, K); None for a block kept in local form
    eigen: tuple[np.ndarray, ...] | None = None  # (values, vectors, inverse), () if ill-conditioned
    local: Local | None = None


@dataclass
class Local:
    """A large block's ``H_eff`` as its terms: a diagonal (M, K) and small Hermitian matrices on one or two
    of the block's qubits, applied to kets by reshaping (never a K x K matrix)."""

    diagonal: np.ndarray
    terms: list[tuple[tuple[int, ...], np.ndarray]]
    levels: int

    @cached_property
    def norm(self) -> float:
        return float(np.abs(self.diagonal).max()) + sum(float(np.abs(m).sum(axis=0).max()) for _, m in self.terms)

    @cached_property
    def centre(self) -> float:
        """The middle of the diagonal's real range: the series runs on ``H - centre``, a narrower spectrum."""
        real = self.diagonal.real
        return float(real.max() + real.min()) / 2.0

    def apply(self, states: np.ndarray) -> np.ndarray:
        """``H states`` for states (r, M, K, X)."""
        r, m, k, x = states.shape
        d = self.levels
        count = round(math.log(k, d))
        states = np.ascontiguousarray(states)
        out = self.diagonal[None, :, :, None] * states
        for axes, matrix in self.terms:
            if len(axes) == 1:  # one qubit: a broadcast matmul on a view, no transposition
                a = axes[0]
                view = states.reshape(r * m * d**a, d, d ** (count - a - 1) * x)
                out += np.matmul(matrix, view).reshape(r, m, k, x)
                continue
            n = len(axes)
            tensor = states.reshape((r, m) + (d,) * count + (x,))
            op = matrix.reshape((d,) * (2 * n))
            moved = np.tensordot(op, tensor, axes=(list(range(n, 2 * n)), [2 + a for a in axes]))
            out += np.moveaxis(moved, list(range(n)), [2 + a for a in axes]).reshape(r, m, k, x)
        return out


@dataclass
class StepPlan:
    """One distinct step: a frame change (``phases``) or an evolution (``blocks`` and a diagonal)."""

    tau: float
    phases: np.ndarray | None = None  # (N,) frame change
    blocks: list[Block] = field(default_factory=list)
    diagonal: np.ndarray | None = None  # (N,) complex: H_eff of everything outside the blocks
    cache: tuple[list[np.ndarray], np.ndarray] | None = None  # propagators for tau
    partial: list[np.ndarray | None] = field(default_factory=list)  # the small blocks' propagators for tau
    phase: np.ndarray | None = None  # exp(-i tau diagonal)

    @property
    def nbytes(self) -> int:
        out = sum(b.hamiltonian.nbytes for b in self.blocks if b.hamiltonian is not None)
        for arr in (self.phases, self.diagonal):
            out += arr.nbytes if arr is not None else 0
        if self.cache is not None:
            out += sum(u.nbytes for u in self.cache[0]) + self.cache[1].nbytes
        return out


class KetModel:
    """What the trajectories of one system need, in local form (no matrix of the whole space)."""

    def __init__(self, system: TransmonSystem):
        self.system = system
        self.n = len(system.qubits)
        self.d = system.levels
        self.dim = system.dim
        d = self.d
        levels = np.arange(d, dtype=float)
        self.local = np.zeros((self.n, d), dtype=complex)  # alpha/2 n(n-1) - i/2 Gamma(n), per position
        for pos, alpha in enumerate(system.anharmonicity):
            self.local[pos] += alpha / 2.0 * levels * (levels - 1.0)
        for dec in system.decays:
            self.local[dec.position] += -0.5j * dec.jump_rates(d)
        self.zz = [(a, b, v) for a, b, v in system.zz if v != 0.0]
        self.decay_rates = system.decay_rates  # (N,) diagonal of sum c^+ c
        self.jump_rates = np.array([dec.jump_rates(d)[system.occupation[dec.position]] for dec in system.decays]) \
            if system.decays else np.zeros((0, self.dim))
        self.control_positions = [c.positions for c in system.controls for _ in range(2)]
        self._shapes: dict[tuple[tuple[int, ...], tuple[int, ...]], Shape] = {}
        self._ops: dict[tuple[int, tuple[int, ...]], np.ndarray] = {}
        self._rest: dict[tuple[int, ...], np.ndarray] = {}

    def plan(self, row: np.ndarray) -> StepPlan:
        n, occ = self.n, self.system.occupation
        tau = float(row[1])
        frames = row[2 : 2 + n]
        if row[0] == 1.0:
            return StepPlan(tau, phases=np.exp(1j * (frames @ occ) * tau))
        values = row[2 + n :]
        active = active_positions(values, self.control_positions)
        blocks = [self._block(group, set(active), frames, values) for group in self._groups(active, values)]
        diagonal = self._rest_base(active).copy()
        for pos in range(n):
            if pos not in active and frames[pos] != 0.0:
                diagonal -= frames[pos] * occ[pos]
        return StepPlan(tau, blocks=blocks, diagonal=diagonal)

    def _rest_base(self, active: tuple[int, ...]) -> np.ndarray:
        """``H_eff`` of the undriven qubits' own terms and of the ZZ between two of them (N,)."""
        rest = self._rest.get(active)
        if rest is None:
            occ = self.system.occupation
            rest = np.zeros(self.dim, dtype=complex)
            for pos in range(self.n):
                if pos not in active:
                    rest += self.local[pos][occ[pos]]
            for a, b, v in self.zz:
                if a not in active and b not in active:
                    rest += v * occ[a] * occ[b]
            self._rest[active] = rest
        return rest

    def _groups(self, active: tuple[int, ...], values: np.ndarray) -> list[tuple[int, ...]]:
        """Driven qubits that must be exponentiated together: linked by a coupler the step plays or by
        a ZZ coupling between two driven qubits (which does not commute with either drive)."""
        parent = {p: p for p in active}

        def root(p: int) -> int:
            while parent[p] != p:
                parent[p] = parent[parent[p]]
                p = parent[p]
            return p

        links = [self.control_positions[k] for k in np.flatnonzero(values)]
        links += [(a, b) for a, b, _ in self.zz if a in parent and b in parent]
        for link in links:
            first = root(link[0])
            for p in link[1:]:
                parent[root(p)] = first
        groups: dict[int, list[int]] = {}
        for p in active:
            groups.setdefault(root(p), []).append(p)
        out = [tuple(sorted(g)) for g in groups.values()]
        return out

    def _shape(self, axes: tuple[int, ...], inside: set[int]) -> Shape:
        conditions = tuple(sorted({c for a, b, _ in self.zz for x, c in ((a, b), (b, a))
                                   if x in axes and c not in inside}))
        key = (axes, conditions)
        shape = self._shapes.get(key)
        if shape is None:
            d, n = self.d, self.n
            occ_b, occ_c = _digits(len(axes), d), _digits(len(conditions), d)
            diagonal = np.zeros((occ_c.shape[1], occ_b.shape[1]), dtype=complex)
            for i, pos in enumerate(axes):
                diagonal += self.local[pos][occ_b[i]][None, :]
            where = {p: i for i, p in enumerate(axes)}
            cond = {p: i for i, p in enumerate(conditions)}
            for a, b, v in self.zz:
                if a in where and b in where:
                    diagonal += (v * occ_b[where[a]] * occ_b[where[b]])[None, :]
                elif a in where and b in cond:
                    diagonal += v * occ_c[cond[b]][:, None] * occ_b[where[a]][None, :]
                elif b in where and a in cond:
                    diagonal += v * occ_c[cond[a]][:, None] * occ_b[where[b]][None, :]
            rest = [i for i in range(n) if i not in axes and i not in conditions]
            perm = [1 + i for i in conditions] + [1 + i for i in axes] + [0] + [1 + i for i in rest]
            shape = Shape(axes, conditions, occ_b, diagonal, perm, np.argsort(perm),
                          whole=len(axes) == n)
            self._shapes[key] = shape
        return shape

    def _op(self, index: int, axes: tuple[int, ...]) -> np.ndarray:
        key = (index, axes)
        op = self._ops.get(key)
        if op is None:
            control = self.system.controls[index]
            op = embed_dense(control.local, [axes.index(p) for p in control.positions], len(axes), self.d)
            self._ops[key] = op
        return op

    def _block(self, axes: tuple[int, ...], inside: set[int], frames: np.ndarray, values: np.ndarray) -> Block:
        shape = self._shape(axes, inside)
        k = shape.occupation.shape[1]
        diagonal = shape.diagonal
        moving = [i for i, pos in enumerate(axes) if frames[pos] != 0.0]
        if moving:
            diagonal = diagonal - sum(frames[axes[i]] * shape.occupation[i] for i in moving)[None, :]
        if k > DENSE_MAX:
            terms = []
            for c_index in sorted({int(c) // 2 for c in np.flatnonzero(values)}):
                control = self.system.controls[c_index]
                if set(control.positions) <= set(axes):
                    z = complex(values[2 * c_index], values[2 * c_index + 1])
                    op = control.local
                    terms.append((tuple(axes.index(p) for p in control.positions),
                                  control.scale / 2.0 * (z * op + np.conj(z) * op.conj().T)))
            return Block(shape, None, local=Local(np.asarray(diagonal, dtype=complex), terms, self.d))
        hamiltonian = np.zeros((diagonal.shape[0], k, k), dtype=complex)
        drive = np.zeros((k, k), dtype=complex)
        for c_index in sorted({int(c) // 2 for c in np.flatnonzero(values)}):
            control = self.system.controls[c_index]
            x, y = values[2 * c_index], values[2 * c_index + 1]
            if not set(control.positions) <= set(axes):
                continue
            op = self._op(c_index, axes)
            z = complex(x, y)
            drive += control.scale / 2.0 * (z * op + np.conj(z) * op.conj().T)
        hamiltonian[:] = drive
        index = np.arange(k)
        hamiltonian[:, index, index] += diagonal
        return Block(shape, hamiltonian)


class TrajectoryPropagator:
    """Runs a batch of programs of one system by Monte-Carlo trajectories on kets."""

    def __init__(self, system: TransmonSystem, trajectories: int, budget: int = 4 * DEFAULT_BUDGET):
        self.model = KetModel(system)
        self.system = system
        self.trajectories = max(1, int(trajectories))
        self.budget = budget
        self.stats = Stats()
        self.jumps = 0
        self._plans: dict[int, StepPlan] = {}
        self._held = 0
        self._table = np.zeros((0, 0))

    # --- steps ---------------------------------------------------------------------------------
    def _plan(self, i: int) -> StepPlan:
        plan = self._plans.get(i)
        if plan is None:
            self._prefetch([i])
            plan = self._plans.get(i) or self._orphan
        return plan

    def _prefetch(self, ids: list[int]) -> None:
        """Build the plans of these steps and exponentiate all their small blocks in a few stacked calls
        (one per block size): per call, numpy's overhead outweighs a 3x3 exponential by far."""
        fresh = [(i, self.model.plan(self._table[i])) for i in ids if i not in self._plans]
        if not fresh:
            return
        evolving = [plan for _, plan in fresh if plan.phases is None]
        stacks: dict[int, list[tuple[StepPlan, int]]] = {}
        for plan in evolving:
            assert plan.diagonal is not None
            plan.partial = [None] * len(plan.blocks)
            for b, block in enumerate(plan.blocks):
                if block.hamiltonian is not None and block.hamiltonian.shape[-1] <= SMALL_EXPM:
                    stacks.setdefault(block.hamiltonian.shape[-1], []).append((plan, b))
        for members in stacks.values():
            scaled = np.concatenate([-1j * plan.tau * plan.blocks[b].hamiltonian for plan, b in members])
            us = expm_small(scaled)
            start = 0
            for plan, b in members:
                m = plan.blocks[b].hamiltonian.shape[0]
                plan.partial[b] = us[start : start + m]
                start += m
            self.stats.propagators += len(scaled)
        if evolving:
            taus = np.array([p.tau for p in evolving])[:, None]
            phases = np.exp(-1j * taus * np.stack([p.diagonal for p in evolving]))
            for plan, phase in zip(evolving, phases, strict=True):
                plan.phase = phase
                if all(u is not None for u in plan.partial):
                    plan.cache = (plan.partial, phase)
        for i, plan in fresh:
            size = 2 * plan.nbytes
            if self._held + size > self.budget:
                self._plans.clear()
                self._held = 0
            self._plans[i] = plan
            self._held += size
            self._orphan = plan

    def _advance(self, states: np.ndarray, plan: StepPlan) -> np.ndarray:
        """Kets (r, N) after one evolution step: by its exact propagators (computed once per distinct
        step), or, for few kets and a large block, by the Taylor series on the kets themselves."""
        if plan.cache is None:
            dim, r = self.model.dim, states.shape[0]
            if any(b.hamiltonian is None for b in plan.blocks):
                return self._partial(states, plan, np.full(r, plan.tau))
            big = [b.hamiltonian for b in plan.blocks if b.hamiltonian.shape[-1] > SMALL_EXPM]
            series = sum((2.5 * float(np.abs(h).sum(axis=1).max()) * plan.tau + 12.0) * r * dim * h.shape[-1]
                         for h in big)
            exact = sum(20.0 * h.shape[0] * h.shape[-1] ** 3 for h in big)
            if big and series < exact:
                return self._partial(states, plan, np.full(r, plan.tau))
            us = [u if u is not None else _expm(-1j * plan.tau * b.hamiltonian)
                  for u, b in zip(plan.partial, plan.blocks, strict=True)]
            plan.cache = (us, plan.phase)
            self.stats.propagators += sum(h.shape[0] for h in big)
        return self._evolve(states, plan)

    def _evolve(self, states: np.ndarray, plan: StepPlan) -> np.ndarray:
        """Kets (r, N) after the step's propagators."""
        assert plan.cache is not None
        us, phase = plan.cache
        for block, u in zip(plan.blocks, us, strict=True):
            shape = block.shape
            if shape.whole:
                states = states @ u[0].T
                continue
            moved = self._moved(states, shape)
            out = np.matmul(u, moved.reshape(u.shape[0], u.shape[1], -1))
            states = self._back(out, states.shape[0], shape)
        return states * phase

    def _moved(self, states: np.ndarray, shape: Shape) -> np.ndarray:
        d, n = self.model.d, self.model.n
        return states.reshape((states.shape[0],) + (d,) * n).transpose(shape.perm)

    def _back(self, out: np.ndarray, rows: int, shape: Shape) -> np.ndarray:
        d, n = self.model.d, self.model.n
        sizes = [d] * (len(shape.conditions) + len(shape.axes)) + [rows] + [d] * (n - len(shape.axes)
                                                                                  - len(shape.conditions))
        return out.reshape(sizes).transpose(shape.inverse).reshape(rows, self.model.dim)

    def _partial(self, states: np.ndarray, plan: StepPlan, times: np.ndarray, repeated: bool = False) -> np.ndarray:
        """Kets (r, N) after the step for ``times[r]`` each (jumps happen inside steps). ``repeated``: more
        calls for this step follow (locating a jump), so large blocks are diagonalised once."""
        assert plan.diagonal is not None
        r = states.shape[0]
        for block in plan.blocks:
            h = block.hamiltonian
            m, k = block.shape.diagonal.shape
            moved = self._moved(states, block.shape)  # (conditions..., axes..., r, others...)
            moved = np.moveaxis(moved.reshape(m, k, r, -1), 2, 0)  # (r, M, K, X)
            if h is None:
                assert block.local is not None
                out = _series(block.local, moved, times)
                states = self._back(np.moveaxis(out, 0, 2), r, block.shape)
                continue
            if repeated and block.eigen is None:
                _diagonalise(block)
            exact = k <= SMALL_EXPM or block.eigen
            out = _at_times(block, times, moved) if exact else _series(h, moved, times)
            states = self._back(np.moveaxis(out, 0, 2), r, block.shape)
        return states * np.exp(-1j * times[:, None] * plan.diagonal[None, :])

    # --- the run -------------------------------------------------------------------------------
    def run(self, programs: list[Program], rngs: list[np.random.Generator], *, keep_final: bool = False,
            cancel: threading.Event | None = None) -> list[Outcome]:
        """Propagate all programs; ``rngs[e]`` is experiment ``e``'s generator (jumps and sampling)."""
        with single_blas_thread():
            return self._run(programs, rngs, keep_final, cancel)

    def _run(self, programs: list[Program], rngs: list[np.random.Generator], keep_final: bool,
             cancel: threading.Event | None) -> list[Outcome]:
        self._table, _, ids = step_table(programs)
        self._plans.clear()
        self._held = 0
        live = [e for e, p in enumerate(programs) if p.phases]
        det = _Pass(self, programs, ids, rngs, live, stochastic=False, cancel=cancel, keep_final=keep_final).run()
        floor = {e: float(np.min(det.leaf_norms[e])) if len(det.leaf_norms[e]) else 1.0 for e in live}
        noisy = self.system.has_decay
        jumping = [e for e in live if noisy and 1.0 - floor[e] > 1e-12]
        # the budget T is spent in proportion to the probability of a jump: error (1 - p0) sigma / sqrt(n)
        # with n = (1 - p0) T is never worse than T trajectories without the no-jump one
        counts = {e: min(self.trajectories, max(MIN_TRAJECTORIES, math.ceil((1.0 - floor[e]) * self.trajectories)))
                  for e in jumping}
        sto = _Pass(self, programs, ids, rngs, jumping, stochastic=True, cancel=cancel, floor=floor,
                    keep_final=keep_final, counts=counts).run() if jumping else None
        self._plans.clear()
        outcomes = []
        for e, p in enumerate(programs):
            if not p.phases:
                outcomes.append(Outcome(np.ones(1), np.full((1, p.memory_slots), -1, dtype=np.int64),
                                        np.full((p.memory_slots, self.system.levels), np.nan)))
                continue
            outcomes.append(self._combine(e, p, det, sto if e in jumping else None, floor[e], keep_final))
        return outcomes

    def _combine(self, e: int, program: Program, det: _Pass, sto: _Pass | None, p0: float,
                 keep_final: bool) -> Outcome:
        """The no-jump part with weight ``p0`` and the trajectories with ``1 - p0``, merged by outcome."""
        share = 1.0 if sto is None else p0
        weights = [det.leaf_weights[e] * share]
        records = [det.leaf_records[e]]
        pops = det.slot_pops[e] * share
        error = np.zeros_like(pops)
        final = det.finals[e] * share if keep_final else None
        if sto is not None:
            rest = 1.0 - p0
            weights.append(sto.leaf_weights[e] * rest)
            records.append(sto.leaf_records[e])
            pops = pops + sto.slot_pops[e] * rest
            error = sto.slot_errors[e] * rest
            if keep_final and final is not None:
                final = final + sto.finals[e] * rest
        w = np.concatenate(weights)
        rec = np.concatenate(records)
        keys, where = np.unique(rec, axis=0, return_inverse=True)
        merged = np.bincount(where.reshape(-1), weights=w, minlength=len(keys))
        merged = merged / merged.sum()
        return Outcome(merged, keys[:, : program.memory_slots].copy(), pops, final, len(rec),
                       trajectories=0 if sto is None else sto.counts[e],
                       error=float(np.nanmax(error, initial=0.0)))


class _Pass:
    """One lockstep propagation of rows (experiment, trajectory, branch) through all phases.

    Rows that are in the same state share it: ``pool`` holds the distinct states and ``src`` says which
    one each row is in. All stochastic trajectories of an experiment start as one state and stay one
    until they jump or draw different measurement outcomes, so a step costs what the distinct states
    need, not what the trajectories number.
    """

    def __init__(self, engine: TrajectoryPropagator, programs: list[Program], ids: list[list[np.ndarray]],
                 rngs: list[np.random.Generator], experiments: list[int], *, stochastic: bool,
                 cancel: threading.Event | None, floor: dict[int, float] | None = None, keep_final: bool = False,
                 counts: dict[int, int] | None = None):
        self.engine = engine
        self.counts = counts or {}
        self.keep_final = keep_final
        self.model = engine.model
        self.programs = programs
        self.ids = ids
        self.rngs = rngs
        self.experiments = experiments
        self.stochastic = stochastic
        self.cancel = cancel
        self.floor = floor or {}
        levels = engine.system.levels
        self.slot_pops = {e: np.full((programs[e].memory_slots, levels), np.nan) for e in experiments}
        self.slot_errors = {e: np.zeros((programs[e].memory_slots, levels)) for e in experiments}
        self.leaf_weights: dict[int, np.ndarray] = {}
        self.leaf_records: dict[int, np.ndarray] = {}
        self.leaf_norms: dict[int, np.ndarray] = {}
        self.finals: dict[int, np.ndarray] = {}
        self.pool = np.zeros((0, self.model.dim), dtype=complex)

    def run(self) -> _Pass:
        engine, model = self.engine, self.model
        count = np.array([self.counts[e] if self.stochastic else 1 for e in self.experiments], dtype=np.int64)
        exps = np.array(self.experiments, dtype=np.int64)
        owner = np.repeat(exps, count)
        traj = np.concatenate([np.arange(c) if self.stochastic else np.array([NO_JUMP]) for c in count.tolist()]) \
            if len(exps) else np.zeros(0, dtype=np.int64)
        src = np.repeat(np.arange(len(exps)), count)  # one shared state per experiment to start with
        self.pool = np.zeros((len(exps), model.dim), dtype=complex)
        self.pool[:, 0] = 1.0
        m_max = max((self.programs[e].memory_slots for e in self.experiments), default=0)
        weights = 1.0 / np.repeat(count, count).astype(float)
        records = np.full((len(owner), m_max), -1, dtype=np.int64)
        clock = np.zeros(len(owner))
        if self.stochastic:
            for e in self.experiments:  # r in (p0, 1): the trajectories that do jump somewhere
                mine = owner == e
                clock[mine] = self.floor[e] + (1.0 - self.floor[e]) * self.rngs[e].random(int(mine.sum()))
        phase = 0
        while len(owner):
            present = sorted(set(owner.tolist()))
            pad = max(len(self.ids[e][phase]) for e in present)
            table = np.full((len(self.programs), pad), -1, dtype=np.int64)
            for e in present:
                seq = self.ids[e][phase]
                table[e, : len(seq)] = seq
            src = self._steps(src, table[owner], owner, clock)
            engine.stats.max_rows = max(engine.stats.max_rows, len(owner))
            by_event: dict[Event, list[int]] = {}
            for e in present:
                if phase < len(self.programs[e].events):
                    by_event.setdefault(self.programs[e].events[phase], []).append(e)
            if by_event:
                measured = np.isin(owner, [e for group in by_event.values() for e in group])
                parts = [(owner[~measured], traj[~measured], src[~measured], weights[~measured],
                          records[~measured], clock[~measured])]
                fresh = [self.pool]
                size = len(self.pool)
                for event, group in by_event.items():
                    sel = np.isin(owner, group)
                    *part, states = self._measure(event, phase, owner[sel], traj[sel], src[sel], weights[sel],
                                                  records[sel], clock[sel])
                    part[2] = np.where(part[2] < 0, size - 1 - part[2], part[2])  # -1 - k: new state k
                    size += len(states)
                    fresh.append(states)
                    parts.append(tuple(part))
                self.pool = np.concatenate(fresh)
                owner, traj, src, weights, records, clock = (np.concatenate(x) for x in zip(*parts, strict=True))
                order = np.lexsort((traj, owner))  # stable: branches keep their order
                owner, traj, src, weights, records, clock = (a[order] for a in (owner, traj, src, weights,
                                                                               records, clock))
                if not self.stochastic:
                    counts = np.bincount(owner)
                    if counts.max(initial=0) > MAX_BRANCHES:
                        raise UnsupportedError(
                            f"experiment {int(np.argmax(counts))} of the batch needs more than {MAX_BRANCHES} "
                            "measurement branches to keep its outcome distribution exact; use fewer mid-circuit "
                            "measurements")
            finishing = [e for e in present if phase + 1 >= len(self.programs[e].phases)]
            if finishing:
                for e in finishing:
                    mine = owner == e
                    states = self.pool[src[mine]]
                    norms = np.einsum("ri,ri->r", states, states.conj()).real
                    self.leaf_weights[e] = weights[mine].copy()
                    self.leaf_records[e] = records[mine, : self.programs[e].memory_slots].copy()
                    self.leaf_norms[e] = norms
                    if self.keep_final and e not in self.finals:
                        unit = states / np.sqrt(np.maximum(norms, 1e-300))[:, None]
                        w = weights[mine] / weights[mine].sum()
                        self.finals[e] = np.einsum("r,ri,rj->ij", w, unit, unit.conj())
                keep = ~np.isin(owner, finishing)
                owner, traj, src, weights, records, clock = (a[keep] for a in (owner, traj, src, weights,
                                                                              records, clock))
            used, src = np.unique(src, return_inverse=True)  # forget states no row is in any more
            src = src.reshape(-1)
            self.pool = self.pool[used]
            phase += 1
        return self

    # --- steps and jumps -------------------------------------------------------------------------
    def _steps(self, src: np.ndarray, idx: np.ndarray, owner: np.ndarray, clock: np.ndarray) -> np.ndarray:
        engine = self.engine
        width = idx.shape[1]
        for j in range(width):
            if j % 64 == 0:
                if self.cancel is not None and self.cancel.is_set():
                    raise CancelledError("run cancelled")
                block = idx[:, j : j + 64]
                engine._prefetch(np.unique(block[block >= 0]).tolist())
            col = idx[:, j]
            for i in np.unique(col[col >= 0]).tolist():
                chosen = np.flatnonzero(col == i)
                sources = np.unique(src[chosen])
                plan = engine._plan(i)
                if plan.phases is not None:
                    self.pool[sources] *= plan.phases[None, :]
                    continue
                before = self.pool[sources]
                after = engine._advance(before, plan)
                self.pool[sources] = after
                if self.stochastic:
                    src = self._jumps(chosen, sources, before, after, plan, src, owner, clock)
            engine.stats.steps += int(np.count_nonzero(col >= 0))
        return src

    def _jumps(self, chosen: np.ndarray, sources: np.ndarray, before: np.ndarray, after: np.ndarray,
               plan: StepPlan, src: np.ndarray, owner: np.ndarray, clock: np.ndarray) -> np.ndarray:
        """Rows whose norm fell below their clock jumped during the step: find when, jump, finish it.
        Each jumping row leaves its shared state for a state of its own."""
        norms = np.einsum("ri,ri->r", after, after.conj()).real
        place = np.searchsorted(sources, src[chosen])
        jumping = chosen[norms[place] < clock[chosen]]
        if jumping.size == 0:
            return src
        start = before[np.searchsorted(sources, src[jumping])]
        rows = jumping
        elapsed = np.zeros(rows.size)
        finished = np.empty((jumping.size, self.model.dim), dtype=complex)
        slot = np.arange(jumping.size)
        ends = norms[np.searchsorted(sources, src[jumping])]
        while rows.size:
            t = self._jump_times(start, plan, plan.tau - elapsed, clock[rows], ends)
            psi, _ = self._at(start, plan, t)
            for n_row, row in enumerate(rows.tolist()):
                rng = self.rngs[int(owner[row])]
                psi[n_row] = self._collapse(psi[n_row], rng)
                clock[row] = rng.random()
                self.engine.jumps += 1
            elapsed = elapsed + t
            end, norm = self._at(psi, plan, plan.tau - elapsed)
            finished[slot] = end
            again = norm < clock[rows]
            rows, start, elapsed, slot, ends = rows[again], psi[again], elapsed[again], slot[again], norm[again]
        src = src.copy()
        src[jumping] = len(self.pool) + np.arange(jumping.size)
        self.pool = np.concatenate([self.pool, finished])
        return src

    def _at(self, states: np.ndarray, plan: StepPlan, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.engine._partial(states, plan, times, repeated=True)
        return out, np.einsum("ri,ri->r", out, out.conj()).real

    def _jump_times(self, start: np.ndarray, plan: StepPlan, span: np.ndarray, targets: np.ndarray,
                    ends: np.ndarray | None = None) -> np.ndarray:
        """When each row's squared norm reaches its target within ``(0, span)``: Newton on the norm,
        which falls monotonically (``d|psi|^2/dt = -<psi|sum c^+ c|psi>``), kept inside a bracket.
        ``ends``: the squared norms at ``span``, when known."""
        rates = self.model.decay_rates
        n0 = np.einsum("ri,ri->r", start, start.conj()).real
        n1 = ends if ends is not None else self._at(start, plan, span)[1]
        lo, hi = np.zeros_like(span), span.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = span * np.log(n0 / targets) / np.log(n0 / n1)  # exact if the decay rate were constant
        t = np.where(np.isfinite(t) & (t > 0) & (t < span), t, 0.5 * span)
        for _ in range(NEWTON_ITERATIONS):
            psi, norm = self._at(start, plan, t)
            f = norm - targets
            lo = np.where(f > 0, t, lo)
            hi = np.where(f <= 0, t, hi)
            done = (np.abs(f) <= 1e-11 * targets) | (hi - lo <= 1e-9 * np.maximum(span, 1.0))
            if np.all(done):
                break
            slope = -np.einsum("ri,i,ri->r", psi, rates, psi.conj()).real
            with np.errstate(divide="ignore", invalid="ignore"):
                step = t - f / slope
            t = np.where(done, t, np.where((step > lo) & (step < hi), step, 0.5 * (lo + hi)))
        return t

    def _collapse(self, psi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Apply a collapse operator drawn with probability ``||c psi||^2`` and normalise."""
        model = self.model
        weights = model.jump_rates @ (np.abs(psi) ** 2)
        pick = int(np.searchsorted(np.cumsum(weights), rng.random() * weights.sum(), side="right"))
        pick = min(pick, len(weights) - 1)
        decay = model.system.decays[pick]
        d, n = model.d, model.n
        tensor = psi.reshape((d,) * n)
        if decay.kind == "lower":
            out = np.zeros_like(tensor)
            src = [slice(None)] * n
            dst = [slice(None)] * n
            src[decay.position] = slice(1, d)
            dst[decay.position] = slice(0, d - 1)
            shape = [1] * n
            shape[decay.position] = d - 1
            out[tuple(dst)] = tensor[tuple(src)] * np.sqrt(np.arange(1, d)).reshape(shape)
        else:
            shape = [1] * n
            shape[decay.position] = d
            out = tensor * np.arange(d).reshape(shape)
        out = out.reshape(-1)
        return out / np.sqrt(np.vdot(out, out).real)

    # --- measurements --------------------------------------------------------------------------
    def _measure(self, event: Event, phase: int, owner: np.ndarray, traj: np.ndarray, src: np.ndarray,
                 weights: np.ndarray, records: np.ndarray, clock: np.ndarray) -> tuple[np.ndarray, ...]:
        """Rows after a measurement, and the new states they are in (``src`` indexes those)."""
        model = self.model
        d, n = model.d, model.n
        positions = list(event.qubits)
        sources, place = np.unique(src, return_inverse=True)
        place = place.reshape(-1)
        states = self.pool[sources]
        pops = np.abs(states) ** 2
        norms = pops.sum(axis=1)
        others = tuple(1 + i for i in range(n) if i not in positions)
        marginal = pops.reshape((len(sources),) + (d,) * n).sum(axis=others).reshape(len(sources), -1)
        marginal = np.clip(marginal, 0.0, None) / norms[:, None]  # (S, O): outcome digits in position order
        n_out = marginal.shape[1]
        levels = _digits(len(positions), d)
        index = np.zeros(model.dim, dtype=np.int64)
        for row in model.system.occupation[positions]:
            index = index * d + row
        row_marginal = marginal[place]
        for e in np.unique(owner).tolist():  # populations at this acquisition and (trajectories) their spread
            mine = owner == e
            w = weights[mine] / weights[mine].sum()
            for slot, pos in event.writes:
                level = levels[positions.index(pos)]
                per_row = row_marginal[mine] @ (level[:, None] == np.arange(d)[None, :]).astype(float)
                self.slot_pops[e][slot] = w @ per_row
                if self.stochastic and per_row.shape[0] > 1:
                    self.slot_errors[e][slot] = per_row.std(axis=0, ddof=1) / math.sqrt(per_row.shape[0])
                else:
                    self.slot_errors[e][slot] = 0.0
        # an experiment's last measurement ends it: its branches need weights and records, not states (a
        # jump trajectory per outcome would be rows x outcomes kets); they keep the measured state's index
        ending = [e for e in np.unique(owner).tolist() if phase + 1 >= len(self.programs[e].phases)]
        terminal = np.isin(owner, ending)
        if self.keep_final:
            same = index[:, None] == index[None, :]  # what a non-selective measurement leaves of rho
            for e in ending:
                mine = owner == e
                unit = states[place[mine]] / np.sqrt(norms[place[mine]])[:, None]
                w = weights[mine] / weights[mine].sum()
                self.finals[e] = np.einsum("r,ri,rj->ij", w, unit, unit.conj()) * same
        branch = terminal | (not self.stochastic)
        out_rows: list[np.ndarray] = []
        out_outs: list[np.ndarray] = []
        out_w: list[np.ndarray] = []
        if branch.any():
            joint = weights[branch, None] * row_marginal[branch]
            rows, outs = np.nonzero(joint > PRUNE)
            out_rows.append(np.flatnonzero(branch)[rows])
            out_outs.append(outs)
            out_w.append(joint[rows, outs])
        if (~branch).any():
            sampled = np.flatnonzero(~branch)
            picks = np.empty(sampled.size, dtype=np.int64)
            cumulative = np.cumsum(marginal, axis=1)
            for k, row in enumerate(sampled.tolist()):
                u = self.rngs[int(owner[row])].random() * cumulative[place[row], -1]
                picks[k] = min(int(np.searchsorted(cumulative[place[row]], u, side="right")), n_out - 1)
            out_rows.append(sampled)
            out_outs.append(picks)
            out_w.append(weights[sampled])
        rows = np.concatenate(out_rows)
        outs = np.concatenate(out_outs)
        new_src = src[rows].copy()
        kept = np.zeros((0, model.dim), dtype=complex)
        fresh = ~terminal[rows]
        if fresh.any():
            pairs, inverse = np.unique(np.stack([place[rows[fresh]], outs[fresh]], axis=1), axis=0,
                                       return_inverse=True)
            kept = np.where(index[None, :] == pairs[:, 1:2], states[pairs[:, 0]], 0.0)
            # a branch keeps its trajectory's norm clock: rescale to the norm before the measurement
            kept_norm = np.einsum("ri,ri->r", kept, kept.conj()).real
            kept *= np.sqrt(norms[pairs[:, 0]] / np.maximum(kept_norm, 1e-300))[:, None]
            new_src[fresh] = -1 - inverse.reshape(-1)
        new_records = records[rows].copy()
        for slot, pos in event.writes:
            new_records[:, slot] = levels[positions.index(pos)][outs]
        return (owner[rows], traj[rows], new_src, np.concatenate(out_w), new_records, clock[rows], kept)

