"""Parallel runs on a real Dask LocalCluster (127.0.0.1 only) give exactly the serial results.

One two-worker cluster serves the module. A result counts as identical when its Dataset is
``identical`` to the serial one after removing what differs by nature: the run's tuid and date,
timings, and the trace's ``parallel`` section.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import ClassVar

import distributed
import numpy as np
import pytest

import workbench
from workbench import examples
from workbench.api import execute, execute_batch, prepare
from workbench.errors import CancelledError, ExecutionError, OptionsError
from workbench.examples import _experiment, _measure, _play, _qobj
from workbench.executors.base import ExecutionData, QuantumExecutor, TwinSimulation
from workbench.executors.registry import load_catalogue
from workbench.parallel import Parallel
from workbench.parallel.merge import merge, merge_info
from workbench.parallel.runner import ranges

TIMING_KEYS = ("tuid", "jobId", "ID", "date", "timeTaken", "timeTakenCompile", "timeTakenPrepare", "timeTakenQpu",
               "timeTakenQpuPrepare", "timeTakenQpuExecute", "parallel")
TIMING_INFO = ("aerSeconds", "seconds")

BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0],q[1];
measure q[0] -> c[0];
measure q[1] -> c[1];
"""
GHZ_T = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
h q[0];
t q[0];
cx q[0],q[1];
cx q[1],q[2];
rx(0.3) q[2];
measure q -> c;
"""
TWO_REGISTERS = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[2];
creg d[1];
h q[0];
cx q[0],q[1];
x q[2];
measure q[0] -> c[0];
measure q[1] -> c[1];
measure q[2] -> d[0];
"""


def comparable(result: workbench.Result):
    """The Dataset without what differs between two runs of the same job by nature (ids, dates, timings)."""
    ds = result.dataset.copy()
    trace = json.loads(ds.attrs["trace"])
    for key in TIMING_KEYS:
        trace.pop(key, None)
    for key in TIMING_INFO:
        trace["executorInfo"].pop(key, None)
    ds.attrs["trace"] = json.dumps(trace, sort_keys=True)
    options = json.loads(ds.attrs["options"])
    options.pop("ID")  # every run has a fresh one
    ds.attrs["options"] = json.dumps(options, sort_keys=True)
    ds.attrs.pop("tuid")
    return ds


def assert_same(serial: workbench.Result, parallel: workbench.Result) -> None:
    a, b = comparable(serial), comparable(parallel)
    if not a.identical(b):
        for key in a.attrs:
            assert a.attrs[key] == b.attrs.get(key), key
        import xarray as xr

        xr.testing.assert_identical(a, b)
    assert parallel.trace["parallel"]["where"] in ("workers", "client", "twin")


def mixed_job(points: int = 8) -> dict:
    """qutip-2q experiments on three different qubit sets, interleaved, plus one without acquisitions.

    The simulator batches by qubit set, so the tasks hold non-contiguous experiments with one or two
    memory slots: the merge must put every row back in place and pad the one-slot rows.
    """
    dev = load_catalogue(None).get("qutip-2q")
    q0, q1 = dev.qubit(0), dev.qubit(1)
    cz = dev.couplings[0].cz
    experiments = []
    for i, a in enumerate(np.linspace(0.0, 0.9, points)):
        amp = float(a)
        experiments.append(_experiment(f"rabi0-{i}", [_play(0, "d0", q0.drive.x, amp), *_measure(q0, 48, 0)], 1,
                                       {"amp": amp}))
        experiments.append(_experiment(f"rabi1-{i}", [_play(0, "d1", q1.drive.x, amp), *_measure(q1, 48, 0)], 1,
                                       {"amp": amp}))
        instructions = [_play(0, "d0", q0.drive.x), _play(0, "d1", q1.drive.x), _play(48, "u0", cz, amp)]
        t = 48 + cz.duration
        experiments.append(_experiment(f"cz-{i}", instructions + _measure(q0, t, 0) + _measure(q1, t, 1), 2,
                                       {"amp": amp}))
        if i == points // 2:
            experiments.append(_experiment("idle", [_play(0, "d0", q0.drive.x)], 1, {"amp": 0.0}))
    return _qobj("mixed", dev, experiments, 200)


def chevron(n_amp: int, n_width: int, shots: int = 128) -> dict:
    """The built-in CZ chevron (workbench.examples.chevron) on qutip-2q."""
    return examples.chevron(load_catalogue(None).get("qutip-2q"), n_amp, n_width, shots)


@pytest.mark.slow
def test_a_150_experiment_chevron_runs_serially():
    """Regression: the propagator cache was cleared while a block still needed entries it held
    (KeyError on 150-experiment chevrons, serial runs included)."""
    result = workbench.run(chevron(15, 10), "qutip-2q", seed=3)
    pops = result.dataset["populations"]
    assert pops.sizes["experiment"] == 150
    assert np.allclose(pops.sum("level"), 1.0, atol=1e-9)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0")
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def chevron_job():
    """Two batches of 144 (the simulator's even batches): two tasks of about two seconds each."""
    prepared = prepare(chevron(16, 18), "qutip-2q", seed=11)
    return prepared, execute(prepared)


# -------------------------------------------------------------------------------- identical results


def test_qutip_sweep_in_tasks_equals_serial(client):
    prepared = prepare(mixed_job(), "qutip-2q", seed=21)
    serial = execute(prepared)
    seen: list[tuple[int, int]] = []
    parallel = execute(prepared, parallel=Parallel(client=client), progress=lambda d, t: seen.append((d, t)))
    assert_same(serial, parallel)
    info = parallel.trace["parallel"]
    assert info["where"] == "workers" and info["workers"] == 2
    held = sorted(info["tasks"], key=lambda t: t["experiments"])
    assert len(held) == 4  # one task per qubit set, and one for the experiment without acquisitions
    assert {t["experiments"] for t in held} >= {"15"}  # the idle experiment is alone in its task
    assert any("," in t["experiments"] for t in held)  # interleaved experiments: non-contiguous tasks
    assert seen[-1] == (25, 25) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    ds = parallel.dataset
    assert ds.sizes["slot"] == 2 and int(ds["slot_qubit"].sel(experiment=0, slot=1)) == -1
    assert "default_rng(SeedSequence([seed, e]))" in parallel.trace["executorInfo"]["rng"]  # per-experiment streams


def test_aer_batch_and_a_circuit_on_pulses_equal_serial(client):
    circuits = (BELL, GHZ_T, TWO_REGISTERS)
    jobs = [prepare(text, seed=5 + i, flags={"statevector": True}) for i, text in enumerate(circuits)]
    jobs.append(prepare(BELL, "qutip-2q", seed=9))  # the circuit compiled to calibrated pulses
    serial = execute_batch(jobs, parallel=False)
    parallel = execute_batch(jobs, parallel=Parallel(client=client))
    for s, p in zip(serial, parallel, strict=True):
        assert_same(s, p)
    assert parallel[0].trace["executorInfo"]["seeds"] == [5]
    assert parallel[2].counts() == serial[2].counts() and " " in next(iter(parallel[2].counts()))
    assert parallel[3].executor == "qutip"


def test_aer_parts_with_experiment_ids_merge_to_the_whole_run(client):
    """Experiments of one job split over tasks draw the seeds of their place in the job."""
    from workbench.executors.aer import AerExecutor

    prepared = prepare(GHZ_T, seed=123, flags={"statevector": True})
    programs = prepared.programs * 5
    with AerExecutor(prepared.device) as ex:
        whole = ex.run(programs, prepared.options)
        parts = [(ids, ex.run([programs[i] for i in ids], prepared.options, experiment_ids=ids))
                 for ids in ([3, 0], [4], [1, 2])]
    merged = merge(parts, 5, AerExecutor.info_merge)
    np.testing.assert_array_equal(merged.memory, whole.memory)
    assert not np.array_equal(whole.memory[0], whole.memory[1])  # the experiments do differ
    assert merged.info["seeds"] == whole.info["seeds"]
    assert merged.info["statevectorOutcomes"] == whole.info["statevectorOutcomes"]
    for a, b in zip(merged.statevector, whole.statevector, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_qblox_dummy_twin_on_workers_equals_serial(client):
    prepared = prepare("rabi", "qblox-dummy-1q", shots=64, seed=4)
    serial = execute(prepared)
    parallel = execute(prepared, parallel=Parallel(client=client))
    assert_same(serial, parallel)
    assert parallel.trace["parallel"]["where"] == "twin"
    assert parallel.artifacts == serial.artifacts


class WholeJobExecutor(QuantumExecutor):
    """A plugin-style executor whose run() takes no experiment_ids: every job is one task."""

    name: ClassVar[str] = "whole-job-test"
    title: ClassVar[str] = "test executor"

    def run(self, schedules, options, progress=None, cancel=None):
        rng = np.random.default_rng(int(options["seed"]))
        slots = max(s.memory_slots for s in schedules)
        iq = rng.normal(size=(len(schedules), int(options["shots"]), slots)) + 0j
        slot_qubit = np.zeros((len(schedules), slots), dtype=np.int64)
        return ExecutionData(slot_qubit=slot_qubit, iq=iq, info={"pid": os.getpid()})


class HardwareExecutor(WholeJobExecutor):
    """Stands for an instrument: two runs at once must never happen, and never on a worker."""

    name: ClassVar[str] = "hardware-test"
    kind: ClassVar[str] = "hardware"
    busy = threading.Lock()
    runs: ClassVar[list[tuple[int, str]]] = []

    def run(self, schedules, options, progress=None, cancel=None):
        if not HardwareExecutor.busy.acquire(blocking=False):
            raise AssertionError("two hardware runs at once")
        try:
            time.sleep(0.05)  # widen the window in which an overlap would be caught
            HardwareExecutor.runs.append((os.getpid(), threading.current_thread().name))
            return super().run(schedules, options, progress, cancel)
        finally:
            HardwareExecutor.busy.release()


def test_hardware_runs_here_one_at_a_time_while_plugins_go_to_workers(client):
    base = prepare("rabi", "qutip-1q", shots=20, seed=3)
    hardware = [dataclasses.replace(prepare("rabi", "qutip-1q", shots=20, seed=s), executor=HardwareExecutor)
                for s in (1, 2, 3)]
    plugin = dataclasses.replace(base, executor=WholeJobExecutor)
    HardwareExecutor.runs.clear()
    results = execute_batch([hardware[0], plugin, hardware[1], base, hardware[2]], parallel=Parallel(client=client))
    assert [r.trace["parallel"]["where"] for r in results] == ["client", "workers", "client", "workers", "client"]
    assert [pid for pid, _ in HardwareExecutor.runs] == [os.getpid()] * 3
    assert results[1].trace["executorInfo"]["pid"] != os.getpid()  # the plugin ran on a worker, as one task
    assert len(results[1].trace["parallel"]["tasks"]) == 1
    assert results[0].trace["parallel"]["tasks"] == [] and results[0].trace["parallel"]["scheduler"] is None
    serial = execute_batch([hardware[0], plugin], parallel=False)
    assert_same(serial[0], results[0])
    np.testing.assert_array_equal(serial[1].dataset["iq"].values, results[1].dataset["iq"].values)


class PairsExecutor(QuantumExecutor):
    """A plugin that opts into parallel batching through the declared capabilities only.

    Each experiment's IQ comes from its place in the job (``experiment_ids``); experiments are run in
    pairs that must stay together (``batch_plan``); ``info_merge`` says how the tasks' info combine.
    """

    name: ClassVar[str] = "pairs-test"
    runs_experiment_subsets: ClassVar[bool] = True
    info_merge: ClassVar[dict[str, str]] = {"rows": "experiments", "shots": "max"}

    def batch_plan(self, programs, options):
        return [list(range(i, min(i + 2, len(programs)))) for i in range(0, len(programs), 2)]

    def run(self, programs, options, progress=None, cancel=None, *, experiment_ids=None, twin_data=None):
        ids = list(range(len(programs))) if experiment_ids is None else list(experiment_ids)
        slots = max(s.memory_slots for s in programs)
        iq = np.empty((len(programs), int(options["shots"]), slots), dtype=complex)
        for row, e in enumerate(ids):
            rng = np.random.default_rng([int(options["seed"]), e])
            iq[row] = rng.normal(size=iq.shape[1:]) + 1j * rng.normal(size=iq.shape[1:])
        slot_qubit = np.zeros((len(programs), slots), dtype=np.int64)
        return ExecutionData(slot_qubit=slot_qubit, iq=iq,
                             info={"rows": [f"e{e}" for e in ids], "shots": int(options["shots"])})


class TwinInstrument(QuantumExecutor):
    """A plugin instrument that declares a twin simulation: the workers simulate, the instrument reads it."""

    name: ClassVar[str] = "twin-test"
    kind: ClassVar[str] = "hardware"

    def twin_simulation(self, programs, options):
        return TwinSimulation(PairsExecutor, options)

    def run(self, programs, options, progress=None, cancel=None, *, experiment_ids=None, twin_data=None):
        if twin_data is None:  # a serial run simulates here
            twin_data = PairsExecutor(self.device).run(programs, options)
        return ExecutionData(slot_qubit=twin_data.slot_qubit, iq=twin_data.iq * 2, info={"twin": "used"})


def test_a_plugin_declaring_capabilities_runs_parallel_exactly_as_serial(client):
    prepared = dataclasses.replace(prepare("rabi", "qutip-1q", shots=30, seed=8), executor=PairsExecutor)
    serial = execute(prepared)
    parallel = execute(prepared, parallel=Parallel(client=client))
    assert_same(serial, parallel)
    tasks = parallel.trace["parallel"]["tasks"]
    assert sorted(t["experiments"] for t in tasks) == sorted([*(f"{i}-{i + 1}" for i in range(0, 20, 2)), "20"])
    assert all(t["worker"].startswith("tcp://127.0.0.1:") for t in tasks)
    info = parallel.trace["executorInfo"]
    assert info["rows"] == [f"e{e}" for e in range(21)] and info["shots"] == 30  # merged as the rules say


def test_a_plugin_instruments_twin_runs_on_the_workers(client):
    prepared = dataclasses.replace(prepare("rabi", "qutip-1q", shots=30, seed=8), executor=TwinInstrument)
    serial = execute(prepared)
    parallel = execute(prepared, parallel=Parallel(client=client))
    assert parallel.trace["parallel"]["where"] == "twin" and parallel.trace["parallel"]["tasks"]
    np.testing.assert_array_equal(serial.dataset["iq"].values, parallel.dataset["iq"].values)
    assert parallel.trace["executorInfo"] == {"twin": "used"}


# ------------------------------------------------------------------------------------------ failures


@pytest.mark.slow
def test_a_killed_workers_tasks_complete_on_the_others(client, chevron_job):
    prepared, serial = chevron_job
    pids = client.run(os.getpid)
    killed: dict[str, str] = {}

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            busy = {w: keys for w, keys in client.processing().items() if keys}
            if busy:
                time.sleep(0.3)  # into the task, not before it
                worker = sorted(busy)[0]
                killed["worker"] = worker
                os.kill(pids[worker], signal.SIGKILL)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    try:
        parallel = execute(prepared, parallel=Parallel(client=client))
    finally:
        killer.join()
    assert killed, "no worker was busy to be killed"
    assert_same(serial, parallel)
    finished_on = {t["worker"] for t in parallel.trace["parallel"]["tasks"]}
    assert killed["worker"] not in finished_on  # its task was run again on a live worker
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the next tests


def test_cancel_raises_and_drops_outstanding_tasks(client):
    prepared = prepare(chevron(10, 4, shots=64), "qutip-2q", seed=2)
    jobs = [prepared] * 6  # six tasks on two workers: four are still queued when the run is cancelled
    cancel = threading.Event()
    seen: list[int] = []

    def cancel_when_busy() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(client.processing().values()):
            time.sleep(0.02)
        cancel.set()

    helper = threading.Thread(target=cancel_when_busy)
    helper.start()
    try:
        with pytest.raises(CancelledError):
            execute_batch(jobs, parallel=Parallel(client=client), cancel=cancel, progress=lambda d, t: seen.append(d))
    finally:
        helper.join()

    def busy() -> bool:
        held = client.run(lambda dask_worker: len(dask_worker.state.tasks))
        return any(client.processing().values()) or any(held.values())

    deadline = time.monotonic() + 60
    while busy() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not busy()  # queued tasks dropped, running ones stopped: the cluster is idle again
    assert max(seen, default=0) < 6 * 40


def test_running_tasks_see_the_cancel_flag(client):
    from workbench.parallel.tasks import RemoteCancel

    def look(name: str) -> bool:
        return RemoteCancel(name).is_set()

    name = "workbench-cancel-test-flag"
    assert client.submit(look, name, pure=False).result() is False
    distributed.Event(name, client=client).set()
    assert client.submit(look, name, pure=False).result() is True


def closed_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_one_line_and_exit_code_1(tmp_path, run_cli):
    port = closed_loopback_port()
    out = tmp_path / "out"
    proc = run_cli("run", "x-gate", "--scheduler", f"tcp://127.0.0.1:{port}", "--scheduler-timeout", "1",
                   "--out", str(out))
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 1 s "
                                        "(is 'dask scheduler' running there, and is its port open to this machine?)"]
    assert not out.exists()
    env_run = run_cli("run", "x-gate", "--parallel", "--scheduler-timeout", "1", "--out", str(out),
                      env={"WORKBENCH_DASK_SCHEDULER": f"127.0.0.1:{port}"})
    assert env_run.returncode == 1 and len(env_run.stderr.splitlines()) == 1
    assert f"tcp://127.0.0.1:{port}" in env_run.stderr and not out.exists()
    bad = run_cli("run", "x-gate", "--scheduler", "http://127.0.0.1:8786", "--out", str(out))
    assert bad.returncode == 2 and bad.stderr.startswith("error: --scheduler: expected a Dask scheduler address")


def test_unreachable_scheduler_in_the_api():
    port = closed_loopback_port()
    with pytest.raises(ExecutionError, match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"):
        workbench.run("x-gate", parallel=Parallel(scheduler=f"127.0.0.1:{port}", timeout=0.5))
    with pytest.raises(OptionsError):
        Parallel(workers=0)
    with pytest.raises(OptionsError):
        workbench.run("x-gate", parallel=3.5)


# ------------------------------------------------------------------------------------------ the CLI


@pytest.mark.slow
def test_cli_batch_parallel_writes_one_folder_per_job_like_serial(tmp_path, run_cli):
    circuit = tmp_path / "bell.qasm"
    circuit.write_text(BELL)
    jobs = [str(circuit), "x-gate", "rabi"]
    serial = run_cli("run", *jobs, "--seed", "5", "--shots", "100", "--out", str(tmp_path / "serial"))
    assert serial.returncode == 0, serial.stderr
    parallel = run_cli("run", *jobs, "--seed", "5", "--shots", "100", "--parallel", "--workers", "2",
                       "--out", str(tmp_path / "parallel"))
    assert parallel.returncode == 0, parallel.stderr
    index = json.loads((tmp_path / "parallel" / "batch.json").read_text())
    assert [e["folder"] for e in index] == ["1-bell", "2-example-x-gate", "3-example-rabi"]
    assert [e["status"] for e in index] == ["done"] * 3 and index[0]["device"] == "aer-simulator"
    for entry in index:
        runs = {}
        for run in ("parallel", "serial"):
            folder = tmp_path / run / entry["folder"]
            run_id = json.loads((folder / "result-trace.json").read_text())["ID"]
            # every run has a fresh ID (also inside multi-experiment entity IDs); the rest is the same
            runs[run] = [(folder / name).read_text().replace(run_id, "<ID>")
                         for name in ("result-counts.json", "execution-options.json")]
        assert runs["parallel"] == runs["serial"]
        trace = json.loads((tmp_path / "parallel" / entry["folder"] / "result-trace.json").read_text())
        assert trace["parallel"]["where"] == "workers"
    assert parallel.stdout.splitlines()[-1] == f"results written to {tmp_path / 'parallel'}"


def test_cli_batch_with_bad_input_writes_nothing(tmp_path, run_cli):
    out = tmp_path / "out"
    proc = run_cli("run", "x-gate", str(tmp_path / "missing.json"), "--parallel", "--out", str(out))
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert not out.exists()


# ------------------------------------------------------------------------------------ small pieces


def test_merge_pads_slots_and_follows_the_info_rules():
    a = ExecutionData(slot_qubit=np.array([[0]]), iq=np.ones((1, 3, 1), complex),
                      extras={"populations": (("experiment", "slot", "level"), np.full((1, 1, 3), 0.5))},
                      info={"steps": 2, "max_branches": 3, "names": ["b"], "engine": "x", "seeds": [10]})
    b = ExecutionData(slot_qubit=np.array([[1, 0], [0, -1]]), iq=np.full((2, 3, 2), 2 + 0j),
                      extras={"populations": (("experiment", "slot", "level"), np.full((2, 2, 3), 0.25))},
                      info={"steps": 5, "max_branches": 1, "names": ["a", "b"], "engine": "x", "seeds": [11, 12]})
    rules = {"steps": "sum", "max_branches": "max", "names": "union", "seeds": "experiments"}
    merged = merge([([1], a), ([0, 2], b)], 3, rules)
    assert merged.slot_qubit.tolist() == [[1, 0], [0, -1], [0, -1]]
    assert np.isnan(merged.iq[1, :, 1]).all() and (merged.iq[1, :, 0] == 1).all()
    assert np.isnan(merged.extras["populations"][1][1, 1]).all()
    assert merged.info == {"steps": 7, "max_branches": 3, "names": ["a", "b"], "engine": "x", "seeds": [11, 10, 12]}
    assert merge_info([([0], {"x": 1}), ([1], {"x": 2})]) == {"x": [1, 2]}  # unknown and different: kept, listed
    with pytest.raises(ValueError):
        merge([([0], a), ([0, 2], b)], 3)
    assert ranges([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"


def test_import_workbench_parallel_loads_no_dask():
    code = ("import sys, workbench.parallel, workbench.core; "
            "print([m for m in ('dask', 'distributed') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
