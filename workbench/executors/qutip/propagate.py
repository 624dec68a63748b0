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

import functools
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workbench.errors import CancelledError, UnsupportedError
from workbench.executors.qutip.compile import Event, Program
from workbench.executors.qutip.hamiltonian import TransmonSystem
from workbench.executors.qutip.threads import single_blas_thread

log = logging.getLogger(__name__)

TAYLOR_THETA = 4.0  # ||tau G|| per Taylor sub-step (terms peak at 4^4/4! ~ 11: no harmful cancellation)
TAYLOR_MAX_NORM = 12.0  # beyond this a step is exponentiated (scaling and squaring is cheaper)
TAYLOR_MAX_USES = 4  # a step used more often than this in a block is worth one shared expm
TAYLOR_MAX_TERMS = 60
_TERM_NUMBERS = np.arange(1.0, TAYLOR_MAX_TERMS + 1)[:, None, None, None]
SERIES_BASIS_ROWS = 96  # rows from which one product with many of the generators' bases beats a product per row
SERIES_FEW_BASES = 4  # bases up to which that product wins from SERIES_FEW_ROWS rows on, whatever the dimension
SERIES_FEW_ROWS = 16
SMALL_EXPM = 16  # dimension up to which expm_small replaces scipy's expm
PRUNE = 1e-12  # joint probability below which a measurement branch is dropped
MAX_BRANCHES = 50_000  # per experiment: beyond this the outcome tree is too wide to enumerate exactly
DEFAULT_BUDGET = 64 * 2**20  # bytes of propagator matrices held at once
GROUP_ROWS = 4  # rows per distinct step of a column from which the rows are grouped by step
CONVERT_BYTES = 2**19  # complex operators changed back from the Hermitian coordinates at a time


def expm_small(a: np.ndarray) -> np.ndarray:
    """Batched ``expm`` by scaling and squaring of a Taylor series, for small matrices.

    For a single qutrit's 9x9 Liouvillians this is five times faster than scipy's per-matrix Pade
    loop and spares a process the import of ``scipy.linalg``; against scipy it agrees to ~1e-11 even
    for 200 us idle steps (norm ~1e5, 18 squarings). Each matrix is scaled to 1-norm <= 1, where the
    series is summed until its terms fall below double precision.
    """
    n = a.shape[-1]
    norms = np.abs(a).sum(axis=1).max(axis=1)
    squarings = np.maximum(0, np.ceil(np.log2(np.maximum(norms, 1e-300)))).astype(int)
    a = a / (2.0**squarings)[:, None, None]
    result = np.eye(n, dtype=a.dtype) + a
    term = a
    for k in range(2, 40):
        term = (term @ a) / k
        result += term
        if np.abs(term).sum(axis=1).max() <= 2.0**-54:
            break
    for i in range(int(squarings.max(initial=0))):
        pick = squarings > i
        result[pick] = result[pick] @ result[pick]
    return result


def _superop(h: np.ndarray) -> np.ndarray:
    """``rho -> -i [h, rho]`` on row-major vectorised density matrices."""
    eye = np.eye(h.shape[0])
    return -1j * (np.kron(h, eye) - np.kron(eye, h.T))


@functools.lru_cache(maxsize=16)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``rho_ij`` and ``rho_ji`` (``i < j``) in a row-major vectorised ``n x n`` matrix
    (cached: ``np.triu_indices`` alone costs more than a series step of a qutrit)."""
    i, j = np.triu_indices(n, 1)
    upper, lower = i * n + j, j * n + i
    upper.setflags(write=False)
    lower.setflags(write=False)
    return upper, lower


def to_hermitian_coordinates(states: np.ndarray, n: int) -> np.ndarray:
    """Vectorised Hermitian matrices (K, n^2) as reals laid out (n^2, K): element ``i*n + j`` is
    ``rho_ii`` on the diagonal, ``Re rho_ij`` above it and ``Im rho_ij`` at the mirrored place below
    it (``i < j``), so populations keep their place. A Liouvillian maps Hermitian matrices to Hermitian
    matrices: in these coordinates it is a real matrix (:func:`_in_hermitian_coordinates`)."""
    upper, lower = _pairs(n)
    re, im = states.real, states.imag
    out = re.copy()
    out[:, upper] = 0.5 * (re[:, upper] + re[:, lower])
    out[:, lower] = 0.5 * (im[:, upper] - im[:, lower])
    return out.T


def from_hermitian_coordinates(vectors: np.ndarray, n: int) -> np.ndarray:
    """Back from :func:`to_hermitian_coordinates`: complex (K, n^2)."""
    upper, lower = _pairs(n)
    rows = vectors.T
    out = rows.astype(complex)
    re, im = rows[:, upper], rows[:, lower]
    out.real[:, lower] = re
    out.imag[:, upper] = im
    out.imag[:, lower] = -im
    return out


def _in_hermitian_coordinates(ops: np.ndarray, n: int) -> np.ndarray:
    """Each of ``ops`` (k, n^2, n^2) acting on :func:`to_hermitian_coordinates`' reals (still complex;
    real for maps that keep matrices Hermitian). Each coordinate mixes two elements (``ij`` and
    ``ji``), so this is a few sums where products with the change of coordinates would cost ``n^6``
    per operator (minutes for three noisy qutrits)."""
    upper, lower = _pairs(n)
    # whole rows only (contiguous): the columns of ``op @ back`` are the rows of ``back^T @ op^T``
    rows = ops.transpose(0, 2, 1).copy()
    top, bottom = rows[:, upper], rows[:, lower]
    rows[:, upper] = top + bottom
    rows[:, lower] = 1j * (top - bottom)
    out = rows.transpose(0, 2, 1).copy()  # op @ back
    top, bottom = out[:, upper], out[:, lower]
    out[:, upper] = 0.5 * (top + bottom)
    out[:, lower] = 0.5j * (bottom - top)
    return out


def _from_hermitian_operators(ops: np.ndarray, n: int) -> np.ndarray:
    """Back from :func:`_in_hermitian_coordinates`: real operators (k, n^2, n^2) on the Hermitian
    coordinates as complex ones on vectorised matrices (``back @ op @ to``, exact: both changes are
    complex-linear), by sums over the two elements each coordinate mixes (no ``n^6`` products).
    A few matrices at a time: their temporaries then stay in the cache (3x faster for 81 x 81)."""
    upper, lower = _pairs(n)
    out = np.empty(ops.shape, dtype=complex)
    step = max(1, CONVERT_BYTES // (ops[0].size * 16)) if len(ops) else 1
    for start in range(0, len(ops), step):
        part = ops[start : start + step]
        block = out[start : start + step]
        block[:] = part
        top, bottom = part[:, :, upper], part[:, :, lower]  # op @ to: to maps (ij, ji) to (Re, Im) of ij
        block[:, :, upper] = 0.5 * top - 0.5j * bottom
        block[:, :, lower] = 0.5 * top + 0.5j * bottom
        top, bottom = block[:, upper, :], block[:, lower, :]  # back @ (...): ij = Re + i Im, ji = Re - i Im
        block[:, upper, :] = top + 1j * bottom
        block[:, lower, :] = top - 1j * bottom
    return out


def _dissipator(c: np.ndarray) -> np.ndarray:
    eye = np.eye(c.shape[0])
    cdc = c.conj().T @ c
    return np.kron(c, c.conj()) - 0.5 * (np.kron(cdc, eye) + np.kron(eye, cdc.T))


class Layout:
    """How states and measurements are stored for one system: kets (N,) or row-major vectorised density
    matrices (N^2,). Shared by every engine; only :class:`Representation` adds dense generators."""

    def __init__(self, system: TransmonSystem, lindblad: bool):
        self.system = system
        self.lindblad = lindblad
        n = system.dim
        self.n = n
        self.dim = n * n if lindblad else n
        self._masks: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

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

    def outcome_tables(self, positions: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For measured qubits: basis state -> outcome (O, N), projector masks (O, dim), and the level of
        each measured qubit in each outcome (k, O)."""
        cached = self._masks.get(positions)
        if cached is None:
            d = self.system.levels
            occ = self.system.occupation[list(positions)]
            index = np.zeros(self.n, dtype=np.int64)
            for row in occ:
                index = index * d + row
            n_out = d ** len(positions)
            onehot = index[None, :] == np.arange(n_out)[:, None]  # (O, N)
            masks = (onehot[:, :, None] & onehot[:, None, :]).reshape(n_out, -1) if self.lindblad else onehot
            levels = np.array(np.unravel_index(np.arange(n_out), (d,) * len(positions))).reshape(-1, n_out)
            cached = (onehot.astype(float), masks.astype(float), levels)
            self._masks[positions] = cached
        return cached

    def renormalise(self, probability: np.ndarray) -> np.ndarray:
        return probability if self.lindblad else np.sqrt(probability)


class Representation(Layout):
    """The dense generators of one system, for exact propagators (``propagator`` method)."""

    def __init__(self, system: TransmonSystem, lindblad: bool):
        super().__init__(system, lindblad)
        hermitian = [system.h0] + [-np.diag(o.astype(float)).astype(complex) for o in system.occupation]
        for c in system.controls:
            hermitian.extend(c.hermitian_parts)
        if lindblad:
            basis = [_superop(h) for h in hermitian]
            for c in system.collapse:
                basis[0] = basis[0] + _dissipator(c)
        else:
            basis = hermitian
        stacked = np.stack(basis)
        self._basis = stacked.reshape(len(basis), -1)
        self._basis_norms = np.abs(stacked).sum(axis=1).max(axis=1)  # induced 1-norms

    @functools.cached_property
    def series_basis(self) -> np.ndarray:
        """The generators' basis (bases, dim, dim) in the Taylor series' coordinates (see
        :meth:`series_coefficients`); built when a series first runs (a second copy of the basis)."""
        stacked = self._basis.reshape(-1, self.dim, self.dim)
        if not self.lindblad:
            return -1j * stacked
        series = _in_hermitian_coordinates(stacked, self.n)
        if np.abs(series.imag).max(initial=0.0) > 1e-9 * max(1.0, float(np.abs(series).max(initial=0.0))):
            raise ValueError(f"a generator of this {self.n}-level system does not preserve Hermiticity")
        return np.ascontiguousarray(series.real)

    def series_generators(self, coeff: np.ndarray, used: np.ndarray) -> np.ndarray:
        """Each row's ``tau G`` (rows, dim, dim) in the series' coordinates from the coefficients (bases,
        rows) of :meth:`series_coefficients`, summed over the bases ``used`` only."""
        basis = self.series_basis[used]
        return (coeff[used].T @ basis.reshape(len(used), -1)).reshape(-1, self.dim, self.dim)

    def propagators(self, rows: np.ndarray) -> np.ndarray:
        """Exact propagators (K, dim, dim) for step rows ``[kind, tau, Delta(n), controls]``."""
        out = np.empty((len(rows), self.dim, self.dim), dtype=complex)
        evolve = rows[:, 0] == 0.0
        if np.any(evolve):
            out[evolve] = self._evolution(rows[evolve])
        if not np.all(evolve):
            out[~evolve] = self._frame_changes(rows[~evolve])
        return out

    @staticmethod
    def _weights(rows: np.ndarray) -> np.ndarray:
        """Coefficients (K, bases) of the basis in each row: 1 for the drift, then frames and controls."""
        return np.concatenate([np.ones((len(rows), 1)), rows[:, 2:]], axis=1)

    def _combined(self, rows: np.ndarray) -> np.ndarray:
        """Each row's Liouvillian, or Hamiltonian for kets (K, dim, dim)."""
        return (self._weights(rows).astype(complex) @ self._basis).reshape(len(rows), self.dim, self.dim)

    def generators(self, rows: np.ndarray) -> np.ndarray:
        """``tau * G`` (K, dim, dim) of evolution rows, ``G`` the Liouvillian or ``-i H``."""
        gens = self._combined(rows)
        if not self.lindblad:
            gens = -1j * gens
        return gens * rows[:, 1, None, None]

    def series_coefficients(self, rows: np.ndarray) -> np.ndarray:
        """``tau * G`` of evolution rows for the Taylor series, as coefficients (bases, K) of
        :attr:`series_basis`: ``tau G_r = sum_b c[b, r] basis[b]`` in the series' coordinates.

        Why this form: a term of the series is then one matrix product (BLAS) of the bases side by side
        with all rows' states, scaled by each basis' weight and stacked, where a stack of ``K`` generators
        would take ``K`` separate small products (numpy loops over a stack one tiny product at a
        time): for two noisy qutrits (81 x 81, 9 bases) five times fewer operations. A Liouvillian maps
        Hermitian matrices to Hermitian matrices, so in the coordinates ``Re rho_ij, Im rho_ij``
        (:func:`to_hermitian_coordinates`) its basis is real: half the memory and a quarter of the
        multiplications. Kets stay complex (basis ``-i H_b``). See :meth:`series_states`."""
        return (self._weights(rows) * rows[:, 1:2]).T

    def series_states(self, states: np.ndarray) -> np.ndarray:
        """States (K, dim) in the series' coordinates, laid out (dim, K)."""
        return to_hermitian_coordinates(states, self.n) if self.lindblad else states.T.copy()

    def from_series(self, vectors: np.ndarray) -> np.ndarray:
        """Back from :meth:`series_states`' form to complex states (K, dim)."""
        return from_hermitian_coordinates(vectors, self.n) if self.lindblad else vectors.T

    def norm_bounds(self, rows: np.ndarray) -> np.ndarray:
        """Upper bounds of ``||tau G||_1`` per row (inf for frame changes), without building ``G``."""
        coeff = np.abs(rows[:, 2:]) @ self._basis_norms[1:] + self._basis_norms[0]
        return np.where(rows[:, 0] == 0.0, rows[:, 1] * coeff, np.inf)

    def _evolution(self, rows: np.ndarray) -> np.ndarray:
        if self.lindblad:
            # exponentiated in the real Hermitian coordinates (a real matrix: about 4x fewer operations
            # than complex arithmetic), then changed back: the same propagator to rounding
            coeff = self.series_coefficients(rows)  # tau G = sum_b c_b B_b
            gens = self.series_generators(coeff, np.arange(len(coeff)))
            if self.dim <= SMALL_EXPM:
                return _from_hermitian_operators(expm_small(gens), self.n)
            from scipy.linalg import expm

            return _from_hermitian_operators(expm(gens), self.n)
        gens = self._combined(rows)
        tau = rows[:, 1]
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
    trajectories: int = 0  # Monte-Carlo jump trajectories behind it (0: exact)
    error: float = 0.0  # largest standard error of slot_populations (trajectories only)


@dataclass
class Stats:
    propagators: int = 0  # matrices exponentiated
    taylor: int = 0  # row-steps applied by series on the states
    steps: int = 0
    max_rows: int = 0


def series_by_basis(rows: int, bases: int, dim: int) -> bool:
    """Whether a series term is one product with the ``bases`` used side by side (else a product per row).

    The basis form does ``bases`` times the multiplications of the per-row form, but in one BLAS call,
    while numpy runs a stack of small products one at a time. Measured on this VM (ratios per-row/basis
    time): one drive of a qutrit or a pair of qutrits (3-4 bases) favours the basis form from ~16 rows
    (1.1-1.6x, up to 5x for 81 dimensions); two qutrits' kets with 7 bases (dimension 9) or three with
    14 (dimension 27) favour the per-row form at any number of rows (1.3-2.6x); many bases pay off only
    for large states with many rows (81 dimensions, 9 bases: 1.3x at 96 rows, 2.3x at 200).
    """
    if bases <= SERIES_FEW_BASES:
        return rows >= SERIES_FEW_ROWS
    return rows >= SERIES_BASIS_ROWS and 2 * bases <= dim


class Propagator:
    """Runs a batch of programs of one system in one representation."""

    def __init__(self, rep: Layout, budget: int = DEFAULT_BUDGET, series: bool = True):
        """``series=False`` exponentiates every step (slower; the two paths agree to rounding)."""
        self.rep = rep
        self.budget = budget
        self.series = series
        self.stats = Stats()
        self._cache: dict[int, np.ndarray] = {}
        self._table = np.zeros((0, 0))
        self._bounds = np.zeros(0)
        self._uses = np.zeros(0, dtype=np.int64)
        self._wide: dict[bytes, np.ndarray] = {}

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
        # Stack before the cache may be cleared: ids found in the cache are needed by this very call.
        stack = np.stack([fresh[int(i)] if int(i) in fresh else self._cache[int(i)] for i in ids])
        if fresh:
            if (len(self._cache) + len(fresh)) * per > self.budget:
                self._cache.clear()
            if len(fresh) * per <= self.budget:
                self._cache.update(fresh)
        return stack

    def _taylor(self, states: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """``exp(tau G) v`` per row by its Taylor series, ``G`` differing from row to row.

        Used for steps that occur once or twice (every sample of a swept pulse): a series of batched
        matrix-vector products is then far cheaper than exponentiating each 9x9 or 81x81 matrix, and
        just as exact (the series is summed until its terms fall below double precision).
        """
        coeff = self.rep.series_coefficients(self._table[ids])  # (bases, rows)
        substeps = max(1, math.ceil(float(np.max(self._bounds[ids])) / TAYLOR_THETA))
        if substeps > 1:
            coeff /= substeps
        used = np.flatnonzero(np.any(coeff != 0.0, axis=1))  # idle channels, frames at 0: not in this step
        dim = states.shape[1]
        vectors = self.rep.series_states(states)  # (dim, rows)
        if series_by_basis(len(ids), used.size, dim):
            # sum_b B_b (c_b * v) / k: the state scaled by each basis' weights (and 1/k), stacked, then one
            # product with the bases side by side, [B_1 ... B_n], which also sums over them
            wide = self._wide_basis(used)  # (dim, used bases * dim)
            scaled = coeff[used][None, :, None, :] / _TERM_NUMBERS  # (terms, bases, 1, rows): c / k
            stack = np.empty((used.size, dim, len(ids)), dtype=np.result_type(wide, vectors))
            flat = stack.reshape(-1, len(ids))

            def apply(term: np.ndarray, k: int) -> np.ndarray:
                np.multiply(term[None], scaled[k - 1], out=stack)
                return wide @ flat
        else:  # few rows: each its own generator, one small product per row
            gens = self.rep.series_generators(coeff, used)

            def apply(term: np.ndarray, k: int) -> np.ndarray:
                out = (gens @ term.T[:, :, None])[:, :, 0].T
                out *= 1.0 / k
                return out

        for _ in range(substeps):
            # ||term_(k+1)||_1 <= ||tau G||_1 / (k + 1) ||term_k||_1, and ||tau G||_1 is at most twice the
            # bound (<= TAYLOR_THETA per sub-step) in the series' coordinates (a coordinate mixes two
            # elements): from k = 2 TAYLOR_THETA on, once a term is negligible against the smallest row
            # (in 1-norm, bounded by dim * max |entry|), so are all later ones
            limit = 2.0**-54 * float(np.min(np.abs(vectors).sum(axis=0))) / dim
            term = vectors
            total = vectors.copy()
            for k in range(1, TAYLOR_MAX_TERMS + 1):
                term = apply(term, k)
                total += term
                if k >= 2 * TAYLOR_THETA and k % 2 == 0 and np.abs(term).max() <= limit:
                    break
            vectors = total
        states = self.rep.from_series(vectors)
        self.stats.taylor += len(ids)
        return states

    def _wide_basis(self, used: np.ndarray) -> np.ndarray:
        """The series basis' matrices ``used`` side by side, (dim, used * dim), kept per set of bases."""
        key = used.tobytes()
        wide = self._wide.get(key)
        if wide is None:
            basis = self.rep.series_basis[used]
            wide = self._wide[key] = np.ascontiguousarray(basis.transpose(1, 0, 2).reshape(basis.shape[1], -1))
        return wide

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
            ids, uses = np.unique(block[block >= 0], return_counts=True)
            if ids.size == 0:
                continue
            cached = (np.fromiter((int(i) in self._cache for i in ids), dtype=bool, count=ids.size)
                      if self._cache else np.zeros(ids.size, dtype=bool))
            series = (self._bounds[ids] <= TAYLOR_MAX_NORM) & (uses <= TAYLOR_MAX_USES) & ~cached & self.series
            exact = ids[~series]
            stack = np.concatenate([self._matrices(exact), eye]) if exact.size else eye
            position = np.searchsorted(ids, block)
            use_series = np.where(block >= 0, series[np.minimum(position, ids.size - 1)], False)
            local = np.where(block >= 0, np.searchsorted(exact, block), exact.size)
            local = np.where(use_series | (block < 0), exact.size, local)
            for j in range(block.shape[1]):
                col, by_series = local[:, j], use_series[:, j]
                if by_series.any():
                    chosen = np.flatnonzero(by_series)
                    for r0 in range(0, chosen.size, row_block):
                        part = chosen[r0 : r0 + row_block]
                        states[part] = self._taylor(states[part], block[part, j])
                moving = np.flatnonzero(col != exact.size)
                if moving.size == 0:
                    continue
                first = col[moving[0]]
                if moving.size == rows and np.all(col == first):
                    states = states @ stack[first].T
                    continue
                steps, members = np.unique(col[moving], return_counts=True)
                if steps.size * GROUP_ROWS <= moving.size:
                    # few distinct steps for many rows (a sweep of flat pulses): a product per step with
                    # all its rows, instead of gathering a matrix per row
                    order = moving[np.argsort(col[moving], kind="stable")]
                    for step, part in zip(steps, np.split(order, np.cumsum(members)[:-1]), strict=True):
                        states[part] = states[part] @ stack[step].T
                    continue
                for r0 in range(0, moving.size, row_block):
                    part = moving[r0 : r0 + row_block]
                    states[part] = (stack[col[part]] @ states[part][:, :, None])[:, :, 0]
        self.stats.steps += rows * width
        return states

    def _prepare_table(self) -> None:
        """Per distinct step, what :meth:`_apply` needs before the first column (here: norm bounds)."""
        self._bounds = self.rep.norm_bounds(self._table) if len(self._table) else np.zeros(0)

    # --- the run -------------------------------------------------------------------------------
    def run(self, programs: list[Program], *, keep_final: bool = False,
            cancel: threading.Event | None = None) -> list[Outcome]:
        """Propagate all programs; programs with no phase (nothing observable) give empty outcomes."""
        with single_blas_thread(with_scipy=self.uses_scipy):
            return self._run(programs, keep_final, cancel)

    @property
    def uses_scipy(self) -> bool:
        """Whether a run may call scipy.linalg: only the ``expm`` of Liouvillians above :data:`SMALL_EXPM`
        (smaller ones take :func:`expm_small`, kets numpy's ``eigh``)."""
        return self.rep.lindblad and self.rep.dim > SMALL_EXPM

    def _run(self, programs: list[Program], keep_final: bool,
             cancel: threading.Event | None) -> list[Outcome]:
        rep = self.rep
        levels = rep.system.levels
        self._table, inverse, ids = step_table(programs)
        self._uses = np.bincount(inverse, minlength=len(self._table))
        self._prepare_table()

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

            owner, states, weights, records = _by_owner(owner, states, weights, records)
            present = np.unique(owner).tolist()
            by_event: dict[Event, list[int]] = {}
            for e in present:
                if phase < len(programs[e].events):
                    by_event.setdefault(programs[e].events[phase], []).append(e)
            if by_event:
                measured = np.isin(owner, [e for group in by_event.values() for e in group])
                parts = [(owner[~measured], states[~measured], weights[~measured], records[~measured])]
                for event, group in by_event.items():
                    sel = np.isin(owner, group)
                    parts.append(self._measure(event, owner[sel], states[sel], weights[sel], records[sel],
                                               slot_pops))
                owner, states, weights, records = _by_owner(*(np.concatenate(x) for x in zip(*parts, strict=True)))
                counts = np.bincount(owner)
                if counts.max(initial=0) > MAX_BRANCHES:
                    raise UnsupportedError(
                        f"experiment {int(np.argmax(counts))} of the batch needs more than {MAX_BRANCHES} "
                        "measurement branches to keep its outcome distribution exact; use fewer mid-circuit "
                        "measurements")
            finishing = [e for e in present if phase + 1 >= len(programs[e].phases)]
            if finishing:
                bounds = np.searchsorted(owner, [finishing, np.add(finishing, 1)])
                for e, a, b in zip(finishing, bounds[0], bounds[1], strict=True):
                    w = weights[a:b] / weights[a:b].sum()
                    final = rep.density(states[a:b], w) if keep_final else None
                    outcomes[e] = Outcome(w, records[a:b, : programs[e].memory_slots].copy(), slot_pops[e],
                                          final, int(b - a))
                keep = ~np.isin(owner, finishing)
                owner, states, weights, records = owner[keep], states[keep], weights[keep], records[keep]
            phase += 1
        self._cache.clear()
        return [o for o in outcomes if o is not None]

    def _measure(self, event: Event, owner: np.ndarray, states: np.ndarray, weights: np.ndarray,
                 records: np.ndarray, slot_pops: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        """Split every row (of experiments sharing ``event``) into its outcomes with Born weights."""
        rep = self.rep
        onehot, masks, levels = rep.outcome_tables(event.qubits)
        marginal = rep.populations(states) @ onehot.T  # (r, O)
        joint = weights[:, None] * marginal
        experiments, local = np.unique(owner, return_inverse=True)
        totals = np.zeros((len(experiments), len(onehot)))
        np.add.at(totals, local, joint)
        totals /= totals.sum(axis=1, keepdims=True)
        d = rep.system.levels
        for slot, pos in event.writes:
            level = levels[event.qubits.index(pos)]
            dist = totals @ (level[:, None] == np.arange(d)[None, :])
            for i, e in enumerate(experiments.tolist()):
                slot_pops[e][slot] = dist[i]
        rows, outs = np.nonzero(joint > PRUNE)
        new_states = states[rows] * masks[outs] / rep.renormalise(marginal[rows, outs])[:, None]
        new_records = records[rows].copy()
        for slot, pos in event.writes:
            new_records[:, slot] = levels[event.qubits.index(pos)][outs]
        return owner[rows], new_states, joint[rows, outs], new_records


def _by_owner(owner: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.argsort(owner, kind="stable")
    return (owner[order], *(a[order] for a in arrays))


def step_table(programs: Sequence[Program]) -> tuple[np.ndarray, np.ndarray, list[list[np.ndarray]]]:
    """The distinct step rows of all programs' phases (each is exponentiated once, whatever the engine),
    the index of every row into them, and those indices per program and phase."""
    all_rows = [ph for p in programs for ph in p.phases]
    width = all_rows[0].shape[1] if all_rows else 0
    stacked = np.concatenate(all_rows) if all_rows else np.zeros((0, width))
    table, inverse = _unique_rows(stacked)
    ids: list[list[np.ndarray]] = []
    offset = 0
    for p in programs:
        mine = []
        for ph in p.phases:
            mine.append(inverse[offset : offset + len(ph)])
            offset += len(ph)
        ids.append(mine)
    return table, inverse, ids


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rows, axis=0, return_inverse=True)`` without its slow sort of row records.

    Rows are keyed by a random projection (a float per row, sorted fast); rows that share a key are then
    compared exactly and the exact (slow) path is taken only if a projection ever collides.
    """
    if len(rows) == 0:
        return rows, np.zeros(0, dtype=np.int64)
    weights = np.random.default_rng(12345).uniform(0.5, 1.5, rows.shape[1])
    _, first, inverse = np.unique(rows @ weights, return_index=True, return_inverse=True)
    table = rows[first]
    if not np.array_equal(table[inverse], rows):
        table, inverse = np.unique(rows, axis=0, return_inverse=True)
    return table, inverse.reshape(-1)
