"""The transmon model the simulator integrates, in the units it integrates in (ns, rad/ns).

Conventions are those of chalmers-qubit's ``SarimnerModel`` so that the two agree number for number:
each qubit is a ``levels``-level transmon in the frame rotating at its *true* frequency
(``Qubit.frequency``, physics), so the drift is diagonal::

    H0 = sum_i alpha_i / 2 a_i^+ a_i^+ a_i a_i  +  sum_(i,j) 2 pi zz_ij n_i n_j

A drive channel ``d<i>`` adds ``(Omega_i / 2)(z a_i + z* a_i^+)`` with ``Omega_i = 2 pi rabi_rate``
and a coupler channel adds ``(g / 2) sqrt(2) (z |11><X| + z* |X><11|)`` with ``g = 2 pi rate``, where
``z`` is the play's IQ envelope, conjugated (Qiskit's phase convention, see ``compile._envelope``), times
its carrier seen from the qubit frame. Decoherence is chalmers'
``DecoherenceNoise``: ``sqrt(1/T1) a`` and ``sqrt(2/T2eff) n`` with ``1/T2eff = 1/T2 - 1/(2 T1)``.

Every control operator here has one property the propagator relies on: all its matrix elements
``|j><k|`` connect basis states whose excitation numbers differ by the same vector
(:attr:`Control.rotation`). A frame rotating at ``sum_i Delta_i n_i`` therefore multiplies the whole
operator by one phase, which is what lets :mod:`.propagate` move into the frame of a detuned drive and
keep its samples piecewise constant instead of subdividing them. ``n``-diagonal frames also leave
both collapse operators unchanged up to a phase, so the dissipator is the same in every such frame.

The model is kept in its **local** form: per qubit its anharmonicity and decay rates, per coupling its
ZZ, per channel a small operator on the one or two qubits it acts on. Engines that scale
(:mod:`.density`, :mod:`.trajectories`) work from that form and never build a matrix of the whole
space; the dense matrices the exact propagators of :mod:`.propagate` use are built on first use only
(and exactly as they always were, so their results do not change).

Nothing here imports qutip: the matrices are a few dozen entries and building them with numpy keeps
the first run of a process free of qutip's one-second import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from workbench.devices.model import Coupling, Device

TWO_PI = 2.0 * math.pi
NS = 1e-9  # seconds per ns: times are integrated in ns and angular frequencies in rad/ns


@dataclass(frozen=True, eq=False)
class Control:
    """One channel's drive term ``(scale / 2)(z A + z* A^+)`` with ``z`` complex per sample.

    ``reference`` (Hz) is the frame frequency at which ``z`` is static in the qubit frame: the qubit
    frequency for a drive, ``f_a - f_b`` for a coupler exciting qubit ``a`` twice (the |11> <-> |X>
    transition then sits at ``reference + anharmonicity_a``, the device's transition frequency, because
    the drift keeps the anharmonicity). ``rotation`` is ``n(k) - n(j)`` for every element ``|j><k|``
    of ``operator``, per simulated qubit.

    ``A`` is ``local`` (``levels**len(positions)`` square, first position most significant) on the
    qubits at ``positions``, times the identity on the others; ``operator`` is that as a dense matrix
    of the whole space, built on first use.
    """

    channel: str
    scale: float
    reference: float
    rotation: np.ndarray
    positions: tuple[int, ...]
    local: np.ndarray
    count: int  # simulated qubits
    levels: int

    @cached_property
    def operator(self) -> np.ndarray:
        if len(self.positions) == 1:
            return _embed(self.local, self.positions[0], self.count, self.levels)
        return embed_dense(self.local, self.positions, self.count, self.levels)

    @property
    def hermitian_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(Hx, Hy)`` with ``H = Re(z) Hx + Im(z) Hy``: the real controls chalmers calls x and y."""
        a = self.operator
        half = self.scale / 2.0
        return half * (a + a.conj().T), half * 1j * (a - a.conj().T)


@dataclass(frozen=True)
class Decay:
    """A collapse operator ``sqrt(rate) * op`` on one qubit: ``op`` is the lowering operator (T1,
    ``kind = "lower"``) or the number operator (pure dephasing, ``kind = "number"``)."""

    position: int
    kind: str
    rate: float  # 1/ns
    t1: float | None = None  # ns, for "lower" (the dense operator divides by sqrt(t1), as it always did)

    def local(self, levels: int) -> np.ndarray:
        op = _lower(levels) if self.kind == "lower" else _number(levels)
        return math.sqrt(self.rate) * op

    def jump_rates(self, levels: int) -> np.ndarray:
        """The diagonal of ``c^+ c`` on the qubit's levels (1/ns): ``rate * n`` or ``rate * n^2``."""
        n = np.arange(levels, dtype=float)
        return self.rate * (n if self.kind == "lower" else n * n)


@dataclass(frozen=True, eq=False)
class TransmonSystem:
    """The qubits one experiment touches: the model in local form, dense matrices on demand."""

    qubits: tuple[int, ...]
    levels: int
    occupation: np.ndarray  # (n, N) int: excitation number of qubit i in basis state j
    anharmonicity: np.ndarray  # (n,) rad/ns, per position
    zz: tuple[tuple[int, int, float], ...]  # (position a, position b, rad/ns) of the couplings inside
    controls: tuple[Control, ...]
    decays: tuple[Decay, ...]

    @property
    def dim(self) -> int:
        return self.levels ** len(self.qubits)

    @property
    def channels(self) -> dict[str, int]:
        return {c.channel: i for i, c in enumerate(self.controls)}

    @property
    def has_decay(self) -> bool:
        return bool(self.decays)

    def position(self, qubit: int) -> int:
        return self.qubits.index(qubit)

    def basis_index(self, levels: Sequence[int]) -> int:
        """Index of the product state with the given level per simulated qubit (first qubit leftmost)."""
        index = 0
        for n in levels:
            index = index * self.levels + int(n)
        return index

    @cached_property
    def energies(self) -> np.ndarray:
        """The diagonal of ``H0`` (N,) rad/ns, from the local terms (no dense matrix)."""
        occ = self.occupation.astype(float)
        out = np.zeros(self.dim)
        for pos, alpha in enumerate(self.anharmonicity):
            out += alpha / 2.0 * occ[pos] * (occ[pos] - 1.0)
        for a, b, value in self.zz:
            out += value * occ[a] * occ[b]
        return out

    @cached_property
    def decay_rates(self) -> np.ndarray:
        """The diagonal of ``sum_c c^+ c`` (N,) 1/ns: how fast the norm of a ket in each state decays."""
        out = np.zeros(self.dim)
        for d in self.decays:
            out += d.jump_rates(self.levels)[self.occupation[d.position]]
        return out

    # --- dense matrices of the whole space (exact propagators only; built as they always were) ---
    @cached_property
    def h0(self) -> np.ndarray:
        n, levels = len(self.qubits), self.levels
        lower = _lower(levels)
        h0 = np.zeros((self.dim, self.dim), dtype=complex)
        for pos, alpha in enumerate(self.anharmonicity):
            a = _embed(lower, pos, n, levels)
            h0 += alpha / 2.0 * (a.conj().T @ a.conj().T @ a @ a)
        number = _number(levels)
        for pa, pb, value in self.zz:
            na, nb = _embed(number, pa, n, levels), _embed(number, pb, n, levels)
            h0 += value * (na @ nb)
        return h0

    @cached_property
    def collapse(self) -> tuple[np.ndarray, ...]:
        """Lindblad operators, sqrt(rate) included (1/sqrt(ns))."""
        n, levels = len(self.qubits), self.levels
        out = []
        for d in self.decays:
            if d.kind == "lower":
                out.append(_embed(_lower(levels), d.position, n, levels) / math.sqrt(d.t1 or 1.0 / d.rate))
            else:
                out.append(math.sqrt(d.rate) * _embed(_number(levels), d.position, n, levels))
        return tuple(out)


def _lower(levels: int) -> np.ndarray:
    return np.diag(np.sqrt(np.arange(1, levels, dtype=float)), 1).astype(complex)


def _number(levels: int) -> np.ndarray:
    return np.diag(np.arange(levels, dtype=float)).astype(complex)


def _embed(op: np.ndarray, position: int, count: int, levels: int) -> np.ndarray:
    out = np.ones((1, 1), dtype=complex)
    eye = np.eye(levels, dtype=complex)
    for i in range(count):
        out = np.kron(out, op if i == position else eye)
    return out


def embed_dense(local: np.ndarray, positions: Sequence[int], count: int, levels: int) -> np.ndarray:
    """``local`` on ``positions`` (in that order) times the identity on the other qubits, dense."""
    rows, cols, values = embed_entries(local, positions, count, levels)
    out = np.zeros((levels**count, levels**count), dtype=complex)
    out[rows, cols] = values
    return out


def embed_entries(local: np.ndarray, positions: Sequence[int], count: int,
                  levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nonzero entries ``(rows, cols, values)`` of ``local`` on ``positions`` times the identity on
    the others, in the whole space (for sparse and dense embeddings alike)."""
    k = len(positions)
    t, s = np.nonzero(local)
    values = local[t, s]
    weights = levels ** (count - 1 - np.asarray(positions, dtype=np.int64))
    t_digits = np.array(np.unravel_index(t, (levels,) * k)).reshape(k, -1)
    s_digits = np.array(np.unravel_index(s, (levels,) * k)).reshape(k, -1)
    others = [i for i in range(count) if i not in positions]
    spectators = np.zeros(1, dtype=np.int64)
    for i in others:
        spectators = (spectators[:, None] + levels ** (count - 1 - i) * np.arange(levels)[None, :]).ravel()
    row = spectators[:, None] + (weights @ t_digits)[None, :]
    col = spectators[:, None] + (weights @ s_digits)[None, :]
    return row.ravel(), col.ravel(), np.broadcast_to(values, row.shape).ravel()


def couplings_within(device: Device, qubits: Sequence[int]) -> list[Coupling]:
    """Couplings whose two qubits are both simulated (their ZZ and coupler act on the system)."""
    inside = set(qubits)
    return [c for c in device.couplings if set(c.qubits) <= inside]


def build_system(
    device: Device, qubits: Sequence[int], levels: int = 3, noise: bool = True
) -> TransmonSystem:
    """The model of ``qubits`` (sorted) on ``device``; coupler controls need ``levels >= 3``."""
    qubits = tuple(sorted(qubits))
    n = len(qubits)
    dim = levels**n
    occupation = np.array(np.unravel_index(np.arange(dim), (levels,) * n), dtype=np.int64).reshape(n, dim)
    lower = _lower(levels)
    anharmonicity = np.zeros(n)
    controls: list[Control] = []
    decays: list[Decay] = []
    for pos, index in enumerate(qubits):
        q = device.qubit(index)
        anharmonicity[pos] = TWO_PI * q.anharmonicity * NS
        rotation = np.zeros(n, dtype=np.int64)
        rotation[pos] = 1
        controls.append(Control(f"d{index}", TWO_PI * q.drive.rabi_rate * NS, q.frequency, rotation, (pos,),
                                lower, n, levels))
        if noise:
            t1 = q.t1 / NS if q.t1 is not None else None
            t2 = q.t2 / NS if q.t2 is not None else None
            if t1 is not None:
                decays.append(Decay(pos, "lower", 1.0 / t1, t1))
            if t2 is not None:
                rate = 1.0 / t2 - (0.5 / t1 if t1 is not None else 0.0)
                if rate > 0:
                    decays.append(Decay(pos, "number", 2.0 * rate))

    zz: list[tuple[int, int, float]] = []
    for c in couplings_within(device, qubits):
        pa, pb = (qubits.index(i) for i in c.qubits)
        zz.append((pa, pb, TWO_PI * c.zz * NS))
        if levels < 3:
            continue  # no |2> level: the coupler has nothing to drive
        if c.transition == "11-02":
            pa, pb = pb, pa  # pa is now the qubit excited twice
        # |11><X| on the pair, times the identity on every other simulated qubit: the coupler acts
        # whatever the spectators' states (X = |2_a 0_b>)
        local = np.zeros((levels * levels, levels * levels), dtype=complex)
        local[1 * levels + 1, 2 * levels + 0] = math.sqrt(2.0)
        rotation = np.zeros(n, dtype=np.int64)
        rotation[pa], rotation[pb] = 1, -1
        fa, fb = device.qubit(qubits[pa]).frequency, device.qubit(qubits[pb]).frequency
        controls.append(Control(c.channel, TWO_PI * c.rate * NS, fa - fb, rotation, (pa, pb), local, n, levels))
    return TransmonSystem(qubits, levels, occupation, anharmonicity, tuple(zz), tuple(controls), tuple(decays))
