"""The qutip executor's three engines: how one is chosen, forced, recorded, and that they agree.

Agreement with an independent integrator (qutip's ``mesolve``) is in test_qutip_three_qubits.py; here
the engines are checked against each other (the dense propagators are the reference where they run),
and the executor's choices (automatic, forced, refused, qubits simulated apart) against what the
docs promise.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import workbench
from workbench.devices.model import Device
from workbench.errors import UnsupportedError
from workbench.executors.base import ExecutionData
from workbench.executors.qutip import QutipExecutor
from workbench.executors.qutip.compile import compile_schedule
from workbench.executors.qutip.density import DensityPropagator
from workbench.executors.qutip.executor import final_states
from workbench.executors.qutip.hamiltonian import build_system
from workbench.executors.qutip.propagate import Layout
from workbench.options import COMMON_OPTIONS, ResolvedOptions, resolve_options
from workbench.pulses.shapes import calibrated
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Schedule


def resolved(**options: Any) -> ResolvedOptions:
    return resolve_options(COMMON_OPTIONS + QutipExecutor.options, [("test", {"seed": 3, "shots": 400, **options})])


def execute(device: Device, schedules: list[Schedule], executor: QutipExecutor | None = None,
            **options: Any) -> ExecutionData:
    opts = resolved(**options)
    ex = executor or QutipExecutor(device)
    with ex:
        ex.check(schedules, opts)
        return ex.run(schedules, opts, experiment_ids=options.get("ids"))


def ghz(n: int) -> str:
    gates = "".join(f"cx q[{i}],q[{i + 1}];\n" for i in range(n - 1))
    return f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{n}];\ncreg c[{n}];\nh q[0];\n{gates}measure q -> c;\n'


def lossy_pair() -> Device:
    """Two qutrits with short T1/T2, a strong ZZ and a coupler: every term of the model matters."""
    readout = {"frequency": 7.0e9, "pulse": {"shape": "constant", "duration": 100, "amp": 0.1},
               "acquire_duration": 100, "iq_centers": {0: [1.0, 0.0], 1: [-1.0, 0.0]}, "iq_noise": 0.2}
    qubits = [{"index": i, "frequency": f, "anharmonicity": -2.8e8, "t1": 4e-6, "t2": 5e-6,
               "drive": {"rabi_rate": 2e7, "x": {"shape": "constant", "duration": 25, "amp": 1.0}}, "readout": readout}
              for i, f in ((0, 5.0e9), (1, 5.6e9))]
    return Device.model_validate({"name": "pair", "executor": "qutip", "dt": 1e-9, "qubits": qubits,
                                  "couplings": [{"qubits": [0, 1], "channel": "u0", "rate": 6e6, "zz": 1.5e6,
                                                 "transition": "11-20"}]})


def long_steps(dev: Device) -> Schedule:
    """Drives, a 3 us idle and a 150 ns flat coupler pulse: long steps take the ode's exact blocks."""
    freqs = dev.frame_frequencies()
    freqs["d1"] += 1.5e6
    b = ScheduleBuilder("long", dev.dt, freqs, 0)
    t = np.arange(30)
    b.play(0, "d0", 0.8 * np.sin(np.pi * (t + 0.5) / 30) ** 2, "x0")
    b.play(5, "d1", 0.6 * np.exp(0.4j) * np.ones(30), "x1")
    b.play(3_035, "u0", 0.7 * np.ones(150, dtype=complex), "swap")
    b.play(3_185, "d0", 0.4j * np.ones(20), "y0")
    return b.build()


def test_compiled_steps_merge_equal_samples_and_drop_switches_that_change_nothing() -> None:
    """A flat pulse is one step however long (its duration summed), a ramp a step per sample, and
    a frame switch to the frame already in force is no step at all."""
    dev = lossy_pair()
    system = build_system(dev, (0,), 3, noise=True)
    ns = dev.dt * 1e9
    b = ScheduleBuilder("merge", dev.dt, dev.frame_frequencies(), 1)
    b.play(0, "d0", 0.1 * np.ones(100, dtype=complex), "flat")
    b.play(100, "d0", 0.1 * np.ones(100, dtype=complex), "flat again")  # the same rows: merged with it
    b.play(200, "d0", 0.3 * (np.arange(40) + 1) / 40, "ramp")
    b.acquire(240, 10, 0, 0)
    (phase,) = compile_schedule(b.build(), system).phases
    assert phase.shape[0] == 41 and not np.any(phase[:, 0] == 1.0)  # the in-frame switches are gone
    np.testing.assert_allclose(phase[:, 1], [200 * ns] + [ns] * 40, rtol=1e-12)
    assert len(np.unique(phase[1:, 2:], axis=0)) == 40


# --------------------------------------------------------------------------------------------------
# the engines against each other


def test_ode_agrees_with_the_dense_propagators_series_and_blocks() -> None:
    dev = lossy_pair()
    schedule = long_steps(dev)
    system = build_system(dev, (0, 1), 3, noise=True)
    program = compile_schedule(schedule, system, until_end=True)
    ode = DensityPropagator(Layout(system, True))
    ((_, dense),) = final_states(dev, [schedule], method="propagator")
    (outcome,) = ode.run([program], keep_final=True)
    assert ode.stats.taylor > 0 and ode.stats.propagators > 0  # both of its ways were used
    assert np.max(np.abs(outcome.final - dense)) < 1e-10
    assert np.sort(np.real(np.diag(dense)))[-3] > 0.05  # population was moved around


def test_one_trajectory_is_exact_without_decoherence(catalogue) -> None:
    dev = catalogue.get("qutip-3q")
    schedule = workbench.prepare(ghz(3), device=dev).programs[0]
    ((qubits, exact),) = final_states(dev, [schedule], noise=False, method="propagator")
    ((_, ket),) = final_states(dev, [schedule], noise=False, method="trajectories")
    assert qubits == (0, 1, 2)
    assert np.max(np.abs(ket - exact)) < 1e-10
    joint = np.real(np.diag(exact)).reshape(3, 3, 3)
    assert joint[0, 0, 0] + joint[1, 1, 1] > 0.98


def test_trajectories_estimate_the_density_matrix_within_their_error() -> None:
    """Against the exact ode, on the lossy pair (1 - p0 ~ 0.1): unbiased within the reported error."""
    dev = lossy_pair()
    b = ScheduleBuilder("pair", dev.dt, dev.frame_frequencies(), 2)
    b.play(0, "d0", 0.9 * np.ones(25, dtype=complex), "x0")
    b.play(0, "d1", 0.5 * np.ones(25, dtype=complex), "x1")
    b.play(25, "u0", 0.8 * np.ones(60, dtype=complex), "swap")
    b.acquire(60, 100, 0, 0)  # qubit 0 measured mid-way: its outcome is drawn per trajectory
    b.play(85, "d1", 0.4 * np.ones(25, dtype=complex), "x1b")
    b.acquire(400, 100, 1, 1)
    schedules = [b.build()]
    exact = execute(dev, schedules, method="ode").extras["populations"][1][0]
    data = execute(dev, schedules, method="trajectories", trajectories=800)
    estimate = data.extras["populations"][1][0]
    error = data.info["trajectory_error"]
    assert 0 < error < 0.01 and data.info["jumps"] > 20
    assert np.max(np.abs(estimate - exact)) < 5 * error
    assert exact[1, 1] > 0.1 and exact[0, 2] > 0.05  # the populations are not trivial


# --------------------------------------------------------------------------------------------------
# choosing, forcing, recording


def test_automatic_choice_by_size_is_pinned_in_the_options(catalogue) -> None:
    three, five = catalogue.get("qutip-3q"), catalogue.get("qutip-5q")
    cases = [(ghz(3), three, {}, "ode"), (ghz(3), three, {"noise": False}, "propagator"),
             (ghz(2), three, {}, "propagator"), (ghz(5), five, {}, "trajectories"),
             (ghz(5), five, {"noise": False}, "trajectories")]
    for qasm, dev, options, method in cases:
        prepared = workbench.prepare(qasm, device=dev, options=options)
        assert prepared.options["method"] == method, (dev.name, options)
        assert prepared.options.sources["method"] == "executor qutip"
    forced = workbench.prepare(ghz(3), device=three, options={"method": "trajectories"})
    assert forced.options["method"] == "trajectories" and forced.options.sources["method"] == "options"


def test_a_job_of_mixed_sizes_keeps_automatic(catalogue) -> None:
    dev = catalogue.get("qutip-5q")
    small = workbench.prepare(ghz(1), device=dev).programs[0]
    large = workbench.prepare(ghz(3), device=dev).programs[0]
    ex = QutipExecutor(dev)
    options = resolved()
    assert ex.effective_options([small, large], options) == {}
    assert ex.effective_options([large], options) == {"method": "ode"}


def test_forced_trajectories_are_recorded_in_trace_and_options(tmp_path, catalogue) -> None:
    result = workbench.run("x-gate", device="qutip-1q", seed=2, shots=200,
                           options={"method": "trajectories", "trajectories": 300})
    info = result.trace["executorInfo"]
    # a pi pulse jumps with probability ~1e-3: the budget of 300 buys the minimum of 32 jump trajectories
    assert info["methods"] == ["trajectories"] and info["trajectories"] == 32
    assert 0 < info["trajectory_error"] < 1e-3
    assert any("quantum-jump trajectories" in r for r in info["representations"])
    exact = workbench.run("x-gate", device="qutip-1q", seed=2, shots=200)
    assert exact.trace["executorInfo"]["methods"] == ["propagator"]
    difference = np.abs(result.dataset.populations.values - exact.dataset.populations.values)
    assert np.nanmax(difference) < 5 * info["trajectory_error"]
    result.export(tmp_path / "out")
    written = json.loads((tmp_path / "out" / "execution-options.json").read_text())
    assert written["method"] == "trajectories" and written["trajectories"] == 300
    assert json.loads((tmp_path / "out" / "result-trace.json").read_text())["executorInfo"]["trajectories"] == 32


def test_methods_that_cannot_take_a_system_are_refused_in_one_line(catalogue) -> None:
    dev = catalogue.get("qutip-5q")
    with pytest.raises(UnsupportedError, match=r"qubits \[0, 1, 2, 3, 4\].*propagator method needs a state of "
                                               r"dimension 59049 \(limit 729\)"):
        workbench.prepare(ghz(5), device=dev, options={"method": "propagator"})
    with pytest.raises(UnsupportedError, match="use fewer trajectories"):
        workbench.prepare(ghz(5), device=dev, options={"method": "trajectories", "trajectories": 1_000_000})


# --------------------------------------------------------------------------------------------------
# qubits that never interact, seeds


def test_qubits_that_never_interact_are_simulated_apart(catalogue) -> None:
    """Qubits 0 and 4 of the chain share no coupler and no ZZ: two one-qutrit systems, whose joint
    distribution is the product of theirs."""
    dev = catalogue.get("qutip-5q")

    def schedule(channels: list[str]) -> Schedule:
        b = ScheduleBuilder("apart", dev.dt, dev.frame_frequencies(), 2)
        if "d0" in channels:
            b.play(0, "d0", calibrated(dev.qubit(0).drive.sx), "sx0")
            b.acquire(48, 100, 0, 0)
        if "d4" in channels:
            b.play(0, "d4", calibrated(dev.qubit(4).drive.x), "x4")
            b.acquire(48, 100, 4, 1)
        return b.build()

    both, only0, only4 = schedule(["d0", "d4"]), schedule(["d0"]), schedule(["d4"])
    data = execute(dev, [both])
    assert data.info["representations"] == ["lindblad dim 9 (qubits [0]) by propagator",
                                            "lindblad dim 9 (qubits [4]) by propagator"]
    alone = execute(dev, [only0, only4]).extras["populations"][1]
    pops = data.extras["populations"][1][0]
    np.testing.assert_allclose(pops[0], alone[0, 0], atol=1e-14)
    np.testing.assert_allclose(pops[1], alone[1, 1], atol=1e-14)
    (joint,), (p0,), (p4,) = (QutipExecutor(dev).distributions([s], resolved()) for s in (both, only0, only4))
    for key, p in joint.items():  # slot 1 (qubit 4) is the left digit
        assert p == pytest.approx(p4[key[0] + "0"] * p0["0" + key[1]], abs=1e-14)
    assert joint["11"] == pytest.approx(0.5, abs=0.01)


def test_trajectories_do_not_depend_on_batching(catalogue) -> None:
    """Experiment e's trajectories draw from (seed, e): one by one, all together and as a part of the job
    (a parallel task) give the same numbers."""
    dev = catalogue.get("qutip-2q")
    schedules = [workbench.prepare(ghz(2), device=dev).programs[0] for _ in range(3)]
    options = {"method": "trajectories", "trajectories": 60, "meas_level": 1}
    together = execute(dev, schedules, **options)
    single = QutipExecutor(dev)
    single.batch_experiments = 1
    apart = execute(dev, schedules, executor=single, **options)
    part = execute(dev, schedules[2:], ids=[2], **options)
    assert np.array_equal(together.iq, apart.iq)
    assert np.array_equal(together.iq[2:], part.iq)
    assert together.info["jumps"] > 0
    assert not np.array_equal(together.extras["populations"][1][0], together.extras["populations"][1][1])


def test_exact_distribution_is_what_shots_are_drawn_from(catalogue) -> None:
    dev = catalogue.get("qutip-2q")
    schedule = workbench.prepare(ghz(2), device=dev).programs[0]
    (table,) = QutipExecutor(dev).distributions([schedule], resolved())
    assert sum(table.values()) == pytest.approx(1.0, abs=1e-9)
    assert table["00"] + table["11"] > 0.98 and math.isclose(table["00"], 0.5, abs_tol=0.02)


def test_blas_runs_on_one_thread_and_scipy_loads_only_for_engines_that_call_it() -> None:
    """A single noisy qutrit (9x9 Liouvillians: numpy's own small expm) leaves scipy.linalg unloaded;
    a block that may call scipy loads it first, so that its OpenBLAS is limited to one thread too."""
    import subprocess
    import sys

    code = """
import sys, json
import numpy as np, threadpoolctl, workbench
from workbench.executors.qutip.compile import compile_schedule
from workbench.executors.qutip.hamiltonian import build_system
from workbench.executors.qutip.propagate import Propagator, Representation
from workbench.executors.qutip.threads import single_blas_thread
catalogue = workbench.load_catalogue()
qubit = build_system(catalogue.get("qutip-1q"), (0,), 3, True)
schedule = workbench.prepare("x-gate", device="qutip-1q").programs[0]
one = Propagator(Representation(qubit, lindblad=True))
(outcome,) = one.run([compile_schedule(schedule, qubit)])
out = {"one": one.uses_scipy, "p1": float(outcome.slot_populations[0, 1]), "after_one": "scipy.linalg" in sys.modules}
two = Propagator(Representation(build_system(catalogue.get("qutip-2q"), (0, 1), 3, True), lindblad=True))
out["two"] = two.uses_scipy
with single_blas_thread():
    out["inside"] = [(i["internal_api"], i["num_threads"]) for i in threadpoolctl.threadpool_info()
                     if i["user_api"] == "blas"]
    out["loaded"] = "scipy.linalg" in sys.modules
print(json.dumps(out))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (out["one"], out["after_one"], out["two"], out["loaded"]) == (False, False, True, True)
    assert out["p1"] > 0.9  # the x gate ran
    assert len(out["inside"]) >= 2 and all(threads == 1 for _, threads in out["inside"])  # numpy's and scipy's
