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

Nothing here imports qutip: the matrices are a few dozen entries and building them with numpy keeps
the first run of a process free of qutip's one-second import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

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
    """

    channel: str
    operator: np.ndarray
    scale: float
    reference: float
    rotation: np.ndarray

    @property
    def hermitian_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(Hx, Hy)`` with ``H = Re(z) Hx + Im(z) Hy``: the real controls chalmers calls x and y."""
        a = self.operator
        half = self.scale / 2.0
        return half * (a + a.conj().T), half * 1j * (a - a.conj().T)


@dataclass(frozen=True, eq=False)
class TransmonSystem:
    """The qubits one experiment touches, as matrices on their joint level space."""

    qubits: tuple[int, ...]
    levels: int
    h0: np.ndarray  # (N, N) rad/ns, diagonal
    occupation: np.ndarray  # (n, N) int: excitation number of qubit i in basis state j
    controls: tuple[Control, ...]
    collapse: tuple[np.ndarray, ...]  # Lindblad operators, sqrt(rate) included (1/sqrt(ns))

    @property
    def dim(self) -> int:
        return self.levels ** len(self.qubits)

    @property
    def channels(self) -> dict[str, int]:
        return {c.channel: i for i, c in enumerate(self.controls)}

    def position(self, qubit: int) -> int:
        return self.qubits.index(qubit)

    def basis_index(self, levels: Sequence[int]) -> int:
        """Index of the product state with the given level per simulated qubit (first qubit leftmost)."""
        index = 0
        for n in levels:
            index = index * self.levels + int(n)
        return index


def _embed(op: np.ndarray, position: int, count: int, levels: int) -> np.ndarray:
    out = np.ones((1, 1), dtype=complex)
    eye = np.eye(levels, dtype=complex)
    for i in range(count):
        out = np.kron(out, op if i == position else eye)
    return out


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
    lower = np.diag(np.sqrt(np.arange(1, levels, dtype=float)), 1).astype(complex)
    number = np.diag(np.arange(levels, dtype=float)).astype(complex)
    occupation = np.array(np.unravel_index(np.arange(dim), (levels,) * n), dtype=np.int64).reshape(n, dim)

    h0 = np.zeros((dim, dim), dtype=complex)
    controls: list[Control] = []
    collapse: list[np.ndarray] = []
    for pos, index in enumerate(qubits):
        q = device.qubit(index)
        a = _embed(lower, pos, n, levels)
        alpha = TWO_PI * q.anharmonicity * NS
        h0 += alpha / 2.0 * (a.conj().T @ a.conj().T @ a @ a)
        rotation = np.zeros(n, dtype=np.int64)
        rotation[pos] = 1
        controls.append(Control(f"d{index}", a, TWO_PI * q.drive.rabi_rate * NS, q.frequency, rotation))
        if noise:
            t1 = q.t1 / NS if q.t1 is not None else None
            t2 = q.t2 / NS if q.t2 is not None else None
            if t1 is not None:
                collapse.append(a / math.sqrt(t1))
            if t2 is not None:
                rate = 1.0 / t2 - (0.5 / t1 if t1 is not None else 0.0)
                if rate > 0:
                    collapse.append(math.sqrt(2.0 * rate) * _embed(number, pos, n, levels))

    for c in couplings_within(device, qubits):
        pa, pb = (qubits.index(i) for i in c.qubits)
        na, nb = _embed(number, pa, n, levels), _embed(number, pb, n, levels)
        h0 += TWO_PI * c.zz * NS * (na @ nb)
        if levels < 3:
            continue  # no |2> level: the coupler has nothing to drive
        if c.transition == "11-02":
            pa, pb = pb, pa  # pa is now the qubit excited twice
        # |11><X| on the pair, times the identity on every other simulated qubit: one element per
        # state of the spectators, |..1_a..1_b..> <- |..2_a..0_b..> (basis index: first qubit leftmost)
        j = np.flatnonzero((occupation[pa] == 1) & (occupation[pb] == 1))
        k = j + levels ** (n - 1 - pa) - levels ** (n - 1 - pb)
        op = np.zeros((dim, dim), dtype=complex)
        op[j, k] = math.sqrt(2.0)
        rotation = np.zeros(n, dtype=np.int64)
        rotation[pa], rotation[pb] = 1, -1
        fa, fb = device.qubit(qubits[pa]).frequency, device.qubit(qubits[pb]).frequency
        controls.append(Control(c.channel, op, TWO_PI * c.rate * NS, fa - fb, rotation))
    return TransmonSystem(qubits, levels, h0, occupation, tuple(controls), tuple(collapse))
