"""The example files shipped with the package, usable by name, and every job file the docs use.

Runs are real (aer, the pulse simulator); the docs check reads README.md and docs/*.md as users do.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path

import numpy as np
import pytest

import workbench
from workbench.errors import UnsupportedError
from workbench.examples import EXAMPLE_DIR, EXAMPLE_FILES, EXAMPLES, example_file, job_kind, listing
from workbench.executors.registry import load_catalogue
from workbench.jobs.loader import load_job, source_kind

REPO = Path(__file__).resolve().parents[1]


def test_the_registry_is_the_folder_and_the_package_data_ships_it():
    shipped = sorted(p.name for p in EXAMPLE_DIR.iterdir() if p.is_file())
    assert shipped == sorted(EXAMPLE_FILES)
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["workbench"]
    for name in shipped:
        assert any(fnmatch.fnmatch(f"examples/{name}", g) for g in globs), name


@pytest.mark.parametrize("name", sorted(EXAMPLE_FILES))
def test_each_file_says_what_the_listing_says(name):
    job = load_job(example_file(name))
    assert job.kind == job_kind(name)
    entry = EXAMPLE_FILES[name]
    if job.kind == "circuit":
        assert job.circuit.num_qubits == entry.qubits
    else:  # the qubits its schedules touch on the largest chip (a program's inputs bound to one value each)
        job = job.bind({"inputs": {name: [0.1] for name in getattr(getattr(job, "summary", None), "inputs", ())}})
        qubits = {int(ch[1:]) for s in job.schedules(load_catalogue().get("qutip-5q")) for ch in s.channels}
        assert max(qubits) + 1 == entry.qubits
    row = next(r for r in listing() if r["name"] == name)
    assert (row["qubits"], row["kind"], row["description"]) == (entry.qubits, job.kind, entry.description)


def test_names_resolve_to_the_shipped_file_unless_a_file_is_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert source_kind("bell.qasm") == "example-file"
    assert source_kind("bell") == "example"
    assert load_job("bell.qasm").source == example_file("bell.qasm").read_text()
    (tmp_path / "bell.qasm").write_text("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[1];\ncreg c[1];\n"
                                        "x q[0];\nmeasure q -> c;\n")
    assert source_kind("bell.qasm") == "path"
    assert load_job("bell.qasm").circuit.num_qubits == 1


def test_the_circuits_give_their_states():
    bell = workbench.run("bell.qasm", shots=400, seed=3)
    assert set(bell.counts()) == {"00", "11"}
    ghz = workbench.run("ghz3.qasm", shots=400, seed=3)
    assert ghz.device == "aer-simulator" and set(ghz.counts()) == {"000", "111"}
    ghz5 = workbench.run("ghz5.qasm", shots=400, seed=3)
    assert ghz5.device == "aer-simulator" and set(ghz5.counts()) == {"00000", "11111"}
    pulses = workbench.run("bell.qasm", device="qutip-2q", shots=400, seed=3)
    assert pulses.counts().get("00", 0) + pulses.counts().get("11", 0) > 0.9 * 400


def test_the_sweep_file_peaks_on_resonance():
    """A pi pulse detuned by d: P(1) peaks at d = 0 and is symmetric (Rabi: Omega^2 / (Omega^2 + d^2))."""
    result = workbench.run("sweep.json", shots=16, seed=1, options={"meas_level": 1})
    assert result.device == "qutip-1q"  # the file's header names its device
    detuning = result.dataset["detuning"].values
    p1 = result.dataset["populations"].sel(slot=0, level=1).values
    assert detuning[np.argmax(p1)] == pytest.approx(0, abs=1.1e6)
    assert p1.max() > 0.99
    np.testing.assert_allclose(p1, p1[::-1], atol=0.02)
    assert p1[0] < 0.1 and p1[-1] < 0.1


def test_an_example_on_a_device_too_small_names_the_devices_that_can_run_it():
    with pytest.raises(UnsupportedError) as err:
        workbench.prepare("bell", "qutip-1q")
    assert str(err.value) == ("example 'bell' needs 2 qubits; 'qutip-1q' has 1; devices that can run it: "
                              "qblox-dummy-2q, qblox-dummy-5q, qutip-2q, qutip-3q, qutip-5q")
    with pytest.raises(UnsupportedError) as err:
        workbench.prepare("ghz3.qasm", "qutip-2q")
    assert str(err.value).endswith("the circuit has 3 qubits; device 'qutip-2q' has 2; devices that can run it: "
                                   "aer-simulator, qblox-dummy-5q, qutip-3q, qutip-5q")


def test_cli_examples_lists_name_qubits_and_kind(run_cli):
    proc = run_cli("examples")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["NAME", "QUBITS", "KIND", "DESCRIPTION"]
    rows = {line.split()[0]: line.split()[1:3] for line in lines[1:-1]}
    assert rows == {r["name"]: [str(r["qubits"]), r["kind"]] for r in listing()}
    assert set(rows) == set(EXAMPLES) | set(EXAMPLE_FILES)


def test_cli_runs_an_example_file_from_any_folder_and_refuses_a_small_device(run_cli, tmp_path):
    proc = run_cli("run", "bell.qasm", "--shots", "100", "--seed", "1", "--out", "bell-out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "bell-out" / "circuit.qasm").read_text() == example_file("bell.qasm").read_text()
    proc = run_cli("run", "bell", "--device", "qutip-1q", "--out", "x", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: example 'bell' needs 2 qubits; 'qutip-1q' has 1; devices that can run "
                                   "it: qblox-dummy-2q, qblox-dummy-5q, qutip-2q, qutip-3q, qutip-5q")
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_cli_runs_ghz5_on_the_five_qubit_chip_as_documented(run_cli, tmp_path):
    """The command docs/simulator.md and README.md show: the shipped ghz5.qasm as pulses on qutip-5q
    (quantum-jump trajectories), P(00000) + P(11111) >= 0.85 in the counts."""
    proc = run_cli("run", "ghz5.qasm", "--device", "qutip-5q", "--shots", "4000", "--seed", "1", "--out", "ghz5",
                   "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    counts = workbench.load_result(tmp_path / "ghz5").counts(0)
    assert sum(counts.values()) == 4000
    assert (counts.get("00000", 0) + counts.get("11111", 0)) / 4000 >= 0.85, counts
    trace = json.loads((tmp_path / "ghz5" / "result-trace.json").read_text())
    assert trace["executorInfo"]["methods"] == ["trajectories"]


# --------------------------------------------------------------------------------- files the docs use

_WORKBENCH = re.compile(r"^(?:[A-Z_]+=\S+\s+)*(?:python3? -m )?workbench\s")
_VALUE_OPTIONS = {"--config", "--device", "--shots", "--seed", "--options", "--set", "--out", "--datadir",
                  "--scheduler", "--workers", "--scheduler-timeout", "-o", "--output", "--html", "--experiment",
                  "--qubit", "--port", "--since", "--format", "--dir"}
_PYTHON_JOB = re.compile(r"\b(?:workbench\.(?:run|prepare|plot_schedule|load_job)|load_job)\(\s*\"([^\"]+)\"")
_PLACEHOLDER = re.compile(r"[A-Z]{2,}")


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL)


def _doc_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _uses(path: Path) -> list[tuple[str, str]]:
    """(what, name) for every job file or config file a documented command reads, in order."""
    uses: list[tuple[str, str]] = []
    for block in _code_blocks(path.read_text()):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("cp "):
                uses.append(("creates", shlex.split(line, comments=True)[-1]))
            uses += [("job", m) for m in _PYTHON_JOB.findall(line)]
            if not _WORKBENCH.match(line) or "[" in line:  # not a command, or a synopsis ([--device NAME])
                continue
            words = shlex.split(line, comments=True)
            words = words[words.index("workbench") + 1:]
            command, positional, expects = None, [], None
            for word in words:
                if expects is not None:
                    uses.append((expects, word))
                    expects = None
                elif word in _VALUE_OPTIONS:
                    expects = {"--config": "config", "-o": "creates", "--output": "creates", "--out": "creates",
                               "--html": "creates"}.get(word, "value")
                elif word.startswith("-"):
                    continue
                elif command is None:
                    command = word
                else:
                    positional.append(word)
            if command in ("run", "show", "compile"):
                uses += [("job", p) for p in positional]
    return uses


def test_every_file_the_docs_use_exists_or_is_made_first():
    """A job named in README.md or docs/*.md is an example, a file in the repository, or one an earlier
    command of the same page writes (-o, --out, cp); configs likewise. Synopsis lines (JOB, DIR) are skipped."""
    missing = []
    for doc in _doc_files():
        made: list[str] = []
        for what, name in _uses(doc):
            if what == "creates":
                made.append(name)
            if what not in ("job", "config") or _PLACEHOLDER.search(name):
                continue
            known = (source_kind(name) in ("example", "example-file") if what == "job" else False) \
                or (REPO / name).exists() or any(name == m or name.startswith(m.rstrip("/") + "/") for m in made)
            if not known:
                missing.append(f"{doc.relative_to(REPO)}: {what} {name}")
    assert missing == []
