"""Real Tergite job files (tests/data/tergite/, see its README) load, run, or are refused cleanly.

Every job file the Tergite backend keeps as a test fixture and every file the Tergite SDK wrote (2025.3.1:
envelope E0, qobj an object; 2026.6.0: envelope E1, qobj a JSON string) is listed below with the era
of its envelope and the device its channels need. Fixture files that hold a list of job files (as the
backend's tests upload them) are split into one file per job, as a user would have them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import workbench
from workbench.cli.main import main
from workbench.errors import JobError
from workbench.executors.registry import load_catalogue
from workbench.jobs import load_job

DATA = Path(__file__).parent / "data" / "tergite"


@dataclass(frozen=True)
class Entry:
    file: str  # relative to tests/data/tergite
    index: int | None  # position in a list file, None for a file holding one job
    era: str  # "E0", "E1" or "bare"
    device: str = "qutip-1q"
    text_qobj: bool = False  # params.qobj written as a JSON string
    long: bool = False  # designed for Tergite's dt = 10 ps: minutes of simulation per run with noise

    @property
    def id(self) -> str:
        return self.file + ("" if self.index is None else f"[{self.index}]")


SDK_SCENARIOS = ("a_x_gate_drag_schedule", "b_sampled_waveform_rle", "c_circuit_1q_h_measure",
                 "d_two_experiments_meas_level_1")
RUNS = [
    # E0: {job_id, type: "script", name, params: {qobj}}
    *(Entry(f"backend/3d570a0/{g}_gate.json", None, "E0") for g in "xyzh"),
    Entry("backend/74e7cf8/h_gate_amplitude_corrected.json", None, "E0"),
    *(Entry(f"sdk-2025.3.1/{s}.job.json", None, "E0") for s in (*SDK_SCENARIOS, "e_status_polling")),
    Entry("sdk-2025.3.1/c2_circuit_2q_bell_cz.job.json", None, "E0", "qutip-2q", long=True),
    Entry("backend/72dd3da/jobs_to_upload.json", 0, "E0"),  # name "test_job_3"
    Entry("backend/72dd3da/jobs_to_upload.json", 1, "E0"),
    Entry("backend/4dd4ac9/jobs_to_upload.json", 0, "E0", "qutip-2q"),  # setp only, params num_pts/qa_avg
    Entry("backend/4dd4ac9/jobs_to_upload.json", 1, "E0", "qutip-2q"),  # setf only, one negative
    Entry("backend/9587c4b/jobs_to_upload_simulator_2q.json", 0, "E0", "qutip-2q", long=True),
    # E1: {job_id, params: {qobj}}
    Entry("backend/69a9ae9/jobs_to_upload.json", 0, "E1"),
    Entry("backend/69a9ae9/jobs_to_upload.json", 1, "E1"),
    Entry("backend/69a9ae9/invalid_jobs_to_upload.json", 4, "E1"),  # only an extra params key: a warning
    Entry("backend/69a9ae9/jobs_to_upload_simulator_2q.json", 0, "E1", "qutip-2q", long=True),
    Entry("backend/69a9ae9/two-qubit_cz_qobj.json", None, "E1", "qutip-2q"),
    Entry("backend/032fc52/two-qubit_cz_qobj.json", None, "E1", "qutip-2q"),
    Entry("backend/9910a4f/two-qubit_cz_qobj.json", None, "E1", "qutip-2q"),
    Entry("backend/1892b74/jobs_to_upload.json", 0, "E1"),
    Entry("backend/1892b74/jobs_to_upload.json", 1, "E1"),
    Entry("backend/1892b74/jobs_to_upload_simulator_2q.json", 0, "E1", "qutip-2q", long=True),
    *(Entry(f"sdk-2026.6.0/{s}.job.json", None, "E1", text_qobj=True) for s in SDK_SCENARIOS),
    Entry("sdk-2026.6.0/c2_circuit_2q_bell_cz.job.json", None, "E1", "qutip-2q", text_qobj=True, long=True),
    # bare PulseQobj documents (what Tergite's logfile holds)
    *(Entry("sdk-fixtures/06e166b/qobj_results.json", i, "bare") for i in range(4)),
]

REFUSED = [
    (Entry("backend/69a9ae9/invalid_jobs_to_upload.json", 0, "E1"), "params.qobjj", "did you mean 'qobj'?"),
    (Entry("backend/69a9ae9/invalid_jobs_to_upload.json", 1, "E1"), "params", "must be an object"),
    (Entry("backend/69a9ae9/invalid_jobs_to_upload.json", 2, "E1"), "job_idfer", "did you mean 'job_id'?"),
    (Entry("backend/69a9ae9/invalid_jobs_to_upload.json", 3, "E1"), "header", "must be an object"),
    (Entry("backend/69a9ae9/invalid_jobs_to_upload.json", 5, "E1"), "params.qobjj", "did you mean 'qobj'?"),
    (Entry("backend/69a9ae9/jobs_to_upload_simulator_1q.json", 0, "E1"), "experiments[0].instructions[2].duration",
     "must be > 0"),
    (Entry("backend/1892b74/jobs_to_upload_simulator.json", 0, "E1"), "experiments[0].instructions[2].duration",
     "must be > 0"),
    (Entry("backend/513a012/jobs_to_upload_simulator.json", 0, "E0"), "experiments[0].instructions[2].duration",
     "must be > 0"),
    (Entry("backend/d7a7202/jobs_to_upload.json", 0, "E0"), "params", "is a calibration script, not a pulse schedule"),
    (Entry("backend/d7a7202/jobs_to_upload.json", 1, "E0"), "type", "a QASM qobj holds gate-level circuits"),
]


def document(entry: Entry) -> Any:
    data = json.loads((DATA / entry.file).read_text(encoding="utf-8"))
    return data if entry.index is None else data[entry.index]


def job_path(entry: Entry, folder: Path) -> Path:
    """The file as written, or the list element as a file of its own."""
    if entry.index is None:
        return DATA / entry.file
    path = folder / f"{Path(entry.file).stem}-{entry.index}.json"
    path.write_text(json.dumps(document(entry), indent="\t"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_the_lists_cover_every_job_file_in_the_data(tmp_path):
    listed = {(e.file, e.index) for e in RUNS} | {(e.file, e.index) for e, _, _ in REFUSED}
    found = set()
    for path in DATA.rglob("*.json"):
        if path.name == "job_list.json":
            continue  # job documents with results, not job files
        data = json.loads(path.read_text(encoding="utf-8"))
        relative = path.relative_to(DATA).as_posix()
        found |= {(relative, i) for i in range(len(data))} if isinstance(data, list) else {(relative, None)}
    assert listed == found


@pytest.mark.parametrize("entry", RUNS, ids=[e.id for e in RUNS])
def test_every_valid_tergite_job_loads_as_written_and_translates(entry: Entry, tmp_path, catalogue):
    job = load_job(job_path(entry, tmp_path))
    assert job.document.envelope == (None if entry.era == "bare" else entry.era)
    raw = document(entry)
    if entry.era != "bare":
        assert job.job_id == raw["job_id"]
        assert isinstance(raw["params"]["qobj"], str) == entry.text_qobj
    schedules = job.schedules(catalogue.get(entry.device))
    assert len(schedules) == len(job.experiment_names) >= 1


@pytest.mark.parametrize("entry", [e for e in RUNS if not e.long], ids=[e.id for e in RUNS if not e.long])
def test_every_valid_tergite_job_runs_on_the_device_its_channels_need(entry: Entry, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(job_path(entry, tmp_path)), "--device", entry.device, "--shots", "20", "--seed", "3",
                 "--out", str(out), "--no-progress"]) == 0
    tergite = json.loads((out / "tergite-result.json").read_text())
    assert tergite["job_id"] == (document(entry).get("job_id") or json.loads(
        (out / "result-trace.json").read_text())["jobId"])
    assert len(tergite["result"]["memory"]) == len(workbench.Result.load(out).experiment_names)


@pytest.mark.slow
def test_tergite_jobs_for_a_10_ps_device_run_too(tmp_path):
    """The 2q simulator jobs (dt = 10 ps on Tergite: 170 000 samples here) run without decoherence to keep the
    suite fast (with it each takes minutes). The three backend fixtures are one job in three envelopes: the
    first runs, the others must translate to the same schedules."""
    ran: dict[str, Any] = {}
    catalogue = load_catalogue()
    for entry in (e for e in RUNS if e.long):
        raw = document(entry)
        qobj = raw["params"]["qobj"]
        qobj = json.loads(qobj) if isinstance(qobj, str) else qobj
        key = json.dumps([qobj["config"], qobj["experiments"]], sort_keys=True)
        job = load_job(job_path(entry, tmp_path))
        if key in ran:
            twin = ran[key]
            for mine, theirs in zip(job.schedules(catalogue.get(entry.device)),
                                    twin.job.schedules(twin.device), strict=True):
                assert [(p.t0, p.channel, p.frequency) for p in mine.plays] == \
                       [(p.t0, p.channel, p.frequency) for p in theirs.plays]
                for a, b in zip(mine.plays, theirs.plays, strict=True):
                    np.testing.assert_array_equal(a.samples, b.samples)
            continue
        result = workbench.run(job, device=entry.device, shots=20, seed=2, options={"noise": False})
        assert sum(result.counts(0).values()) == 20
        assert any(w.startswith("frame of m0") for w in result.trace["warnings"])  # Tergite's readout tone
        ran[key] = type("Ran", (), {"job": job, "device": catalogue.get(entry.device)})
    assert len(ran) == 3  # backend simulator job, SDK 2025.3.1 Bell circuit, SDK 2026.6.0 Bell circuit


@pytest.mark.parametrize("entry, location, words", REFUSED, ids=[e.id for e, _, _ in REFUSED])
def test_invalid_tergite_jobs_are_refused_in_one_line_writing_nothing(entry, location, words, tmp_path, capsys):
    path = job_path(entry, tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: {location}: "), lines
    assert words in lines[0]
    assert not out.exists() and captured.out == ""
    with pytest.raises(JobError):
        load_job(path)


@pytest.mark.parametrize("args, location, words", [
    (["--device", "qutip-2q", "--set", "levels=2"], "experiments[0]", "coupler u0 drives |11> <-> |2x>"),
    (["--device", "qutip-1q"], "experiments[0].instructions[4].ch", "channel 'u0' does not exist"),
    (["--device", "qblox-dummy-2q"], "experiments[0]", "the NCO reaches +-500 MHz"),
])
def test_errors_found_by_devices_and_executors_start_with_the_file_name(args, location, words, tmp_path, capsys):
    path = DATA / "backend/69a9ae9/two-qubit_cz_qobj.json"
    assert main(["run", str(path), *args, "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {path}: {location}") and words in line, line
    assert not (tmp_path / "out").exists()


def test_lo_frequencies_of_zero_leave_the_devices_frames_and_extra_entries_are_ignored(catalogue):
    # 4dd4ac9[0]: qubit_lo_freq [0.0], meas_lo_freq [0.0], setp only; 69a9ae9 jobs: [0.0] * 5 on a 1-qubit device
    device = catalogue.get("qutip-2q")
    schedule = load_job(document(Entry("backend/4dd4ac9/jobs_to_upload.json", 0, "E0"))).schedules(device)[0]
    assert schedule.initial_frames["d0"][0] == device.qubit(0).drive_frequency
    assert schedule.initial_frames["d1"][0] == device.qubit(1).drive_frequency
    one = catalogue.get("qutip-1q")
    raw = document(Entry("backend/69a9ae9/jobs_to_upload.json", 0, "E1"))
    assert raw["params"]["qobj"]["config"]["qubit_lo_freq"] == [0.0] * 5
    schedule = load_job(raw).schedules(one)[0]
    assert schedule.initial_frames["m0"][0] == one.qubit(0).readout.frequency
    # a non-zero LO still sets the frame; a negative one is an error
    qobj = json.loads(json.dumps(raw["params"]["qobj"]))
    qobj["config"]["meas_lo_freq"] = [6.81, 0.0]
    assert load_job(qobj).schedules(one)[0].initial_frames["m0"][0] == pytest.approx(6.81e9)
    qobj["config"]["meas_lo_freq"] = [-6.81]
    with pytest.raises(JobError, match=r"config.meas_lo_freq\[0\]: an LO frequency must be > 0 GHz"):
        load_job(qobj)


def test_the_sdk_waveform_is_run_length_decoded_and_played_twice(catalogue):
    job = load_job(DATA / "sdk-2026.6.0/b_sampled_waveform_rle.job.json")
    (name, samples), = job.document.library.items()
    assert len(name) == 64 and samples.shape == (20,)
    np.testing.assert_array_equal(samples[:4], 0)
    np.testing.assert_array_equal(samples[7:14], 0.1)
    np.testing.assert_array_equal(samples[14:17], 0.05 + 0.02j)
    plays = [p for p in job.schedules(catalogue.get("qutip-1q"))[0].plays if p.channel == "d0"]
    assert [p.t0 for p in plays] == [0, 36] and all(np.array_equal(p.samples, samples) for p in plays)
    # the same job written by SDK 2025.3.1 (E0, qobj an object) gives the same waveform
    old = load_job(DATA / "sdk-2025.3.1/b_sampled_waveform_rle.job.json")
    np.testing.assert_array_equal(next(iter(old.document.library.values())), samples)


def test_far_frames_warn_once_on_the_cli_and_in_the_trace(tmp_path, run_cli):
    out = tmp_path / "out"
    proc = run_cli("run", str(DATA / "sdk-2026.6.0/a_x_gate_drag_schedule.job.json"), "--seed", "1",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.splitlines()
    # setf d0 4.7 GHz and setf m0 7.26008 GHz on qutip-1q (qubit at 4.8 GHz, resonator at 6.8 GHz), each once
    assert [line.split(":")[1].strip() for line in err] == [
        "frame of d0 is 100.0 MHz from qubit 0's frequency (4.800000 GHz)",
        "frame of m0 is 460.1 MHz from qubit 0's readout resonator (6.800000 GHz)"]
    assert all(line.startswith("WARNING workbench: ") and "the counts will look like noise" in line for line in err)
    trace = json.loads((out / "result-trace.json").read_text())
    assert [w for w in trace["warnings"] if w.startswith("frame of")] == [
        line.removeprefix("WARNING workbench: ") for line in err]


def test_calibrated_jobs_do_not_warn():
    for name, device in (("x-gate", "qutip-1q"), ("rabi", "qutip-1q"), ("bell", "qutip-2q")):
        result = workbench.run(name, device=device, shots=10, seed=1)
        assert not [w for w in result.trace["warnings"] if w.startswith("frame of")], name


# --------------------------------------------------------------------------- wacqt_cz_gate_pulse on a coupler


def cz_flux_job(device, cycles: float) -> dict[str, Any]:
    """|11> prepared with the calibrated x pulses, then a wacqt_cz_gate_pulse on u0 whose area gives
    ``cycles`` full |11> <-> |02> cycles, then both qubits acquired."""
    from workbench.pulses.shapes import sample

    shape = {"duration": 121, "delta_0": 1.0, "t_w": 1e-8, "t_rf": 4e-8, "t_p": 6e-8}
    area = float(np.sum(sample("wacqt_cz_gate_pulse", shape).real))  # samples of dt = 1 ns
    coupling = device.couplings[0]
    # H_u = (g / 2) sqrt(2) (s |11><02| + h.c.), g = 2 pi rate: one full cycle needs sqrt(2) g area dt = 2 pi
    delta_0 = cycles * 2 * np.pi / (np.sqrt(2) * 2 * np.pi * coupling.rate * device.dt * area)
    x = [{"name": "parametric_pulse", "t0": 0, "ch": f"d{q}", "pulse_shape": device.qubit(q).drive.x.shape,
          "parameters": device.qubit(q).drive.x.parameters()} for q in (0, 1)]
    return {"qobj_id": "cz-flux", "type": "PULSE", "config": {"shots": 200, "meas_level": 2, "memory_slots": 2,
                                                               "qubit_lo_freq": [0.0, 0.0], "meas_lo_freq": [0.0, 0.0]},
            "experiments": [{"header": {"name": "flux"}, "instructions": [
                *x,
                {"name": "parametric_pulse", "t0": 48, "ch": "u0", "pulse_shape": "wacqt_cz_gate_pulse",
                 "parameters": {**shape, "delta_0": delta_0, "Theta": 0.275, "omega_c0": 4.9e10,
                                "omega_Phi": -2.56e9, "phi": 0.0, "amp": [delta_0, 0.0], "freq": 7800000000}},
                {"name": "acquire", "t0": 169, "duration": 100, "qubits": [0, 1], "memory_slot": [0, 1]}]}]}


@pytest.mark.parametrize("cycles, level0, level1", [(0.5, 0, 2), (1.0, 1, 1)])
def test_wacqt_pulse_drives_the_simulators_coupler_transition(catalogue, cycles, level0, level1):
    """Half a cycle moves |11> to |02> (the coupler's 11-02 transition), a full cycle brings it back."""
    device = catalogue.get("qutip-2q")
    result = workbench.run(cz_flux_job(device, cycles), device=device, seed=1, options={"noise": False})
    populations = result.dataset["populations"].values[0]  # (slot, level)
    assert populations[0, level0] == pytest.approx(1.0, abs=2e-3)
    assert populations[1, level1] == pytest.approx(1.0, abs=2e-3)
    assert not result.trace["warnings"]


def test_wacqt_pulse_runs_on_the_qblox_dummy_twin(catalogue):
    device = catalogue.get("qblox-dummy-2q")
    result = workbench.run(cz_flux_job(device, 1.0), device=device, seed=1)
    assert result.counts(0).get("11", 0) > 150  # |11> back after a full cycle, read through the twin's IQ
