"""Propagate many experiments at once: shared exact propagators, batched state updates, branching.

Between measurements every program is a product of exponentials of constant generators, so the
solver is exact up to floating point for the piecewise-constant model (no ODE tolerances):

* Representation: with decoherence the state is the row-major vectorised density matrix and a step
  is ``expm(tau L)`` of the Lindblad superoperator (dimension ``N^2``, 9 for a qutrit, 81 for two);
  without it the state is a ket and a step is a unitary from a batched ``eigh`` (dimension ``N``).
  Projective measurements of a pure state leave it pure, so the ket representation stays exact.
* Sharing: the steps of all experiments in a batch are deduplicated first (Rabi sweeps share their
  delays, CZ experiments their coupler pulses, gaussian samples come in symmetric pairs) and each
  distinct propagator is computed once, in stacked calls.
* Batching: all branches of all experiments advance together, one step column at a time, with one
  gathered ``einsum`` (or one matmul when every row applies the same propagator).
* Measurements: at an event every branch splits into the outcomes of the measured qubits (with
  their Born probabilities); branches below ``PRUNE`` joint probability are dropped. The leaves
  carry the exact joint distribution of all outcomes of the experiment, which is what shots are
  sampled from.
* Memory: propagators are computed per block of step columns, sized so that a block never needs
  more than ``budget`` bytes of matrices; a cache keeps propagators for later blocks while it fits.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from workbench.errors import CancelledError, UnsupportedError
from workbench.executors.qutip.compile import Program
from workbench.executors.qutip.hamiltonian import TransmonSystem
from workbench.executors.qutip.threads import single_blas_thread

log = logging.getLogger(__name__)

PRUNE = 1e-12  # joint probability below which a measurement branch is dropped
MAX_BRANCHES = 50_000  # per experiment: beyond this the outcome tree is too wide to enumerate exactly
DEFAULT_BUDGET = 64 * 2**20  # bytes of propagator matrices held at once


def _superop(h: np.ndarray) -> np.ndarray:
    """``rho -> -i [h, rho]`` on row-major vectorised density matrices."""
    eye = np.eye(h.shape[0])
    return -1j * (np.kron(h, eye) - np.kron(eye, h.T))


def _dissipator(c: np.ndarray) -> np.ndarray:
    eye = np.eye(c.shape[0])
    cdc = c.conj().T @ c
    return np.kron(c, c.conj()) - 0.5 * (np.kron(cdc, eye) + np.kron(eye, cdc.T))


class Representation:
    """How states, steps and measurements are stored for one system (ket or density matrix)."""

    def __init__(self, system: TransmonSystem, lindblad: bool):
        self.system = system
        self.lindblad = lindblad
        n = system.dim
        self.n = n
        self.dim = n * n if lindblad else n
        hermitian = [system.h0] + [-np.diag(o.astype(float)).astype(complex) for o in system.occupation]
        for c in system.controls:
            hermitian.extend(c.hermitian_parts)
        if lindblad:
            basis = [_superop(h) for h in hermitian]
            for c in system.collapse:
                basis[0] = basis[0] + _dissipator(c)
        else:
            basis = hermitian
        self._basis = np.stack(basis).reshape(len(basis), -1)
        self._masks: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}

    def initial(self) -> np.ndarray:
        state = np.zeros(self.dim, dtype=complex)
        state[0] = 1.0  # |0...0>, and rho[0, 0] = 1 is element 0 of the vectorised matrix too
        return state

    def populations(self, states: np.ndarray) -> np.ndarray:
        """Level-basis probabilities (R, N), clipped at 0 against rounding."""
        pops = states[:, :: self.n + 1].real if self.lindblad else np.abs(states) ** 2
        return np.clip(pops, 0.0, None)

    def density(self, states: np.ndarray, weights: np.ndarray) -> np.ndarray:
        if self.lindblad:
            return np.tensordot(weights, states, axes=1).reshape(self.n, self.n)
        return np.einsum("r,ri,rj->ij", weights, states, states.conj())

    def outcome_tables(self, positions: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """For measured qubits: outcome index of each basis state (N,) and projector masks (O, dim)."""
        cached = self._masks.get(positions)
        if cached is None:
            d = self.system.levels
            occ = self.system.occupation[list(positions)]
            index = np.zeros(self.n, dtype=np.int64)
            for row in occ:
                index = index * d + row
            onehot = index[None, :] == np.arange(d ** len(positions))[:, None]  # (O, N)
            if self.lindblad:
                onehot = (onehot[:, :, None] & onehot[:, None, :]).reshape(len(onehot), -1)
            cached = (index, onehot.astype(float))
            self._masks[positions] = cached
        return cached

    def renormalise(self, probability: np.ndarray) -> np.ndarray:
        return probability if self.lindblad else np.sqrt(probability)

    def propagators(self, rows: np.ndarray) -> np.ndarray:
        """Exact propagators (K, dim, dim) for step rows ``[kind, tau, Delta(n), controls]``."""
        out = np.empty((len(rows), self.dim, self.dim), dtype=complex)
        evolve = rows[:, 0] == 0.0
        if np.any(evolve):
            out[evolve] = self._evolution(rows[evolve])
        if not np.all(evolve):
            out[~evolve] = self._frame_changes(rows[~evolve])
        return out

    def _evolution(self, rows: np.ndarray) -> np.ndarray:
        coeff = np.concatenate([np.ones((len(rows), 1)), rows[:, 2:]], axis=1)
        gens = (coeff.astype(complex) @ self._basis).reshape(len(rows), self.dim, self.dim)
        tau = rows[:, 1]
        if self.lindblad:
            from scipy.linalg import expm

            return expm(gens * tau[:, None, None])
        gens = 0.5 * (gens + gens.conj().transpose(0, 2, 1))  # exactly Hermitian for eigh
        energies, vectors = np.linalg.eigh(gens)
        phases = np.exp(-1j * energies * tau[:, None])
        return (vectors * phases[:, None, :]) @ vectors.conj().transpose(0, 2, 1)

    def _frame_changes(self, rows: np.ndarray) -> np.ndarray:
        n_q = self.system.occupation.shape[0]
        theta = (rows[:, 2 : 2 + n_q] @ self.system.occupation) * rows[:, 1:2]  # (K, N)
        if self.lindblad:
            theta = (theta[:, :, None] - theta[:, None, :]).reshape(len(rows), -1)
        diag = np.exp(1j * theta)
        out = np.zeros((len(rows), self.dim, self.dim), dtype=complex)
        idx = np.arange(self.dim)
        out[:, idx, idx] = diag
        return out


@dataclass
class Outcome:
    """What one experiment's propagation yields."""

    weights: np.ndarray  # (B,) joint probability of each leaf (sums to 1 up to pruning)
    records: np.ndarray  # (B, M) level written into each slot on that leaf, -1 if unwritten
    slot_populations: np.ndarray  # (M, levels) exact level probabilities at the slot's acquisition
    final: np.ndarray | None = None  # (N, N) unconditional final density matrix (qubit frame)
    branches: int = 1


@dataclass
class Stats:
    propagators: int = 0
    steps: int = 0
    max_rows: int = 0


class Propagator:
    """Runs a batch of programs of one system in one representation."""

    def __init__(self, rep: Representation, budget: int = DEFAULT_BUDGET):
        self.rep = rep
        self.budget = budget
        self.stats = Stats()
        self._cache: dict[int, np.ndarray] = {}
        self._table = np.zeros((0, 0))

    # --- propagators -------------------------------------------------------------------------
    def _matrices(self, ids: np.ndarray) -> np.ndarray:
        per = self.rep.dim**2 * 16
        missing = [int(i) for i in ids if int(i) not in self._cache]
        fresh: dict[int, np.ndarray] = {}
        if missing:
            batch = max(1, self.budget // (4 * per))
            for start in range(0, len(missing), batch):
                part = missing[start : start + batch]
                mats = self.rep.propagators(self._table[part])
                fresh.update(zip(part, mats, strict=True))
            self.stats.propagators += len(missing)
            if (len(self._cache) + len(fresh)) * per > self.budget:
                self._cache.clear()
            if len(fresh) * per <= self.budget:
                self._cache.update(fresh)
        return np.stack([fresh[int(i)] if int(i) in fresh else self._cache[int(i)] for i in ids])

    def _apply(self, states: np.ndarray, idx: np.ndarray, cancel: threading.Event | None) -> np.ndarray:
        rows, width = idx.shape
        if width == 0 or rows == 0:
            return states
        dim = self.rep.dim
        per = dim * dim * 16
        cols = max(1, self.budget // (per * rows))
        row_block = max(1, self.budget // per)
        eye = np.eye(dim, dtype=complex)[None]
        for j0 in range(0, width, cols):
            if cancel is not None and cancel.is_set():
                raise CancelledError("run cancelled")
            block = idx[:, j0 : j0 + cols]
            need = np.unique(block[block >= 0])
            if need.size == 0:
                continue
            stack = np.concatenate([self._matrices(need), eye])
            local = np.where(block >= 0, np.searchsorted(need, block), len(need))
            for j in range(block.shape[1]):
                col = local[:, j]
                first = col[0]
                if np.all(col == first):
                    if first != len(need):
                        states = states @ stack[first].T
                    continue
                for r0 in range(0, rows, row_block):
                    sl = slice(r0, r0 + row_block)
                    states[sl] = np.einsum("rij,rj->ri", stack[col[sl]], states[sl])
        self.stats.steps += rows * width
        return states

    # --- the run -------------------------------------------------------------------------------
    def run(self, programs: list[Program], *, keep_final: bool = False,
            cancel: threading.Event | None = None) -> list[Outcome]:
        """Propagate all programs; programs with no phase (nothing observable) give empty outcomes."""
        with single_blas_thread():
            return self._run(programs, keep_final, cancel)

    def _run(self, programs: list[Program], keep_final: bool,
             cancel: threading.Event | None) -> list[Outcome]:
        rep = self.rep
        levels = rep.system.levels
        all_rows = [ph for p in programs for ph in p.phases]
        width = all_rows[0].shape[1] if all_rows else 0
        stacked = np.concatenate(all_rows) if all_rows else np.zeros((0, width))
        self._table, inverse = np.unique(stacked, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        ids: list[list[np.ndarray]] = []
        offset = 0
        for p in programs:
            mine = []
            for ph in p.phases:
                mine.append(inverse[offset : offset + len(ph)])
                offset += len(ph)
            ids.append(mine)

        n_exp = len(programs)
        m_max = max((p.memory_slots for p in programs), default=0)
        outcomes: list[Outcome | None] = [None] * n_exp
        slot_pops = [np.full((p.memory_slots, levels), np.nan) for p in programs]
        live = [e for e in range(n_exp) if programs[e].phases]
        for e in range(n_exp):
            if not programs[e].phases:
                outcomes[e] = Outcome(np.ones(1), np.full((1, programs[e].memory_slots), -1, dtype=np.int64),
                                      slot_pops[e])
        owner = np.array(live, dtype=np.int64)
        states = np.tile(rep.initial(), (len(live), 1))
        weights = np.ones(len(live))
        records = np.full((len(live), m_max), -1, dtype=np.int64)
        phase = 0
        while len(owner):
            pad_len = max(len(ids[e][phase]) for e in set(owner.tolist()))
            table = np.full((n_exp, pad_len), -1, dtype=np.int64)
            for e in set(owner.tolist()):
                seq = ids[e][phase]
                table[e, : len(seq)] = seq
            states = self._apply(states, table[owner], cancel)
            self.stats.max_rows = max(self.stats.max_rows, len(owner))

            order = np.argsort(owner, kind="stable")
            owner, states, weights, records = owner[order], states[order], weights[order], records[order]
            keep_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
            experiments, starts = np.unique(owner, return_index=True)
            ends = np.append(starts[1:], len(owner))
            for e, a, b in zip(experiments.tolist(), starts, ends, strict=True):
                prog = programs[e]
                st, w, rec = states[a:b], weights[a:b], records[a:b]
                if phase < len(prog.events):
                    st, w, rec = self._measure(prog, phase, st, w, rec, slot_pops[e])
                    if len(w) > MAX_BRANCHES:
                        raise UnsupportedError(
                            f"experiment needs more than {MAX_BRANCHES} measurement branches to keep its "
                            "outcome distribution exact; use fewer mid-circuit measurements"
                        )
                if phase + 1 < len(prog.phases):
                    keep_parts.append((np.full(len(w), e, dtype=np.int64), st, w, rec))
                else:
                    total = w.sum()
                    final = rep.density(st, w / total) if keep_final else None
                    outcomes[e] = Outcome(w / total, rec[:, : prog.memory_slots].copy(), slot_pops[e],
                                          final, len(w))
            if keep_parts:
                owner = np.concatenate([k[0] for k in keep_parts])
                states = np.concatenate([k[1] for k in keep_parts])
                weights = np.concatenate([k[2] for k in keep_parts])
                records = np.concatenate([k[3] for k in keep_parts])
            else:
                owner = np.zeros(0, dtype=np.int64)
            phase += 1
        self._cache.clear()
        return [o for o in outcomes if o is not None]

    def _measure(self, prog: Program, phase: int, states: np.ndarray, weights: np.ndarray,
                 records: np.ndarray, slot_pops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rep = self.rep
        d = rep.system.levels
        event = prog.events[phase]
        index, masks = rep.outcome_tables(event.qubits)
        pops = rep.populations(states)  # (r, N)
        n_out = masks.shape[0]
        marginal = np.zeros((len(states), n_out))
        for o in range(n_out):
            marginal[:, o] = pops[:, index == o].sum(axis=1)
        joint = weights[:, None] * marginal
        total = joint.sum(axis=0)
        total = total / total.sum()
        k = len(event.qubits)
        outcome_levels = np.array(np.unravel_index(np.arange(n_out), (d,) * k)).reshape(k, n_out)
        for slot, pos in event.writes:
            level = outcome_levels[event.qubits.index(pos)]
            slot_pops[slot] = np.bincount(level, weights=total, minlength=d)[:d]
        rows, outs = np.nonzero(joint > PRUNE)
        cond = marginal[rows, outs]
        new_states = states[rows] * masks[outs] / rep.renormalise(cond)[:, None]
        new_records = records[rows].copy()
        for slot, pos in event.writes:
            new_records[:, slot] = outcome_levels[event.qubits.index(pos)][outs]
        return new_states, joint[rows, outs], new_records
