"""Malformed OpenQASM at the command line: exit 2, one `error:` line with the file and line, nothing written.

The messages come from two unrelated Qiskit readers (and, for OpenQASM 3, ANTLR printing to stderr);
these cases pin that every one of them ends as a single located line a user can act on.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.cli.main import main
from workbench.errors import JobError
from workbench.jobs import load_job

Q2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
Q3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'

# (id, text, line, fragments the message must contain)
CASES = [
    ("q2-missing-semicolon", Q2 + "qreg q[2]\ncreg c[2];\n", 4, ["expected ';'", "'creg'"]),
    ("q2-unknown-gate", Q2 + "qreg q[2];\nfoo q[0];\n", 4, ["'foo' is not defined"]),
    ("q2-no-qelib1", "OPENQASM 2.0;\nqreg q[1];\nh q[0];\n", 3, ["'h'", 'include "qelib1.inc"']),
    ("q2-index-out-of-range", Q2 + "qreg q[2];\nh q[5];\n", 4, ["index 5", "size 2"]),
    ("q2-undeclared-creg", Q2 + "qreg q[2];\nmeasure q[0] -> c[0];\n", 4, ["'c' is not defined"]),
    ("q2-bad-character", Q2 + "qreg q[1];\nh q[0] $;\n", 4, ["'$'"]),
    ("q2-gate-without-parameters", Q2 + "qreg q[2];\nh q[0];\n\ncu1 q[0],q[1];\nh q[1];\n", 6,
     ["cu1 q[0],q[1];", "parameter", "theta"]),
    ("q2-too-many-parameters", Q2 + "qreg q[1];\nrx(1,2) q[0];\n", 4, ["'rx' takes 1 parameter"]),
    ("q2-wrong-qubit-count", Q2 + "qreg q[2];\ncx q[0];\n", 4, ["'cx' takes 2 quantum arguments"]),
    ("q2-duplicate-register", Q2 + "qreg q[2];\nqreg q[3];\n", 4, ["'q' is already defined"]),
    ("q2-unclosed-gate-body", Q2 + "qreg q[1];\ngate g a { h a;\n", 4, ["'}'"]),
    ("q2-missing-include", Q2 + 'include "nope.inc";\nqreg q[1];\n', 3, ["nope.inc"]),
    ("q2-broadcast-mismatch", Q2 + "qreg q[2];\ncreg c[3];\nmeasure q -> c;\n", 5, ["measurement"]),
    ("q2-huge-register", Q2 + "// typo below\nqreg q[10000000];\n", 4, ["more than 100000 qubits"]),
    ("version-4", "OPENQASM 4.0;\nqreg q[1];\n", 1, ["OpenQASM 4.0", "'OPENQASM 3.0;'"]),
    ("version-missing", "// header without a version\nOPENQASM;\n", 2, ["version number"]),
    ("no-header", "qreg q[1];\nh q[0];\n", 1, ["no OPENQASM header"]),
    ("q3-missing-semicolon", Q3 + "qubit[2] q\nbit[2] c;\n", 4, ["expected ';'", "'bit'"]),
    ("q3-unknown-gate", Q3 + "qubit[1] q;\nfoo q[0];\n", 4, ["'foo' is not defined"]),
    ("q3-no-stdgates", "OPENQASM 3.0;\nqubit[1] q;\nh q[0];\n", 3, ["'h'", 'include "stdgates.inc"']),
    ("q3-bad-character", Q3 + "qubit[1] q;\nh q[0] $;\n", 4, ["unexpected character '$'"]),
    ("q3-unclosed-parenthesis", Q3 + "qubit[1] q;\nrx(0.1 q[0];\n", 4, ["unexpected 'q'", "rx(0.1 q"]),
    ("q3-end-of-file", Q3 + "qubit[1] q;\nh q[0]\n", 5, ["expected ';'", "end of the file"]),
    ("q3-stray-brace", Q3 + "qubit[1] q;\nx q[0];\n}\n", 5, ["unexpected '}'"]),
    ("q3-undefined-symbol", Q3 + "qubit[1] q;\nc[0] = measure q[0];\n", 4, ["'c'"]),
    ("q3-index-out-of-range", Q3 + "qubit[2] q;\nh q[0];\nh q[5];\n", 5, ["h q[5];", "beyond the size"]),
    ("q3-gate-without-parameters", Q3 + "qubit[1] q;\nrx q[0];\n", 4, ["rx q[0];", "theta"]),
    ("q3-size-mismatch", Q3 + "qubit[2] q;\nbit[2] c;\nc[0] = measure q;\n", 5, ["different sizes"]),
    ("q3-duplicate-register", Q3 + "qubit[1] q;\nqubit[2] q;\n", 4, ['"q" already exists']),
    ("q3-unsupported-include", 'OPENQASM 3.0;\ninclude "mygates.inc";\n', 2, ["stdgates.inc"]),
    ("q3-subroutine", Q3 + "qubit[1] q;\ndef f(qubit a) { h a; }\n", 4, ["not supported"]),
    ("q3-input-parameter", Q3 + "input float theta;\nqubit[1] q;\nrx(theta) q[0];\n", 3,
     ["free parameters", "theta"]),
    ("q3-huge-hardware-qubit", Q3 + "h $5000000;\n", 3, ["more than 100000 qubits"]),
]


@pytest.mark.parametrize(("text", "line", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_qasm_is_one_located_error_line(tmp_path, capsys, text, line, fragments):
    circuit = tmp_path / "bad.qasm"
    circuit.write_text(text)
    out = tmp_path / "out"
    code = main(["run", str(circuit), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err  # no ANTLR chatter, no traceback
    message = lines[0]
    assert message.startswith(f"error: {circuit}: line {line}")
    assert "Traceback" not in message and "Error(" not in message
    for fragment in fragments:
        assert fragment in message
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))  # no staging folder left either


def test_columns_are_one_based_where_the_reader_knows_them():
    with pytest.raises(JobError) as info:
        load_job(Q2 + "qreg q[2];\nh q[5];\n")
    assert info.value.location == "line 4 column 5"  # the '5'
    with pytest.raises(JobError) as info:
        load_job(Q3 + "qubit[1] q;\nh q[0] $;\n")
    assert info.value.location == "line 4 column 8"  # the '$'
    with pytest.raises(JobError) as info:
        load_job(Q3 + "qubit[1] q;\n  c[0] = measure q[0];\n")  # importer reports a text offset here
    assert info.value.location == "line 4 column 3"


def test_text_errors_have_no_file_name_and_file_errors_do(tmp_path):
    with pytest.raises(JobError) as info:
        load_job(Q2 + "qreg q[2];\nfoo q[0];\n")
    assert info.value.source is None and str(info.value).startswith("line 4")
    path = tmp_path / "named.qasm"
    path.write_text(Q2 + "qreg q[2];\nfoo q[0];\n")
    with pytest.raises(JobError) as info:
        load_job(path)
    assert info.value.source == str(path)


def test_a_qasm_file_may_include_a_file_beside_it(tmp_path):
    (tmp_path / "mine.inc").write_text("gate flip a { x a; }\n")
    circuit = tmp_path / "uses.qasm"
    circuit.write_text(Q2 + 'include "mine.inc";\nqreg q[1];\ncreg c[1];\nflip q[0];\nmeasure q[0] -> c[0];\n')
    job = load_job(circuit)
    assert job.kind == "circuit" and job.name == "uses" and job.experiment_names == ["uses"]
    assert job.circuit.count_ops()["flip"] == 1


def test_a_file_without_header_that_includes_qelib1_is_openqasm_2(tmp_path):
    path = tmp_path / "old.qasm"
    path.write_text('// old style\ninclude "qelib1.inc";\nqreg q[1];\nu1(0.5) q[0];\n')
    job = load_job(path)
    assert job.qasm_version == "2.0" and job.circuit.count_ops()["u1"] == 1


def test_missing_qasm3_reader_is_named(tmp_path):
    """Without qiskit-qasm3-import, Qiskit raises MissingOptionalLibraryError: it must read as advice.

    The package is made unimportable the way Python itself blocks an import (a ``None`` entry in
    ``sys.modules``) in a fresh interpreter; everything else runs for real.
    """
    circuit = tmp_path / "three.qasm"
    circuit.write_text(Q3 + "qubit[1] q;\nh q[0];\n")
    code = ("import sys; sys.modules['qiskit_qasm3_import'] = None; "
            "from workbench.cli.main import main; "
            f"sys.exit(main(['run', {str(circuit)!r}, '--out', {str(tmp_path / 'out')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "qiskit-qasm3-import" in lines[0]
    assert not (tmp_path / "out").exists()


def test_qasm3_reader_leaves_stderr_alone_on_success(capsys):
    job = load_job(Q3 + "qubit[1] q;\nbit[1] c;\nh q[0];\nc[0] = measure q[0];\n")
    assert job.circuit.num_qubits == 1
    assert capsys.readouterr().err == ""
