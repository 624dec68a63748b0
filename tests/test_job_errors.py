"""Every kind of bad job input fails with a JobError that says where the problem is.

Each case starts from a valid job, breaks one thing, and checks both the exact JSON path at the
front of the message and the words that explain the problem: a message that points at the wrong
instruction, or at none, fails here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from workbench.errors import JobError
from workbench.executors.registry import load_catalogue
from workbench.jobs import load_job


def valid_job() -> dict[str, Any]:
    """A 1-qubit job with every instruction kind; experiment 0 is the one the cases break."""
    return {
        "qobj_id": "q-1",
        "type": "PULSE",
        "schema_version": "1.2.0",
        "header": {"backend_name": "qutip-1q"},
        "config": {
            "shots": 100, "meas_level": 2, "meas_return": "single", "memory_slots": 2, "rep_time": 200,
            "qubit_lo_freq": [4.8], "meas_lo_freq": [6.8],
            "pulse_library": [{"name": "wave", "samples": [[0.1, 0.0], [0.2, 0.1], [0.1, 0.0]]}],
        },
        "experiments": [
            {
                "header": {"name": "x", "memory_slots": 2, "metadata": {}},
                "instructions": [
                    {"name": "parametric_pulse", "t0": 0, "ch": "d0", "pulse_shape": "gaussian",
                     "parameters": {"duration": 40, "amp": [0.5, 0.0], "sigma": 10.0}},         # 0
                    {"name": "setf", "t0": 40, "ch": "d0", "frequency": 4.81},                   # 1
                    {"name": "fc", "t0": 40, "ch": "d0", "phase": 0.5},                          # 2
                    {"name": "wave", "t0": 40, "ch": "d0"},                                      # 3
                    {"name": "delay", "t0": 43, "ch": "d0", "duration": 7},                      # 4
                    {"name": "parametric_pulse", "t0": 50, "ch": "m0", "pulse_shape": "constant",
                     "parameters": {"duration": 100, "amp": 0.1}},                               # 5
                    {"name": "acquire", "t0": 50, "duration": 100, "qubits": [0], "memory_slot": [0]},  # 6
                ],
            },
            {"header": {"name": "y"}, "instructions": [
                {"name": "acquire", "t0": 0, "duration": 10, "qubits": [0], "memory_slot": [1]}]},
        ],
    }


def ins(k: int) -> str:
    return f"experiments[0].instructions[{k}]"


def setting(path: str, value: Any) -> Callable[[dict], Any]:
    """Set ``path`` (dots and [i]) in the job to ``value``."""
    def change(doc: dict) -> dict:
        parent, key = _parent(doc, path)
        parent[key] = value
        return doc
    return change


def dropping(path: str) -> Callable[[dict], Any]:
    def change(doc: dict) -> dict:
        parent, key = _parent(doc, path)
        del parent[key]
        return doc
    return change


def _parent(doc: Any, path: str) -> tuple[Any, Any]:
    parts: list[Any] = []
    for piece in path.replace("]", "").split("."):
        name, *indices = piece.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) for i in indices)
    for part in parts[:-1]:
        doc = doc[part]
    return doc, parts[-1]


def appending(path: str, item: Any) -> Callable[[dict], Any]:
    def change(doc: dict) -> dict:
        parent, key = _parent(doc, path)
        parent[key].append(item)
        return doc
    return change


def both(*changes: Callable[[dict], Any]) -> Callable[[dict], Any]:
    def change(doc: dict) -> Any:
        for c in changes:
            doc = c(doc)
        return doc
    return change


def as_text(text: str) -> Callable[[dict], Any]:
    return lambda _doc: text


def in_envelope(change: Callable[[dict], Any], **outer: Any) -> Callable[[dict], Any]:
    def wrap(doc: dict) -> Any:
        env = {"job_id": "j-1", "type": "script", "name": "pulse_schedule", "params": {"qobj": change(doc)}}
        env.update(outer)
        return env
    return wrap


@dataclass(frozen=True)
class Case:
    id: str
    change: Callable[[dict], Any]
    location: str | None  # None: the message has no location (whole-document problems)
    words: str
    device: str = "qutip-1q"


TWO_QUBIT_ACQUIRE = {"name": "acquire", "t0": 200, "duration": 10, "qubits": [0, 1], "memory_slot": [0, 1]}

CASES = [
    Case("malformed-json", as_text('{"type": "PULSE",\n  "experiments": [}'), "line 2 column 19",
         "not valid JSON"),
    Case("nan-in-json", as_text('{"type": "PULSE", "experiments": [], "x": NaN}'), None,
         "NaN is not valid JSON"),
    Case("top-level-list", as_text("[1, 2]"), None, "must be a JSON object"),
    Case("top-level-number", lambda d: 42, None, "cannot load a job from int"),
    Case("not-a-qobj", lambda d: {"hello": "world"}, None, "not a PulseQobj"),
    Case("qasm-qobj", setting("type", "QASM"), "type", "QASM qobj holds gate-level circuits"),
    Case("wrong-type", setting("type", "pulse"), "type", "must be 'PULSE'"),
    Case("schema-2", setting("schema_version", "2.0.0"), "schema_version", "expected 1.x"),
    Case("unknown-top-key", setting("experiment", []), "experiment", "unknown field"),
    Case("missing-experiments", dropping("experiments"), "experiments", "field required"),
    Case("empty-experiments", setting("experiments", []), "experiments", "at least one experiment"),
    Case("experiments-not-list", setting("experiments", {"a": 1}), "experiments", "must be a list"),
    Case("missing-instructions", dropping("experiments[1].instructions"), "experiments[1].instructions",
         "field required"),
    Case("instruction-not-object", setting(ins(2), 7), ins(2), "must be an object with a string 'name'"),
    Case("instruction-without-name", dropping(f"{ins(2)}.name"), ins(2), "with a string 'name'"),
    Case("unknown-instruction", setting(f"{ins(3)}.name", "wobble"), f"{ins(3)}.name",
         "unknown instruction 'wobble': expected one of parametric_pulse"),
    Case("misspelt-instruction", setting(f"{ins(6)}.name", "aquire"), f"{ins(6)}.name",
         "unknown instruction 'aquire': did you mean 'acquire'?"),
    Case("renamed-parametric-pulse", setting(f"{ins(0)}.name", "teleport"), f"{ins(0)}.name",
         "unknown instruction 'teleport'"),
    Case("library-play-extra-field", setting(f"{ins(3)}.phase", 1.0), f"{ins(3)}.phase",
         "unknown field (a pulse_library play takes t0, ch and label)"),
    Case("library-play-missing-ch", dropping(f"{ins(3)}.ch"), f"{ins(3)}.ch", "field required"),
    Case("pv-instruction", setting(f"{ins(3)}.name", "pv"), f"{ins(3)}.name", "persistent value"),
    Case("unknown-shape", setting(f"{ins(0)}.pulse_shape", "foo"), f"{ins(0)}.pulse_shape",
         "unknown shape 'foo'"),
    Case("missing-sigma", dropping(f"{ins(0)}.parameters.sigma"), f"{ins(0)}.parameters.sigma",
         "missing parameter 'sigma'"),
    Case("parameters-not-object", setting(f"{ins(0)}.parameters", [1]), f"{ins(0)}.parameters",
         "must be an object"),
    Case("amp-bad-pair", setting(f"{ins(0)}.parameters.amp", [0.5]), f"{ins(0)}.parameters.amp",
         "needs 2 numbers"),
    Case("negative-t0", setting(f"{ins(5)}.t0", -5), f"{ins(5)}.t0", "must be >= 0"),
    Case("fractional-t0", setting(f"{ins(5)}.t0", 1.5), f"{ins(5)}.t0", "must be an integer"),
    Case("bool-t0", setting(f"{ins(5)}.t0", True), f"{ins(5)}.t0", "must be an integer"),
    Case("string-t0", setting(f"{ins(5)}.t0", "10"), f"{ins(5)}.t0", "must be an integer"),
    Case("missing-t0", dropping(f"{ins(1)}.t0"), f"{ins(1)}.t0", "field required"),
    Case("unknown-channel", setting(f"{ins(1)}.ch", "x9"), f"{ins(1)}.ch", "unknown channel 'x9'"),
    Case("channel-not-string", setting(f"{ins(1)}.ch", 0), f"{ins(1)}.ch", "must be a channel name"),
    Case("missing-channel", dropping(f"{ins(0)}.ch"), f"{ins(0)}.ch", "field required"),
    Case("play-on-acquire-channel", setting(f"{ins(5)}.ch", "a0"), f"{ins(5)}.ch", "cannot play on acquire"),
    Case("drive-channel-not-on-device", setting(f"{ins(5)}.ch", "d3"), f"{ins(5)}.ch",
         "channel 'd3' does not exist on device 'qutip-1q'"),
    Case("control-channel-not-on-device", setting(f"{ins(2)}.ch", "u0"), f"{ins(2)}.ch",
         "channel 'u0' does not exist"),
    Case("control-channel-not-on-2q-device", setting(f"{ins(2)}.ch", "u1"), f"{ins(2)}.ch",
         "channel 'u1' does not exist on device 'qutip-2q'", "qutip-2q"),
    Case("acquire-qubit-not-on-device", setting(f"{ins(6)}.qubits", [1]), f"{ins(6)}.qubits[0]",
         "qubit 1 does not exist on device 'qutip-1q'"),
    Case("slot-out-of-range", setting(f"{ins(6)}.memory_slot", [2]), f"{ins(6)}.memory_slot[0]",
         "memory slot 2 is out of range: the experiment has 2 memory slot(s)"),
    Case("slot-out-of-range-job-config", both(dropping("experiments[1].header"),
                                              setting("config.memory_slots", 1)),
         "experiments[1].instructions[0].memory_slot[0]", "memory slot 1 is out of range"),
    Case("acquire-lengths-differ", setting(f"{ins(6)}.qubits", [0, 1]), f"{ins(6)}.memory_slot",
         "has 1 entries for 2 qubit(s)", "qutip-2q"),
    Case("register-lengths-differ", setting(f"{ins(6)}.register_slot", [0, 1]), f"{ins(6)}.register_slot",
         "has 2 entries for 1 qubit(s)"),
    Case("acquire-same-qubit-twice", both(setting(f"{ins(6)}.qubits", [0, 0]),
                                          setting(f"{ins(6)}.memory_slot", [0, 1])),
         f"{ins(6)}.qubits[1]", "qubit 0 is acquired twice"),
    Case("slot-for-two-qubits", appending("experiments[0].instructions",
                                          {**TWO_QUBIT_ACQUIRE, "memory_slot": [1, 0]}),
         f"{ins(7)}.memory_slot[1]", f"memory slot 0 already receives qubit 0 ({ins(6)})", "qutip-2q"),
    Case("acquire-no-qubits", setting(f"{ins(6)}.qubits", []), f"{ins(6)}.qubits", "at least one qubit"),
    Case("acquire-zero-duration", setting(f"{ins(6)}.duration", 0), f"{ins(6)}.duration", "must be > 0"),
    Case("acquire-slot-not-list", setting(f"{ins(6)}.memory_slot", 0), f"{ins(6)}.memory_slot",
         "must be a list"),
    Case("acquire-missing-slot", dropping(f"{ins(6)}.memory_slot"), f"{ins(6)}.memory_slot",
         "field required"),
    Case("negative-delay", setting(f"{ins(4)}.duration", -1), f"{ins(4)}.duration", "must be >= 0"),
    Case("overlapping-pulses", both(setting(f"{ins(5)}.ch", "d0"), setting(f"{ins(5)}.t0", 30)), ins(5),
         f"play on d0 at t=30 overlaps the instruction at {ins(0)} that runs until t=40"),
    Case("frame-during-pulse", setting(f"{ins(2)}.t0", 20), ins(2), f"overlaps the instruction at {ins(0)}"),
    Case("amp-above-one", setting(f"{ins(0)}.parameters.amp", [0.9, 0.9]), ins(0),
         "pulse 'gaussian' has amplitude 1.27"),
    Case("library-amp-above-one", setting("config.pulse_library[0].samples", [[1.5, 0.0]]), ins(3),
         "pulse 'wave' has amplitude 1.5 > 1"),
    Case("library-samples-bad", setting("config.pulse_library[0].samples[1]", "x"),
         "config.pulse_library[0].samples[1]", "expected a number or [re, im]"),
    Case("library-duplicate-name", appending("config.pulse_library", {"name": "wave", "samples": [0.1]}),
         "config.pulse_library[1].name", "duplicate waveform name 'wave'"),
    Case("library-reserved-name", setting("config.pulse_library[0].name", "delay"),
         "config.pulse_library[0].name", "'delay' is an instruction name"),
    Case("library-name-unknown", setting(f"{ins(3)}.name", "wav"), f"{ins(3)}.name",
         "config.pulse_library has: wave"),
    Case("meas-level-3", setting("config.meas_level", 3), "config.meas_level", "must be 0, 1 or 2"),
    Case("meas-level-bool", setting("config.meas_level", True), "config.meas_level", "must be 0, 1 or 2"),
    Case("meas-return-bad", setting("config.meas_return", "all"), "config.meas_return",
         "must be 'single' or 'avg'"),
    Case("shots-zero", setting("config.shots", 0), "config.shots", "must be > 0"),
    Case("shots-text", setting("config.shots", "many"), "config.shots", "must be an integer"),
    Case("per-experiment-shots", setting("experiments[0].config", {"shots": 5}),
         "experiments[0].config.shots", "not supported per experiment; set it in the job config"),
    Case("per-experiment-meas-level", setting("experiments[1].config", {"meas_level": 1}),
         "experiments[1].config.meas_level", "not supported per experiment"),
    Case("lo-in-hz", setting("config.qubit_lo_freq", [4.8e9]), "config.qubit_lo_freq[0]",
         "PulseQobj frequencies are in GHz"),
    Case("lo-negative", setting("experiments[0].config", {"meas_lo_freq": [-6.8]}),
         "experiments[0].config.meas_lo_freq[0]", "must be > 0 GHz (or 0.0 for not set)"),
    Case("setf-text", setting(f"{ins(1)}.frequency", "4.8"), f"{ins(1)}.frequency", "must be a number"),
    Case("setf-missing-frequency", dropping(f"{ins(1)}.frequency"), f"{ins(1)}.frequency", "field required"),
    Case("fc-infinite-text", lambda d: json.dumps(setting(f"{ins(2)}.phase", float("inf"))(d)), None,
         "Infinity is not valid JSON"),
    Case("fc-text", setting(f"{ins(2)}.phase", "pi"), f"{ins(2)}.phase", "must be a number"),
    Case("typo-in-instruction", both(dropping(f"{ins(2)}.phase"), setting(f"{ins(2)}.phse", 0.5)),
         f"{ins(2)}.phse", "unknown field (did you mean 'phase'?)"),
    Case("conditional", setting(f"{ins(1)}.conditional", 0), f"{ins(1)}.conditional", "not supported"),
    Case("parameter-binds", setting("config.parameter_binds", [{"a": 1}]), "config.parameter_binds",
         "parameter binding is not supported"),
    Case("memory-slots-negative", setting("experiments[0].header.memory_slots", -1),
         "experiments[0].header.memory_slots", "must be >= 0"),
    Case("header-name-number", setting("experiments[0].header.name", 3), "experiments[0].header.name",
         "must be a string"),
    Case("metadata-list", setting("experiments[0].header.metadata", [1]), "experiments[0].header.metadata",
         "must be an object"),
    Case("envelope-type-not-script", in_envelope(lambda d: d, type="test"), "type",
         "a Tergite job of type 'test' is not a pulse job"),
    Case("envelope-name-not-text", in_envelope(lambda d: d, name=3), "name", "must be a string"),
    Case("envelope-without-qobj", lambda d: {"job_id": "j", "type": "script", "name": "pulse_schedule",
                                             "params": {}}, "params.qobj", "field required"),
    Case("envelope-without-job-id", lambda d: {"params": {"qobj": d}}, "job_id",
         "field required: a Tergite job file names its job"),
    Case("envelope-misspelt-job-id", lambda d: {"job_idd": "j", "params": {"qobj": d}}, "job_idd",
         "unknown key (did you mean 'job_id'?)"),
    Case("envelope-misspelt-qobj", lambda d: {"job_id": "j", "params": {"qobjj": d}}, "params.qobjj",
         "unknown key (did you mean 'qobj'?)"),
    Case("envelope-params-not-object", lambda d: {"job_id": "j", "params": [d]}, "params",
         "must be an object holding the qobj (got list)"),
    Case("envelope-qobj-text-not-json", lambda d: {"job_id": "j", "params": {"qobj": json.dumps(d)[:-1]}},
         "params.qobj", "the qobj string is not valid JSON"),
    Case("envelope-qobj-text-not-object", lambda d: {"job_id": "j", "params": {"qobj": "[1, 2]"}},
         "params.qobj", "must be an object or a JSON string of one (got list)"),
    Case("envelope-calibration-script", lambda d: {"job_id": "j", "type": "script", "name": "pulse_schedule",
                                                   "params": {"num_pts": 20, "qa_avg": 0.8}},
         "params", "is a calibration script, not a pulse schedule"),
    Case("envelope-qasm-qobj", in_envelope(setting("type", "QASM"), name="qasm_dummy_job"), "type",
         "a QASM qobj holds gate-level circuits"),
    Case("list-of-job-files", lambda d: json.dumps([{"job_id": "a", "params": {"qobj": d}}] * 2), None,
         "this file holds a list of 2 Tergite job files"),
    Case("rle-count-zero", setting("config.pulse_library[0].samples", [[[0.1, 0.0], 0]]),
         "config.pulse_library[0].samples[0][1]", "repeat count of a run [[re, im], n] must be a whole number >= 1"),
    Case("rle-too-long", setting("config.pulse_library[0].samples", [[[0.1, 0.0], 10**7], [[0.1, 0.0], 2]]),
         "config.pulse_library[0].samples[1]", "the runs add up to more than the limit"),
    Case("envelope-inner-error-is-qobj-relative", in_envelope(setting(f"{ins(0)}.pulse_shape", "foo")),
         f"{ins(0)}.pulse_shape", "unknown shape 'foo'"),
    Case("openqasm-text", as_text("// bell\nOPENQASM 2.0;\nqreg q[2]"), "line 3 column 1",
         "unexpected end-of-file when expecting to see ';'"),
    Case("missing-file", as_text("no/such/job.json"), None, "no such file: 'no/such/job.json'"),
]


@pytest.fixture(scope="module")
def devices() -> dict[str, Any]:
    catalogue = load_catalogue()
    return {name: catalogue.get(name) for name in ("qutip-1q", "qutip-2q")}


def test_the_valid_job_is_valid(devices):
    for device in devices.values():
        schedules = load_job(valid_job()).schedules(device)
        assert [s.name for s in schedules] == ["x", "y"]


def test_there_are_many_distinct_cases():
    assert len({c.id for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_a_located_job_error(case: Case, devices):
    source = case.change(copy.deepcopy(valid_job()))
    with pytest.raises(JobError) as info:
        load_job(source).schedules(devices[case.device])
    error = info.value
    text = str(error)
    assert "\n" not in text
    assert case.words in text, text
    if case.location is None:
        assert error.location is None, text
    else:
        assert error.location == case.location, text
        assert text.startswith(f"{case.location}: "), text


def test_file_errors_carry_the_file_name(tmp_path: Path, devices):
    job_file = tmp_path / "job.json"
    doc = setting(f"{ins(5)}.ch", "d3")(valid_job())
    job_file.write_text(json.dumps(doc), encoding="utf-8")
    job = load_job(job_file)  # device-independent: loads
    with pytest.raises(JobError) as info:
        job.schedules(devices["qutip-1q"])
    assert str(info.value).startswith(f"{job_file}: {ins(5)}.ch: channel 'd3' does not exist")

    job_file.write_text('{"type": "PULSE",\n "experiments": [,]}', encoding="utf-8")
    with pytest.raises(JobError) as info:
        load_job(str(job_file))
    assert str(info.value).startswith(f"{job_file}: line 2 column 18: not valid JSON")


def test_unreadable_files(tmp_path: Path):
    binary = tmp_path / "job.json"
    binary.write_bytes(b'{"type": "PULSE", "x": "\xff"}')
    with pytest.raises(JobError, match=r"job\.json: not UTF-8 text \(byte 0xff at offset 24\)"):
        load_job(binary)
    with pytest.raises(JobError, match="cannot read the job file"):
        load_job(tmp_path)
    with pytest.raises(JobError, match="no such file"):
        load_job(tmp_path / "missing.json")
    circuit = tmp_path / "bell.qasm"
    circuit.write_text("OPENQASM 3.0;\nqubit[2] q;\n", encoding="utf-8")
    assert load_job(circuit).kind == "circuit"  # a .qasm file is a circuit job, not a JSON job


def test_a_mapping_that_is_not_json_is_refused():
    doc = valid_job()
    doc["header"]["when"] = object()
    with pytest.raises(JobError, match="cannot be written as JSON"):
        load_job(doc)
    doc = valid_job()
    doc["experiments"][0]["instructions"][2]["phase"] = float("nan")
    with pytest.raises(JobError, match="cannot be written as JSON"):
        load_job(doc)


def test_a_bad_pulse_identical_in_text_to_a_good_one_is_still_checked(devices):
    """Identical parametric pulses are sampled once; a string amp must not ride on a complex one's samples."""
    doc = valid_job()
    first = doc["experiments"][0]["instructions"][0]
    first["parameters"]["amp"] = complex(0.5, 0.0)
    second = copy.deepcopy(first)
    second["t0"] = 200
    second["parameters"]["amp"] = repr(complex(0.5, 0.0))
    doc["experiments"][0]["instructions"].append(second)
    with pytest.raises(JobError) as info:
        load_job(doc)
    assert info.value.location == f"{ins(7)}.parameters.amp"
