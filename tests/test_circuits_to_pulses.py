"""Circuits compiled to the built-in devices' calibrated pulses, then simulated for real.

The physics checks run the compiled schedule through the PulseQobj exporter and the qutip simulator
(``workbench.run`` on the exported job), which is also the path ``workbench compile`` + ``workbench
run`` takes. Running the circuit directly (an OpenQASM circuit job) must give the same counts, bit for
bit.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm2
from qiskit.circuit import Parameter
from qiskit.quantum_info import Statevector

import workbench
from workbench.circuits.program import CircuitProgram
from workbench.circuits.to_pulses import circuit_to_schedule
from workbench.cli.main import main
from workbench.errors import UnsupportedError
from workbench.jobs import load_job
from workbench.jobs.to_qobj import schedules_to_qobj
from workbench.pulses.shapes import calibrated


def compile_circuit(circuit: QuantumCircuit, device, name: str = "circuit"):
    return circuit_to_schedule(CircuitProgram(name, circuit), device)


def simulate(circuit: QuantumCircuit, device, *, shots: int = 2000, seed: int = 11):
    """Compile, export as a PulseQobj and run it on the simulator: the result of one experiment."""
    schedule = compile_circuit(circuit, device)
    qobj = schedules_to_qobj([schedule], shots=shots, backend_name=device.name)
    return workbench.run(qobj, device=device, shots=shots, seed=seed)


def p_one(result, slot: int = 0) -> float:
    """Exact probability of reading level 1 (no shot noise): the simulator's populations."""
    return float(result.dataset.populations.sel(slot=slot).isel(experiment=0).values[1])


def bell_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


# ------------------------------------------------------------------------------------------ physics


def test_x_flips_the_qubit(device_1q):
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.measure(0, 0)
    result = simulate(qc, device_1q)
    counts = result.counts(0)
    assert counts.get("1", 0) / 2000 > 0.97
    assert p_one(result) > 0.99


def test_h_gives_an_even_superposition(device_1q):
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    result = simulate(qc, device_1q)
    assert p_one(result) == pytest.approx(0.5, abs=0.01)
    counts = result.counts(0)
    assert 0.45 < counts.get("1", 0) / 2000 < 0.55


def test_bell_circuit_is_entangled(device_2q):
    result = simulate(bell_circuit(), device_2q, shots=4000)
    counts = result.counts(0)
    correlated = (counts.get("00", 0) + counts.get("11", 0)) / 4000
    assert correlated >= 0.9
    assert 0.4 < counts.get("11", 0) / 4000 < 0.6  # both halves, not a classical 00


def test_cz_flips_the_target_phase_only_when_the_control_is_one(device_2q):
    # H CZ H on q1 is CNOT: q1 follows q0.
    for control, expected in ((0, "00"), (1, "11")):
        qc = QuantumCircuit(2, 2)
        if control:
            qc.x(0)
        qc.h(1)
        qc.cz(0, 1)
        qc.h(1)
        qc.measure([0, 1], [0, 1])
        counts = simulate(qc, device_2q, shots=1000).counts(0)
        assert counts.get(expected, 0) / 1000 > 0.93, (control, counts)


def test_several_registers_give_qiskit_count_keys(device_2q):
    c = ClassicalRegister(2, "c")
    d = ClassicalRegister(1, "d")
    qc = QuantumCircuit(QuantumRegister(2, "q"), c, d)
    qc.x(0)
    qc.measure(0, c[1])
    qc.measure(1, d[0])
    schedule = compile_circuit(qc, device_2q)
    assert schedule.creg_sizes == (("c", 2), ("d", 1))
    assert schedule.memory_slots == 3
    assert {(a.qubit, a.memory_slot) for a in schedule.acquires} == {(0, 1), (1, 2)}
    counts = simulate(qc, device_2q, shots=500).counts(0)
    assert max(counts, key=counts.get) == "0 10"  # d leftmost, c[1] is the left bit of c
    assert all(len(key) == 4 and key[1] == " " for key in counts)


@pytest.mark.parametrize("theta", [0.0, math.pi / 3, math.pi / 2, 2.1, math.pi])
def test_rz_between_sx_pulses_follows_the_ideal_circuit(device_1q, theta):
    qc = QuantumCircuit(1, 1)
    qc.sx(0)
    qc.rz(theta, 0)
    qc.sx(0)
    ideal = Statevector(qc.remove_final_measurements(inplace=False)).probabilities()[1]
    qc.measure(0, 0)
    result = simulate(qc, device_1q, shots=1000)
    assert p_one(result) == pytest.approx(ideal, abs=0.01)
    assert result.counts(0).get("1", 0) / 1000 == pytest.approx(ideal, abs=0.06)


def test_sx_rz_sx_pulses_and_ry_match_statevector_on_two_qubits(device_2q):
    """A less symmetric circuit: arbitrary single-qubit rotations around a CZ."""
    qc = QuantumCircuit(2, 2)
    qc.ry(0.7, 0)
    qc.rx(1.9, 1)
    qc.cz(0, 1)
    qc.ry(-0.4, 1)
    qc.rz(0.3, 0)
    qc.sx(0)
    ideal = Statevector(qc).probabilities_dict()
    qc.measure([0, 1], [0, 1])
    counts = simulate(qc, device_2q, shots=4000, seed=3).counts(0)
    for key, p in ideal.items():
        assert counts.get(key, 0) / 4000 == pytest.approx(p, abs=0.04), (key, counts, ideal)


# ------------------------------------------------------------------------------------------ structure


def test_rz_is_a_frame_change_of_minus_theta_and_no_pulse(device_1q):
    theta = 0.8125
    qc = QuantumCircuit(1, 1)
    qc.sx(0)
    qc.rz(theta, 0)
    qc.sx(0)
    qc.measure(0, 0)
    schedule = compile_circuit(qc, device_1q)
    drive = schedule.plays_on("d0")
    sx = device_1q.qubit(0).drive.sx
    assert [p.name for p in drive] == ["sx", "sx"]
    assert [p.t0 for p in drive] == [0, sx.duration]
    changes = [f for f in schedule.frame_changes if f.channel == "d0"]
    assert [(f.t0, f.kind, f.value) for f in changes] == [(sx.duration, "shiftp", -theta)]
    assert drive[0].phase == 0.0 and drive[1].phase == -theta
    assert schedule.metadata["gate_counts"] == {"measure": 1, "rz": 1, "sx": 2}


def test_gates_use_the_calibrated_pulses_sampled_once(device_2q):
    qc = QuantumCircuit(2, 2)
    for _ in range(5):
        qc.x(0)
        qc.sx(1)
        qc.cz(0, 1)
    qc.measure([0, 1], [0, 1])
    schedule = compile_circuit(qc, device_2q)
    q0, q1 = device_2q.qubit(0), device_2q.qubit(1)
    x_plays = [p for p in schedule.plays_on("d0") if p.name == "x"]
    cz_plays = schedule.plays_on("u0")
    assert x_plays and cz_plays
    np.testing.assert_array_equal(x_plays[0].samples, calibrated(q0.drive.x))
    np.testing.assert_array_equal(cz_plays[0].samples, calibrated(device_2q.couplings[0].cz))
    assert all(p.samples is x_plays[0].samples for p in x_plays)  # one array, reused
    assert all(p.samples is cz_plays[0].samples for p in cz_plays)
    assert x_plays[0].shape == "drag" and x_plays[0].parameters == q0.drive.x.parameters()
    sx_plays = [p for p in schedule.plays_on("d1") if p.name == "sx"]
    assert all(p.parameters == q1.drive.sx.parameters() for p in sx_plays)
    frequencies = device_2q.frame_frequencies()
    assert all(p.frequency == frequencies[p.channel] for p in schedule.plays)


def test_cz_waits_for_both_qubits_and_occupies_them(device_2q):
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.delay(100, 0)
    qc.cz(0, 1)
    qc.x(1)
    qc.measure([0, 1], [0, 1])
    schedule = compile_circuit(qc, device_2q)
    x = device_2q.qubit(0).drive.x.duration
    cz = device_2q.couplings[0].cz.duration
    (cz_play,) = schedule.plays_on("u0")
    assert cz_play.t0 == x + 100
    assert [p.t0 for p in schedule.plays_on("d1")] == [x + 100 + cz]
    acquired = {a.qubit: a.t0 for a in schedule.acquires}
    assert acquired == {0: x + 100 + cz, 1: 2 * x + 100 + cz}  # each qubit read out after its own last gate


def test_barrier_aligns_measurements(device_2q):
    x = device_2q.qubit(0).drive.x.duration
    qc = QuantumCircuit(2)
    qc.x(0)
    qc.x(1)
    qc.delay(52, 1)
    qc.measure_all()
    schedule = compile_circuit(qc, device_2q)
    assert {a.qubit: a.t0 for a in schedule.acquires} == {0: x + 52, 1: x + 52}
    assert schedule.creg_sizes == (("meas", 2),)


def test_measure_uses_the_readout_calibration(device_1q):
    readout = device_1q.qubit(0).readout
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.measure(0, 0)
    schedule = compile_circuit(qc, device_1q)
    (m,) = schedule.plays_on("m0")
    (acq,) = schedule.acquires
    x = device_1q.qubit(0).drive.x.duration
    assert m.t0 == x and m.shape == readout.pulse.shape and m.duration == readout.pulse.duration
    assert (acq.t0, acq.duration, acq.qubit, acq.memory_slot) == (x + readout.acquire_delay,
                                                                  readout.acquire_duration, 0, 0)
    assert m.frequency == readout.frequency


def test_delays_become_samples_of_dt(device_1q):
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.delay(100, 0, unit="ns")
    qc.delay(30, 0, unit="dt")
    qc.measure(0, 0)
    schedule = compile_circuit(qc, device_1q)
    x = device_1q.qubit(0).drive.x.duration
    assert [(d.t0, d.channel, d.duration) for d in schedule.delays] == [(x, "d0", 100), (x + 100, "d0", 30)]
    assert schedule.acquires[0].t0 == x + 130


def test_layout_and_counts_are_recorded(device_2q):
    schedule = compile_circuit(bell_circuit(), device_2q, name="bell")
    meta = schedule.metadata
    assert schedule.name == "bell" and meta["name"] == "bell"
    assert meta["layout"] == [0, 1]
    assert meta["gate_counts"]["cz"] == 1 and meta["gate_counts"]["measure"] == 2
    assert set(meta["gate_counts"]) <= {"rz", "sx", "x", "cz", "measure", "delay", "barrier"}
    assert meta["circuit_gate_counts"] == {"cx": 1, "h": 1, "measure": 2}
    json.dumps(dict(meta))  # exports need it


def test_one_qubit_circuit_on_two_qubit_device_uses_qubit_zero(device_2q):
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.measure(0, 0)
    schedule = compile_circuit(qc, device_2q)
    assert schedule.metadata["layout"] == [0]
    assert schedule.qubits == [0]


def test_compiling_is_deterministic(device_2q):
    qc = QuantumCircuit(2, 2)
    qc.rx(0.3, 0)
    qc.cx(1, 0)
    qc.ry(1.1, 1)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    first = schedules_to_qobj([compile_circuit(qc, device_2q)], shots=10)
    second = schedules_to_qobj([compile_circuit(qc.copy(), device_2q)], shots=10)
    assert json.dumps(first) == json.dumps(second)


def test_compiled_schedule_survives_the_qobj_round_trip(device_2q):
    schedule = compile_circuit(bell_circuit(), device_2q, name="bell")
    qobj = json.loads(json.dumps(schedules_to_qobj([schedule], shots=100, backend_name=device_2q.name)))
    (again,) = load_job(qobj).schedules(device_2q)
    assert again.frame_changes == schedule.frame_changes
    assert again.acquires == schedule.acquires and again.delays == schedule.delays
    assert dict(again.initial_frames) == dict(schedule.initial_frames)
    assert again.metadata == schedule.metadata and again.creg_sizes == schedule.creg_sizes
    assert len(again.plays) == len(schedule.plays)
    for a, b in zip(again.plays, schedule.plays, strict=True):
        assert (a.t0, a.channel, a.name, a.shape, a.frequency, a.phase, a.carrier_phase) == \
            (b.t0, b.channel, b.name, b.shape, b.frequency, b.phase, b.carrier_phase)
        np.testing.assert_array_equal(a.samples, b.samples)


# ------------------------------------------------------------------------------------------ rejections


def _measure_then_gate() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    qc.cx(0, 1)
    return qc


def _if_else() -> QuantumCircuit:
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(0)
    return qc


def _reset() -> QuantumCircuit:
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.reset(0)
    qc.measure(0, 0)
    return qc


def _two_measures_one_clbit() -> QuantumCircuit:
    qc = QuantumCircuit(2, 1)
    qc.measure(0, 0)
    qc.measure(1, 0)
    return qc


@pytest.mark.parametrize(("make", "location", "reason"), [
    (_measure_then_gate, "instruction 2 (cx q[0], q[1])", "mid-circuit measurement"),
    (_if_else, "instruction 2 (if_else q[0] -> c[0])", "feedback"),
    (_reset, "instruction 1 (reset q[0])", "reset"),
    (_two_measures_one_clbit, "instruction 1 (measure q[1] -> c[0])", "one memory slot holds one qubit"),
])
def test_circuits_a_schedule_cannot_express_are_rejected(device_2q, make, location, reason):
    with pytest.raises(UnsupportedError) as info:
        compile_circuit(make(), device_2q)
    assert info.value.location == location
    assert reason in info.value.message
    assert "\n" not in str(info.value)


def test_more_qubits_than_the_device_is_rejected(device_1q, device_2q):
    with pytest.raises(UnsupportedError, match="3 qubits; device 'qutip-2q' has 2"):
        compile_circuit(QuantumCircuit(3), device_2q)
    with pytest.raises(UnsupportedError, match="2 qubits; device 'qutip-1q' has 1"):
        compile_circuit(bell_circuit(), device_1q)


def test_unbound_parameters_and_non_gates_are_rejected(device_1q):
    qc = QuantumCircuit(1, 1)
    qc.rx(Parameter("angle"), 0)
    with pytest.raises(UnsupportedError, match="unbound parameters"):
        compile_circuit(qc, device_1q)
    qc = QuantumCircuit(1, 1)
    qc.initialize([0, 1], 0)
    with pytest.raises(UnsupportedError, match="'initialize' is not a gate") as info:
        compile_circuit(qc, device_1q)
    assert info.value.location == "instruction 0 (initialize q[0])"


def test_missing_sx_calibration_is_named(device_1q):
    q0 = device_1q.qubits[0]
    no_sx = device_1q.model_copy(update={
        "qubits": [q0.model_copy(update={"drive": q0.drive.model_copy(update={"sx": None})})]})
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    with pytest.raises(UnsupportedError, match="no calibrated sx pulse on qubit 0") as info:
        compile_circuit(qc, no_sx)
    assert "sx on device qubit 0" in info.value.location
    qc = QuantumCircuit(1, 1)  # an x needs no sx: still fine
    qc.x(0)
    qc.measure(0, 0)
    assert [p.name for p in compile_circuit(qc, no_sx).plays_on("d0")] == ["x"]


def test_missing_cz_calibration_is_named(device_2q):
    uncalibrated = device_2q.model_copy(update={
        "couplings": [device_2q.couplings[0].model_copy(update={"cz": None})]})
    with pytest.raises(UnsupportedError, match="no coupling with a calibrated cz") as info:
        compile_circuit(bell_circuit(), uncalibrated)
    assert info.value.location == "instruction 1 (cx q[0], q[1])"


# ------------------------------------------------------------------------------------------ CLI


QASM_BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q[0] -> c[0];
measure q[1] -> c[1];
"""


def test_qutip_devices_accept_circuits(capsys):
    assert main(["devices", "--json"]) == 0
    listing = {d["name"]: d for d in json.loads(capsys.readouterr().out)}
    assert "circuit" in listing["qutip-2q"]["accepts"] and "pulse" in listing["qutip-2q"]["accepts"]


def test_compile_refuses_an_existing_file(tmp_path, capsys):
    circuit = tmp_path / "bell.qasm"
    circuit.write_text(QASM_BELL)
    out = tmp_path / "job.json"
    out.write_text("precious")
    code = main(["compile", str(circuit), "--device", "qutip-2q", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "exists" in err and err.count("\n") == 1
    assert out.read_text() == "precious"


def test_compile_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    pulse_job = tmp_path / "x.json"
    pulse_job.write_text(_x_gate_json())
    cases = [
        ["compile", str(pulse_job), "--device", "qutip-1q", "-o", str(tmp_path / "a.json")],
        ["compile", str(tmp_path / "missing.qasm"), "--device", "qutip-1q", "-o", str(tmp_path / "b.json")],
        ["compile", str(pulse_job), "--device", "no-such-device", "-o", str(tmp_path / "c.json")],
        ["compile", str(pulse_job), "--device", "qutip-1q", "-o", str(tmp_path / "nowhere" / "d.json")],
        ["compile", str(pulse_job), "--device", "qutip-1q", "-o", str(tmp_path / "e.json"), "--shots", "0"],
        ["compile", str(pulse_job), "--device", "qutip-1q"],
    ]
    for argv in cases:
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: a missing required option
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert err.startswith("error: ") and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def _x_gate_json() -> str:
    from workbench.examples import build
    from workbench.executors.registry import load_catalogue

    return json.dumps(build("x-gate", load_catalogue(None).get("qutip-1q")))


def test_qasm_circuits_run_directly_on_pulse_devices(device_2q):
    direct = workbench.run(QASM_BELL, device="qutip-2q", shots=1000, seed=21)
    qc = qasm2.loads(QASM_BELL)
    compiled = simulate(qc, device_2q, shots=1000, seed=21)
    assert direct.counts(0) == compiled.counts(0)
    counts = direct.counts(0)
    assert (counts.get("00", 0) + counts.get("11", 0)) / 1000 >= 0.9


def test_compile_then_run_gives_identical_counts(tmp_path, capsys):
    circuit = tmp_path / "bell.qasm"
    circuit.write_text(QASM_BELL)
    job = tmp_path / "bell.json"
    assert main(["compile", str(circuit), "--device", "qutip-2q", "-o", str(job), "--shots", "700"]) == 0
    assert "job written to" in capsys.readouterr().out
    qobj = json.loads(job.read_text())
    assert qobj["header"]["backend_name"] == "qutip-2q" and qobj["config"]["shots"] == 700
    out = tmp_path / "run"
    assert main(["run", str(job), "--seed", "5", "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    from_file = json.loads((out / "result-counts.json").read_text())
    from_file.pop("ID")
    direct = workbench.run(str(circuit), device="qutip-2q", shots=700, seed=5)
    assert from_file == direct.counts(0)


def test_qasm_if_is_rejected_with_the_instruction_named(tmp_path, capsys):
    circuit = tmp_path / "feedback.qasm"
    circuit.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nh q[0];\n'
                       "measure q[0] -> c[0];\nif (c==1) x q[0];\n")
    out = tmp_path / "out"
    assert main(["run", str(circuit), "--device", "qutip-1q", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "instruction 2 (if_else q[0] -> c[0])" in err and "feedback" in err
    assert not out.exists()
