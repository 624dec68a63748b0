"""Which engine simulates a system, and how large a system each may take.

Three engines share the model, the compiled steps and the measurement semantics:

* ``propagator`` (:mod:`.propagate`): exact dense propagators of the whole space, shared between
  experiments. Unbeatable for one or two qutrits (sweeps share their matrices), cubic in the state
  dimension beyond;
* ``ode`` (:mod:`.density`): the density matrix with sparse operators, exact per step (Taylor series
  to double precision, or exact block exponentials for long steps). Memory and time grow with the
  ``N^2`` elements of the density matrix;
* ``trajectories`` (:mod:`.trajectories`): kets with quantum jumps, exact steps on the qubits each
  step drives. Memory grows with ``N``; the result carries a statistical error (reported), except
  without decoherence, where the one no-jump trajectory is the exact answer.

``automatic`` picks by the state dimension (``N = levels ** qubits``; a density matrix has ``N^2``
elements), from measurements in ``benchmarks/bench_simulator.py``: the dense propagators while the
Liouville (or ket) dimension is at most 81, the density-matrix ODE up to 1024 elements (three
qutrits, five qubits with two levels), trajectories beyond. Without decoherence a ket is exact
anyway: propagators up to 81 amplitudes, the single deterministic trajectory beyond.
"""

from __future__ import annotations

METHODS = ("automatic", "propagator", "ode", "trajectories")
PROPAGATOR_AUTO = 81  # state dimension (ket, or Liouville N^2) up to which automatic uses dense propagators
ODE_AUTO = 1024  # density-matrix elements up to which automatic uses the ode method
PROPAGATOR_MAX = 729  # state dimension the dense propagators accept at all
ODE_MAX = 59049  # density-matrix elements the ode method accepts (five qutrits)
KET_MAX = 19683  # ket dimension the trajectories accept (nine qutrits)
AMPLITUDES_MAX = 2**25  # trajectories x ket dimension held at most (537 MB of complex numbers)
DEFAULT_TRAJECTORIES = 2000


def choose(dim: int, lindblad: bool, requested: str = "automatic") -> str:
    """The engine for a system of ket dimension ``dim`` (``lindblad``: it has decoherence to simulate)."""
    if requested != "automatic":
        return requested
    size = dim * dim if lindblad else dim
    if size <= PROPAGATOR_AUTO:
        return "propagator"
    if lindblad and size <= ODE_AUTO:
        return "ode"
    return "trajectories"


def state_size(method: str, dim: int, lindblad: bool) -> int:
    """Numbers per state the engine keeps: ``N^2`` for a density matrix, ``N`` for a ket."""
    if method == "ode" or (method == "propagator" and lindblad):
        return dim * dim
    return dim


def refusal(method: str, dim: int, lindblad: bool, trajectories: int) -> str | None:
    """Why ``method`` cannot take a system of ket dimension ``dim``, or None."""
    if method == "propagator" and state_size(method, dim, lindblad) > PROPAGATOR_MAX:
        return (f"the propagator method needs a state of dimension {state_size(method, dim, lindblad)} "
                f"(limit {PROPAGATOR_MAX})")
    if method == "ode" and dim * dim > ODE_MAX:
        return f"the ode method needs a density matrix of {dim * dim} elements (limit {ODE_MAX})"
    if method == "trajectories":
        if dim > KET_MAX:
            return f"the trajectories method needs kets of dimension {dim} (limit {KET_MAX})"
        held = dim * (trajectories + 1 if lindblad else 1)
        if held > AMPLITUDES_MAX:
            return (f"{trajectories} trajectories of dimension {dim} hold {held} amplitudes "
                    f"(limit {AMPLITUDES_MAX}); use fewer trajectories")
    return None
