"""The qutip executor against closed forms and against qutip's own solver.

Every expected value below is computed from a formula (Rabi, detuned Rabi, T1 decay, Ramsey) or by
an independent integration (qutip ``mesolve`` with continuous carriers), never copied from an
earlier run. Devices are built here with round numbers so the formulas stay readable; two-level
runs (``levels=2``) are exact for the piecewise-constant model, three-level runs carry the small,
bounded leakage and Stark shift of a weak drive.
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading
from typing import Any

import numpy as np
import pytest

from workbench.devices.model import Device
from workbench.errors import CancelledError, UnsupportedError
from workbench.executors.base import ExecutionData
from workbench.executors.qutip import QutipExecutor
from workbench.executors.qutip.executor import final_states
from workbench.options import COMMON_OPTIONS, resolve_options
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Schedule

F0 = 5.0e9
F1 = 5.6e9
DT = 1e-9
READOUT = {
    "frequency": 7.0e9,
    "pulse": {"shape": "constant", "duration": 100, "amp": 0.1},
    "acquire_duration": 100,
    "iq_centers": {0: [1.0, 0.0], 1: [-1.0, 0.0], 2: [0.0, 1.0]},
    "iq_noise": 0.2,
}


def make_device(t1: float | None = None, t2: float | None = None, rabi: float = 5e6,
                anharmonicity: float = -3e8, two_qubits: bool = False, zz: float = 0.0) -> Device:
    def qubit(index: int, freq: float) -> dict[str, Any]:
        return {"index": index, "frequency": freq, "anharmonicity": anharmonicity, "t1": t1, "t2": t2,
                "drive": {"rabi_rate": rabi, "x": {"shape": "constant", "duration": 100, "amp": 0.5}},
                "readout": READOUT}

    data: dict[str, Any] = {"name": "test-device", "executor": "qutip", "dt": DT, "qubits": [qubit(0, F0)]}
    if two_qubits:
        data["qubits"].append(qubit(1, F1))
        data["couplings"] = [{"qubits": [0, 1], "channel": "u0", "rate": 5e6, "transition": "11-20",
                              "zz": zz}]
    return Device.model_validate(data)


def builder(device: Device, name: str = "exp", slots: int = 1, **frequencies: float) -> ScheduleBuilder:
    freqs = device.frame_frequencies()
    freqs.update(frequencies)
    return ScheduleBuilder(name, device.dt, freqs, slots)


def constant(amp: complex, duration: int) -> np.ndarray:
    return np.full(duration, amp, dtype=complex)


def execute(device: Device, schedules: list[Schedule], executor: QutipExecutor | None = None,
            **options: Any) -> ExecutionData:
    specs = COMMON_OPTIONS + QutipExecutor.options
    resolved = resolve_options(specs, [("test", {"seed": 11, "shots": 2000, **options})])
    ex = executor or QutipExecutor(device)
    with ex:
        ex.check(schedules, resolved)
        return ex.run(schedules, resolved)


def p1(data: ExecutionData, slot: int = 0) -> np.ndarray:
    return data.extras["populations"][1][:, slot, 1]


# --------------------------------------------------------------------------------------------------
# coherent drive


@pytest.mark.parametrize("levels, tol", [(2, 1e-10), (3, 1e-3)])
def test_rabi_amplitude_sweep_follows_sin_squared(levels: int, tol: float) -> None:
    dev = make_device()
    duration = 200
    amps = np.linspace(0.0, 1.0, 21)
    schedules = []
    for a in amps:
        b = builder(dev)
        b.play(0, "d0", constant(a, duration), "rabi")
        b.acquire(duration, 100, 0, 0)
        schedules.append(b.build())
    data = execute(dev, schedules, noise=False, levels=levels)
    expected = np.sin(math.pi * 5e6 * amps * duration * DT) ** 2
    assert np.max(np.abs(p1(data) - expected)) < tol
    # the sweep covers a full cycle, so the check would catch a factor of 2 in the rate
    assert expected.max() > 0.99 and expected[-1] < 1e-12


def test_drive_phase_selects_rotation_axis() -> None:
    """A pi/2 about x then a pi/2 about -x (carrier phase pi) undo each other; about +x they add."""
    dev = make_device()
    out = []
    for phase in (0.0, math.pi, math.pi / 2):
        b = builder(dev)
        b.play(0, "d0", constant(0.5, 100), "sx")
        b.frame(100, "d0", "shiftp", phase)
        b.play(100, "d0", constant(0.5, 100), "sx")
        b.acquire(200, 100, 0, 0)
        out.append(b.build())
    pops = p1(execute(dev, out, noise=False, levels=2))
    np.testing.assert_allclose(pops, [1.0, 0.0, 0.5], atol=1e-10)


@pytest.mark.parametrize("detuning", [2e6, -3.5e6, 40e6])
def test_detuned_drive_matches_generalised_rabi(detuning: float) -> None:
    dev = make_device(rabi=4e6)
    amp = 0.8
    durations = [25, 60, 130, 250]
    schedules = []
    for t in durations:
        b = builder(dev, d0=F0 + detuning)
        b.play(0, "d0", constant(amp, t), "drive")
        b.acquire(t, 100, 0, 0)
        schedules.append(b.build())
    pops = p1(execute(dev, schedules, noise=False, levels=2))
    omega, delta = 2 * math.pi * 4e6 * amp, 2 * math.pi * detuning
    gen = math.hypot(omega, delta)
    expected = [omega**2 / gen**2 * math.sin(gen * t * DT / 2) ** 2 for t in durations]
    np.testing.assert_allclose(pops, expected, atol=1e-10)


def test_detuning_from_shiftf_and_three_levels() -> None:
    """The generalised Rabi formula when the detuning comes from shiftf after an idle time, on a
    3-level transmon: |2> pushes |1> up by (Omega^2 / 2) / (Delta - alpha) (second order), which
    shifts the effective detuning; without that correction the formula is off by 1.3e-3 here."""
    dev = make_device(rabi=3e6, anharmonicity=-4e8)
    detuning, amp, t = 3e6, 0.7, 180
    b = builder(dev)
    b.frame(37, "d0", "shiftf", detuning)
    b.play(37, "d0", constant(amp, t), "drive")
    b.acquire(37 + t, 100, 0, 0)
    pops = p1(execute(dev, [b.build()], noise=False, levels=3))
    omega, delta, alpha = 2 * math.pi * 3e6 * amp, 2 * math.pi * detuning, 2 * math.pi * -4e8
    effective = delta - omega**2 / (2 * (delta - alpha))
    gen = math.hypot(omega, effective)
    assert abs(pops[0] - omega**2 / gen**2 * math.sin(gen * t * DT / 2) ** 2) < 3e-5


def test_frame_frequency_offset_is_physics_not_calibration() -> None:
    """A drive calibrated at the wrong frequency (calibration) misses the true qubit (physics)."""
    right = make_device()
    data = right.model_dump()
    data["qubits"][0]["drive"]["frequency"] = F0 + 10e6
    wrong = Device.model_validate(data)
    pops = []
    for dev in (right, wrong):
        b = builder(dev)
        b.play(0, "d0", constant(1.0, 100), "pi")  # a pi pulse on resonance
        b.acquire(100, 100, 0, 0)
        pops.append(p1(execute(dev, [b.build()], noise=False, levels=2))[0])
    omega, delta = 2 * math.pi * 5e6, 2 * math.pi * 10e6
    gen = math.hypot(omega, delta)
    assert pops[0] == pytest.approx(1.0, abs=1e-10)
    assert pops[1] == pytest.approx(omega**2 / gen**2 * math.sin(gen * 100 * DT / 2) ** 2, abs=1e-10)


# --------------------------------------------------------------------------------------------------
# decoherence


def test_t1_decay_after_pi_pulse() -> None:
    t1 = 20e-6
    dev = make_device(t1=t1, t2=2 * t1, rabi=25e6)
    delays = [0, 2_000, 7_000, 15_000, 40_000]
    schedules = []
    for tau in delays:
        b = builder(dev)
        b.play(0, "d0", constant(1.0, 20), "pi")  # pi: 25 MHz * 20 ns = 1/2
        b.acquire(20 + tau, 100, 0, 0)
        schedules.append(b.build())
    pops = p1(execute(dev, schedules, levels=2))
    decay = np.exp(-np.array(delays) * DT / t1)
    # relaxation during the 20 ns pulse itself costs ~ 10 ns / T1
    np.testing.assert_allclose(pops, pops[0] * decay, rtol=1e-9)
    assert 1 - 20e-9 / t1 < pops[0] < 1.0
    # a fast square pulse on a 3-level transmon leaks a little into |2>, which decays into |1> at 2/T1:
    # P1(tau) = P1(0) e^(-tau/T1) + 2 P2(0) (e^(-tau/T1) - e^(-2 tau/T1))
    three = execute(dev, schedules, levels=3).extras["populations"][1][:, 0, :]
    assert three[0, 2] > 1e-4  # the leakage is there, so the check below means something
    expected = three[0, 1] * decay + 2 * three[0, 2] * (decay - decay**2)
    np.testing.assert_allclose(three[:, 1], expected, rtol=1e-9)


def test_ramsey_envelope_and_virtual_z_phase() -> None:
    t1, t2 = 30e-6, 20e-6
    dev = make_device(t1=t1, t2=t2, rabi=50e6)
    fake = 0.2e6  # Hz of virtual detuning applied by shiftp
    delays = [0, 1_000, 3_300, 8_000, 21_000]
    schedules = []
    for tau in delays:
        b = builder(dev)
        b.play(0, "d0", constant(0.5, 10), "sx")  # 50 MHz * 0.5 * 10 ns = 1/4 turn
        b.frame(10 + tau, "d0", "shiftp", 2 * math.pi * fake * tau * DT)
        b.play(10 + tau, "d0", constant(0.5, 10), "sx")
        b.acquire(20 + tau, 100, 0, 0)
        schedules.append(b.build())
    pops = p1(execute(dev, schedules, levels=2))
    tau = np.array(delays) * DT
    expected = 0.5 * (1 + np.exp(-tau / t2) * np.cos(2 * math.pi * fake * tau))
    assert np.max(np.abs(pops - expected)) < 2e-3


def _rotate(r: np.ndarray, w: np.ndarray, t: float) -> np.ndarray:
    """Solution of dr/dt = w x r: a right-handed rotation of r about w by |w| t (Rodrigues)."""
    norm = float(np.linalg.norm(w))
    if norm == 0.0:
        return r
    n, theta = w / norm, norm * t
    return r * math.cos(theta) + np.cross(n, r) * math.sin(theta) + n * (n @ r) * (1 - math.cos(theta))


def test_detuned_ramsey_fringes_against_bloch_equations() -> None:
    """Two detuned pi/2 pulses and a free precession with T1/T2, solved on the Bloch sphere.

    In the drive frame H = (Omega A / 2)(cos(phi) sx + sin(phi) sy) + (delta / 2) sz (delta = 2 pi
    (f_drive - f_qubit); a frame phase phi turns the drive axis by +phi, Qiskit's convention in which
    rz(theta) is ShiftPhase(-theta)), i.e. dr/dt = w x r with w = (Omega A cos(phi), Omega A sin(phi), delta); in the
    delay x, y also decay as exp(-t/T2) and z relaxes to +1 as exp(-t/T1). The 2 ns pulses make
    decoherence during them negligible (< 2e-4).
    """
    t1, t2 = 20e-6, 15e-6
    dev = make_device(t1=t1, t2=t2, rabi=250e6)
    detuning, amp, width, phase2 = 1.3e6, 0.5, 2, 0.4
    delays = [0, 300, 1_100, 2_600, 5_000]
    schedules = []
    for tau in delays:
        b = builder(dev, d0=F0 + detuning)
        b.play(0, "d0", constant(amp, width), "sx")
        b.frame(width + tau, "d0", "shiftp", phase2)
        b.play(width + tau, "d0", constant(amp, width), "sx")
        b.acquire(2 * width + tau, 100, 0, 0)
        schedules.append(b.build())
    pops = p1(execute(dev, schedules, levels=2))
    omega, delta = 2 * math.pi * 250e6 * amp, 2 * math.pi * detuning
    expected = []
    for tau in np.array(delays) * DT:
        r = _rotate(np.array([0.0, 0.0, 1.0]), np.array([omega, 0.0, delta]), width * DT)
        r = _rotate(r, np.array([0.0, 0.0, delta]), tau)
        r = np.array([r[0] * math.exp(-tau / t2), r[1] * math.exp(-tau / t2),
                      1 - (1 - r[2]) * math.exp(-tau / t1)])
        w2 = np.array([omega * math.cos(phase2), omega * math.sin(phase2), delta])
        r = _rotate(r, w2, width * DT)
        expected.append((1 - r[2]) / 2)
    assert np.ptp(expected) > 0.3  # fringes, not a flat line
    np.testing.assert_allclose(pops, expected, atol=5e-4)


# --------------------------------------------------------------------------------------------------
# measurement, slots, shots


def test_sequential_measurements_collapse_the_state() -> None:
    """pi/2, measure, pi/2, measure: without the collapse the two pi/2 would make a pi pulse."""
    dev = make_device()
    b = builder(dev, slots=2)
    b.play(0, "d0", constant(0.5, 100), "sx")
    b.acquire(100, 100, 0, 0)
    b.play(200, "d0", constant(0.5, 100), "sx")
    b.acquire(300, 100, 0, 1)
    data = execute(dev, [b.build()], noise=False, levels=2, shots=8000, meas_level=1)
    pops = data.extras["populations"][1][0]
    np.testing.assert_allclose(pops, [[0.5, 0.5], [0.5, 0.5]], atol=1e-10)
    bits = (data.iq[0].real < 0).astype(int)  # centres at +1 / -1 on I, noise 0.2: no overlap
    joint = np.bincount(bits[:, 0] * 2 + bits[:, 1], minlength=4) / 8000
    assert np.all(np.abs(joint - 0.25) < 5 * math.sqrt(0.25 * 0.75 / 8000))


def test_repeated_measurement_agrees_with_itself() -> None:
    dev = make_device()
    b = builder(dev, slots=2)
    b.play(0, "d0", constant(0.5, 60), "partial")
    b.acquire(60, 100, 0, 1)
    b.acquire(160, 100, 0, 0)
    data = execute(dev, [b.build()], noise=False, levels=2, shots=3000, meas_level=1)
    bits = (data.iq[0].real < 0).astype(int)
    assert np.array_equal(bits[:, 0], bits[:, 1])
    expected = math.sin(math.pi * 5e6 * 0.5 * 60 * DT) ** 2
    assert abs(bits[:, 0].mean() - expected) < 5 * math.sqrt(expected * (1 - expected) / 3000)


def test_slot_written_twice_keeps_the_later_acquisition() -> None:
    dev = make_device()
    b = builder(dev, slots=2)
    b.play(0, "d0", constant(1.0, 100), "pi")
    b.acquire(100, 100, 0, 0)
    b.play(200, "d0", constant(1.0, 100), "pi")
    b.acquire(300, 100, 0, 0)  # back in |0>: slot 0 must say 0
    data = execute(dev, [b.build()], noise=False, levels=2, meas_level=1)
    assert data.slot_qubit.tolist() == [[0, -1]]
    np.testing.assert_allclose(data.extras["populations"][1][0, 0], [1.0, 0.0], atol=1e-10)
    assert np.all(np.isnan(data.extras["populations"][1][0, 1]))
    assert np.all(np.isnan(data.iq[0, :, 1]))
    assert abs(np.mean(data.iq[0, :, 0]) - 1.0) < 0.05


def test_two_qubits_joint_acquisition_maps_slots() -> None:
    dev = make_device(two_qubits=True)
    b = builder(dev, slots=3)
    b.play(0, "d1", constant(1.0, 100), "pi")
    b.acquire(100, 100, 1, 0)
    b.acquire(100, 100, 0, 2)
    data = execute(dev, [b.build()], noise=False, levels=3, meas_level=1, shots=4000)
    assert data.slot_qubit.tolist() == [[1, -1, 0]]
    pops = data.extras["populations"][1][0]
    assert pops[0, 1] > 0.999 and pops[2, 0] > 0.999
    assert np.all(np.isnan(data.iq[0, :, 1]))
    for slot, centre in ((0, -1.0), (2, 1.0)):
        iq = data.iq[0, :, slot]
        assert abs(iq.real.mean() - centre) < 0.02 and abs(iq.imag.mean()) < 0.02
        assert np.std(iq.real) == pytest.approx(0.2, rel=0.05)


def test_iq_statistics_follow_populations() -> None:
    dev = make_device()
    b = builder(dev)
    b.play(0, "d0", constant(0.5, 100), "sx")
    b.acquire(100, 100, 0, 0)
    data = execute(dev, [b.build()], noise=False, levels=2, shots=20000, meas_level=1)
    iq = data.iq[0, :, 0]
    # mixture of two blobs at +-1 with weights 1/2: mean 0, variance 1 + 0.2^2 on I, 0.2^2 on Q
    assert abs(iq.real.mean()) < 5 * math.sqrt(1.04 / 20000)
    assert np.var(iq.real) == pytest.approx(1.04, rel=0.05)
    assert np.var(iq.imag) == pytest.approx(0.04, rel=0.05)


def test_seed_reproduces_and_grouping_does_not_matter() -> None:
    dev = make_device(t1=20e-6, t2=25e-6)
    schedules = []
    for a in (0.2, 0.5, 0.9):
        b = builder(dev, name=f"a{a}")
        b.play(0, "d0", constant(a, 100), "drive")
        b.acquire(100, 100, 0, 0)
        schedules.append(b.build())
    first = execute(dev, schedules, seed=5, meas_level=1)
    again = execute(dev, schedules, seed=5, meas_level=1)
    one_by_one = QutipExecutor(dev)
    one_by_one.batch_experiments = 1
    split = execute(dev, schedules, executor=one_by_one, seed=5, meas_level=1)
    other = execute(dev, schedules, seed=6, meas_level=1)
    assert np.array_equal(first.iq, again.iq)
    assert np.array_equal(first.iq, split.iq)
    assert not np.array_equal(first.iq, other.iq)
    np.testing.assert_array_equal(first.extras["populations"][1], other.extras["populations"][1])


def test_experiment_without_acquisition_and_progress() -> None:
    dev = make_device()
    a = builder(dev, name="nothing")
    a.play(0, "d0", constant(1.0, 100), "pi")
    b = builder(dev, name="measured")
    b.acquire(0, 100, 0, 0)
    calls: list[tuple[int, int]] = []
    specs = COMMON_OPTIONS + QutipExecutor.options
    resolved = resolve_options(specs, [("test", {"seed": 1, "shots": 10})])
    with QutipExecutor(dev) as ex:
        data = ex.run([a.build(), b.build()], resolved, progress=lambda d, t: calls.append((d, t)))
    assert data.slot_qubit.tolist() == [[-1], [0]]
    assert np.all(np.isnan(data.iq[0]))
    np.testing.assert_allclose(data.extras["populations"][1][1, 0], [1, 0, 0], atol=1e-12)
    assert calls[-1] == (2, 2) and [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_cancel_stops_the_run() -> None:
    dev = make_device()
    b = builder(dev)
    b.acquire(0, 100, 0, 0)
    cancel = threading.Event()
    cancel.set()
    resolved = resolve_options(COMMON_OPTIONS + QutipExecutor.options, [("test", {"seed": 1})])
    with QutipExecutor(dev) as ex, pytest.raises(CancelledError):
        ex.run([b.build()], resolved, cancel=cancel)


def test_rejections_are_clear() -> None:
    dev = make_device(two_qubits=True)
    resolved = resolve_options(COMMON_OPTIONS + QutipExecutor.options, [("test", {"meas_level": 0})])
    b = builder(dev)
    b.acquire(0, 100, 0, 0)
    with pytest.raises(UnsupportedError, match="meas_level 0"):
        QutipExecutor(dev).check([b.build()], resolved)
    coupler = builder(dev)
    coupler.play(0, "u0", constant(0.5, 10), "cz")
    coupler.acquire(10, 100, 0, 0)
    two_levels = resolve_options(COMMON_OPTIONS + QutipExecutor.options, [("test", {"levels": 2})])
    with pytest.raises(UnsupportedError, match="levels >= 3"):
        QutipExecutor(dev).check([coupler.build()], two_levels)
    stray = ScheduleBuilder("x", DT, {"u5": 1e8, **dev.frame_frequencies()}, 1)
    stray.play(0, "u5", constant(0.5, 10), "p")
    with pytest.raises(UnsupportedError, match="u5 is not a coupler"):
        QutipExecutor(dev).check([stray.build()], two_levels)


def test_versions_and_lazy_imports() -> None:
    versions = QutipExecutor.versions()
    assert set(versions) == {"numpy", "scipy"}  # what a run uses; qutip and chalmers-qubit are references only
    code = ("import sys, workbench, workbench.executors.qutip; "
            "heavy = [m for m in ('qutip', 'scipy', 'chalmers_qubit') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_runs_never_import_qutip_or_chalmers_qubit() -> None:
    """The executor integrates with its own numpy/scipy propagators: qutip and chalmers-qubit are test
    references (the test extra), so no module of the package imports them and no run loads them."""
    import ast
    from pathlib import Path

    import workbench

    for path in Path(workbench.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            assert not any(n.split(".")[0] in ("qutip", "chalmers_qubit") for n in names), path
    code = ("import sys, workbench\n"
            "noisy = workbench.run('rabi', device='qutip-1q', shots=50, seed=1)\n"
            "ket = workbench.run('x-gate', device='qutip-1q', shots=50, seed=1, options={'noise': False})\n"
            "bell = workbench.run('bell', device='qutip-2q', shots=50, seed=1)\n"
            "assert noisy.counts(-1) and ket.counts() and bell.counts()\n"
            "print(sorted(m for m in ('qutip', 'chalmers_qubit') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


def test_relaxation_between_two_measurements_is_a_joint_distribution() -> None:
    """pi, measure, wait, measure with T1: the second outcome depends on the first (branching on a
    density matrix). Joint P(1, 1) = P1 e^(-tau/T1), P(1, 0) = P1 (1 - e^(-tau/T1)), P(0, x) = 1 - P1."""
    t1 = 10e-6
    dev = make_device(t1=t1, t2=2 * t1, rabi=25e6)
    tau = 8_000
    b = builder(dev, slots=2)
    b.play(0, "d0", constant(1.0, 20), "pi")
    b.acquire(20, 100, 0, 0)
    b.acquire(20 + tau, 100, 0, 1)
    shots = 20000
    data = execute(dev, [b.build()], levels=2, shots=shots, meas_level=1)
    pops = data.extras["populations"][1][0]
    p1_first = pops[0, 1]
    decay = math.exp(-tau * DT / t1)
    assert pops[1, 1] == pytest.approx(p1_first * decay, rel=1e-9)
    bits = (data.iq[0].real < 0).astype(int)
    joint = np.bincount(bits[:, 0] * 2 + bits[:, 1], minlength=4) / shots  # index = 2 * first + second
    expected = np.array([1 - p1_first, 0.0, p1_first * (1 - decay), p1_first * decay])
    sigma = np.sqrt(expected * (1 - expected) / shots) + 1e-3  # + readout overlap at 5 sigma of the blobs
    assert np.all(np.abs(joint - expected) < 5 * sigma)


@pytest.mark.parametrize("by_basis", [True, False], ids=["by-basis", "per-row"])
def test_series_and_exponential_paths_agree(by_basis: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps used once are applied by a Taylor series on the states, shared ones by expm: same physics,
    whichever way the series multiplies (one product with the basis for many rows, a product per row)."""
    import workbench.executors.qutip.propagate as propagate
    from workbench.executors.qutip.compile import compile_schedule
    from workbench.executors.qutip.hamiltonian import build_system
    from workbench.executors.qutip.propagate import Propagator, Representation

    monkeypatch.setattr(propagate, "series_by_basis", lambda rows, bases, dim: by_basis)

    dev = make_device(t1=5e-6, t2=6e-6, two_qubits=True, rabi=20e6, zz=1e6)
    rng = np.random.default_rng(3)
    schedules = []
    for _ in range(4):
        b = builder(dev, slots=2, d1=F1 + 2e6)
        b.play(0, "d0", (rng.uniform(-0.6, 0.6, 30) + 1j * rng.uniform(-0.6, 0.6, 30)), "noise0")
        b.play(5, "d1", rng.uniform(0, 0.5, 20).astype(complex), "noise1")
        b.play(30, "u0", 0.7 * np.ones(40, dtype=complex), "coupler")
        b.acquire(70, 100, 0, 0)
        b.play(70, "d1", 0.3 * np.ones(15, dtype=complex), "late")
        b.acquire(2_085, 100, 1, 1)
        schedules.append(b.build())
    system = build_system(dev, (0, 1), 3, noise=True)
    rep = Representation(system, lindblad=True)
    programs = [compile_schedule(s, system) for s in schedules]
    fast = Propagator(rep)
    a = fast.run(programs)
    slow = Propagator(rep, series=False)
    b_ = slow.run(programs)
    assert fast.stats.taylor > 0 and slow.stats.taylor == 0
    for x, y in zip(a, b_, strict=True):
        np.testing.assert_allclose(x.slot_populations, y.slot_populations, atol=1e-12)
        np.testing.assert_allclose(x.weights, y.weights, atol=1e-12)
        np.testing.assert_array_equal(x.records, y.records)


@pytest.mark.parametrize("lindblad", [True, False])
def test_series_coordinates_apply_the_generators(lindblad: bool) -> None:
    """The Taylor series works on its own layout (rows last, generators as coefficients of a basis) and,
    for density matrices, in real coordinates; one product there must be ``tau G`` applied to the
    state, back in the usual form."""
    from workbench.executors.qutip.hamiltonian import build_system
    from workbench.executors.qutip.propagate import Representation

    dev = make_device(t1=20e-6, t2=30e-6)
    rep = Representation(build_system(dev, (0,), 3, noise=True), lindblad=lindblad)
    rng = np.random.default_rng(11)
    rows = np.zeros((25, 5))
    rows[:, 1] = rng.uniform(0.1, 2.0, 25)
    rows[:, 2:] = rng.uniform(-1, 1, (25, 3))
    if lindblad:
        a = rng.normal(size=(25, 3, 3)) + 1j * rng.normal(size=(25, 3, 3))
        states = (a @ a.conj().transpose(0, 2, 1)).reshape(25, 9)  # Hermitian (and positive)
        assert rep.series_states(states).dtype == np.float64
    else:
        states = rng.normal(size=(25, 3)) + 1j * rng.normal(size=(25, 3))
    np.testing.assert_allclose(rep.from_series(rep.series_states(states)), states, atol=1e-13)
    expected = (rep.generators(rows) @ states[:, :, None])[:, :, 0]
    coeff = rep.series_coefficients(rows)  # (bases, rows)
    product = np.einsum("br,bij,jr->ir", coeff, rep.series_basis, rep.series_states(states))
    np.testing.assert_allclose(rep.from_series(product), expected, atol=1e-12)


def test_small_expm_matches_scipy() -> None:
    from scipy.linalg import expm

    from workbench.executors.qutip.hamiltonian import build_system
    from workbench.executors.qutip.propagate import Representation, expm_small

    dev = make_device(t1=20e-6, t2=30e-6)
    rep = Representation(build_system(dev, (0,), 3, noise=True), lindblad=True)
    rng = np.random.default_rng(7)
    rows = np.zeros((300, 5))
    rows[:, 1] = 10 ** rng.uniform(-1, 5.3, 300)  # 0.1 ns to 200 us
    rows[:, 2] = rng.uniform(-0.3, 0.3, 300)  # a frame
    rows[:, 3:] = rng.uniform(-1, 1, (300, 2)) * (rows[:, 1:2] < 200)  # drives on short steps only
    generators = rep.generators(rows)
    assert np.max(np.abs(expm_small(generators) - expm(generators))) < 1e-9


def test_a_batch_of_shared_steps_gives_each_experiment_its_own_propagation() -> None:
    """A sweep of flat pulses (long steps: exact propagators) shares a few steps among many experiments:
    the rows of a column are then multiplied step by step in groups. Each experiment must end as it
    does when it runs alone (a column of one row), whatever group it falls in."""
    dev = make_device(t1=20e-6, t2=30e-6, rabi=2e6)
    amps = [0.2, 0.5, 0.9]
    schedules = []
    for k in range(15):  # three amplitudes, each five times, interleaved: groups are not contiguous rows
        b = builder(dev)
        b.play(0, "d0", constant(amps[k % 3], 120 + 40 * (k % 2)), "flat")
        b.acquire(200, 100, 0, 0)
        schedules.append(b.build())
    together = execute(dev, schedules, meas_level=1).extras["populations"][1][:, 0, :]
    alone = np.concatenate([execute(dev, [s], meas_level=1).extras["populations"][1][:, 0, :] for s in schedules])
    np.testing.assert_allclose(together, alone, atol=1e-12)
    assert len({round(float(p), 9) for p in together[:, 1]}) == 6  # six distinct pulses, six outcomes


@pytest.mark.parametrize("qubits", [1, 2], ids=["qutrit", "two-qutrits"])
def test_exact_propagators_are_the_exponentials_of_the_liouvillians(qubits: int) -> None:
    """Liouvillians are exponentiated as real matrices in the Hermitian coordinates and changed back;
    that must be ``expm`` of the complex generator itself, on every vector (not only Hermitian ones),
    from sub-nanosecond steps to long idles, with frames and drives."""
    from scipy.linalg import expm

    from workbench.executors.qutip.hamiltonian import build_system
    from workbench.executors.qutip.propagate import Representation

    dev = make_device(t1=20e-6, t2=30e-6, two_qubits=qubits == 2, zz=1e6 if qubits == 2 else 0.0)
    rep = Representation(build_system(dev, tuple(range(qubits)), 3, noise=True), lindblad=True)
    rng = np.random.default_rng(5)
    k, width = 12, 2 + qubits + 2 * len(rep.system.controls)
    rows = np.zeros((k, width))
    rows[:, 1] = 10 ** rng.uniform(-1, 4, k)  # 0.1 ns to 10 us
    rows[:, 2 : 2 + qubits] = rng.uniform(-0.3, 0.3, (k, qubits))  # frames
    rows[:, 2 + qubits :] = rng.uniform(-1, 1, (k, width - 2 - qubits)) * (rows[:, 1:2] < 100)
    expected = expm(rep.generators(rows))
    got = rep.propagators(rows)
    scale = np.abs(expected).max()
    assert np.max(np.abs(got - expected)) < 1e-10 * scale
    vectors = rng.normal(size=(k, rep.dim)) + 1j * rng.normal(size=(k, rep.dim))  # not Hermitian
    np.testing.assert_allclose((got @ vectors[:, :, None])[:, :, 0], (expected @ vectors[:, :, None])[:, :, 0],
                               atol=1e-10 * scale * np.abs(vectors).max() * rep.dim)


# --------------------------------------------------------------------------------------------------
# two qubits: coupler, ZZ, frames, against qutip's solver


def test_coupler_swaps_eleven_and_twenty_on_resonance() -> None:
    """On the device's transition frequency, |11> <-> |20> Rabi-oscillates at sqrt(2) * rate * amp."""
    dev = make_device(two_qubits=True, rabi=10e6)
    amp = 0.6
    durations = [0, 40, 80, 118]
    schedules = []
    for t in durations:
        b = builder(dev)
        b.play(0, "d0", constant(1.0, 50), "pi0")
        b.play(0, "d1", constant(1.0, 50), "pi1")
        if t:
            b.play(50, "u0", constant(amp, t), "swap")
        b.acquire(50 + t, 100, 0, 0)
        b.acquire(50 + t, 100, 1, 1)
        schedules.append(b.build())
    ((_, rho),) = final_states(dev, schedules[:1], noise=False)
    assert rho[4, 4].real > 0.99  # |11> prepared (index 1*3 + 1)
    data = execute(dev, schedules, noise=False, levels=3)
    p_q0_2 = data.extras["populations"][1][:, 0, 2]
    rate = math.sqrt(2) * 2 * math.pi * 5e6 * amp
    prepared = data.extras["populations"][1][0, 0, 1] * data.extras["populations"][1][0, 1, 1]
    expected = np.sin(rate * np.array(durations) * DT / 2) ** 2 * prepared
    assert np.max(np.abs(p_q0_2 - expected)) < 5e-3


def _carrier(plays: list, reference: float):
    """D'(t): the piecewise-constant envelope times the continuous carrier seen from the qubit frame."""

    def coefficient(t: float) -> complex:
        for p in plays:
            if p.t0 <= t < p.t1:
                # the IQ envelope enters conjugated (Qiskit's phase convention), the carrier as it is
                carrier = 2 * math.pi * (p.frequency - reference) * t * 1e-9 + p.carrier_phase - p.phase
                iq = p.samples[int(t - p.t0)] * np.exp(1j * p.phase)
                return complex(np.conj(iq) * np.exp(1j * carrier))
        return 0j

    return coefficient


def _conjugate(f):
    return lambda t: np.conj(f(t))


def _qutip_reference(dev: Device, schedule: Schedule, noise: bool) -> np.ndarray:
    """Integrate the same model with qutip.mesolve, carriers as continuous functions of time."""
    import qutip

    d = 3
    a = [qutip.tensor(qutip.destroy(d), qutip.qeye(d)), qutip.tensor(qutip.qeye(d), qutip.destroy(d))]
    qubits = [dev.qubit(0), dev.qubit(1)]
    h0 = 0 * a[0]
    for op, q in zip(a, qubits, strict=True):
        h0 += 2 * math.pi * q.anharmonicity * 1e-9 / 2 * op.dag() * op.dag() * op * op
    coupling = dev.couplings[0]
    h0 += 2 * math.pi * coupling.zz * 1e-9 * a[0].dag() * a[0] * a[1].dag() * a[1]
    k11 = qutip.tensor(qutip.basis(d, 1), qutip.basis(d, 1))
    k20 = qutip.tensor(qutip.basis(d, 2), qutip.basis(d, 0))
    ops = {"d0": (a[0], 2 * math.pi * qubits[0].drive.rabi_rate * 1e-9, qubits[0].frequency),
           "d1": (a[1], 2 * math.pi * qubits[1].drive.rabi_rate * 1e-9, qubits[1].frequency),
           "u0": (math.sqrt(2) * k11 * k20.dag(), 2 * math.pi * coupling.rate * 1e-9,
                  qubits[0].frequency - qubits[1].frequency)}
    terms: list[Any] = [h0]
    for ch, (op, scale, ref) in ops.items():
        envelope = _carrier(schedule.plays_on(ch), ref)
        terms.append([scale / 2 * op, envelope])
        terms.append([scale / 2 * op.dag(), _conjugate(envelope)])
    c_ops = []
    if noise:
        for op, q in zip(a, qubits, strict=True):
            t1, t2 = q.t1 * 1e9, q.t2 * 1e9
            c_ops.append(op / math.sqrt(t1))
            c_ops.append(math.sqrt(2 * (1 / t2 - 0.5 / t1)) * op.dag() * op)
    h = qutip.QobjEvo(terms)
    rho0 = qutip.ket2dm(qutip.tensor(qutip.basis(d, 0), qutip.basis(d, 0)))
    end = schedule.duration
    res = qutip.mesolve(h, rho0, np.linspace(0, end, 2), c_ops,
                        options={"atol": 1e-10, "rtol": 1e-8, "max_step": 0.05, "nsteps": 10**6})
    return res.states[-1].full()


@pytest.mark.slow
def test_two_qubit_model_matches_qutip_mesolve() -> None:
    """Detuned drives overlapping a coupler pulse (no common static frame: sub-stepped), ZZ, T1/T2."""
    dev = make_device(t1=3e-6, t2=4e-6, two_qubits=True, rabi=20e6, zz=2e6)
    trans = dev.transition_frequency(dev.couplings[0])
    b = builder(dev, d0=F0 + 3e6, d1=F1 - 2e6, u0=trans + 1e6)
    t = np.arange(60)
    b.play(0, "d0", 0.6 * np.sin(np.pi * (t + 0.5) / 60) ** 2, "x0")
    b.play(10, "d1", 0.4 * np.exp(0.3j) * np.ones(40), "x1")
    b.frame(30, "u0", "shiftp", 0.7)
    b.play(30, "u0", 0.8 * np.ones(50), "coupler")
    b.play(70, "d0", 0.5j * np.ones(20), "y0")
    schedule = b.build()
    ((qubits, rho),) = final_states(dev, [schedule], noise=True)
    reference = _qutip_reference(dev, schedule, noise=True)
    assert qubits == (0, 1)
    assert np.max(np.abs(rho - reference)) < 3e-4  # measured 4e-5: sub-step midpoints vs continuous carrier
    assert np.trace(rho).real == pytest.approx(1.0, abs=1e-10)


def test_phase_convention_is_qiskits_virtual_z() -> None:
    """A frame detuned by delta for tau leaves the qubit rotated by Rz(2 pi delta tau); Qiskit undoes that
    with rz(-2 pi delta tau) = ShiftPhase(+2 pi delta tau). With it, sx . sx is a full X again; with the
    opposite sign the error doubles."""
    dev = make_device(t1=None, t2=None, rabi=250e6)
    detuning, tau, width = 2.0e6, 150, 2
    theta = 2 * math.pi * detuning * tau * DT
    outcomes = []
    for sign in (+1, -1, 0):
        b = builder(dev, d0=F0 + detuning)
        b.play(0, "d0", constant(0.5, width), "sx")
        if sign:
            b.frame(width + tau, "d0", "shiftp", sign * theta)
        b.play(width + tau, "d0", constant(0.5, width), "sx")
        b.acquire(2 * width + tau, 10, 0, 0)
        outcomes.append(b.build())
    compensated, doubled, plain = p1(execute(dev, outcomes, levels=2))
    assert compensated > 0.999
    # the phase also accrues between the pulse centres (tau + width) and the short pulses are slightly off
    # resonance: hence the tolerance on the uncompensated fringes
    free = 2 * math.pi * detuning * (tau + width) * DT
    assert abs(plain - (1 + math.cos(free)) / 2) < 5e-3
    assert abs(doubled - (1 + math.cos(free + theta)) / 2) < 5e-3
