"""Whatever a job file holds, loading and translating it raises nothing but a located JobError.

Anything else (KeyError, TypeError, a pydantic ValidationError, a numpy warning turned error) would
reach the user as a traceback. Two sources of input: arbitrary JSON values, and a valid job with
random parts replaced or removed, which reaches far deeper into the translation than random JSON.
For the mutations the error's location must also be a real place in the document.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.errors import JobError
from workbench.executors.registry import load_catalogue
from workbench.jobs import load_job

_CATALOGUE = load_catalogue()
DEVICES = [_CATALOGUE.get("qutip-1q"), _CATALOGUE.get("qutip-2q")]

KEYS = ["type", "experiments", "qobj_id", "config", "header", "instructions", "name", "t0", "ch", "duration",
        "qubits", "memory_slot", "pulse_shape", "parameters", "amp", "sigma", "frequency", "phase",
        "params", "qobj", "job_id", "samples", "pulse_library", "memory_slots", "meas_level"]
NAMES = ["PULSE", "QASM", "script", "pulse_schedule", "parametric_pulse", "setf", "shiftf", "setp", "fc",
         "delay", "acquire", "snapshot", "gaussian", "drag", "constant", "gaussian_square", "d0", "d1", "m0",
         "u0", "a0", "x9", "wave", ""]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=300)
    | st.sampled_from([0, 1, 2, 4096, 4097, 2**31, -(2**63), 10**7, 10**7 + 1, 10**30])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=-2.0, max_value=2.0)
    | st.sampled_from(NAMES)
    | st.text(max_size=6)
)
identifier = st.sampled_from(KEYS) | st.from_regex(r"[a-z_]{1,6}", fullmatch=True)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(identifier, children, max_size=4),
    max_leaves=25,
)


def valid_job() -> dict[str, Any]:
    return {
        "qobj_id": "fuzz", "type": "PULSE", "schema_version": "1.2.0", "header": {"backend_name": "qutip-2q"},
        "config": {"shots": 10, "meas_level": 2, "meas_return": "single", "memory_slots": 2, "rep_time": 100,
                   "qubit_lo_freq": [4.9, 5.3], "meas_lo_freq": [6.9, 7.1],
                   "pulse_library": [{"name": "wave", "samples": [[0.1, 0.0], [0.2, 0.1], 0.1]}]},
        "experiments": [
            {"header": {"name": "a", "memory_slots": 2, "metadata": {"k": 1}},
             "config": {"qubit_lo_freq": [4.91, 5.31]},
             "instructions": [
                 {"name": "parametric_pulse", "t0": 0, "ch": "d0", "pulse_shape": "drag",
                  "parameters": {"duration": 16, "amp": [0.3, 0.1], "sigma": 4.0, "beta": 0.2}},
                 {"name": "parametric_pulse", "t0": 0, "ch": "u0", "pulse_shape": "gaussian_square",
                  "parameters": {"duration": 20, "amp": 0.2, "sigma": 2.0, "width": 10}},
                 {"name": "setf", "t0": 16, "ch": "d0", "frequency": 4.95},
                 {"name": "shiftf", "t0": 16, "ch": "d1", "frequency": 0.01},
                 {"name": "setp", "t0": 16, "ch": "d0", "phase": 0.1},
                 {"name": "fc", "t0": 16, "ch": "d0", "phase": 0.2},
                 {"name": "wave", "t0": 16, "ch": "d0"},
                 {"name": "delay", "t0": 19, "ch": "d0", "duration": 5},
                 {"name": "snapshot", "t0": 24, "label": "s", "type": "statevector"},
                 {"name": "parametric_pulse", "t0": 24, "ch": "m0", "pulse_shape": "constant",
                  "parameters": {"duration": 30, "amp": 0.1}},
                 {"name": "acquire", "t0": 24, "duration": 30, "qubits": [0, 1], "memory_slot": [0, 1],
                  "register_slot": [0, 1]},
             ]},
            {"header": {"name": "a"}, "instructions": [
                {"name": "acquire", "t0": 0, "duration": 8, "qubits": [1], "memory_slot": [0]}]},
        ],
    }


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += paths(value, (*prefix, i))
    return out


def mutate(doc: Any, path: tuple, action: str, value: Any) -> Any:
    if not path:
        return value if action == "replace" else {}
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if action == "replace":
        parent[path[-1]] = value
    else:
        del parent[path[-1]]
    return doc


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def resolves(doc: Any, location: str) -> bool:
    node = doc
    for match in _TOKEN.finditer(location):
        key: Any = match.group(1) if match.group(1) is not None else int(match.group(2))
        in_list = isinstance(key, int) and isinstance(node, list) and key < len(node)
        in_dict = isinstance(key, str) and isinstance(node, dict) and key in node
        if not (in_list or in_dict):
            return False
        node = node[key]
    return True


def check_location(doc: Any, error: JobError) -> None:
    """A located error points at a real place (or, for a missing value, at a real parent)."""
    location = error.location
    if location is None or location.startswith("line "):
        return
    roots = [doc]
    if isinstance(doc, dict) and isinstance(doc.get("params"), dict) and isinstance(doc["params"].get("qobj"),
                                                                                    dict):
        roots.append(doc["params"]["qobj"])  # qobj errors are relative to the qobj
    candidates = [location]
    if re.search(r"required|missing|needs", error.message):
        candidates.append(re.sub(r"(^|\.)[^.\[\]]+$|\[\d+\]$", "", location))
    assert any(resolves(root, c) for root in roots for c in candidates), str(error)


def run(source: Any) -> None:
    try:
        job = load_job(source)
        for device in DEVICES:
            job.schedules(device)
    except JobError as error:
        text = str(error)
        assert text and "\n" not in text
        raise


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, as_text=st.booleans())
def test_arbitrary_json_raises_only_job_errors(value: Any, as_text: bool):
    source = json.dumps(value) if as_text else value
    with contextlib.suppress(JobError):
        run(source)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), wrap=st.booleans(), as_text=st.booleans())
def test_mutated_valid_job_raises_only_located_job_errors(data: st.DataObject, wrap: bool, as_text: bool):
    doc: Any = valid_job()
    if wrap:
        doc = {"job_id": "j", "type": "script", "name": "pulse_schedule", "params": {"qobj": doc}}
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="mutations")):
        candidates = paths(doc)
        path = data.draw(st.sampled_from(candidates), label="path")
        action = data.draw(st.sampled_from(["replace", "replace", "drop"]), label="action")
        value = data.draw(json_values, label="value") if action == "replace" else None
        doc = mutate(doc, path, action, value)
    original = copy.deepcopy(doc)
    try:
        run(json.dumps(doc) if as_text else doc)
    except JobError as error:
        check_location(original, error)
    assert doc == original or as_text  # loading never changes the caller's mapping


def test_the_fuzzed_job_itself_is_valid():
    job = load_job(valid_job())
    assert job.experiment_names == ["a", "a-2"]
    assert [len(s.plays) for s in job.schedules(DEVICES[1])] == [4, 0]
