"""Built-in example jobs: valid, JSON-native PulseQobj dicts that fit the device they were made for.

Running them through a simulator is tested elsewhere; here the checks are structural (channels,
timing, slots, calibrations used) plus an ideal two-qubit state-vector model of the Bell example that
checks the frame-phase bookkeeping gives a Bell state.
"""

from __future__ import annotations

import copy
import itertools
import json
import math

import numpy as np
import pytest

from workbench.devices.model import Device
from workbench.errors import JobError, UnsupportedError
from workbench.examples import EXAMPLES, bell, build, rabi, ramsey, t1, x_gate
from workbench.pulses.shapes import sample
from workbench.schedule.builder import ScheduleBuilder

TIMED = ("parametric_pulse", "delay")
FRAME = ("fc", "setf", "shiftf", "setp")


def fits(name: str, device: Device) -> bool:
    if len(device.qubits) < EXAMPLES[name].min_qubits:
        return False
    return name not in ("bell", "chevron") or any(c.cz is not None for c in device.couplings)


def assert_json_native(value, path="qobj"):
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), path
            assert_json_native(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_json_native(item, f"{path}[{i}]")
    else:
        assert type(value) in (str, int, float, bool), f"{path} is {type(value).__name__}"
        if type(value) is float:
            assert math.isfinite(value), path


def channel_intervals(experiment) -> dict[str, list[tuple[int, int]]]:
    busy: dict[str, list[tuple[int, int]]] = {}
    for inst in experiment["instructions"]:
        if inst["name"] == "parametric_pulse":
            busy.setdefault(inst["ch"], []).append((inst["t0"], inst["t0"] + inst["parameters"]["duration"]))
        elif inst["name"] == "delay":
            busy.setdefault(inst["ch"], []).append((inst["t0"], inst["t0"] + inst["duration"]))
        elif inst["name"] == "acquire":
            for q in inst["qubits"]:
                busy.setdefault(f"a{q}", []).append((inst["t0"], inst["t0"] + inst["duration"]))
    return busy


def to_schedule(experiment, device: Device):
    """Feed the experiment to the real schedule builder, which rejects overlaps and unknown frames."""
    b = ScheduleBuilder(
        experiment["header"]["name"],
        device.dt,
        device.frame_frequencies(),
        memory_slots=experiment["header"]["memory_slots"],
    )
    for i, inst in enumerate(experiment["instructions"]):
        where = f"instructions[{i}]"
        if inst["name"] == "parametric_pulse":
            samples = sample(inst["pulse_shape"], inst["parameters"], where=where)
            b.play(
                inst["t0"],
                inst["ch"],
                samples,
                inst["pulse_shape"],
                shape=inst["pulse_shape"],
                parameters=inst["parameters"],
                where=where,
            )
        elif inst["name"] == "fc":
            b.frame(inst["t0"], inst["ch"], "shiftp", inst["phase"], where=where)
        elif inst["name"] == "setf":
            b.frame(inst["t0"], inst["ch"], "setf", inst["frequency"] * 1e9, where=where)
        elif inst["name"] == "delay":
            b.delay(inst["t0"], inst["ch"], inst["duration"], where=where)
        elif inst["name"] == "acquire":
            for q, slot in zip(inst["qubits"], inst["memory_slot"], strict=True):
                b.acquire(inst["t0"], inst["duration"], q, slot, where=where)
        else:
            raise AssertionError(f"unexpected instruction {inst['name']}")
    return b.build()


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_builds_for_every_device_it_fits(name, catalogue):
    built_any = False
    for device in catalogue:
        if not fits(name, device):
            with pytest.raises(UnsupportedError):
                build(name, device)
            continue
        built_any = True
        qobj = build(name, device)
        assert_json_native(qobj)
        assert json.loads(json.dumps(qobj, allow_nan=False)) == qobj
        assert build(name, device) == qobj  # deterministic
        check_qobj(qobj, device, name)
    assert built_any, f"no built-in device runs '{name}'"


def check_qobj(qobj, device: Device, name: str) -> None:
    assert qobj["qobj_id"] == f"example-{name}"
    assert qobj["type"] == "PULSE" and qobj["schema_version"] == "1.3.0"
    assert qobj["header"] == {"backend_name": device.name}
    config = qobj["config"]
    # resonator spectroscopy reads integrated IQ: its two responses are what it fits
    assert config["meas_level"] == (1 if name == "resonator-spectroscopy" else 2) and config["meas_return"] == "single"
    assert config["memory_slot_size"] == 100 and config["rep_time"] == 200 and config["pulse_library"] == []
    assert config["shots"] == 1024
    qubits = sorted(device.qubits, key=lambda q: q.index)
    assert config["qubit_lo_freq"] == pytest.approx([q.drive_frequency / 1e9 for q in qubits])
    assert config["meas_lo_freq"] == pytest.approx([q.readout.frequency / 1e9 for q in qubits])
    assert all(1.0 < f < 20.0 for f in config["qubit_lo_freq"] + config["meas_lo_freq"])  # GHz, not Hz

    indices = {q.index for q in device.qubits}
    channels = {f"d{i}" for i in indices} | {f"m{i}" for i in indices} | {c.channel for c in device.couplings}
    shapes_used = set()
    assert qobj["experiments"]
    names = [e["header"]["name"] for e in qobj["experiments"]]
    assert len(set(names)) == len(names)
    for experiment in qobj["experiments"]:
        header = experiment["header"]
        slots = header["memory_slots"]
        assert 1 <= slots <= config["memory_slots"]
        assert isinstance(header["metadata"], dict)
        times = [inst["t0"] for inst in experiment["instructions"]]
        assert times == sorted(times) and min(times) == 0
        acquired_slots = []
        for inst in experiment["instructions"]:
            assert isinstance(inst["t0"], int) and inst["t0"] >= 0
            if inst["name"] == "acquire":
                assert set(inst["qubits"]) <= indices
                assert len(inst["qubits"]) == len(inst["memory_slot"])
                acquired_slots += inst["memory_slot"]
                assert inst["duration"] > 0
            else:
                assert inst["name"] in TIMED + FRAME
                assert inst["ch"] in channels, inst
            if inst["name"] == "parametric_pulse":
                shapes_used.add(inst["pulse_shape"])
                samples = sample(inst["pulse_shape"], inst["parameters"])
                assert samples.size == inst["parameters"]["duration"] > 0
                assert np.max(np.abs(samples)) <= 1.0
            if inst["name"] == "delay":
                assert inst["duration"] > 0
        assert sorted(acquired_slots) == list(range(slots))  # each slot written exactly once

        busy = channel_intervals(experiment)
        for ch, spans in busy.items():
            spans.sort()
            for (_, end), (start, _) in itertools.pairwise(spans):
                assert start >= end, f"overlap on {ch} in {header['name']}"
        for inst in experiment["instructions"]:
            if inst["name"] in FRAME:
                for start, end in busy.get(inst["ch"], []):
                    assert not start < inst["t0"] < end, f"frame change inside a pulse on {inst['ch']}"

        # the drive is quiet once the readout starts
        readout_start = min(i["t0"] for i in experiment["instructions"] if i["name"] == "acquire")
        for ch, spans in busy.items():
            if ch[0] in "du":
                assert all(end <= readout_start for _, end in spans), ch

        schedule = to_schedule(experiment, device)
        assert schedule.memory_slots == slots
        assert sorted(a.memory_slot for a in schedule.acquires) == list(range(slots))
        set_frames = {i["ch"] for i in experiment["instructions"] if i["name"] == "setf"}  # spectroscopy steps these
        assert all(p.frequency == device.frame_frequencies()[p.channel] for p in schedule.plays
                   if p.channel not in set_frames)
    assert config["parametric_pulses"] == sorted(shapes_used)


def measurement_start(experiment, qubit: int) -> int:
    (readout,) = [
        i for i in experiment["instructions"] if i["name"] == "parametric_pulse" and i["ch"] == f"m{qubit}"
    ]
    (acquire,) = [i for i in experiment["instructions"] if i["name"] == "acquire" and qubit in i["qubits"]]
    return readout["t0"], acquire["t0"]


def test_x_gate_plays_the_calibrated_pi_pulse_then_measures(device_1q):
    q = device_1q.qubit(0)
    qobj = x_gate(device_1q, shots=100)
    assert qobj["config"]["shots"] == 100
    (experiment,) = qobj["experiments"]
    (pulse,) = [i for i in experiment["instructions"] if i.get("ch") == "d0"]
    assert pulse["t0"] == 0 and pulse["pulse_shape"] == q.drive.x.shape
    assert pulse["parameters"] == q.drive.x.parameters()
    readout, acquire = measurement_start(experiment, 0)
    assert readout == q.drive.x.duration
    assert acquire == readout + q.readout.acquire_delay
    (acq,) = [i for i in experiment["instructions"] if i["name"] == "acquire"]
    assert acq["duration"] == q.readout.acquire_duration and acq["memory_slot"] == [0]


def test_acquisition_starts_acquire_delay_after_the_readout_pulse(catalogue):
    raw = copy.deepcopy(catalogue.raw("qutip-1q"))
    raw["qubits"][0]["readout"].update({"acquire_delay": 24, "acquire_duration": 700})
    delayed = Device.model_validate(raw)
    for name in ("x-gate", "rabi", "t1", "ramsey"):
        qobj = build(name, delayed)
        check_qobj(qobj, delayed, name)
        for experiment in qobj["experiments"]:
            readout, acquire = measurement_start(experiment, 0)
            assert acquire == readout + 24
            (acq,) = [i for i in experiment["instructions"] if i["name"] == "acquire"]
            assert acq["duration"] == 700


def test_x_gate_on_the_second_qubit_uses_its_channels(device_2q):
    (experiment,) = x_gate(device_2q, qubit=1)["experiments"]
    assert {i.get("ch") for i in experiment["instructions"]} == {"d1", "m1", None}
    (acq,) = [i for i in experiment["instructions"] if i["name"] == "acquire"]
    assert acq["qubits"] == [1] and acq["memory_slot"] == [0]


def test_rabi_sweeps_zero_to_twice_the_pi_amplitude(device_1q):
    x = device_1q.qubit(0).drive.x
    qobj = rabi(device_1q)
    experiments = qobj["experiments"]
    assert len(experiments) == 21
    amps = [e["header"]["metadata"]["amp"] for e in experiments]
    np.testing.assert_allclose(amps, np.linspace(0, min(2 * x.amp, 1.0), 21))
    assert amps[10] == pytest.approx(x.amp)
    for e, amp in zip(experiments, amps, strict=True):
        assert e["header"]["metadata"] == {"amp": amp}
        (pulse,) = [i for i in e["instructions"] if i.get("ch") == "d0"]
        assert pulse["parameters"] == x.parameters(amp)


def test_rabi_caps_the_sweep_at_one(catalogue):
    raw = copy.deepcopy(catalogue.raw("qutip-1q"))
    raw["qubits"][0]["drive"]["x"]["amp"] = 0.8
    strong = Device.model_validate(raw)
    amps = [e["header"]["metadata"]["amp"] for e in rabi(strong)["experiments"]]
    assert amps[0] == 0.0 and max(amps) == 1.0 and len(amps) == 21


def test_rabi_custom_amplitudes_and_errors(device_1q):
    qobj = rabi(device_1q, amplitudes=[0.1, -0.2, 1])
    assert [e["header"]["metadata"]["amp"] for e in qobj["experiments"]] == [0.1, -0.2, 1.0]
    for bad, location in [
        ([0.1, 1.5], "amplitudes[1]"),
        ([0.1, "x"], "amplitudes[1]"),
        ([float("nan")], "amplitudes[0]"),
        ([], "amplitudes"),
        ([True], "amplitudes[0]"),
    ]:
        with pytest.raises(JobError) as err:
            rabi(device_1q, amplitudes=bad)
        assert err.value.location == location


def test_t1_delays_are_rounded_to_samples_and_recorded_in_seconds(device_1q):
    dt = device_1q.dt
    x = device_1q.qubit(0).drive.x
    qobj = t1(device_1q, delays=[0.0, 1.0004e-6, 5e-6])
    recorded = [e["header"]["metadata"]["delay"] for e in qobj["experiments"]]
    assert recorded == pytest.approx([0.0, 1000 * dt, 5000 * dt])
    for e, delay in zip(qobj["experiments"], recorded, strict=True):
        n = round(delay / dt)
        delays = [i for i in e["instructions"] if i["name"] == "delay"]
        assert [d["duration"] for d in delays] == ([n] if n else [])
        assert measurement_start(e, 0)[0] == x.duration + n
    default = t1(device_1q)["experiments"]
    last = default[-1]["header"]["metadata"]["delay"]
    assert last == pytest.approx(3 * device_1q.qubit(0).t1, rel=1e-6)
    with pytest.raises(JobError) as err:
        t1(device_1q, delays=[1e-6, -1e-6])
    assert err.value.location == "delays[1]"


def test_ramsey_advances_the_second_pulse_phase(device_1q):
    sx = device_1q.qubit(0).drive.sx
    detuning = 2.5e6
    qobj = ramsey(device_1q, delays=[0.0, 1e-7, 3.3e-6], detuning=detuning)
    for e in qobj["experiments"]:
        meta = e["header"]["metadata"]
        delay = meta["delay"]
        assert meta["detuning"] == detuning
        n = round(delay / device_1q.dt)
        pulses = [i for i in e["instructions"] if i["name"] == "parametric_pulse" and i["ch"] == "d0"]
        assert [p["t0"] for p in pulses] == [0, sx.duration + n]
        assert all(p["parameters"] == sx.parameters() for p in pulses)
        (fc,) = [i for i in e["instructions"] if i["name"] == "fc"]
        assert fc["t0"] == sx.duration + n
        # same rotation as 2 pi detuning delay, whatever multiple of 2 pi was taken off
        assert abs(fc["phase"]) <= math.pi
        assert math.remainder(fc["phase"] - 2 * math.pi * detuning * delay, 2 * math.pi) == pytest.approx(
            0, abs=1e-9
        )
    default = ramsey(device_1q)["experiments"]
    assert len(default) == 41
    assert default[-1]["header"]["metadata"]["delay"] == pytest.approx(5 / 1e6)


def _ideal_bell_state(qobj, device: Device, convention: int) -> np.ndarray:
    """Replay the Bell experiment on ideal qubits: sx pulses are pi/2 rotations about the frame axis
    ``cos(phi) X - convention * sin(phi) Y``, the coupler pulse is a CZ."""
    (experiment,) = qobj["experiments"]
    coupling = next(c for c in device.couplings if c.cz is not None)
    a, b = coupling.qubits
    position = {a: 0, b: 1}
    phases = {a: 0.0, b: 0.0}
    state = np.zeros(4, dtype=complex)
    state[0] = 1.0
    x = np.array([[0, 1], [1, 0]], dtype=complex)
    y = np.array([[0, -1j], [1j, 0]])
    for inst in experiment["instructions"]:
        ch = inst.get("ch", "")
        if inst["name"] == "fc":
            phases[int(ch[1:])] += inst["phase"]
        elif inst["name"] == "parametric_pulse" and ch.startswith("d"):
            qubit = int(ch[1:])
            assert inst["parameters"] == device.qubit(qubit).drive.sx.parameters()
            phi = phases[qubit]
            axis = math.cos(phi) * x - convention * math.sin(phi) * y
            rotation = math.cos(math.pi / 4) * np.eye(2) - 1j * math.sin(math.pi / 4) * axis
            ops = [np.eye(2), np.eye(2)]
            ops[position[qubit]] = rotation
            state = np.kron(ops[0], ops[1]) @ state
        elif inst["name"] == "parametric_pulse" and ch == coupling.channel:
            state = np.diag([1, 1, 1, -1]) @ state
    return state


@pytest.mark.parametrize("convention", [+1, -1])
def test_bell_gives_only_00_and_11_on_ideal_qubits(device_2q, convention):
    qobj = bell(device_2q)
    state = _ideal_bell_state(qobj, device_2q, convention)
    probabilities = np.abs(state) ** 2
    assert probabilities[0] == pytest.approx(0.5) and probabilities[3] == pytest.approx(0.5)
    assert probabilities[0] + probabilities[3] == pytest.approx(1.0, abs=1e-12)
    # every frame rotation is undone: the drive frames end where they started
    (experiment,) = qobj["experiments"]
    for ch in ("d0", "d1"):
        total = sum(i["phase"] for i in experiment["instructions"] if i["name"] == "fc" and i["ch"] == ch)
        assert total == pytest.approx(0.0, abs=1e-12)


def test_bell_measures_both_qubits_into_slots_0_and_1_after_the_gates(device_2q):
    (experiment,) = bell(device_2q)["experiments"]
    coupling = device_2q.couplings[0]
    (cz,) = [i for i in experiment["instructions"] if i.get("ch") == coupling.channel]
    assert cz["parameters"] == coupling.cz.parameters()
    acquires = {i["qubits"][0]: i for i in experiment["instructions"] if i["name"] == "acquire"}
    assert acquires[coupling.qubits[0]]["memory_slot"] == [0]
    assert acquires[coupling.qubits[1]]["memory_slot"] == [1]
    assert experiment["header"]["memory_slots"] == 2


def test_bell_needs_a_calibrated_coupling(device_1q, device_2q):
    with pytest.raises(UnsupportedError, match="2 qubits"):
        build("bell", device_1q)
    uncoupled = device_2q.model_copy(update={"couplings": []})
    with pytest.raises(UnsupportedError, match="CZ"):
        build("bell", uncoupled)


def test_unknown_example_and_bad_arguments(device_1q):
    with pytest.raises(JobError) as err:
        build("grover", device_1q)
    assert all(name in err.value.message for name in EXAMPLES)
    assert not isinstance(err.value, UnsupportedError)
    with pytest.raises(JobError):
        build(None, device_1q)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedError, match="no qubit 3"):
        x_gate(device_1q, qubit=3)
    with pytest.raises(JobError) as err:
        x_gate(device_1q, shots=0)
    assert err.value.location == "shots"
    with pytest.raises(JobError) as err:
        ramsey(device_1q, detuning=float("inf"))
    assert err.value.location == "detuning"


def test_registry_entries_unpack_as_builder_description_min_qubits():
    assert set(EXAMPLES) == {"x-gate", "rabi", "t1", "ramsey", "bell", "rabi-length", "echo", "qubit-spectroscopy",
                             "resonator-spectroscopy", "chevron"}
    for name, (builder, description, min_qubits) in EXAMPLES.items():
        assert callable(builder)
        assert isinstance(description, str) and description and "\n" not in description
        assert min_qubits == (2 if name in ("bell", "chevron") else 1)


def test_chevron_sweeps_amplitude_and_width(catalogue):
    from workbench.examples import chevron
    from workbench.jobs import load_job

    device = catalogue.get("qutip-2q")
    job = chevron(device, n_amp=3, n_width=2)
    assert len(job["experiments"]) == 6
    metas = [e["header"]["metadata"] for e in job["experiments"]]
    assert sorted({m["width"] for m in metas}) == [40, 240]
    assert sorted({round(m["amp"], 3) for m in metas}) == [0.1, 0.45, 0.8]
    schedules = load_job(job).schedules(device)
    coupler = schedules[-1].plays_on("u0")[0]
    assert coupler.duration == 240 + 80 and coupler.t0 == device.qubit(0).drive.x.duration
