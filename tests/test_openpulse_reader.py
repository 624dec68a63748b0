"""OpenQASM 3 + OpenPulse programs -> schedules: what is read, how it is timed, what is refused and how.

Programs are parsed by the reference parsers (openqasm3 + openpulse) and executed at compile time on
a device's ports and frames; these tests check the schedules against what the program says, sample
by sample, and every refusal for its one-line message with the line and column.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import workbench
from workbench.cli.main import main
from workbench.errors import ConfigError, InputError, JobError, UnsupportedError
from workbench.jobs import load_job
from workbench.jobs.loader import source_kind
from workbench.jobs.openpulse_job import OpenPulseJob
from workbench.pulses.shapes import sample

DATA = Path(__file__).parent / "data" / "openpulse"
HEADER = 'OPENQASM 3.0;\ndefcalgrammar "openpulse";\n'


def schedule(text: str, device, **inputs):
    job = OpenPulseJob(text)
    if inputs:
        job = job.bind({"inputs": inputs})
    return job.schedules(device)


def error(text: str, device=None, error_type=JobError, **inputs) -> str:
    with pytest.raises(error_type) as info:
        OpenPulseJob(text)
        if device is not None:
            schedule(text, device, **inputs)
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------------------ loading


def test_the_loader_tells_pulse_programs_from_circuits(tmp_path):
    circuit = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nx q[0];\nc[0] = measure q[0];\n'
    assert source_kind(circuit) == "qasm"
    assert source_kind(HEADER + "bit c;\n") == "openpulse"
    assert source_kind("OPENQASM 3.0;\ncal {\n}\n") == "openpulse"
    assert source_kind("OPENQASM 3.0;\ndefcal x $0 {\n}\nx $0;\n") == "openpulse"
    assert source_kind(circuit + "// a cal { block in a comment\n/* defcal */\n") == "qasm"
    assert source_kind("cal {\n  play(q0_drive, w);\n}\n") == "openpulse"  # a header is optional
    assert source_kind("just text", pasted=True) == "qasm"
    path = tmp_path / "prog.qasm"
    path.write_text(HEADER + "bit c;\nc = measure $0;\n")
    job = load_job(path)
    assert isinstance(job, OpenPulseJob) and job.kind == "pulse" and job.name == "prog"
    assert job.source_filename == "program.qasm"
    assert type(load_job(circuit)).__name__ == "CircuitJob"


def test_the_spec_example_becomes_the_schedule_it_describes(device_1q):
    job = load_job(DATA / "spec" / "x_rz_measure.qasm")
    (s,) = job.schedules(device_1q)
    assert s.name == "x_rz_measure" and s.creg_sizes == (("c", 1),) and s.memory_slots == 1
    x, readout = s.plays
    assert (x.t0, x.channel, x.name, x.shape, x.frequency) == (0, "d0", "gaussian", "gaussian", 4.8e9)
    assert dict(x.parameters) == {"duration": 48, "amp": 0.47660504785876684, "sigma": 12.0}
    np.testing.assert_array_equal(x.samples, sample("gaussian", x.parameters))
    (rz,) = s.frame_changes
    assert (rz.t0, rz.channel, rz.kind, rz.value) == (48, "d0", "shiftp", -math.pi / 2)
    assert (readout.t0, readout.channel, readout.name, readout.shape) == (48, "m0", "meas_wf", "gaussian_square")
    assert dict(readout.parameters) == {"duration": 800, "amp": 0.1, "width": 736.0, "sigma": 16.0}
    (acquire,) = s.acquires
    # the barrier puts the capture after the stimulus, as the specification's defcal says
    assert (acquire.t0, acquire.duration, acquire.qubit, acquire.memory_slot) == (848, 800, 0, 0)
    assert s.initial_frames["d0"] == (4.8e9, 0.0) and s.initial_frames["m0"] == (6.8e9, 0.0)


def test_gates_without_defcals_play_the_device_calibration_as_circuits_do(device_2q):
    from qiskit import QuantumCircuit

    from workbench.circuits.program import CircuitProgram
    from workbench.circuits.to_pulses import circuit_to_schedule

    (s,) = schedule(HEADER + 'include "stdgates.inc";\nbit[2] c;\nh $0;\ncx $0, $1;\nc[0] = measure $0;\n'
                    "c[1] = measure $1;\n", device_2q)
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    circuit = circuit_to_schedule(CircuitProgram("c", qc), device_2q)
    assert [(p.t0, p.channel, p.name) for p in s.plays] == [(p.t0, p.channel, p.name) for p in circuit.plays]
    assert [(a.t0, a.qubit, a.memory_slot) for a in s.acquires] == [(a.t0, a.qubit, a.memory_slot)
                                                                      for a in circuit.acquires]
    phases = {p.channel: p.phase for p in s.plays}
    assert phases == {p.channel: p.phase for p in circuit.plays}


def test_frames_keep_their_own_clocks_and_barriers_align_them(device_1q):
    (s,) = schedule(HEADER + """
cal {
    waveform w = {0.1, 0.2, 0.1};
    bit[2] b;
    play(q0_drive, w);
    delay[10dt] q0_drive;
    b[0] = capture_v0(q0_acquire);
    barrier q0_drive, q0_acquire;
    play(q0_drive, w);
    delay[2dt] q0_acquire;
    b[1] = capture_v1(q0_acquire, 20dt);
}
""", device_1q)
    window = device_1q.qubit(0).readout.acquire_duration  # capture_v0 has no duration: the device's window
    assert [p.t0 for p in s.plays] == [0, window]  # the barrier waits for the capture, not for the delay
    first, second = s.acquires
    assert (first.t0, first.duration) == (0, window)
    assert (second.t0, second.duration, second.memory_slot) == (window + 2, 20, 1)
    assert s.delays == ()  # a delay on a frame only moves its clock


def test_a_capture_before_the_pulse_ends_is_warned_about(device_1q):
    job = OpenPulseJob(HEADER + "bit b;\ncal {\n    waveform w = {0.1, 0.1};\n    play(q0_drive, w);\n"
                       "    b = capture_v0(q0_acquire);\n}\n")
    job.schedules(device_1q)
    assert len(job.warnings) == 1 and "line 7" in job.warnings[0] and "barrier" in job.warnings[0]


def test_qubit_delays_barriers_and_boxes(device_2q):
    (s,) = schedule(HEADER + """
bit[2] c;
x $0;
delay[100ns] $1;
barrier $0, $1;
box[300dt] {
    x $1;
}
c[0] = measure $0;
c[1] = measure $1;
""", device_2q)
    (delay,) = s.delays
    assert (delay.t0, delay.channel, delay.duration) == (0, "d1", 100)
    x0, x1 = (p for p in s.plays if p.name == "x")
    assert (x0.t0, x1.t0) == (0, 100)
    # qubit 0 is measured after the barrier; qubit 1 after the box of 300 samples that starts there
    assert [(a.qubit, a.t0) for a in s.acquires] == [(0, 100), (1, 400)]
    with pytest.raises(JobError, match="longer than its duration 10"):
        schedule(HEADER + "box[10dt] { x $0; }\n", device_2q)


def test_defcal_parameters_constants_loops_and_compile_time_branches(device_1q):
    program = HEADER + """
const int n = 3;
input float scale_by;
cal {
    waveform base = constant(0.1, 16dt);
}
defcal pulse(float a) $0 {
    play(q0_drive, scale(base, a));
}
defcal pulse(0.5) $0 {
    play(q0_drive, constant(0.05, 8dt));
}
for int i in [1:n] {
    if (i % 2 == 1) {
        pulse(i * scale_by) $0;
    } else {
        pulse(0.5) $0;
    }
}
for int k in {4, 6} {
    shift_phase(q0_drive, k * pi / 8);
}
"""
    (s,) = schedule(program, device_1q, scale_by=0.25)
    assert [(p.t0, p.duration, float(abs(p.samples[0]))) for p in s.plays] == [
        (0, 16, pytest.approx(0.025)), (16, 8, pytest.approx(0.05)), (24, 16, pytest.approx(0.075))]
    assert [c.value for c in s.frame_changes] == [pytest.approx(math.pi / 2), pytest.approx(3 * math.pi / 4)]


def test_get_frequency_get_phase_newframe_in_a_defcal_and_two_frames_on_one_port(device_2q):
    job = load_job(DATA / "spec" / "geometric_gate.qasm")
    (s,) = job.schedules(device_2q)
    cr0, cr1, *geo = s.plays
    assert (cr0.channel, cr1.channel) == ("d0", "d1")
    assert cr1.frequency == 4.9e9 and cr1.phase == math.pi / 2  # newframe(d1, get_frequency(frame0), get_phase(...))
    assert [p.frequency for p in geo] == [4.9e9, 4.65e9, 4.9e9, 4.65e9]  # frame_01, frame_12 take turns on d0
    assert [p.t0 for p in geo] == [256, 259, 275, 278]  # 16 ns delay between the two taps
    a = math.sin(math.pi / 6)
    np.testing.assert_allclose(geo[0].samples, a * np.array([0.1, 0.5 + 0.1j, 0.1]))
    np.testing.assert_allclose(geo[1].samples, math.sqrt(1 - a**2) * np.array([0.1, 0.4 - 0.2j, 0.1]))


def test_inputs_make_one_experiment_per_value(device_1q):
    text = HEADER + "input float amp;\ninput duration d;\nbit c;\ncal {\n    play(q0_drive, constant(amp, d));\n}\n" \
        "c = measure $0;\n"
    job = OpenPulseJob(text, "sweep.qasm")
    assert job.experiment_names == ["sweep"]
    assert [s.name for s in job.job_options()] == ["inputs"]
    with pytest.raises(JobError, match="input 'amp' has no value"):
        job.schedules(device_1q)
    bound = job.bind({"inputs": {"amp": [0.1, 0.2, 0.3], "d": "24ns"}})
    assert bound.experiment_names == ["sweep-0", "sweep-1", "sweep-2"]
    schedules = bound.schedules(device_1q)
    assert [s.metadata for s in schedules] == [{"name": f"sweep-{i}", "amp": a} for i, a in enumerate([0.1, 0.2, 0.3])]
    assert [(p.duration, p.samples[0]) for s in schedules for p in s.plays if p.channel == "d0"] == [
        (24, 0.1), (24, 0.2), (24, 0.3)]
    assert job.bind({"inputs": {"amp": 0.1, "d": 1e-8}}).schedules(device_1q)[0].plays[0].duration == 10
    with pytest.raises(JobError, match="one length"):
        job.bind({"inputs": {"amp": [0.1, 0.2], "d": ["4ns", "8ns", "12ns"]}})
    with pytest.raises(JobError, match="ampl is not an input of the program"):
        job.bind({"inputs": {"ampl": 0.1}})


def test_inputs_come_from_the_options_of_a_run(device_1q):
    text = HEADER + "input float amp;\nbit c;\ncal {\n    play(q0_drive, constant(amp, 100dt));\n}\nc = measure $0;\n"
    amps = [0.0, 0.125, 0.0625]
    result = workbench.run(text, device=device_1q, shots=400, seed=3, options={"inputs": {"amp": amps}})
    p1 = result.dataset.memory.sel(slot=0).mean("shot").values
    expected = [math.sin(math.pi * 4e7 * a * 100e-9) ** 2 for a in amps]  # P1 = sin^2(pi rabi A T)
    assert p1 == pytest.approx(expected, abs=0.06)
    assert result.dataset.amp.values.tolist() == amps  # sweep values become the experiment coordinate
    assert result.options["inputs"] == {"amp": amps}  # echoed in execution-options.json: the run reproduces


def test_complex_registers_ask_for_iq_data(device_1q):
    text = HEADER + "complex[float[64]] iq;\ncal {\n    iq = capture_v1(q0_acquire, 800dt);\n}\n"
    job = OpenPulseJob(text)
    assert job.option_defaults() == {"meas_level": 1}
    result = workbench.run(text, device=device_1q, shots=200, seed=1)
    assert result.options["meas_level"] == 1 and "iq" in result.dataset and "memory" not in result.dataset
    centre = complex(*device_1q.qubit(0).readout.iq_centers[0])
    iq = result.dataset.iq.values
    assert abs(complex(np.median(iq.real), np.median(iq.imag)) - centre) < 0.1
    assert "bit and complex" in error(HEADER + "bit b;\ncomplex z;\ncal {\n    b = capture_v2(q0_acquire, 8dt);\n"
                                      "    z = capture_v1(q0_acquire, 8dt);\n}\n", error_type=UnsupportedError)


def test_durations_must_be_whole_samples(device_1q):
    (s,) = schedule(HEADER + "cal {\n    play(q0_drive, constant(0.1, 1.6us));\n"
                    "    play(q0_drive, constant(0.1, 0.25us * 4));\n}\n", device_1q)
    assert [p.duration for p in s.plays] == [1600, 1000]
    message = error(HEADER + "cal {\n    waveform w = constant(0.1, 16dt);\n"
                    "    play(q0_drive, constant(0.1, 2.5ns));\n}\n", device_1q)
    assert message.startswith("line 5 column 5:") and "2.5 samples is not a whole number" in message


# ------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(("text", "where", "words"), [
    ("bit c\nc = measure $0;\n", "line 4 column 1", "expected ';'"),
    ("cal {\n    play(q0_drive gaussian(0.1, 16dt, 4dt));\n}\n", "line 4 column 19", "in a cal block"),
    ("defcal x $0 {\n    play(q0_drive, );\n    shift_phase(q0_drive 1);\n}\n", "line 5 column 26", "in a defcal"),
    ("cal {  play(q0_drive, w) }\n", "line 3 column 26", "in a cal block"),
    ("bit c;\nc = 1 ` 2;\n", "line 4 column 7", "unexpected character"),
    ("cal {\n  return 1;\n}\n", "line 4 column 3", "outside subroutine or defcal"),
    ("cal {\n", "line 4 column 1", "found the end of the file"),
])
def test_syntax_errors_name_the_line_and_column_in_the_file(text, where, words):
    message = error(HEADER + text)
    assert message.startswith(where + ":") and words in message, message


@pytest.mark.parametrize(("text", "words"), [
    ("while (true) { x $0; }\n", "while loop"),
    ("def f() {}\n", "subroutines (def)"),
    ("switch (1) { case 1 { x $0; } }\n", "switch"),
    ("ctrl @ x $0, $1;\n", "gate modifiers"),
])
def test_statements_no_device_runs_fail_when_the_job_loads(text, words):
    message = error(HEADER + text, error_type=UnsupportedError)
    assert message.startswith("line 3 column 1:") and words in message, message


@pytest.mark.parametrize(("text", "words"), [
    ("bit c;\nc = measure $0;\nif (c == 1) { x $0; }\n", "runtime classical control"),
    ("bit c;\nreset $0;\n", "reset needs a measurement"),
    ("cal {\n    extern boxcar(waveform) -> complex[float[64]];\n    waveform w = {0.1};\n    boxcar(w);\n}\n",
     "cannot be honoured"),
    ("bit c;\ncal {\n    c = capture_v4(q0_acquire, 8dt);\n}\n", "capture_v4"),
    ("cal {\n    capture_v2(q0_acquire, 8dt);\n}\n", "never stored"),
    ("cal {\n    play(q0_rf_frame, constant(0.1, 4dt));\n}\n", "'q0_rf_frame' is not defined"),
    ("cal {\n    port dq;\n}\n", "has no port 'dq'"),
    ("bit c;\nx $3;\n", "qubit $3 does not exist"),
    ("cal {\n    play(d0, constant(0.1, 4dt));\n}\n", "a port is not a frame"),
    ("cal {\n    play(q0_acquire, constant(0.1, 4dt));\n}\n", "cannot play"),
    ("cal {\n    waveform w = {2.0, 0.1};\n    play(q0_drive, w);\n}\n", "amplitude 2 > 1"),
    ("foo $0;\n", "not a standard gate"),
    ("cal {\n    frame f = newframe(d0, 4.8e9, 0);\n    play(f, constant(0.1, 8dt));\n"
     "    play(q0_drive, constant(0.1, 8dt));\n}\n", "overlaps"),
    ("input float a;\nbit c;\n", "input 'a' has no value"),
])
def test_what_a_device_cannot_run_is_one_line_with_the_place(device_1q, text, words):
    message = error(HEADER + text, device_1q, error_type=InputError)
    assert message.startswith("line ") and words in message, message


def test_unknown_names_list_the_device_ports_and_frames(device_2q):
    message = error(HEADER + "cal {\n    play(drive0, constant(0.1, 4dt));\n}\n", device_2q)
    assert "q0_drive" in message and "u0" in message


def test_bad_programs_exit_2_with_one_line_and_write_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.qasm"
    bad.write_text(HEADER + "cal {\n    play(q0_drive w);\n}\n")
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: line 4 column") and err.count("\n") == 1, err
    assert not out.exists()
    bad.write_text(HEADER + "bit c;\nc = measure $0;\nif (c == 1) { x $0; }\n")
    assert main(["run", str(bad), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: line 5 column 1: ") and "runtime classical control" in err, err
    assert not out.exists()


# ------------------------------------------------------------------------------------------ devices


def test_devices_publish_their_ports_and_frames(capsys):
    assert main(["devices", "--json"]) == 0
    listing = {d["name"]: d for d in json.loads(capsys.readouterr().out)}
    two = listing["qutip-2q"]["openpulse"]
    assert two["ports"] == ["d0", "m0", "a0", "d1", "m1", "a1", "u0"]
    assert two["frames"]["q1_drive"] == {"port": "d1", "frequency": 5.3e9}
    assert two["frames"]["q0_acquire"] == {"port": "a0", "frequency": 6.9e9}
    assert two["frames"]["u0_coupler"]["port"] == "u0"
    assert "openpulse" not in listing["aer-simulator"]


BRAKET_NAMES = """
devices:
  - name: braket-1q
    base: qutip-1q
    openpulse_names: {q0_rf: d0, q0_rf_frame: q0_drive, r0_measure_frame: q0_measure}
"""


def test_the_example_config_maps_braket_names(catalogue):
    from workbench.executors.registry import load_catalogue

    example = Path(__file__).parents[1] / "executor-config.example.yml"
    device = load_catalogue(example).get("qutip-2q-braket")
    assert device.openpulse_names["q0_q1_cz_frame"] == "u0_coupler"
    (s,) = load_job(DATA / "braket" / "bell_defcal_cnot.qasm").schedules(device)
    assert {p.channel for p in s.plays} == {"d0", "d1", "u0", "m0", "m1"}


def test_other_names_map_onto_the_device_through_its_config(tmp_path):
    config = tmp_path / "lab.yml"
    config.write_text(BRAKET_NAMES)
    from workbench.executors.registry import load_catalogue

    device = load_catalogue(config).get("braket-1q")
    assert device.summary()["openpulse"]["aliases"]["q0_rf_frame"] == "q0_drive"
    (s,) = load_job(DATA / "braket" / "x_flip.qasm").schedules(device)
    assert s.plays[0].channel == "d0" and s.creg_sizes == (("psb", 1),) and s.acquires[0].qubit == 0
    for bad, words in [("{q0_rf_frame: q9_drive}", "not a port or frame"), ("{d0: d0}", "already a port"),
                       ("{'bad name': d0}", "not an OpenQASM identifier")]:
        config.write_text(BRAKET_NAMES.replace("{q0_rf: d0, q0_rf_frame: q0_drive, r0_measure_frame: q0_measure}", bad))
        with pytest.raises(ConfigError, match=words):
            load_catalogue(config)
