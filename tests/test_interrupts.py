"""Ctrl-C and SIGTERM on the real `workbench` command, in a subprocess: out within a second or two, one
line, exit code 130 (143), no traceback, no process left computing, nothing half-written.

The long jobs are generated here and never run to the end: a 22-qubit circuit of 60 layers of
non-Clifford rotations (2^22 amplitudes times about 1900 gates: a minute of Aer on this machine,
spent in C++ that holds the interpreter lock) and a 1200-experiment CZ chevron on qutip-2q (minutes).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from workbench import examples
from workbench.executors.registry import load_catalogue

PROMPT_EXIT = 3.0  # s: what "at once" means on a loaded 2-core CI machine (measured: 0.0-0.3 s)


def deep_circuit(qubits: int = 22, layers: int = 60) -> str:
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{qubits}];", f"creg c[{qubits}];"]
    for layer in range(layers):
        lines += [f"rx({0.1 + 0.01 * layer + 0.001 * i}) q[{i}];" for i in range(qubits)]
        lines += [f"cx q[{i}],q[{i + 1}];" for i in range(layer % 2, qubits - 1, 2)]
    lines.append("measure q -> c;")
    return "\n".join(lines) + "\n"


class Cli:
    """`python -m workbench ...` with its stderr collected line by line as it comes."""

    def __init__(self, *args: str, cwd: Path):
        env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_CONFIG"}
        self.proc = subprocess.Popen([sys.executable, "-m", "workbench", *args], cwd=cwd, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self.out: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stderr, self.lines), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True)]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)

    def wait_for(self, pattern: str, timeout: float = 300) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if (m := re.search(pattern, line)):
                    return m
            assert self.proc.poll() is None, f"ended before {pattern!r}: {''.join(self.lines)}"
            time.sleep(0.02)
        raise AssertionError(f"no {pattern!r} within {timeout} s: {''.join(self.lines)}")

    def signal_and_wait(self, signum: int, count: int = 1) -> float:
        """Send ``count`` signals 0.1 s apart; seconds from the first one to the process's end."""
        started = time.monotonic()
        for i in range(count):
            if self.proc.poll() is None:
                self.proc.send_signal(signum)
            if i + 1 < count:
                time.sleep(0.1)
        self.proc.wait(timeout=120)
        elapsed = time.monotonic() - started
        for reader in self._readers:
            reader.join(timeout=10)
        return elapsed

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def children(self) -> list[int]:
        """Processes this one started (read from /proc)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                found.append(int(stat.parent.name))
        return found


def gone(pids: list[int], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.append(pid)
        if not alive:
            return True
        time.sleep(0.05)
    return False


def assert_interrupted(cli: Cli, elapsed: float, code: int = 130, line: str = "error: interrupted") -> None:
    assert cli.proc.returncode == code, cli.stderr  # not -2 (killed by the signal), not -6 (SIGABRT)
    assert elapsed < PROMPT_EXIT, f"took {elapsed:.1f} s to stop"
    assert "Traceback" not in cli.stderr and "Exception ignored" not in cli.stderr, cli.stderr
    errors = [text for text in cli.lines if not text.startswith("INFO ")]
    assert errors == [line + "\n"], cli.stderr


@pytest.mark.slow
@pytest.mark.parametrize("count", [1, 2])
def test_ctrl_c_stops_a_long_aer_run_at_once(tmp_path, count):
    """Aer holds the interpreter lock for its whole run: before the helper process, Ctrl-C waited 40 s
    for the run to end, and a second one killed Python during its shutdown."""
    (tmp_path / "deep.qasm").write_text(deep_circuit())
    cli = Cli("-v", "run", "deep.qasm", "--shots", "10", "--seed", "1", "--out", "out", cwd=tmp_path)
    helper = int(cli.wait_for(r"qiskit-aer helper process (\d+) started").group(1))
    time.sleep(1.0)  # well inside the simulation
    assert cli.proc.poll() is None
    elapsed = cli.signal_and_wait(signal.SIGINT, count)
    assert_interrupted(cli, elapsed)
    assert gone([helper]), "the helper process is still computing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.qasm"]  # no output, no staging folder


@pytest.mark.slow
@pytest.mark.parametrize("count", [1, 2])
def test_ctrl_c_stops_a_long_qutip_sweep_at_once(tmp_path, count):
    job = examples.chevron(load_catalogue(None).get("qutip-2q"), 40, 30, 128)
    (tmp_path / "chevron.json").write_text(json.dumps(job))
    cli = Cli("-v", "run", "chevron.json", "--device", "qutip-2q", "--seed", "1", "--out", "out", cwd=tmp_path)
    cli.wait_for(r"INFO workbench: running ")
    time.sleep(1.5)
    assert cli.proc.poll() is None
    elapsed = cli.signal_and_wait(signal.SIGINT, count)
    assert_interrupted(cli, elapsed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chevron.json"]


@pytest.mark.slow
def test_ctrl_c_stops_a_parallel_run_and_its_local_cluster(tmp_path):
    (tmp_path / "deep.qasm").write_text(deep_circuit())
    cli = Cli("-v", "run", "deep.qasm", "--shots", "10", "--seed", "1", "--parallel", "--workers", "1",
              "--out", "out", cwd=tmp_path)
    cli.wait_for(r"started a local Dask cluster")
    time.sleep(3.0)  # the task reaches the worker, whose aer executor starts its helper
    children = cli.children()
    assert children, "no worker processes"
    elapsed = cli.signal_and_wait(signal.SIGINT, 2)
    assert_interrupted(cli, elapsed)
    assert gone(children), "worker processes outlived the command"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.qasm"]


def staging_folders(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if p.name.endswith(".partial")]


def start_big_export(tmp_path: Path) -> Cli:
    """x-gate with a million shots: tens of MB of output files, a second or more of writing."""
    cli = Cli("run", "x-gate", "--shots", "1000000", "--seed", "1", "--out", "results/big", cwd=tmp_path)
    deadline = time.monotonic() + 300
    parent = tmp_path / "results"
    while time.monotonic() < deadline:
        if parent.is_dir() and staging_folders(parent):
            return cli
        assert cli.proc.poll() is None, cli.stderr
        time.sleep(0.005)
    raise AssertionError("the export never started")


def test_sigterm_during_export_leaves_nothing(tmp_path):
    cli = start_big_export(tmp_path)
    elapsed = cli.signal_and_wait(signal.SIGTERM)
    assert_interrupted(cli, elapsed, code=143, line="error: terminated (SIGTERM)")
    assert list((tmp_path / "results").iterdir()) == []


def test_what_a_killed_export_leaves_is_removed_by_the_next_run(tmp_path, run_cli):
    cli = start_big_export(tmp_path)
    cli.signal_and_wait(signal.SIGKILL)
    assert cli.proc.returncode == -signal.SIGKILL
    (left,) = staging_folders(tmp_path / "results")
    assert json.loads((left / ".workbench-staging").read_text())["pid"] == cli.proc.pid

    ours = tmp_path / "results" / f".mine.{'0' * 12}.partial"  # a live process's staging folder stays
    ours.mkdir()
    (ours / ".workbench-staging").write_text(json.dumps({"host": os.uname().nodename, "pid": os.getpid()}))
    proc = run_cli("run", "x-gate", "--shots", "10", "--out", str(tmp_path / "results" / "next"))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [ours.name, "next"]
