"""The quantify executor against a real qblox-instruments dummy cluster with the digital twin.

Programs are compiled by quantify-scheduler, assembled and run by the dummy, and the twin's expected
acquisitions come back through the Qblox acquisition path (bins, hardware averaging and thresholding,
quantify's retrieval). Expected physics comes from the device (the calibrated pi amplitude, IQ
centres) and from the simulator run independently on ``qutip-*``.
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import numpy as np
import pytest

import workbench
from workbench.errors import CancelledError, ExecutionError

DEVICE = "qblox-dummy-1q"


@pytest.fixture(scope="module")
def device(catalogue):
    return catalogue.get(DEVICE)


def readout(device, t0: int, slot: int, qubit: int = 0) -> list[dict[str, Any]]:
    ro = device.qubit(qubit).readout
    return [{"name": "parametric_pulse", "t0": t0, "ch": f"m{qubit}", "pulse_shape": ro.pulse.shape,
             "parameters": ro.pulse.parameters()},
            {"name": "acquire", "t0": t0 + ro.acquire_delay, "duration": ro.acquire_duration, "qubits": [qubit],
             "memory_slot": [slot]}]


def x(device, t0: int, qubit: int = 0) -> dict[str, Any]:
    cal = device.qubit(qubit).drive.x
    return {"name": "parametric_pulse", "t0": t0, "ch": f"d{qubit}", "pulse_shape": cal.shape,
            "parameters": cal.parameters()}


def qobj(*experiments: list[dict[str, Any]], memory_slots: int = 1, **config: Any) -> dict[str, Any]:
    return {"qobj_id": "q", "type": "PULSE", "schema_version": "1.3.0", "header": {},
            "config": {"shots": 512, "meas_level": 2, "memory_slots": memory_slots, **config},
            "experiments": [{"header": {"name": f"e{i}", "memory_slots": memory_slots}, "instructions": ins}
                            for i, ins in enumerate(experiments)]}


def p1(result, experiment: int, slot: int = 0) -> float:
    return float(result.dataset.memory.isel(experiment=experiment, slot=slot).mean())


@pytest.mark.slow
def test_rabi_sweep_oscillates_through_the_cluster(device):
    result = workbench.run("rabi", device=DEVICE, seed=11)
    ds = result.dataset
    amps = ds.amp.values
    calibrated = device.qubit(0).drive.x.amp
    at_pi = int(np.argmin(np.abs(amps - calibrated)))
    assert amps[at_pi] == pytest.approx(calibrated, rel=1e-6)
    assert amps[0] == 0.0
    populations = ds.memory.sel(slot=0).mean("shot").values
    assert populations[at_pi] > 0.9
    assert populations[0] < 0.1
    assert populations[-1] < 0.1  # 2 pi: back down, a whole oscillation
    assert np.all(np.isfinite(ds.iq.values))
    trace = result.trace
    assert trace["qpuType"] == "qpu" and trace["executor"] == "quantify"  # QHAna's word for hardware
    info = trace["executorInfo"]
    assert "ThresholdedAcquisition" in info["acquisition"] and "q1asm" in info["artifacts"]
    assert trace["versions"]["quantify-scheduler"] == "0.28.1"


def qblox_threshold_rule(integrated: np.ndarray, rotation_deg: float, threshold: float) -> np.ndarray:
    """The bit a Qblox readout sequencer gives an integrated point, written from qblox-instruments' own
    description (not from the workbench): ``thresholded_acq_rotation`` rotates the integration result's
    phase by that many degrees (its rotation matrix is ``a11 = cos(360 - r)``, ``a12 = sin(360 - r)``),
    and ``thresholded_acq_threshold`` is compared with the rotated path-0 value *before* it is divided
    by the integration length; the bit is 1 at or above the threshold."""
    a11 = math.cos(math.radians(360 - rotation_deg))
    a12 = math.sin(math.radians(360 - rotation_deg))
    path0 = a11 * integrated.real + a12 * integrated.imag
    return (path0 >= threshold).astype(int)


@pytest.mark.slow
def test_hardware_thresholds_follow_the_compiled_sequencer_settings(device):
    """meas_level 2 bits against the sequencer settings quantify-scheduler compiled for this run.

    The rotation and threshold are read from the run's compiled sequencer settings (artifact
    ``sequencers/module4_seq0.json``: ``thresholded_acq_rotation``, ``thresholded_acq_threshold``, the
    integration length); the Qblox rule is applied here to the integrated IQ the cluster returned for the
    same bins, and must give the bits the cluster returned, shot by shot. The compiled rule must also be
    the device's discriminator: its boundary line is where the rotated value meets the threshold."""
    result = workbench.run("rabi", device=DEVICE, seed=2, shots=256)
    ds = result.dataset
    compiled = [json.loads(text) for name, text in result.artifacts.items() if name.startswith("sequencers/")]
    (settings,) = [c for c in compiled if c["threshold"] is not None]  # m0's sequencer; one program, no batches
    assert settings["type"] == "QRM_RF"
    rotation, threshold, length = (settings["threshold_rotation_deg"], settings["threshold"],
                                   settings["integration_length_ns"])
    assert length == device.qubit(0).readout.acquire_duration  # 1 ns samples: the whole acquisition window

    integrated = ds.iq.values[..., 0] * length  # the cluster normalises by the integration length
    expected = qblox_threshold_rule(integrated, rotation, threshold)
    bits = ds.memory.values[..., 0]
    assert 0.2 < bits.mean() < 0.8  # a Rabi sweep: plenty of both outcomes
    np.testing.assert_array_equal(bits, expected)

    disc = device.qubit(0).readout.discriminator
    (w_i, w_q), offset = disc.weights, disc.offset
    along = np.linspace(-3, 3, 7)
    foot = -offset / (w_i**2 + w_q**2) * complex(w_i, w_q)
    boundary = (foot + along * complex(-w_q, w_i)) * length
    a11, a12 = math.cos(math.radians(360 - rotation)), math.sin(math.radians(360 - rotation))
    np.testing.assert_allclose(a11 * boundary.real + a12 * boundary.imag, threshold, rtol=1e-9)
    centres = device.qubit(0).readout.iq_centers
    points = np.array([complex(*centres[0]), complex(*centres[1])]) * length
    assert qblox_threshold_rule(points, rotation, threshold).tolist() == [0, 1]


def test_memory_slots_land_where_the_job_says(device):
    """Experiment 0: pi pulse, measured into slot 2 only. Experiment 1: measure into slot 0, pi pulse,
    measure into slot 1, and slot 2 written twice (the later acquisition, after a second pi pulse, wins)."""
    x_len = device.qubit(0).drive.x.duration
    first = [x(device, 0), *readout(device, x_len, 2)]
    second = [*readout(device, 0, 0), x(device, 1000), *readout(device, 1000 + x_len, 2),
              *readout(device, 2000, 1), x(device, 3000), *readout(device, 3000 + x_len, 2)]
    result = workbench.run(qobj(first, second, memory_slots=3), device=DEVICE, seed=4)
    counts = result.counts_list()
    assert max(counts[0], key=counts[0].get) == "100"  # slot 2 = 1, slots 0 and 1 never written
    assert max(counts[1], key=counts[1].get) == "010"  # slot 0 = 0, slot 1 = 1, slot 2: 1 -> 0 after the 2nd pi
    assert counts[0]["100"] > 0.95 * 512 and counts[1]["010"] > 0.9 * 512
    assert result.dataset.slot_qubit.values.tolist() == [[-1, -1, 0], [0, 0, 0]]


def test_meas_level_1_returns_iq_per_shot_and_hardware_averages(device):
    job = qobj([*readout(device, 0, 0)], [x(device, 0), *readout(device, 48, 0)])
    single = workbench.run(job, device=DEVICE, seed=9, options={"meas_level": 1})
    ds = single.dataset
    assert ds.iq.shape == (2, 512, 1) and "memory" not in ds and "counts" not in ds
    iq = ds.iq.values[..., 0]
    assert np.all(np.isfinite(iq))
    centres = device.qubit(0).readout.iq_centers
    noise = device.qubit(0).readout.iq_noise
    # the blobs of |0> and |1> (a few shots of the excited one have relaxed)
    def centre(points: np.ndarray) -> complex:
        return complex(np.median(points.real), np.median(points.imag))

    assert abs(centre(iq[0]) - complex(*centres[0])) < 5 * noise / math.sqrt(512)
    assert abs(centre(iq[1]) - complex(*centres[1])) < 0.1
    assert 0.5 * noise < np.std(iq[0].real) < 1.5 * noise
    assert "SSBIntegrationComplex, bin mode append" in single.trace["executorInfo"]["acquisition"]
    averaged = workbench.run(job, device=DEVICE, seed=9, options={"meas_level": 1, "meas_return": "avg"})
    assert "bin mode average" in averaged.trace["executorInfo"]["acquisition"]
    assert "iq" not in averaged.dataset
    # the same seed gives the twin the same points; the cluster averaged them
    np.testing.assert_allclose(averaged.dataset.iq_mean.values[:, 0], iq.mean(axis=1), atol=1e-9)


def test_a_frequency_change_mid_schedule_is_in_the_compiled_program(device):
    lo = 4.8e9 - 1e8  # qblox-dummy-1q: d0 at 4.8 GHz with interm_freq 100 MHz
    instructions = [x(device, 0), {"name": "setf", "t0": 48, "ch": "d0", "frequency": 4.85},
                    {"name": "shiftf", "t0": 100, "ch": "d0", "frequency": -0.02}, x(device, 100),
                    *readout(device, 148, 0)]
    result = workbench.run(qobj(instructions), device=DEVICE, seed=1)
    program = result.artifacts["q1asm/module2_seq0.q1asm"]
    lines = [line.split("#")[0].split() for line in program.splitlines()]
    sets = [int(parts[1]) for parts in lines if parts and parts[0] == "set_freq"]
    # the NCO takes 4 steps per Hz: 4.85 GHz and then 4.83 GHz relative to the LO
    assert sets == [round(4 * (4.85e9 - lo)), round(4 * (4.83e9 - lo))]
    plays = [i for i, parts in enumerate(lines) if parts and parts[0] == "play"]
    freq_lines = [i for i, parts in enumerate(lines) if parts and parts[0] == "set_freq"]
    assert plays[0] < freq_lines[0] < freq_lines[1] < plays[1]  # between the two pulses, in order
    settings = json.loads(result.artifacts["sequencers/module2_seq0.json"])
    assert settings["modulation_frequency_hz"] == pytest.approx(1e8)


def test_phase_shifts_and_envelopes_follow_the_simulators_convention(device):
    """fc(+theta) turns the NCO by -theta and the played envelope is the conjugate of the IR's samples, so
    rz(theta) = ShiftPhase(-theta) in a job is quantify's Rz(theta) = ShiftClockPhase(+theta)."""
    sx = device.qubit(0).drive.sx
    instructions = [{"name": "fc", "t0": 0, "ch": "d0", "phase": -math.pi / 2},
                    {"name": "parametric_pulse", "t0": 0, "ch": "d0", "pulse_shape": sx.shape,
                     "parameters": sx.parameters()}, *readout(device, 48, 0)]
    result = workbench.run(qobj(instructions), device=DEVICE, seed=1, shots=16)
    program = result.artifacts["q1asm/module2_seq0.q1asm"]
    assert "set_ph_delta 250000000 # increment nco phase by 90.00 deg" in program
    waveforms = json.loads(result.artifacts["waveforms/module2_seq0.json"])
    paths = sorted(waveforms.values(), key=lambda w: w["index"])
    gains = [int(v) for v in program.split("set_awg_gain ")[1].split()[0].split(",")]
    played = gains[0] / 32767 * np.array(paths[0]["data"]) + 1j * gains[1] / 32767 * np.array(paths[1]["data"])
    from workbench.pulses.shapes import sample

    expected = np.conj(sample(sx.shape, sx.parameters()))
    np.testing.assert_allclose(played, expected, atol=2e-4)  # 16-bit gains


def test_artifacts_land_in_the_output_folder(tmp_path, device):
    result = workbench.run("x-gate", device=DEVICE, seed=3, shots=64)
    folder = tmp_path / "out"
    result.export(folder)
    compiled = folder / "compiled"
    q1asm = sorted(p.name for p in (compiled / "q1asm").iterdir())
    assert q1asm == ["module2_seq0.q1asm", "module4_seq0.q1asm"]
    assert "acquire" in (compiled / "q1asm" / "module4_seq0.q1asm").read_text()
    table = (compiled / "timing_table.csv").read_text().splitlines()
    assert table[0] == "abs_time_ns,duration_ns,port,clock,is_acquisition,operation,ir"
    x_len = device.qubit(0).drive.x.duration
    assert f"4.0,{x_len}.0,q0:mw,q0.01,False,NumericalPulse,play drag on d0" in table  # 4 ns in: the NCO reset
    assert f"{4 + x_len + 4}.0,800.0,q0:res,q0.ro,True,ThresholdedAcquisition,acquire q0 of experiment 0 " \
           "into slot 0" in table  # + 4 ns time of flight
    assert json.loads((compiled / "waveforms" / "module2_seq0.json").read_text())
    config = json.loads((compiled / "hardware_config.json").read_text())
    assert config["hardware_options"]["modulation_frequencies"]["q0:mw-q0.01"] == {"interm_freq": 1e8}
    trace = json.loads((folder / "result-trace.json").read_text())
    assert trace["executorInfo"]["programs"][0]["instructions"]["module2_seq0"] > 5


QASM_RX = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[1];
creg c[1];
rx(2*pi/3) q[0];
measure q[0] -> c[0];
"""


def two_proportion_z(k1: int, k2: int, n: int) -> float:
    p = (k1 + k2) / (2 * n)
    return (k1 - k2) / n / math.sqrt(2 * p * (1 - p) / n)


@pytest.mark.slow
def test_the_same_circuit_gives_compatible_counts_on_the_simulator_and_the_twin():
    shots = 4000
    on_twin = workbench.run(QASM_RX, device=DEVICE, shots=shots, seed=101).counts()
    on_sim = workbench.run(QASM_RX, device="qutip-1q", shots=shots, seed=202).counts()
    expected = math.sin(math.pi / 3) ** 2  # rx(2 pi / 3): P1 = 3/4, less readout error and T1
    assert on_twin.get("1", 0) / shots == pytest.approx(expected, abs=0.04)
    z = two_proportion_z(on_twin.get("1", 0), on_sim.get("1", 0), shots)
    assert abs(z) < 4, (on_twin, on_sim)
    # with the same seed the twin's IQ points are the simulator's: identical counts through the cluster
    same = workbench.run(QASM_RX, device="qutip-1q", shots=shots, seed=101).counts()
    assert same == on_twin


@pytest.mark.slow
def test_a_bell_circuit_runs_on_the_two_qubit_twin_with_its_coupler():
    qasm = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
            "h q[0];\ncx q[0],q[1];\nmeasure q -> c;\n")
    twin = workbench.run(qasm, device="qblox-dummy-2q", shots=2000, seed=5)
    counts = twin.counts()
    assert counts.get("00", 0) + counts.get("11", 0) > 0.95 * 2000
    assert min(counts.get("00", 0), counts.get("11", 0)) > 0.4 * 2000
    assert twin.counts() == workbench.run(qasm, device="qutip-2q", shots=2000, seed=5).counts()
    program = twin.artifacts["q1asm/module6_seq0.q1asm"]  # the coupler's baseband QCM plays the CZ
    assert "play" in program
    assert json.loads(twin.artifacts["sequencers/module6_seq0.json"])["modulation_frequency_hz"] == pytest.approx(
        1.7e8)


@pytest.mark.slow
def test_a_five_qubit_circuit_runs_on_the_chip_twin_as_on_the_simulator():
    """All five qubits of qblox-dummy-5q (ZZ couples them: one system of five qutrits, simulated by
    trajectories) through three QCM-RF, one multiplexed QRM-RF and a coupler's baseband QCM: the same
    seed gives the simulator's counts, through the cluster's acquisition path."""
    qasm = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[5];\ncreg c[5];\n'
            "x q[0];\nh q[1];\nx q[2];\ncx q[2],q[3];\nx q[4];\nmeasure q -> c;\n")
    twin = workbench.run(qasm, device="qblox-dummy-5q", shots=1000, seed=5)
    counts = twin.counts()
    assert counts.get("11101", 0) + counts.get("11111", 0) > 0.9 * 1000  # q1 half and half, the others 1
    assert min(counts.get("11101", 0), counts.get("11111", 0)) > 0.4 * 1000
    assert counts == workbench.run(qasm, device="qutip-5q", shots=1000, seed=5).counts()
    assert "play" in twin.artifacts["q1asm/module12_seq0.q1asm"]  # u2 on the second coupler QCM
    readouts = [name for name in twin.artifacts if name.startswith("q1asm/module8_")]
    assert len(readouts) == 5  # five readout sequencers on the one QRM-RF


@pytest.mark.slow
def test_a_job_larger_than_the_acquisition_memory_runs_as_several_programs(device):
    """2 experiments x 70000 shots need 140000 bins on the readout sequencer, which has 131072."""
    job = qobj([*readout(device, 0, 0)], [x(device, 0), *readout(device, 48, 0)])
    seen: list[tuple[int, int]] = []
    result = workbench.run(job, device=DEVICE, shots=70000, seed=8, progress=lambda d, t: seen.append((d, t)))
    programs = result.trace["executorInfo"]["programs"]
    assert [p["experiments"] for p in programs] == [[0, 0], [1, 1]]
    assert {name.split("/")[0] for name in result.artifacts if "/" in name} >= {"batch-000", "batch-001"}
    assert seen == [(1, 2), (2, 2)]
    assert p1(result, 0) < 0.05 and p1(result, 1) > 0.9


def test_instruments_of_others_are_left_alone():
    """qcodes names are global: a run picks names nobody holds and closes only its own instruments."""
    from qcodes.instrument import Instrument

    class Bystander(Instrument):
        pass

    other = Bystander("wb_qblox_dummy")
    try:
        result = workbench.run("x-gate", device=DEVICE, seed=1, shots=32)
        assert result.counts()
        assert Instrument.exist("wb_qblox_dummy") and Instrument.is_valid(other)
        left = [name for name in ("wb_qblox_dummy_1", "wb_qblox_dummy_1_device", "wb_qblox_dummy_1_coordinator",
                                  "ic_wb_qblox_dummy_1", "ic_wb_qblox_dummy_1_module2") if Instrument.exist(name)]
        assert left == []
    finally:
        other.close()


def test_two_runs_at_once_on_one_cluster_both_succeed():
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(seed: int) -> None:
        try:
            results.append(workbench.run("x-gate", device=DEVICE, seed=seed, shots=64))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and len(results) == 2


def test_an_empty_acquisition_fails_loudly_instead_of_counting_zeros(device):
    """A dummy without data returns NaN; the executor refuses it rather than reporting all-zero counts."""
    from workbench.executors.quantify.adapter import ClusterSession
    from workbench.executors.quantify.config import validate
    from workbench.executors.quantify.executor import QuantifyExecutor
    from workbench.executors.quantify.plan import build_program

    schedules = workbench.prepare("x-gate", device=DEVICE).programs
    config = validate(device)
    program = build_program([0], schedules, device, config, shots=8, meas_level=1, meas_return="single",
                            rep_time=1e-6)
    session = ClusterSession(config, 1.0)
    session.open()
    try:
        compiled = session.compile(program, "no-twin")
        measured = session.execute(compiled, timeout=10)
    finally:
        session.close()
    assert np.all(np.isnan(measured[0]["iq"]))
    iq = np.full((1, 8, 1), np.nan + 0j)
    with pytest.raises(ExecutionError, match="the cluster returned no data"):
        QuantifyExecutor._store(program, measured, iq, None, None)


def test_a_cancelled_run_stops_before_the_cluster_runs():
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        workbench.run("x-gate", device=DEVICE, seed=1, cancel=cancel)


def test_the_dummy_assembles_in_a_private_folder(tmp_path, monkeypatch, device):
    """qblox-instruments' dummy would assemble through ./tmp.q1asm in the working directory; the session
    gives it a folder of its own, and a program that does not assemble is still refused."""
    from workbench.executors.quantify.adapter import ClusterSession
    from workbench.executors.quantify.config import validate

    monkeypatch.chdir(tmp_path)
    assert workbench.run("x-gate", device=DEVICE, seed=1, shots=16).counts()
    assert list(tmp_path.iterdir()) == []
    session = ClusterSession(validate(device), 1.0)
    session.open()
    try:
        sequencer = session.cluster.module2.sequencer0
        with pytest.raises(RuntimeError, match="Assembly failed"):
            sequencer.sequence({"waveforms": {}, "weights": {}, "acquisitions": {},
                                "program": "not_an_instruction 1\nstop\n"})
        sequencer.sequence({"waveforms": {}, "weights": {}, "acquisitions": {}, "program": "wait_sync 4\nstop\n"})
    finally:
        session.close()
    assert list(tmp_path.iterdir()) == []
