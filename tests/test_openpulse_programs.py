"""OpenPulse programs written three ways, run on the simulated transmons and the Qblox twin.

* by hand from the OpenQASM/OpenPulse specification's examples, adapted to the devices' ports
  (``tests/data/openpulse/spec``);
* generated here with ``oqpy``;
* generated once with ``amazon-braket-sdk``'s ``PulseSequence`` and kept as data with the script
  that made them (``tests/data/openpulse/braket``, see its README for why Braket is not installed).

Physics against closed forms: an X pulse flips the qubit, a constant pi pulse detuned by
``sqrt(3) / (2T)`` makes a full generalised Rabi cycle (``P1 = W^2/(W^2+D^2) sin^2(sqrt(W^2+D^2) T/2) =
0``), ``shift_phase(phi)`` between two pi/2 pulses gives ``P1 = cos^2(phi/2)`` (phi = pi reverses the
first), and a defcal'd CNOT after an H makes a Bell pair.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import workbench
from workbench.jobs import load_job

DATA = Path(__file__).parent / "data" / "openpulse"
SHOTS = 1000
T = 100e-9
DETUNING = math.sqrt(3) / (2 * T)  # one full generalised Rabi cycle of a constant pi pulse of length T
BRAKET_NAMES = """
devices:
  - name: braket-1q
    base: {one}
    openpulse_names: {{q0_rf: d0, q0_rf_frame: q0_drive, r0_tx: m0, r0_measure_frame: q0_measure}}
  - name: braket-2q
    base: qutip-2q
    openpulse_names: {{q0_rf: d0, q1_rf: d1, q0_rf_frame: q0_drive, q1_rf_frame: q1_drive, q0_q1_cz: u0,
                      q0_q1_cz_frame: u0_coupler, r0_measure_frame: q0_measure, r1_measure_frame: q1_measure}}
"""


def p1(result, experiment: int = 0, slot: int = 0) -> float:
    return float(result.dataset.memory.isel(experiment=experiment, slot=slot).mean())


def bell_fractions(result) -> tuple[float, float]:
    counts = result.counts()
    return counts.get("00", 0) / SHOTS, counts.get("11", 0) / SHOTS


@pytest.fixture(scope="module")
def braket_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("braket") / "braket.yml"
    path.write_text(BRAKET_NAMES.format(one="qutip-1q"))
    return path


def cos2_half(phi: float) -> float:
    return math.cos(phi / 2) ** 2


PHIS = [0.0, math.pi / 2, math.pi]


# ------------------------------------------------------------------------------- by hand (spec)


def test_spec_x_flips_the_qubit():
    result = workbench.run(str(DATA / "spec" / "x_rz_measure.qasm"), device="qutip-1q", shots=SHOTS, seed=1)
    assert p1(result) > 0.95  # a plain gaussian (no DRAG) on a 3-level transmon, 60 us T1


def test_spec_detuned_set_frequency_leaves_the_qubit():
    result = workbench.run(str(DATA / "spec" / "detuned_drive.qasm"), device="qutip-1q", shots=SHOTS, seed=2,
                           options={"inputs": {"detuning": [0.0, DETUNING, DETUNING / 2]}})
    omega, delta = math.pi / T, 2 * math.pi * DETUNING / 2
    half_way = omega**2 / (omega**2 + delta**2) * math.sin(math.sqrt(omega**2 + delta**2) * T / 2) ** 2
    assert [p1(result, e) for e in range(3)] == pytest.approx([1.0, 0.0, half_way], abs=0.05)


def test_spec_shift_phase_reverses_a_rotation_and_loops_unroll():
    result = workbench.run(str(DATA / "spec" / "phase_reversal.qasm"), device="qutip-1q", shots=SHOTS, seed=3,
                           options={"inputs": {"phi": [*PHIS, 0.0, 0.0], "n_half": [0, 0, 0, 1, 2]}})
    # phi as given, then one or two more pi/2 pulses: 3 pi/2 (P1 = 1/2) and 2 pi (P1 = 0)
    expected = [cos2_half(phi) for phi in PHIS] + [0.5, 0.0]
    assert [p1(result, e) for e in range(5)] == pytest.approx(expected, abs=0.06)


@pytest.mark.slow
def test_spec_defcal_cx_makes_a_bell_pair():
    result = workbench.run(str(DATA / "spec" / "bell_cx.qasm"), device="qutip-2q", shots=SHOTS, seed=4)
    zeros, ones = bell_fractions(result)
    assert zeros + ones > 0.95 and abs(zeros - ones) < 0.1


# ------------------------------------------------------------------------------- oqpy


def _oqpy():
    import oqpy

    drag = oqpy.declare_waveform_generator(
        "drag", [("amp", oqpy.complex128), ("d", oqpy.duration), ("sigma", oqpy.duration), ("beta", oqpy.float64)])
    constant = oqpy.declare_waveform_generator("constant", [("amp", oqpy.complex128), ("d", oqpy.duration)])
    square = oqpy.declare_waveform_generator(
        "gaussian_square",
        [("amp", oqpy.complex128), ("d", oqpy.duration), ("width", oqpy.duration), ("sigma", oqpy.duration)])
    return oqpy, drag, constant, square


def _samples(n: float) -> float:
    return n * 1e-9  # oqpy takes durations in seconds; the devices' dt is 1 ns


def oqpy_x_flip(device) -> str:
    oqpy, drag, _, _ = _oqpy()
    cal = device.qubit(0).drive.x
    prog = oqpy.Program()
    drive = oqpy.FrameVar(name="q0_drive", needs_declaration=False)  # a predefined frame of the device
    with oqpy.defcal(prog, oqpy.PhysicalQubits[0], "x"):
        prog.play(drive, drag(cal.amp, _samples(cal.duration), _samples(cal.sigma), cal.beta))
    c = oqpy.BitVar(name="c")
    prog.declare(c)
    prog.gate(oqpy.PhysicalQubits[0], "x")
    prog.measure(oqpy.PhysicalQubits[0], c)
    return prog.to_qasm(encal_declarations=True)


def oqpy_detuned(device) -> str:
    oqpy, _, constant, _ = _oqpy()
    prog = oqpy.Program()
    port = oqpy.PortVar("d0")
    frame = oqpy.FrameVar(port, device.qubit(0).drive_frequency, 0.0, name="spectroscopy")
    detuning = oqpy.FloatVar("input", name="detuning")
    c = oqpy.BitVar(name="c")
    prog.declare(c)
    with oqpy.Cal(prog):
        prog.set_frequency(frame, device.qubit(0).drive_frequency + detuning)
        prog.play(frame, constant(1 / (2 * device.qubit(0).drive.rabi_rate * T), T))
    prog.measure(oqpy.PhysicalQubits[0], c)
    return prog.to_qasm(encal_declarations=True)


def oqpy_phase_reversal() -> str:
    oqpy, _, _, _ = _oqpy()
    prog = oqpy.Program()
    drive = oqpy.FrameVar(name="q0_drive", needs_declaration=False)
    phi = oqpy.AngleVar("input", name="phi")
    c = oqpy.BitVar(name="c")
    prog.declare(c)
    prog.gate(oqpy.PhysicalQubits[0], "sx")  # the device's calibrated pi/2 pulse: no defcal
    with oqpy.Cal(prog):
        prog.shift_phase(drive, phi)
    prog.gate(oqpy.PhysicalQubits[0], "sx")
    prog.measure(oqpy.PhysicalQubits[0], c)
    return prog.to_qasm(encal_declarations=True)


def oqpy_bell(device) -> str:
    oqpy, drag, _, square = _oqpy()
    target_sx, cz = device.qubit(1).drive.sx, device.couplings[0].cz
    prog = oqpy.Program()
    target = oqpy.FrameVar(name="q1_drive", needs_declaration=False)
    coupler = oqpy.FrameVar(name="u0_coupler", needs_declaration=False)
    q0, q1 = oqpy.PhysicalQubits[0], oqpy.PhysicalQubits[1]

    def hadamard_on_target() -> None:
        prog.shift_phase(target, -math.pi / 2)
        prog.play(target, drag(target_sx.amp, _samples(target_sx.duration), _samples(target_sx.sigma),
                               target_sx.beta))
        prog.shift_phase(target, -math.pi / 2)

    with oqpy.defcal(prog, [q0, q1], "cx"):
        hadamard_on_target()
        prog.barrier([target, coupler])
        prog.play(coupler, square(cz.amp, _samples(cz.duration), _samples(cz.width), _samples(cz.sigma)))
        prog.barrier([target, coupler])
        hadamard_on_target()
    c = oqpy.BitVar[2](name="c")
    prog.declare(c)
    prog.gate(q0, "h")
    prog.gate([q0, q1], "cx")
    prog.measure(q0, c[0])
    prog.measure(q1, c[1])
    return prog.to_qasm(encal_declarations=True)


def test_oqpy_programs_are_pulse_programs(device_1q):
    text = oqpy_x_flip(device_1q)
    assert 'defcalgrammar "openpulse"' in text and "defcal x $0" in text
    (s,) = load_job(text).schedules(device_1q)
    x = device_1q.qubit(0).drive.x
    assert s.plays[0].shape == "drag" and dict(s.plays[0].parameters) == {
        "duration": x.duration, "amp": x.amp, "sigma": x.sigma, "beta": x.beta}


def test_oqpy_x_flips_and_detuned_drive_leaves_the_qubit(device_1q):
    flip = workbench.run(oqpy_x_flip(device_1q), device="qutip-1q", shots=SHOTS, seed=5)
    assert p1(flip) > 0.97  # the device's calibrated DRAG pi pulse
    detuned = workbench.run(oqpy_detuned(device_1q), device="qutip-1q", shots=SHOTS, seed=6,
                            options={"inputs": {"detuning": [0.0, DETUNING]}})
    assert [p1(detuned, 0), p1(detuned, 1)] == pytest.approx([1.0, 0.0], abs=0.05)


def test_oqpy_shift_phase_reverses_a_rotation():
    result = workbench.run(oqpy_phase_reversal(), device="qutip-1q", shots=SHOTS, seed=7,
                           options={"inputs": {"phi": PHIS}})
    assert [p1(result, e) for e in range(3)] == pytest.approx([cos2_half(p) for p in PHIS], abs=0.06)


@pytest.mark.slow
def test_oqpy_defcal_cx_makes_a_bell_pair(device_2q):
    result = workbench.run(oqpy_bell(device_2q), device="qutip-2q", shots=SHOTS, seed=8)
    zeros, ones = bell_fractions(result)
    assert zeros + ones > 0.95 and abs(zeros - ones) < 0.1


# ------------------------------------------------------------------------------- amazon-braket-sdk


def braket(name: str) -> str:
    return str(DATA / "braket" / name)


def test_braket_waveforms_sample_as_braket_samples_them(braket_config):
    from workbench.executors.registry import load_catalogue

    device = load_catalogue(braket_config).get("braket-1q")
    (s,) = load_job(braket("waveforms.qasm")).schedules(device)
    reference = json.loads((DATA / "braket" / "waveform_samples.json").read_text())
    assert [p.name for p in s.plays] == list(reference)
    for play in s.plays:
        expected = np.array([complex(re, im) for re, im in reference[play.name]])
        np.testing.assert_allclose(play.samples, expected, rtol=0, atol=1e-12, err_msg=play.name)


def test_braket_x_flip_and_detuned_set_frequency(braket_config):
    def run(name: str, seed: int) -> float:
        return p1(workbench.run(braket(name), device="braket-1q", config=braket_config, shots=SHOTS, seed=seed))

    assert run("x_flip.qasm", 9) > 0.97
    assert run("resonant_constant.qasm", 10) > 0.97
    assert run("detuned_constant.qasm", 11) < 0.03


def test_braket_free_parameter_shift_phase_reverses_a_rotation(braket_config):
    result = workbench.run(braket("phase_reversal.qasm"), device="braket-1q", config=braket_config, shots=SHOTS,
                           seed=12, options={"inputs": {"phi": PHIS}})
    assert [p1(result, e) for e in range(3)] == pytest.approx([cos2_half(p) for p in PHIS], abs=0.06)
    assert result.dataset.phi.values.tolist() == PHIS
    assert result.dataset.attrs["job_filename"] == "program.qasm"


def test_braket_pulse_gate_circuit_uses_the_device_for_its_gates(braket_config):
    result = workbench.run(braket("pulse_gate_circuit.qasm"), device="braket-1q", config=braket_config,
                           shots=SHOTS, seed=13)
    assert p1(result) > 0.95  # rx(pi/2) by the device's calibration, then a pi/2 pulse gate


def test_braket_frame_operations(braket_config):
    from workbench.executors.registry import load_catalogue

    device = load_catalogue(braket_config).get("braket-1q")
    (s,) = load_job(braket("frame_ops.qasm")).schedules(device)
    first, second = s.plays
    # q0_rf_frame: back to 4.8 GHz after set/shift, phase 0.25 + 0.5 swapped away to my_frame, scale 0.5
    assert (first.frequency, first.phase, first.t0) == (4.8e9, 0.0, 0)
    assert (second.frequency, second.phase, second.t0) == (4.801e9, 0.75, 48)
    np.testing.assert_allclose(first.samples, 0.5 * second.samples)
    assert [(a.t0, a.memory_slot) for a in s.acquires] == [(148, 0), (948, 1)]


@pytest.mark.slow
def test_braket_defcal_cnot_makes_a_bell_pair(braket_config):
    result = workbench.run(braket("bell_defcal_cnot.qasm"), device="braket-2q", config=braket_config,
                           shots=SHOTS, seed=14)
    zeros, ones = bell_fractions(result)
    assert zeros + ones > 0.95 and abs(zeros - ones) < 0.1


# ------------------------------------------------------------------------------- simulator and twin


def two_proportion_z(k1: int, k2: int, n: int) -> float:
    p = (k1 + k2) / (2 * n)
    if p in (0.0, 1.0):
        return 0.0
    return (k1 - k2) / n / math.sqrt(2 * p * (1 - p) / n)


@pytest.mark.slow
def test_the_same_program_gives_the_same_counts_on_the_simulator_and_the_qblox_twin(tmp_path):
    shots = 2000
    program = str(DATA / "spec" / "phase_reversal.qasm")
    options = {"inputs": {"phi": [*PHIS, 0.0], "n_half": [0, 0, 0, 2]}}
    sim = workbench.run(program, device="qutip-1q", shots=shots, seed=31, options=options)
    twin = workbench.run(program, device="qblox-dummy-1q", shots=shots, seed=32, options=options)
    for e in range(4):
        ones = [int(r.dataset.memory.isel(experiment=e, slot=0).sum()) for r in (sim, twin)]
        assert abs(two_proportion_z(ones[0], ones[1], shots)) < 4, (e, ones)
    assert twin.trace["executor"] == "quantify" and twin.dataset.phi.values.tolist() == [*PHIS, 0.0]
    # a Braket program through its name mapping runs on the twin as well
    config = tmp_path / "braket.yml"
    config.write_text(BRAKET_NAMES.format(one="qblox-dummy-1q"))
    flip = workbench.run(braket("x_flip.qasm"), device="braket-1q", config=config, shots=shots, seed=33)
    assert p1(flip) > 0.95


def test_instructions_of_a_program_name_the_defcal_call_or_line_they_came_from():
    """Provenance for OpenPulse programs: what the event table and the schedule labels show."""
    from pathlib import Path

    import workbench

    text = (Path(workbench.__file__).parent / "examples" / "prog.qasm").read_text()
    lines = text.splitlines()
    call = next(i for i, line in enumerate(lines, 1) if line.startswith("x $0;"))
    measure = next(i for i, line in enumerate(lines, 1) if "= measure $0" in line)
    table = workbench.events(text, device="qutip-1q")
    drive = table[table["channel"] == "d0"].iloc[0]
    assert (drive["gate"], drive["calibration"], drive["source"]) == ("x q0", "x", call)
    readout = table[table["channel"] == "a0"].iloc[0]
    assert (readout["gate"], readout["source"]) == (f"line {measure}", measure)
