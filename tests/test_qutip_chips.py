"""The built-in chips qutip-3q and qutip-5q: circuits through their coupling maps, checked for physics.

GHZ states along the chain are the test: the noiseless run shows what the calibration leaves (mostly
the always-on ZZ acting while qubits wait in superpositions), and with T1/T2 the extra error must be
what a first-order count of relaxation and dephasing over the compiled schedule predicts.
"""

from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench.devices.model import Device
from workbench.executors.qutip import QutipExecutor
from workbench.options import COMMON_OPTIONS, resolve_options
from workbench.schedule.ir import Schedule


def ghz(n: int) -> str:
    gates = "".join(f"cx q[{i}],q[{i + 1}];\n" for i in range(n - 1))
    return f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{n}];\ncreg c[{n}];\nh q[0];\n{gates}measure q -> c;\n'


def correlated(table: dict[str, float], n: int) -> float:
    return table.get("0" * n, 0.0) + table.get("1" * n, 0.0)


def exact_distribution(device: Device, schedule: Schedule, **options) -> dict[str, float]:
    resolved = resolve_options(COMMON_OPTIONS + QutipExecutor.options, [("test", {"seed": 7, **options})])
    ex = QutipExecutor(device)
    ex.check([schedule], resolved)
    (table,) = ex.distributions([schedule], resolved)
    return table


def first_order_error(device: Device, schedule: Schedule) -> float:
    """P(not 0...0 or 1...1) that T1/T2 add to a GHZ chain, to first order in time / T.

    * each target of ``cx(k, k+1)`` sits in a superposition between its two ``sx`` pulses (around the
      ``cz``): dephasing there turns into a bit flip with probability ``t / (2 T2)``;
    * in the |1...1> half of the state, a qubit relaxing between the moment it is excited and its
      readout gives a wrong outcome: ``t / (2 T1)`` (half: only that half of the state decays).
    """
    acquired = {a.qubit: a.t0 for a in schedule.acquires}
    drives = {q: sorted((p.t0 + p.t1) / 2 for p in schedule.plays_on(f"d{q}")) for q in acquired}
    error = 0.0
    for q, t_read in acquired.items():
        qubit = device.qubit(q)
        t1, t2 = qubit.t1 / device.dt, qubit.t2 / device.dt
        centres = drives[q]
        if q == 0:  # the control of the chain: excited (in its |1> half) from its sx on
            excited = centres[0]
        else:  # a target: in superposition between its two sx, then excited in the |1...1> half
            error += (centres[-1] - centres[0]) / (2 * t2)
            excited = centres[-1]
        error += (t_read - excited) / (2 * t1)
    return error


def test_a_three_qubit_circuit_runs_through_the_coupling_map(catalogue) -> None:
    """cx(0, 2) is not an edge of the chain: the transpiler places the circuit so that it becomes one."""
    dev = catalogue.get("qutip-3q")
    qasm = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\n'
            "x q[0];\ncx q[0],q[2];\nmeasure q -> c;\n")
    schedule = workbench.prepare(qasm, device=dev).programs[0]
    couplers = {p.channel for p in schedule.plays if p.name == "cz"}
    assert couplers and couplers <= {"u0", "u1"}
    table = exact_distribution(dev, schedule)
    assert max(table, key=table.get) == "101" and table["101"] > 0.98, table


@pytest.mark.slow
def test_ghz3_on_the_three_qubit_chip_with_decoherence(catalogue) -> None:
    dev = catalogue.get("qutip-3q")
    result = workbench.run(ghz(3), device=dev, shots=4000, seed=11)
    assert result.trace["executorInfo"]["methods"] == ["ode"]
    counts = result.counts(0)
    assert (counts.get("000", 0) + counts.get("111", 0)) / 4000 > 0.93, counts
    schedule = workbench.prepare(ghz(3), device=dev).programs[0]
    noisy, clean = exact_distribution(dev, schedule), exact_distribution(dev, schedule, noise=False)
    predicted = first_order_error(dev, schedule)
    assert correlated(clean, 3) > 0.99
    assert correlated(clean, 3) - correlated(noisy, 3) == pytest.approx(predicted, rel=0.3)


@pytest.mark.slow
def test_ghz5_on_the_five_qubit_chip(catalogue) -> None:
    """The acceptance run (P(00000) + P(11111) >= 0.85 in the counts), then the physics: without
    decoherence only coherent errors remain (the ZZ of waiting neighbours, ~2.5%), and decoherence adds
    what its first-order count predicts (~2.4%), within the trajectories' statistics."""
    dev = catalogue.get("qutip-5q")
    result = workbench.run(ghz(5), device=dev, shots=4000, seed=1)
    counts = result.counts(0)
    info = result.trace["executorInfo"]
    assert info["methods"] == ["trajectories"] and info["trajectory_error"] < 0.01
    assert (counts.get("00000", 0) + counts.get("11111", 0)) / 4000 >= 0.85, counts
    schedule = workbench.prepare(ghz(5), device=dev).programs[0]
    clean = exact_distribution(dev, schedule, noise=False)
    noisy = exact_distribution(dev, schedule, trajectories=8000)  # ~1000 jump trajectories: error ~0.002
    predicted = first_order_error(dev, schedule)
    assert 0.95 < correlated(clean, 5) < 0.99
    assert 0.015 < predicted < 0.04
    assert correlated(clean, 5) - correlated(noisy, 5) == pytest.approx(predicted, rel=0.3)
    assert sum(noisy.values()) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.slow
def test_five_pi_pulses_relax_as_t1_says(catalogue) -> None:
    """x on all five qubits (one block of five driven qutrits: ZZ couples them), read out together: each
    is in |1> with probability 1 - (time since the middle of its pulse) / T1 (ZZ does not change
    populations), within the reported trajectory error."""
    dev = catalogue.get("qutip-5q")
    qasm = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[5];\ncreg c[5];\n'
            "x q[0];\nx q[1];\nx q[2];\nx q[3];\nx q[4];\nbarrier q;\nmeasure q -> c;\n")
    result = workbench.run(qasm, device=dev, shots=100, seed=9, options={"trajectories": 100_000})
    read = workbench.prepare(qasm, device=dev).programs[0].acquires[0].t0
    expected = np.array([1 - (read - 24) * dev.dt / dev.qubit(q).t1 for q in range(5)])
    populations = result.dataset.populations.sel(experiment=0).values  # (slot = qubit, level)
    error = result.trace["executorInfo"]["trajectory_error"]
    assert error < 1e-4
    np.testing.assert_allclose(populations[:, 1], expected, atol=5 * error + 3e-5)
    assert np.all(1 - expected > 2.5e-4)  # decay is visible at this tolerance
    assert np.all(populations[:, 2] < 1e-4)
