"""Schedules -> OpenQASM 3 + OpenPulse -> schedules: writing a job as a program and reading it back
on the same device gives the identical IR, on every built-in example and on compiled circuits."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import workbench
from workbench.cli.main import main
from workbench.errors import UnsupportedError
from workbench.examples import EXAMPLES, build
from workbench.jobs import load_job
from workbench.jobs.openpulse_job import OpenPulseJob
from workbench.jobs.to_openpulse import schedules_to_openpulse
from workbench.pulses.shapes import sample
from workbench.schedule.builder import ScheduleBuilder

QUBITS = {"qutip-1q": 1, "qutip-2q": 2}
CASES = [(name, dev) for dev, n in QUBITS.items() for name, entry in EXAMPLES.items() if entry.min_qubits <= n]


def assert_identical(a, b) -> None:
    """Every field of the IR, floats bit for bit: plays (samples, shape, parameters, frame), frame changes,
    delays, acquisitions, initial frames, slots, registers, name and metadata."""
    assert (a.name, a.dt, a.memory_slots, a.creg_sizes) == (b.name, b.dt, b.memory_slots, b.creg_sizes)
    assert dict(a.metadata) == dict(b.metadata)
    assert dict(a.initial_frames) == dict(b.initial_frames)
    assert len(a.plays) == len(b.plays)
    for p, q in zip(a.plays, b.plays, strict=True):
        assert (p.t0, p.channel, p.name, p.shape, p.frequency, p.phase, p.carrier_phase) == (
            q.t0, q.channel, q.name, q.shape, q.frequency, q.phase, q.carrier_phase), (p, q)
        assert dict(p.parameters) == dict(q.parameters)
        np.testing.assert_array_equal(p.samples, q.samples)
    assert a.frame_changes == b.frame_changes
    assert a.delays == b.delays
    assert a.acquires == b.acquires


def round_trip(schedules, device, **kwargs):
    text = schedules_to_openpulse(schedules, **kwargs)
    return text, load_job(text).schedules(device)


@pytest.mark.parametrize(("name", "device_name"), CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_examples_round_trip_exactly(catalogue, name, device_name):
    device = catalogue.get(device_name)
    original = load_job(build(name, device)).schedules(device)
    text, again = round_trip(original, device, backend_name=device.name)
    assert len(again) == len(original)
    for a, b in zip(original, again, strict=True):
        assert_identical(a, b)
    job = load_job(text)
    assert job.backend_name == device.name and job.experiment_names == [s.name for s in original]
    assert "pulse_library" not in text and "@workbench.shape" not in text  # calibrated pulses stay functions


def _circuits():
    from qiskit import QuantumCircuit
    from qiskit.circuit.random import random_circuit

    bell = QuantumCircuit(2, 2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    registers = QuantumCircuit(2)
    from qiskit.circuit import ClassicalRegister

    registers.add_register(ClassicalRegister(1, "a"))
    registers.add_register(ClassicalRegister(2, "b"))
    registers.sx(0)
    registers.rz(0.3, 0)
    registers.delay(40, 1)
    registers.measure(0, 2)  # a[0] and b[0] never written, b[1] measured
    return [("bell", bell), ("registers", registers)] + [
        (f"random-{seed}", random_circuit(2, 5, measure=True, seed=seed)) for seed in range(4)]


@pytest.mark.parametrize("case", range(6))
def test_compiled_circuits_round_trip_exactly(device_2q, case):
    from workbench.circuits.program import CircuitProgram
    from workbench.circuits.to_pulses import circuit_to_schedule

    name, circuit = _circuits()[case]
    schedule = circuit_to_schedule(CircuitProgram(name, circuit), device_2q)
    text, (again,) = round_trip([schedule], device_2q)
    assert_identical(schedule, again)
    import openpulse

    openpulse.parse(text)  # the reference parser reads what is written, on its own too


def test_a_hand_built_schedule_round_trips_with_everything_the_ir_holds(device_1q):
    freqs = device_1q.frame_frequencies()
    b = ScheduleBuilder("hand made", 1e-9, freqs, memory_slots=4, metadata={"amp": 0.25, "tags": ["a", 1]},
                        creg_sizes=(("c", 3), ("d", 1)))
    ramp = np.linspace(0, 0.3, 7) + 0.05j
    drag = {"duration": 16, "amp": 0.2, "sigma": 4.0, "beta": 0.3}
    echo = {"duration": 64, "amp": 0.2, "sigma": 4.0, "width": 32, "active_amp": 0.05}
    b.play(0, "d0", ramp, "ramp-1")  # a name that is no identifier
    b.frame(0, "d0", "shiftp", 0.3)  # after the play at its start: the play keeps the old phase
    b.frame(7, "d0", "setf", 4.712345678e9)
    b.frame(7, "d0", "shiftf", -1.2345e6)
    b.play(7, "d0", sample("drag", drag), "measure", shape="drag", parameters=drag)  # a keyword as a name
    b.frame(7, "d0", "setp", -1.0)
    b.play(23, "d0", ramp * 0.5, "ramp-1")  # same name, other samples
    b.play(40, "d0", sample("gaussian_square_echo", echo), "echo", shape="gaussian_square_echo",
           parameters=echo)  # no OpenPulse function: samples with @workbench.shape
    b.play(40, "m0", sample("constant", {"duration": 20, "amp": [0.1, 0.05]}), "ro", shape="constant",
           parameters={"duration": 20, "amp": complex(0.1, 0.05)})
    b.delay(104, "d0", 10)
    b.delay(60, "a0", 0)
    b.acquire(60, 20, 0, 0, register_slot=2)
    b.acquire(80, 30, 0, 3)
    schedule = b.build()
    text, (again,) = round_trip([schedule], device_1q, shots=77, meas_level=1, meas_return="avg")
    assert_identical(dataclasses.replace(schedule, metadata={**schedule.metadata, "name": "hand made"}), again)
    assert "@workbench.name" in text and "@workbench.shape" in text and "@workbench.after_play" in text
    assert OpenPulseJob(text).option_defaults() == {"shots": 77, "meas_level": 1, "meas_return": "avg"}


def test_several_experiments_are_one_program_with_an_input(device_1q):
    schedules = load_job(build("rabi", device_1q)).schedules(device_1q)
    text = schedules_to_openpulse(schedules)
    job = OpenPulseJob(text, "rabi.qasm")
    assert text.count("if (experiment == ") == len(schedules)
    assert job.option_defaults()["inputs"] == {"experiment": list(range(len(schedules)))}
    assert job.experiment_names == [s.name for s in schedules]
    one = job.bind({"inputs": {"experiment": 3}})
    (third,) = one.schedules(device_1q)
    assert third.plays[0].parameters == schedules[3].plays[0].parameters
    assert one.experiment_names == ["rabi"]  # one experiment: named after the program


def test_what_openpulse_cannot_say_is_refused():
    with pytest.raises(UnsupportedError, match="at least one"):
        schedules_to_openpulse([])
    a = ScheduleBuilder("a", 1e-9, {"d0": 4.8e9}).build()
    b = ScheduleBuilder("b", 2e-9, {"d0": 4.8e9}).build()
    with pytest.raises(UnsupportedError, match="different dt"):
        schedules_to_openpulse([a, b])
    c = ScheduleBuilder("c", 1e-9, {"d0": 4.9e9}).build()
    with pytest.raises(UnsupportedError, match="different frame frequencies"):
        schedules_to_openpulse([a, c])


# ------------------------------------------------------------------------------------------ CLI


BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q[0] -> c[0];
measure q[1] -> c[1];
"""


def test_compile_a_circuit_to_openpulse_and_run_it_with_identical_counts(tmp_path, capsys):
    circuit = tmp_path / "bell.qasm"
    circuit.write_text(BELL)
    program = tmp_path / "bell-pulses.qasm"
    assert main(["compile", str(circuit), "--device", "qutip-2q", "-o", str(program), "--format", "openpulse",
                 "--shots", "600"]) == 0
    assert "job written to" in capsys.readouterr().out
    text = program.read_text()
    assert text.startswith("OPENQASM 3.0;\ndefcalgrammar \"openpulse\";") and "pragma workbench.device qutip-2q" in text
    out = tmp_path / "run"
    assert main(["run", str(program), "--seed", "5", "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert (out / "program.qasm").read_text() == text  # the output folder keeps the program as given
    from_program = json.loads((out / "result-counts.json").read_text())  # one experiment: one object
    from_program.pop("ID")
    direct = workbench.run(str(circuit), device="qutip-2q", shots=600, seed=5)
    assert from_program == direct.counts(0)
    # and the program compiles on to a PulseQobj for tools that only read that
    qobj = tmp_path / "bell.json"
    assert main(["compile", str(program), "--device", "qutip-2q", "-o", str(qobj)]) == 0
    capsys.readouterr()
    again = workbench.run(str(qobj), shots=600, seed=5)
    assert again.counts(0) == direct.counts(0)


def test_compile_a_pulseqobj_to_openpulse(tmp_path, capsys, device_1q):
    job = tmp_path / "ramsey.json"
    job.write_text(json.dumps(build("ramsey", device_1q)))
    program = tmp_path / "ramsey.qasm"
    assert main(["compile", str(job), "--device", "qutip-1q", "-o", str(program), "--format", "openpulse"]) == 0
    capsys.readouterr()
    for a, b in zip(load_job(job).schedules(device_1q), load_job(program).schedules(device_1q), strict=True):
        assert_identical(a, b)
    # a PulseQobj to a PulseQobj is refused (it is one already), and nothing is written
    assert main(["compile", str(job), "--device", "qutip-1q", "-o", str(tmp_path / "x.json")]) == 2
    assert "PulseQobj already" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ramsey.json", "ramsey.qasm"]


def test_compile_refuses_an_existing_program_file(tmp_path, capsys):
    circuit = tmp_path / "bell.qasm"
    circuit.write_text(BELL)
    out = tmp_path / "out.qasm"
    out.write_text("precious")
    assert main(["compile", str(circuit), "--device", "qutip-2q", "-o", str(out), "--format", "openpulse"]) == 2
    assert "exists" in capsys.readouterr().err and out.read_text() == "precious"
