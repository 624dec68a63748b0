"""The model's operators in the structure they have: diagonals, small local blocks, sparse matrices.

A transmon chip's generator is a sum of terms that each touch one or two qubits, plus a diagonal.
Written as dense matrices of the whole space they cost ``3^N x 3^N`` (and ``9^N x 9^N`` as a Lindblad
superoperator); here they are kept as

* vectors for everything diagonal (energies, decay rates, frames, the dephasing part of the
  dissipator, which acts element by element on a density matrix);
* ``scipy.sparse`` matrices for the rest: a drive term has ``2 (d - 1) / d`` nonzeros per row, a
  coupler term far fewer, so a step costs what it touches;
* the **sectors** of a step (:func:`sectors`): a qubit nothing drives in a step only decays and
  dephases, which keeps ``r_i - c_i`` (its row level minus its column level in the density matrix)
  fixed. Fixing those differences for every undriven qubit cuts the superoperator into independent
  blocks, whose exponentials are exact and small when few qubits are driven.

Vectorisation is row-major (element ``(j, k)`` of a density matrix is entry ``j N + k``), as in
:mod:`.propagate`, so ``vec(A rho B) = (A (x) B^T) vec(rho)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from workbench.executors.qutip.hamiltonian import TransmonSystem, embed_entries


def sparse_embed(local: np.ndarray, positions: Sequence[int], count: int, levels: int) -> Any:
    """``local`` on ``positions`` times the identity on the other qubits, as a CSR matrix."""
    from scipy import sparse

    rows, cols, values = embed_entries(local, positions, count, levels)
    n = levels**count
    return sparse.csr_matrix((values.astype(complex), (rows, cols)), shape=(n, n))


def induced_norm(matrix: Any) -> float:
    """The induced 1-norm (largest column sum of moduli) of a sparse matrix."""
    return float(abs(matrix).sum(axis=0).max()) if matrix.nnz else 0.0


@dataclass(eq=False)
class Superoperators:
    """The Lindbladian of one system as sparse matrices on one common sparsity pattern.

    A step row ``[kind, tau, Delta(n), controls(2C)]`` has the generator ``L = B_0 + sum_i Delta_i F_i
    + sum_k v_k C_k``: ``B_0`` holds ``-i [H0, .]``, the whole dissipator (element-wise parts on the
    diagonal, the relaxation jumps ``a rho a^+`` off it), ``F_i`` the frame (diagonal) and ``C_k`` the
    commutators with the Hermitian parts of the controls, in the row's column order (x0, y0, x1, ...).
    All share the pattern ``(indptr, indices)``, so any step's ``L`` is ``coefficients @ basis`` on it:
    one sparse matrix per step, never a dense ``N^2 x N^2`` one.
    """

    system: TransmonSystem
    indptr: np.ndarray = field(init=False)
    indices: np.ndarray = field(init=False)
    basis: np.ndarray = field(init=False)  # (1 + n + 2C, nnz) complex
    norms: np.ndarray = field(init=False)  # (1 + n + 2C,) induced 1-norms of B_0, F_i, C_k
    diagonal: np.ndarray = field(init=False)  # (N^2,) position of each diagonal element in the pattern

    def __post_init__(self) -> None:
        from scipy import sparse

        s = self.system
        n, levels, dim = len(s.qubits), s.levels, s.dim
        occ = s.occupation.astype(float)
        energies, decay = s.energies, s.decay_rates
        e0 = (-1j * energies - 0.5 * decay)[:, None] + (1j * energies - 0.5 * decay)[None, :]
        jumps = sparse.csr_matrix((dim * dim, dim * dim), dtype=complex)
        for d in s.decays:
            if d.kind == "number":
                e0 = e0 + d.rate * occ[d.position][:, None] * occ[d.position][None, :]
            else:
                c = sparse_embed(d.local(levels), (d.position,), n, levels)
                jumps = jumps + sparse.kron(c, c.conj(), format="csr")
        terms = [sparse.diags(e0.reshape(-1), format="csr") + jumps]
        terms += [sparse.diags(1j * (o[:, None] - o[None, :]).reshape(-1), format="csr") for o in occ]
        eye = sparse.identity(dim, dtype=complex, format="csr")
        for c in s.controls:
            a = sparse_embed(c.local, c.positions, n, levels)
            half = c.scale / 2.0
            for h in (half * (a + a.conj().T), half * 1j * (a - a.conj().T)):
                h = sparse.csr_matrix(h)
                terms.append(-1j * (sparse.kron(h, eye, format="csr") - sparse.kron(eye, h.T, format="csr")))
        size = dim * dim
        keys = [np.arange(size, dtype=np.int64) * (size + 1)]  # the diagonal is always in the pattern
        coos = []
        for t in terms:
            coo = t.tocoo()
            coos.append(coo)
            keys.append(coo.row.astype(np.int64) * size + coo.col)
        union = np.unique(np.concatenate(keys))
        self.basis = np.zeros((len(terms), union.size), dtype=complex)
        for b, coo in enumerate(coos):
            where = np.searchsorted(union, coo.row.astype(np.int64) * size + coo.col)
            np.add.at(self.basis[b], where, coo.data)
        rows = union // size
        self.indices = (union % size).astype(np.int32 if size < 2**31 else np.int64)
        self.indptr = np.searchsorted(rows, np.arange(size + 1)).astype(self.indices.dtype)
        self.diagonal = np.searchsorted(union, np.arange(size, dtype=np.int64) * (size + 1))
        self.norms = np.array([_column_norm(b, self.indices, size) for b in self.basis])

    @property
    def size(self) -> int:
        return self.system.dim ** 2

    @cached_property
    def control_positions(self) -> list[tuple[int, ...]]:
        """The qubits each real control column acts on (x and y of a channel alike)."""
        return [c.positions for c in self.system.controls for _ in range(2)]

    def coefficients(self, steps: np.ndarray) -> np.ndarray:
        """``tau * [1, Delta(n), controls(2C)]`` per evolution row: the weights of the basis terms."""
        return np.concatenate([np.ones((len(steps), 1)), steps[:, 2:]], axis=1) * steps[:, 1:2]

    def data(self, coefficients: np.ndarray) -> np.ndarray:
        """The pattern's values (R, nnz) of ``sum_b coefficients[:, b] basis[b]``."""
        used = np.flatnonzero(np.any(coefficients != 0.0, axis=0))
        return coefficients[:, used].astype(complex) @ self.basis[used]

    def bounds(self, steps: np.ndarray) -> np.ndarray:
        """Upper bounds of ``||tau L||_1`` per evolution row."""
        return np.abs(self.coefficients(steps)) @ self.norms

    def matrix(self, step: np.ndarray) -> Any:
        """``tau L`` of one evolution row as a CSR matrix."""
        from scipy import sparse

        data = self.data(self.coefficients(step[None, :]))[0]
        return sparse.csr_matrix((data, self.indices, self.indptr), shape=(self.size, self.size))


def _column_norm(values: np.ndarray, indices: np.ndarray, size: int) -> float:
    return float(np.bincount(indices, np.abs(values), minlength=size).max()) if values.size else 0.0


class BlockMatvec:
    """``y = A x`` for the block-diagonal matrix of ``R`` generators on one pattern (one per row).

    Rows of a column of the schedule table have different generators; stacking them as blocks lets
    one sparse product advance all of them. scipy's ``csr_matvec`` kernel is called directly when
    available: at these sizes the dispatch of ``A @ x`` costs more than the product.
    """

    def __init__(self, ops: Superoperators, data: np.ndarray):
        r, nnz = data.shape
        size = ops.size
        self.shape = (r * size, r * size)
        self.data = np.ascontiguousarray(data).reshape(-1)
        self.indices = (ops.indices[None, :] + (np.arange(r) * size)[:, None].astype(ops.indices.dtype)).reshape(-1)
        offsets = (np.arange(r) * nnz).astype(ops.indptr.dtype)
        self.indptr = np.concatenate([(ops.indptr[None, :-1] + offsets[:, None]).reshape(-1),
                                      np.array([r * nnz], dtype=ops.indptr.dtype)])
        try:
            from scipy.sparse import _sparsetools

            self._kernel = _sparsetools.csr_matvec
        except (ImportError, AttributeError):  # pragma: no cover - a scipy without the private kernel
            self._kernel = None
        if self._kernel is None:  # pragma: no cover
            from scipy import sparse

            self._matrix = sparse.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self._kernel is None:  # pragma: no cover
            return self._matrix @ x
        y = np.zeros(self.shape[0], dtype=complex)
        self._kernel(self.shape[0], self.shape[1], self.indptr, self.indices, self.data, x, y)
        return y


def active_positions(values: np.ndarray, control_positions: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    """Qubits touched by the nonzero controls of a step (``values``: its 2C control columns)."""
    found: set[int] = set()
    for k in np.flatnonzero(values):
        found.update(control_positions[k])
    return tuple(sorted(found))


@dataclass(frozen=True, eq=False)
class SectorPartition:
    """The elements of a vectorised density matrix grouped into the independent blocks of every step
    that drives exactly ``active`` (see :func:`sectors`): ``classes`` maps a block size ``k`` to the
    ``(m, k)`` element indices of its ``m`` blocks."""

    active: tuple[int, ...]
    classes: dict[int, np.ndarray]
    block: np.ndarray  # (N^2,) which block (numbered across classes, in class order) holds each element
    local: np.ndarray  # (N^2,) place of each element within its block

    @property
    def cubes(self) -> int:
        """Sum of the cubed block sizes: the cost of exponentiating all blocks."""
        return sum(idx.shape[0] * idx.shape[1] ** 3 for idx in self.classes.values())

    @property
    def squares(self) -> int:
        return sum(idx.shape[0] * idx.shape[1] ** 2 for idx in self.classes.values())


def sectors(system: TransmonSystem, active: tuple[int, ...]) -> SectorPartition:
    """Blocks of the Lindbladian of a step that drives the qubits ``active`` (and no other).

    An undriven qubit ``i`` only has diagonal terms (energies, ZZ, frames, dephasing) and the jump
    ``a_i rho a_i^+``, which lowers its row and column level together: ``r_i - c_i`` is conserved.
    Elements with equal differences on all undriven qubits form one block; for a single qutrit
    ``r - c`` takes 5 values with 1, 2, 3, 2, 1 elements. Nothing couples two blocks.
    """
    n, levels, dim = len(system.qubits), system.levels, system.dim
    occ = system.occupation
    idle = [i for i in range(n) if i not in active]
    key = np.zeros(dim * dim, dtype=np.int64)
    for i in idle:
        diff = (occ[i][:, None] - occ[i][None, :]).reshape(-1) + (levels - 1)
        key = key * (2 * levels - 1) + diff
    order = np.argsort(key, kind="stable")
    _, starts, sizes = np.unique(key[order], return_index=True, return_counts=True)
    classes: dict[int, list[np.ndarray]] = {}
    for start, size in zip(starts.tolist(), sizes.tolist(), strict=True):
        classes.setdefault(size, []).append(order[start : start + size])
    block = np.empty(dim * dim, dtype=np.int64)
    local = np.empty(dim * dim, dtype=np.int64)
    out: dict[int, np.ndarray] = {}
    numbered = 0
    for size in sorted(classes):
        idx = np.stack(classes[size])
        out[size] = idx
        block[idx] = numbered + np.arange(idx.shape[0])[:, None]
        local[idx] = np.arange(size)[None, :]
        numbered += idx.shape[0]
    return SectorPartition(active, out, block, local)


def block_exponentials(generator: Any, partition: SectorPartition) -> list[tuple[np.ndarray, np.ndarray]]:
    """``expm`` of a sparse ``tau L`` that is block diagonal on ``partition``: ``[(indices (m, k), U
    (m, k, k))]`` per block size. Raises if ``generator`` couples two blocks (a wrong partition)."""
    from scipy.linalg import expm

    coo = generator.tocoo()
    nonzero = coo.data != 0.0  # the shared pattern holds the other steps' controls as explicit zeros
    rows, cols, values = coo.row[nonzero], coo.col[nonzero], coo.data[nonzero]
    if np.any(partition.block[rows] != partition.block[cols]):
        raise AssertionError("generator couples two sectors")
    out = []
    first = 0
    for size, idx in partition.classes.items():
        m = idx.shape[0]
        blocks = np.zeros((m, size, size), dtype=complex)
        mine = (partition.block[rows] >= first) & (partition.block[rows] < first + m)
        np.add.at(blocks, (partition.block[rows[mine]] - first, partition.local[rows[mine]],
                           partition.local[cols[mine]]), values[mine])
        out.append((idx, expm(blocks)))
        first += m
    return out


def apply_blocks(states: np.ndarray, blocks: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """``states`` (R, N^2) after the block propagators of :func:`block_exponentials`."""
    out = np.empty_like(states)
    for idx, u in blocks:
        gathered = states[:, idx]  # (R, m, k)
        out[:, idx] = np.matmul(u[None], gathered[..., None])[..., 0]
    return out
