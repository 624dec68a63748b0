"""Our output folders read with QHAna's own reading rules, next to files QHAna's qiskit-simulator wrote.

The rules restated here (from the QHAna plugin runner, see tests/data/qhana/README.md) are what a
colleague's QHAna step applies to our files:

* ``load_entities`` for ``application/json``: a JSON list is a list of entities, *any other value is one
  entity*; for ``text/csv`` the first row names the columns and every value is text;
* ``ensure_array`` (entity/vector): ``ID`` must be there and is popped with ``href``; the other keys are
  sorted lexicographically and their values read as numbers;
* execution options: the first entity of the file; ``shots`` given as text becomes an int, ``statevector``
  as text is true for QHAna's truthy spellings;
* every file of one execution carries the same fresh ``ID``.

A one-element list, an ID echoed from the input, binary statevector keys or lost ``executorPlugin``
entries all fail here.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qhana_rules import ensure_array

from workbench.cli.main import main
from workbench.errors import OptionsError
from workbench.options import read_options_file
from workbench.results.qhana import plugin_identifier
from workbench.results.result import Result

QHANA = Path(__file__).parent / "data" / "qhana"
TERGITE = Path(__file__).parent / "data" / "tergite"
BELL_QASM = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\n' \
            "measure q -> c;\n"
GHZ4_QASM = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[4];\nh q[0];\ncx q[0],q[1];\ncx q[1],q[2];\n' \
            "cx q[2],q[3];\n"
TRUTHY = ("1", "yes", "Yes", "YES", "true", "True", "TRUE")  # qiskit-simulator's statevector rule


# ------------------------------------------------------------------------- QHAna's reading rules


def load_entities(text: str, mimetype: str) -> Iterator[dict[str, Any]]:
    if mimetype == "application/json":
        data = json.loads(text)
        yield from (data if isinstance(data, list) else [data])
    elif mimetype == "application/X-lines+json":
        yield from (json.loads(line) for line in text.splitlines() if line.strip())
    elif mimetype == "text/csv":
        rows = [r for r in csv.reader(io.StringIO(text)) if r]
        yield from (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    else:
        raise ValueError(mimetype)


def read_options(path: Path) -> dict[str, Any]:
    mimetype = {".json": "application/json", ".csv": "text/csv"}[path.suffix]
    options = next(load_entities(path.read_text(), mimetype), {})
    if isinstance(options.get("shots"), str):
        options["shots"] = int(options["shots"])
    if isinstance(options.get("statevector"), str):
        options["statevector"] = options["statevector"] in TRUTHY
    return options


def entities(folder: Path, name: str) -> list[dict[str, Any]]:
    return list(load_entities((folder / name).read_text(), "application/json"))


# ------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def bell(tmp_path_factory) -> Path:
    """QHAna's bell_statevector case: circuit-demo's options object (with an ID of its own)."""
    folder = tmp_path_factory.mktemp("bell")
    (folder / "bell.qasm").write_text(BELL_QASM)
    out = folder / "out"
    assert main(["run", str(folder / "bell.qasm"), "--options", str(QHANA / "inputs/execution-options.object.json"),
                 "--seed", "7", "--out", str(out), "--no-progress"]) == 0
    return out


# ---------------------------------------------------------------------------------------- tests


def test_one_experiment_gives_one_object_per_file_like_qhanas_executor(bell):
    reference = QHANA / "qiskit-simulator" / "bell_statevector"
    for name in ("result-counts.json", "result-statevector.json", "result-trace.json", "execution-options.json"):
        ours, theirs = json.loads((bell / name).read_text()), json.loads((reference / name).read_text())
        assert isinstance(theirs, dict) and isinstance(ours, dict), name
        assert len(entities(bell, name)) == 1, name
        # QHAna's keys are all there (ours may add more), in QHAna's places for the ID
        assert set(theirs) <= set(ours), (name, set(theirs) - set(ours))
    assert list(json.loads((bell / "result-counts.json").read_text()))[-1] == "ID"
    assert next(iter(json.loads((bell / "result-statevector.json").read_text()))) == "ID"
    assert list(json.loads((bell / "result-trace.json").read_text()))[-1] == "ID"
    text = (bell / "result-counts.json").read_text()
    assert text == json.dumps(json.loads(text))  # json.dump's own form, as QHAna writes it


def test_every_file_of_a_run_shares_one_fresh_uuid4(bell):
    ids = {name: entities(bell, name)[0]["ID"]
           for name in ("result-counts.json", "result-distribution.json", "result-statevector.json",
                        "result-trace.json", "execution-options.json")}
    assert len(set(ids.values())) == 1, ids
    run_id = ids["result-trace.json"]
    assert uuid.UUID(run_id).version == 4 and run_id != "1"  # the input's ID is not echoed
    assert Result.load(bell).run_id == run_id
    for name in ("result-counts.csv", "result-distribution.csv", "result-statevector.csv"):
        (row,) = load_entities((bell / name).read_text(), "text/csv")
        assert row["ID"] == run_id and next(iter(row)) == "ID"


def test_counts_read_as_qhana_reads_them(bell):
    entity_id, values = ensure_array(entities(bell, "result-counts.json")[0])
    assert sum(values) == 2048 and all(isinstance(v, int) for v in values)
    # the histogram visualization: first entity, ID and href skipped, int() of the rest
    histogram = {k: int(v) for k, v in entities(bell, "result-counts.json")[0].items() if k not in ("ID", "href")}
    assert set(histogram) == {"00", "11"}
    (row,) = load_entities((bell / "result-counts.csv").read_text(), "text/csv")
    assert ensure_array(row) == (entity_id, values)  # CSV gives the same numbers as JSON
    _, dist = ensure_array(entities(bell, "result-distribution.json")[0])
    assert sum(dist) == 1.0


def test_statevector_keys_and_values_are_qhanas(bell, tmp_path):
    theirs = json.loads((QHANA / "qiskit-simulator/bell_statevector/result-statevector.json").read_text())
    ours = json.loads((bell / "result-statevector.json").read_text())
    assert list(ours) == list(theirs) == ["ID", "0", "1", "2", "3"]
    assert all(isinstance(complex(v), complex) for k, v in ours.items() if k != "ID")
    # 4 qubits: two-digit zero-padded decimal keys, as QHAna's ghz4 case
    (tmp_path / "ghz4.qasm").write_text(GHZ4_QASM)
    out = tmp_path / "ghz4"
    assert main(["run", str(tmp_path / "ghz4.qasm"), "--set", "statevector=1", "--seed", "2", "--out", str(out),
                 "--no-progress"]) == 0
    theirs = json.loads((QHANA / "qiskit-simulator/ghz4_no_measurements_statevector/result-statevector.json")
                        .read_text())
    ours = json.loads((out / "result-statevector.json").read_text())
    assert list(ours) == list(theirs) == ["ID", *(f"{i:02d}" for i in range(16))]
    for key in theirs:
        if key != "ID":
            assert complex(ours[key]) == pytest.approx(complex(theirs[key]), abs=1e-12), key
    assert json.loads((out / "result-counts.json").read_text())[""] == 1024  # no measurements: {"": shots}


def test_trace_speaks_qhanas_vocabulary(bell, tmp_path):
    trace = json.loads((bell / "result-trace.json").read_text())
    assert trace["qpuType"] == "simulator" and trace["timeTakenIdle"] == 0 and trace["qobjId"] == ""
    assert trace["timeTakenQpuPrepare"] + trace["timeTakenQpuExecute"] == pytest.approx(trace["timeTaken"], abs=2e-6)
    assert trace["executor"] == "aer" and trace["qpuName"] == "aer-simulator"
    # a pulse job's qobj id; a Qblox (hardware) executor is a "qpu" in QHAna's words
    out = tmp_path / "x"
    assert main(["run", "x-gate", "--device", "qblox-dummy-1q", "--shots", "4", "--out", str(out),
                 "--no-progress"]) == 0
    trace = json.loads((out / "result-trace.json").read_text())
    assert trace["qpuType"] == "qpu" and trace["qobjId"]


def test_execution_options_round_trip_appends_the_executor_and_replaces_this_runs_keys(tmp_path):
    circuit = tmp_path / "bell.qasm"
    circuit.write_text(BELL_QASM)
    given = json.loads((QHANA / "qiskit-simulator/chained_options/execution-options.json").read_text())
    assert given["executorPlugin"] == ["some-plugin@v1-0-0", "qiskit-simulator@v1-0-1"]
    options_file = tmp_path / "qhana-options.json"
    options_file.write_text(json.dumps(given))
    first = tmp_path / "first"
    assert main(["run", str(circuit), "--options", str(options_file), "--out", str(first), "--no-progress"]) == 0
    ours = read_options(first / "execution-options.json")
    mine = plugin_identifier("aer")
    assert mine == "workbench-aer@v" + __import__("workbench").__version__.replace(".", "-")
    assert ours["executorPlugin"] == [*given["executorPlugin"], mine]
    assert ours["ID"] != given["ID"] and ours["ID"] == json.loads((first / "result-trace.json").read_text())["ID"]
    assert (ours["qpuType"], ours["qpuVendor"], ours["qpuName"]) == ("simulator", "workbench", "aer-simulator")
    assert ours["qpuVersion"] != given["qpuVersion"]
    assert ours["myOption"] == {"nested": [1, 2]} and ours["shots"] == 10 and ours["seed"] == given["seed"]
    trace = json.loads((first / "result-trace.json").read_text())
    assert not [w for w in trace["warnings"] if any(k in w for k in ("ID", "executorPlugin", "qpu"))]
    # our file fed back: one more executor, a new ID, the same counts (same seed)
    again = tmp_path / "again"
    assert main(["run", str(circuit), "--options", str(first / "execution-options.json"), "--out", str(again),
                 "--no-progress"]) == 0
    second = read_options(again / "execution-options.json")
    assert second["executorPlugin"] == [*given["executorPlugin"], mine, mine]
    assert second["ID"] not in (ours["ID"], given["ID"])
    assert Result.load(again).counts() == Result.load(first).counts()


@pytest.mark.parametrize("name, shots, statevector", [
    ("execution-options.object.json", 2048, True),
    ("execution-options.list.json", 500, False),   # a list of entities: the first one
    ("execution-options.lines.json", 500, True),   # JSON lines: the first line; "true" as text
    ("execution-options.csv", 500, True),          # CSV: every value text
    ("docs-execution-options.json", 1024, None),   # QHAna's documented example (other keys echoed)
])
def test_options_files_in_every_form_qhana_reads(name, shots, statevector):
    options = read_options_file(str(QHANA / "inputs" / name))
    from workbench.core import prepare

    prepared = prepare(BELL_QASM, "aer-simulator", options=options, options_source=name)
    assert prepared.options["shots"] == shots
    if statevector is not None:
        assert prepared.options["statevector"] is statevector
    assert not [w for w in prepared.options.warnings if "'ID'" in w]


@pytest.mark.parametrize("value, expected", [
    *((v, True) for v in (*TRUTHY, "t", "on", "y", 1, True)),
    *((v, False) for v in ("0", "no", "false", "False", "FALSE", "f", "off", "n", 0, False)),
])
def test_statevector_accepts_qhanas_spellings(value, expected, tmp_path):
    from workbench.core import prepare

    path = tmp_path / "options.json"
    path.write_text(json.dumps({"statevector": value, "shots": "64"}))
    prepared = prepare(BELL_QASM, "aer-simulator", options=read_options_file(str(path)))
    assert prepared.options["statevector"] is expected and prepared.options["shots"] == 64


def test_bad_options_files_are_one_line_errors(tmp_path):
    for text, words in [("shots,seed\n", "header row and a row of values"), ('"a","a"\n1,2', "appears twice"),
                        ("[1, 2]", "must hold JSON objects"), ('"text"', "header row"), ("{", "not valid JSON"),
                        ("shots,seed\n5\n", "1 value for 2 columns")]:
        path = tmp_path / "options.csv"
        path.write_text(text)
        with pytest.raises(OptionsError, match=words) as err:
            read_options_file(str(path))
        assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)
    path = tmp_path / "options.json"
    path.write_text(json.dumps({"statevector": "maybe"}))
    from workbench.core import prepare

    with pytest.raises(OptionsError, match="option 'statevector': expected bool"):
        prepare(BELL_QASM, "aer-simulator", options=read_options_file(str(path)), options_source=str(path))


def test_several_experiments_keep_a_list_with_one_id_per_experiment(tmp_path):
    out = tmp_path / "rabi"
    assert main(["run", "rabi", "--shots", "50", "--seed", "1", "--out", str(out), "--no-progress"]) == 0
    run_id = json.loads((out / "result-trace.json").read_text())["ID"]
    names = Result.load(out).experiment_names
    for name in ("result-counts.json", "result-distribution.json"):
        data = json.loads((out / name).read_text())
        assert isinstance(data, list) and len(data) == len(names) > 1
        assert [e["ID"] for e in data] == [f"{run_id}/{n}" for n in names]
        assert all(sum(ensure_array(e)[1]) == (50 if name == "result-counts.json" else 1.0) for e in data)
    rows = list(load_entities((out / "result-counts.csv").read_text(), "text/csv"))
    assert [r["ID"] for r in rows] == [f"{run_id}/{n}" for n in names]
    assert json.loads((out / "execution-options.json").read_text())["ID"] == run_id


# ------------------------------------------------------------------------------ Tergite's result file


def test_tergite_result_holds_hex_memory_bit_i_memory_slot_i(tmp_path):
    reference = json.loads((TERGITE / "backend/69a9ae9/job_list.json").read_text())
    done = next(doc for doc in reference if "result" in doc)
    out = tmp_path / "bell"
    (tmp_path / "bell.qasm").write_text(BELL_QASM.replace("h q[0];\ncx q[0],q[1];\n", "x q[0];\n"))
    assert main(["run", str(tmp_path / "bell.qasm"), "--device", "qutip-2q", "--shots", "40", "--seed", "3",
                 "--out", str(out), "--no-progress"]) == 0
    document = json.loads((out / "tergite-result.json").read_text())
    assert set(document) == {"job_id", "status", "device", "result"} <= set(done) | {"device"}
    assert document["status"] == done["status"] == "successful"
    result = Result.load(out)
    (memory,) = document["result"]["memory"]
    bits = result.dataset["memory"].values[0]  # (shot, slot)
    assert memory == [hex(int(row[0]) + 2 * int(row[1])) for row in bits]
    assert memory.count("0x1") > 30  # x on qubit 0: slot 0 set, which Qiskit prints as "01"
    assert result.counts(0).get("01", 0) == memory.count("0x1")


@pytest.mark.parametrize("slots", [1, 3, 11, 20])
def test_tergite_memory_text_is_the_json_of_the_hex_strings(slots):
    """tergite-result.json joins its hex strings itself; the text must be json.dumps' own, for few slots
    (a lookup table of the values) and many (distinct values sorted), with unwritten slots."""
    from workbench.results.tergite import _hex_memory, _hex_memory_json

    rng = np.random.default_rng(slots)
    memory = rng.integers(0, 2, size=(4, 300, slots)).astype(np.int8)
    slot_qubit = np.tile(np.arange(slots), (4, 1))
    slot_qubit[1, ::2] = -1  # slots this experiment never wrote
    slot_qubit[2] = -1  # nothing written: "0x0" for every shot
    text = _hex_memory_json(memory, slot_qubit)
    assert text == json.dumps(_hex_memory(memory, slot_qubit))
    assert json.loads(text)[2] == ["0x0"] * 300
    assert _hex_memory_json(memory[:, :0], slot_qubit) == "[[], [], [], []]"


def test_tergite_iq_memory_pairs_written_slots_and_zeroes_missing_points():
    from workbench.results.tergite import _iq_memory

    iq = np.array([[[1 + 2j, 5 + 5j, np.nan + 1j], [3 - 4j, 6 + 6j, 7 + 0j]]])  # (1 experiment, 2 shots, 3 slots)
    slot_qubit = np.array([[0, -1, 2]])
    assert _iq_memory(iq, slot_qubit) == [[[[1.0, 2.0], [0.0, 0.0]], [[3.0, -4.0], [7.0, 0.0]]]]


def test_tergite_result_holds_iq_pairs_at_meas_level_1(tmp_path):
    # SDK file d: two experiments, meas_level 1, meas_return avg -> one entry per experiment
    out = tmp_path / "iq"
    assert main(["run", str(TERGITE / "sdk-2026.6.0/d_two_experiments_meas_level_1.job.json"), "--seed", "1",
                 "--out", str(out), "--no-progress"]) == 0
    memory = json.loads((out / "tergite-result.json").read_text())["result"]["memory"]
    mean = Result.load(out).dataset["iq_mean"].values
    assert len(memory) == 2 and all(len(shots) == 1 for shots in memory)
    for e in range(2):
        np.testing.assert_allclose(memory[e][0], [[mean[e, 0].real, mean[e, 0].imag]])
    # per shot with meas_return single
    out = tmp_path / "single"
    assert main(["run", str(TERGITE / "sdk-2026.6.0/d_two_experiments_meas_level_1.job.json"), "--seed", "1",
                 "--set", "meas_return=single", "--out", str(out), "--no-progress"]) == 0
    memory = json.loads((out / "tergite-result.json").read_text())["result"]["memory"]
    iq = Result.load(out).dataset["iq"].values
    assert [len(m) for m in memory] == [4, 4]
    assert memory[1][3] == [[iq[1, 3, 0].real, iq[1, 3, 0].imag]]
