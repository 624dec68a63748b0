"""OpenQASM circuits on the `aer` executor, checked against qiskit-aer called directly.

The reference for counts is the plain Qiskit recipe (`AerSimulator().run(transpile(qc, sim),
seed_simulator=...)` then `get_counts()`): the workbench must give the same dictionary, register
spaces included, for the same seed.
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
import threading

import numpy as np
import pytest

import workbench
from workbench.cli.main import main
from workbench.errors import CancelledError, UnsupportedError
from workbench.executors.aer.executor import experiment_seed, hex_memory_to_bits, measured_qubits
from workbench.jobs import load_job
from workbench.results.result import Result

QELIB = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
STDGATES = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'

BELL2 = QELIB + "qreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q[0] -> c[0];\nmeasure q[1] -> c[1];\n"
BELL3 = STDGATES + "qubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc[0] = measure q[0];\nc[1] = measure q[1];\n"


def _ghz(n: int) -> str:
    lines = [QELIB, f"qreg q[{n}];", f"creg c[{n}];", "h q[0];"]
    lines += [f"cx q[{i}],q[{i + 1}];" for i in range(n - 1)]
    lines += ["measure q -> c;"]
    return "\n".join(lines) + "\n"


def direct_counts(text: str, shots: int, seed: int) -> dict[str, int]:
    """What a user of Qiskit gets without the workbench (the reference)."""
    import qiskit.qasm2
    import qiskit.qasm3
    from qiskit import transpile
    from qiskit_aer import AerSimulator

    if "OPENQASM 3" in text:
        circuit = qiskit.qasm3.loads(text)
    else:
        circuit = qiskit.qasm2.loads(text, custom_instructions=qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    simulator = AerSimulator()
    return simulator.run(transpile(circuit, simulator), shots=shots, seed_simulator=seed).result().get_counts()


# ------------------------------------------------------------------------------------------ counts


REGISTER_CIRCUITS = {
    "two-registers": QELIB + """qreg q[3];
creg c[2];
creg d[1];
h q[0];
cx q[0],q[1];
x q[2];
measure q[0] -> c[0];
measure q[1] -> c[1];
measure q[2] -> d[0];
""",
    "three-registers-crossed": QELIB + """qreg q[4];
creg a[1];
creg b[2];
creg c[3];
x q[1];
h q[2];
cx q[2],q[3];
measure q[3] -> a[0];
measure q[1] -> b[1];
measure q[0] -> b[0];
measure q[2] -> c[2];
measure q[1] -> c[0];
""",
    "register-never-measured": QELIB + """qreg q[2];
creg c[2];
creg unused[3];
x q[0];
h q[1];
measure q -> c;
""",
    "qasm3-registers": STDGATES + """qubit[3] q;
bit[1] first;
bit[2] second;
h q[0];
cx q[0], q[2];
x q[1];
second[0] = measure q[2];
second[1] = measure q[1];
first[0] = measure q[0];
""",
}


@pytest.mark.parametrize("name", list(REGISTER_CIRCUITS))
def test_counts_equal_a_direct_aer_run_register_spaces_included(name):
    text = REGISTER_CIRCUITS[name]
    result = workbench.run(text, shots=2000, seed=1234)
    counts = result.counts()
    assert counts == direct_counts(text, 2000, 1234)
    registers = len(re.findall(r"^(?:creg|bit\[)", text, re.MULTILINE))
    assert registers >= 2 and all(key.count(" ") == registers - 1 for key in counts)


def test_register_order_is_the_last_register_leftmost():
    counts = workbench.run(REGISTER_CIRCUITS["register-never-measured"], shots=500, seed=3).counts()
    # unused[3] (last declared) is leftmost and reads zeros; c = q1 q0 with q0 = 1 always
    assert set(counts) <= {"000 01", "000 11"}
    assert sum(counts.values()) == 500


def test_slot_qubit_records_the_qubit_measured_into_each_bit():
    result = workbench.run(REGISTER_CIRCUITS["three-registers-crossed"], shots=10, seed=1)
    # bits in Qiskit order: a[0], b[0], b[1], c[0], c[1], c[2]
    assert result.dataset["slot_qubit"].values.tolist() == [[3, 0, 1, 1, -1, 2]]


def test_no_measurement_gives_the_empty_key_with_all_shots(tmp_path):
    circuit = tmp_path / "no-measure.qasm"
    circuit.write_text(QELIB + "qreg q[2];\nh q[0];\ncx q[0],q[1];\n")
    out = tmp_path / "out"
    assert main(["run", str(circuit), "--shots", "321", "--seed", "4", "--out", str(out)]) == 0
    run_id = json.loads((out / "result-trace.json").read_text())["ID"]
    assert json.loads((out / "result-counts.json").read_text()) == {"": 321, "ID": run_id}
    assert json.loads((out / "result-distribution.json").read_text()) == {"": 1.0, "ID": run_id}
    assert (out / "circuit.qasm").read_text() == circuit.read_text()


def test_declared_but_unmeasured_bits_read_zero():
    counts = workbench.run(QELIB + "qreg q[1];\ncreg c[2];\nx q[0];\n", shots=50, seed=2).counts()
    assert counts == {"00": 50}


def test_qasm2_and_qasm3_versions_give_identical_counts():
    a = workbench.run(BELL2, shots=3000, seed=99).counts()
    b = workbench.run(BELL3, shots=3000, seed=99).counts()
    assert a == b
    assert a == direct_counts(BELL2, 3000, 99)


def test_bell_statistics():
    shots = 4000
    counts = workbench.run(BELL2, shots=shots, seed=2024).counts()
    assert set(counts) == {"00", "11"}
    assert abs(counts["00"] - shots / 2) < 4 * math.sqrt(shots / 4)


def test_ghz_statistics():
    shots = 4000
    n = 10
    counts = workbench.run(_ghz(n), shots=shots, seed=7).counts()
    assert set(counts) == {"0" * n, "1" * n}
    assert abs(counts["0" * n] - shots / 2) < 4 * math.sqrt(shots / 4)


def test_qelib1_legacy_gates_load_and_act():
    # u3(pi,0,pi) is X; u2(0,pi) is H; cu1(pi) is CZ, so H.CZ.H on the target is a CX
    text = QELIB + """qreg q[2];
creg c[2];
u3(pi,0,pi) q[0];
u2(0,pi) q[1];
cu1(pi) q[0],q[1];
u2(0,pi) q[1];
u1(pi/4) q[0];
measure q -> c;
"""
    job = load_job(text)
    names = {type(i.operation).__name__ for i in job.circuit.data}
    assert {"U3Gate", "U2Gate", "CU1Gate", "U1Gate"} <= names
    assert workbench.run(job, shots=100, seed=1).counts() == {"11": 100}


def test_custom_gate_is_translated_and_runs():
    text = QELIB + """gate bellpair a, b { h a; cx a, b; }
qreg q[2];
creg c[2];
bellpair q[0], q[1];
measure q -> c;
"""
    result = workbench.run(text, shots=1000, seed=8)
    assert set(result.counts()) == {"00", "11"}
    assert result.trace["executorInfo"]["transpiled"] == [True]
    assert result.counts() == direct_counts(text, 1000, 8)


def test_the_documented_direct_recipe_reproduces_translated_circuits():
    """docs/circuits.md: method from execution-options.json, level-0 translation, the seed."""
    import qiskit.qasm2
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_aer import AerSimulator

    text = QELIB + """gate twist a, b { h a; t a; cx a, b; ry(0.4) b; }
qreg q[3];
creg c[3];
twist q[0], q[1];
twist q[1], q[2];
ch q[2], q[0];
measure q -> c;
"""
    result = workbench.run(text, shots=2000, seed=31)
    method = result.options["method"]
    assert method == "statevector" and result.trace["executorInfo"]["transpiled"] == [True]
    circuit = qiskit.qasm2.loads(text, custom_instructions=qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    simulator = AerSimulator(method=method)
    translated = generate_preset_pass_manager(optimization_level=0, backend=simulator).run(circuit)
    direct = simulator.run(translated, shots=2000, seed_simulator=31).result().get_counts()
    assert result.counts() == direct


def test_mid_circuit_measurement_and_classical_control():
    text = STDGATES + """qubit[2] q;
bit[2] c;
h q[0];
c[0] = measure q[0];
if (c[0]) x q[1];
c[1] = measure q[1];
"""
    counts = workbench.run(text, shots=1000, seed=5).counts()
    assert set(counts) == {"00", "11"}  # q1 copies q0's outcome through the condition


def test_loose_qasm3_bits_keep_every_bit():
    # A single `bit a;` is no register: the key is all classical bits, unsplit (Aer's get_counts
    # would drop the loose bit from the key; the workbench keeps it).
    text = STDGATES + "qubit[2] q;\nbit a;\nbit[2] b;\nx q[0];\na = measure q[0];\nb[1] = measure q[1];\n"
    assert workbench.run(text, shots=20, seed=1).counts() == {"001": 20}


# ------------------------------------------------------------------------------------ statevector


def test_statevector_after_measurement_is_collapsed_and_written_as_complex_literals(tmp_path):
    circuit = tmp_path / "coin.qasm"
    circuit.write_text(QELIB + "qreg q[1];\ncreg c[1];\nh q[0];\nmeasure q[0] -> c[0];\n")
    out = tmp_path / "out"
    assert main(["run", str(circuit), "--shots", "200", "--seed", "17", "--set", "statevector=true",
                 "--out", str(out)]) == 0
    row = json.loads((out / "result-statevector.json").read_text())
    assert list(row) == ["ID", "0", "1"]  # one object, the ID first, as QHAna writes it
    amplitudes = [complex(row["0"]), complex(row["1"])]
    assert sorted(round(abs(a), 12) for a in amplitudes) == [0.0, 1.0]  # collapsed, not 1/sqrt(2) each
    outcome = json.loads((out / "result-trace.json").read_text())["executorInfo"]["statevectorOutcomes"][0]
    assert abs(amplitudes[int(outcome)]) == pytest.approx(1.0)  # the vector is the recorded shot's branch
    csv_lines = (out / "result-statevector.csv").read_text().splitlines()
    assert csv_lines[0] == '"ID","0","1"'
    values = next(csv.reader([csv_lines[1]]))[1:]
    assert [complex(v) for v in values] == amplitudes
    counts = json.loads((out / "result-counts.json").read_text())
    assert set(counts) == {"ID", "0", "1"}  # the 200 main shots are not collapsed by the extra one


def test_unmeasured_qubits_stay_in_superposition_in_the_statevector():
    text = QELIB + "qreg q[2];\ncreg c[1];\nh q[0];\nh q[1];\nmeasure q[0] -> c[0];\n"
    result = workbench.run(text, shots=10, seed=3, options={"statevector": True})
    vector = result.statevectors()[0]
    outcome = int(result.trace["executorInfo"]["statevectorOutcomes"][0])
    expected = np.zeros(4)
    expected[[outcome, outcome + 2]] = 1 / math.sqrt(2)  # q0 fixed by the measurement, q1 still |+>
    assert np.allclose(np.abs(vector), expected)


def test_statevector_without_measurements_is_the_pure_state():
    result = workbench.run(QELIB + "qreg q[2];\nh q[0];\ncx q[0],q[1];\n", shots=5, seed=1,
                           options={"statevector": True})
    assert np.allclose(result.statevectors()[0], [1 / math.sqrt(2), 0, 0, 1 / math.sqrt(2)])


def test_asking_for_the_statevector_leaves_the_counts_unchanged():
    text = QELIB + "qreg q[3];\ncreg c[3];\nh q;\nt q[0];\nh q[0];\nmeasure q -> c;\n"
    plain = workbench.run(text, shots=1000, seed=42).counts()
    with_state = workbench.run(text, shots=1000, seed=42, options={"statevector": True}).counts()
    assert plain == with_state


# ------------------------------------------------------------------------ options and reproduction


def test_seed_reproduces_exactly_through_execution_options(tmp_path):
    circuit = tmp_path / "rand.qasm"
    circuit.write_text(QELIB + "qreg q[3];\ncreg c[3];\nh q;\nt q[1];\nrx(0.3) q[2];\ncx q[0],q[2];\n"
                       "h q[1];\nmeasure q -> c;\n")
    first, again = tmp_path / "first", tmp_path / "again"
    assert main(["run", str(circuit), "--shots", "3000", "--out", str(first)]) == 0  # seed drawn
    options = json.loads((first / "execution-options.json").read_text())
    assert isinstance(options["seed"], int) and options["method"] == "statevector"
    assert main(["run", str(circuit), "--options", str(first / "execution-options.json"), "--out", str(again)]) == 0
    assert Result.load(first).counts() == Result.load(again).counts()
    np.testing.assert_array_equal(Result.load(first).dataset["memory"].values,
                                  Result.load(again).dataset["memory"].values)
    # the folder's own copy reruns the same way (its experiment is named after the copy's file name)
    copy = tmp_path / "copy"
    assert main(["run", str(first / "circuit.qasm"), "--options", str(first / "execution-options.json"),
                 "--out", str(copy)]) == 0
    assert Result.load(copy).counts() == Result.load(first).counts()
    # and the recorded seed reproduces the counts with qiskit-aer alone
    assert Result.load(first).counts() == direct_counts(circuit.read_text(), 3000, options["seed"])


def test_different_seeds_give_different_shots():
    a = workbench.run(_ghz(3), shots=200, seed=1).dataset["memory"].values
    b = workbench.run(_ghz(3), shots=200, seed=2).dataset["memory"].values
    assert not np.array_equal(a, b)


@pytest.mark.parametrize(("body", "method"), [
    ("h q[0];\ncx q[0],q[1];\ns q[1];\nrz(pi/2) q[0];\nbarrier q;\nmeasure q -> c;\n", "stabilizer"),
    ("h q[0];\nt q[0];\ncx q[0],q[1];\nmeasure q -> c;\n", "statevector"),
    ("h q[0];\nrz(0.1) q[0];\nmeasure q -> c;\n", "statevector"),
])
def test_automatic_method_is_resolved_and_recorded(body, method):
    result = workbench.run(QELIB + "qreg q[2];\ncreg c[2];\n" + body, shots=100, seed=1)
    assert result.options["method"] == method
    assert result.trace["optionSources"]["method"] == "executor aer"
    assert result.trace["executorInfo"]["method"] == method


def test_explicit_method_is_kept_and_gives_the_same_support():
    result = workbench.run(BELL2, shots=500, seed=1, options={"method": "matrix_product_state"})
    assert result.options["method"] == "matrix_product_state"
    assert set(result.counts()) == {"00", "11"}
    dm = workbench.run(BELL2, shots=500, seed=1, options={"method": "density_matrix"})
    assert set(dm.counts()) == {"00", "11"}


def test_stabilizer_on_a_non_clifford_circuit_is_refused_before_running():
    with pytest.raises(UnsupportedError, match="Clifford"):
        workbench.run(QELIB + "qreg q[1];\ncreg c[1];\nt q[0];\nmeasure q[0] -> c[0];\n",
                      options={"method": "stabilizer"})


def test_more_qubits_than_the_device_is_refused(tmp_path, capsys):
    circuit = tmp_path / "wide.qasm"
    circuit.write_text(QELIB + "qreg q[25];\ncreg c[1];\nh q[24];\nmeasure q[24] -> c[0];\n")
    assert main(["run", str(circuit), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "qubit 24" in err and "aer-simulator" in err
    assert not (tmp_path / "out").exists()


def test_a_pulse_job_is_refused_by_the_aer_device(tmp_path, capsys, device_1q):
    from workbench.examples import x_gate

    job = tmp_path / "job.json"
    job.write_text(json.dumps(x_gate(device_1q)))
    assert main(["run", str(job), "--device", "aer-simulator"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "does not run pulse jobs" in err


def test_circuits_default_to_the_aer_device():
    result = workbench.run(BELL2, shots=10, seed=1)
    assert result.device == "aer-simulator" and result.executor == "aer"
    assert result.trace["jobKind"] == "circuit"


def test_device_listing_shows_the_tags_and_accepts_circuits(capsys):
    assert main(["devices", "--json"]) == 0
    entry = next(d for d in json.loads(capsys.readouterr().out) if d["name"] == "aer-simulator")
    assert entry["accepts"] == ["circuit"]
    assert entry["executor"] == "aer" and entry["qubits"] == 24 and entry["available"] is True
    assert {"circuit-executor", "qc-simulator", "qiskit", "qasm", "qasm-2", "qasm-3"} <= set(entry["tags"])
    assert entry["vendor"] == "workbench" and entry["meas_levels"] == [2]


def test_listing_devices_does_not_import_qiskit():
    code = ("import sys, json, workbench; workbench.list_devices(); "
            "print(json.dumps([m for m in ('qiskit', 'qiskit_aer') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_trace_records_versions_and_seeds():
    result = workbench.run(BELL2, shots=10, seed=77)
    trace = result.trace
    assert {"qiskit", "qiskit-aer"} <= set(trace["versions"])
    assert trace["executorInfo"]["seeds"] == [77]


# ------------------------------------------------------------------------------- progress, cancel


def test_progress_and_cancel():
    calls: list[tuple[int, int]] = []
    workbench.run(BELL2, shots=10, seed=1, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 1)]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        workbench.run(BELL2, shots=10, seed=1, cancel=cancel)


# ------------------------------------------------------------------------------------- the helpers


def test_experiment_seeds_are_the_seed_then_distinct_derived_values():
    assert experiment_seed(5, 0) == 5
    derived = {experiment_seed(5, e) for e in range(1, 50)} | {experiment_seed(5, e, 1) for e in range(50)}
    assert len(derived) == 99 and 5 not in derived
    assert experiment_seed(5, 3) == experiment_seed(5, 3)


@pytest.mark.parametrize("width", [1, 5, 62, 63, 70])
def test_hex_memory_decodes_bit_m_as_classical_bit_m(width):
    rng = np.random.default_rng(width)
    values = [int(rng.integers(0, 2**min(width, 62))) << max(0, width - 62) | int(rng.integers(0, 2)) for _ in
              range(300)]
    hexes = [hex(v) for v in values]
    bits = hex_memory_to_bits(hexes, width)
    assert bits.shape == (300, width) and bits.dtype == np.int8
    for v, row in zip(values, bits, strict=True):
        assert sum(int(b) << m for m, b in enumerate(row)) == v


def test_measured_qubits_follows_control_flow_blocks():
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(3, 3)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.measure(2, 1)
    assert measured_qubits(circuit).tolist() == [0, 2, -1]
