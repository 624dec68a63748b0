"""Benchmark: chips. GHZ-5 on ``qutip-5q`` against qutip's ``mesolve``, and how each method scales.

Run with ``python benchmarks/bench_chips.py [--skip-ghz] [--skip-scaling] [--budget 60]``. Printed:

* **GHZ-5**: ``h q[0]; cx q[0],q[1]; ... cx q[3],q[4]``, compiled to the device's pulses, 3 levels,
  T1/T2, 4000 shots: the whole ``workbench run`` (the CLI's ``main`` in this process, so interpreter
  start is excluded; warm: best of 3), its executor time, ``P(00000) + P(11111)``; then qutip's
  ``mesolve`` on the same Hamiltonian (the device's drift with ZZ, the same sampled pulses as
  step-function coefficients on a 0.05 ns grid, the same collapse operators; 243 levels, a 59,049-
  dimensional Liouvillian). ``mesolve`` over the whole schedule takes hours on two cores, so it is
  timed over its first ``--prefix`` ns and extrapolated linearly (its cost per ns is set by the
  sampled pulses and the step bound, the same all along); the ratio is printed.
  chalmers-qubit's ``SarimnerProcessor`` has no ZZ term (its drift is the anharmonicity only), so it
  cannot run this Hamiltonian; on five qutrits its solver is the same ``mesolve``.
* **Scaling**: a chain of n = 1..8 transmons (qutip-5q's physics repeated), all coupled by ZZ, with
  2 and 3 levels and T1/T2: ``sx`` on every qubit at once, an ``x`` staircase (one qubit after the
  other), 500 ns of free evolution, ``sx`` on every qubit at once, all measured. Each method that
  accepts the size runs in a fresh process; the table shows seconds (wall, with the process's CPU
  time) and the peak resident memory the run added. A method that took longer than ``--budget`` s is
  not run for the larger sizes ("over budget").
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.devices.model import Device
from workbench.executors.registry import load_catalogue
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Schedule

GHZ5 = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[5];\ncreg c[5];\nh q[0];\n'
        + "".join(f"cx q[{i}],q[{i + 1}];\n" for i in range(4)) + "measure q -> c;\n")
METHODS = ("propagator", "ode", "trajectories")


# --------------------------------------------------------------------------------------------------
# GHZ-5


def workbench_cli(qasm_path: str, shots: int, repeats: int = 3) -> tuple[float, float, dict[str, Any]]:
    """(best wall seconds of a warm ``workbench run``, its timeTakenQpu, its trace) over ``repeats``."""
    from workbench.cli.main import main

    best, trace = math.inf, {}
    root = Path(tempfile.mkdtemp(prefix="bench-chips-"))
    try:
        for i in range(repeats + 1):  # the first call warms the process up
            out = root / f"run{i}"
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                code = main(["run", qasm_path, "--device", "qutip-5q", "--shots", str(shots), "--seed", "1",
                             "--out", str(out), "--no-progress"])
            elapsed = time.perf_counter() - started
            assert code == 0
            if i and elapsed < best:
                best = elapsed
                trace = json.loads((out / "result-trace.json").read_text())
                counts = json.loads((out / "result-counts.json").read_text())
                counts = counts[0] if isinstance(counts, list) else counts  # one experiment: one object
                trace["_counts"] = counts
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return best, float(trace["timeTakenQpu"]), trace


def mesolve_seconds(device: Device, schedule: Schedule, until: float, grid: float = 0.05) -> float:
    """Wall seconds of qutip's ``mesolve`` of ``schedule`` on ``device`` from 0 to ``until`` ns."""
    import qutip

    n = len(device.qubits)
    dims = 3
    eye = qutip.qeye(dims)

    def on(ops: dict[int, Any]) -> Any:
        return qutip.tensor([ops.get(i, eye) for i in range(n)]).to("CSR")

    a = [on({i: qutip.destroy(dims)}) for i in range(n)]
    num = [op.dag() * op for op in a]
    h0 = 0 * a[0]
    for op, q in zip(a, device.qubits, strict=True):
        h0 += 2 * math.pi * q.anharmonicity * 1e-9 / 2 * op.dag() * op.dag() * op * op
    operators: dict[str, tuple[Any, float, float]] = {}
    for i, q in enumerate(device.qubits):
        operators[f"d{i}"] = (a[i], 2 * math.pi * q.drive.rabi_rate * 1e-9, q.frequency)
    for c in device.couplings:
        h0 += 2 * math.pi * c.zz * 1e-9 * num[c.qubits[0]] * num[c.qubits[1]]
        x, y = c.qubits if c.transition == "11-20" else c.qubits[::-1]  # x is excited twice
        ket = qutip.basis
        flip = on({x: ket(dims, 1) * ket(dims, 2).dag(), y: ket(dims, 1) * ket(dims, 0).dag()})
        reference = device.qubit(x).frequency - device.qubit(y).frequency
        operators[c.channel] = (math.sqrt(2) * flip, 2 * math.pi * c.rate * 1e-9, reference)
    times = np.arange(0.0, until + grid, grid)
    terms: list[Any] = [h0]
    for channel, (op, scale, reference) in operators.items():
        plays = [p for p in schedule.plays_on(channel) if p.t0 < until]
        if not plays:
            continue
        values = np.zeros(times.size, dtype=complex)
        for p in plays:  # D'(t) at the grid midpoints: conj(samples e^{i phase}) times the carrier
            inside = (times >= p.t0) & (times < p.t1)
            t = times[inside] + grid / 2
            iq = p.samples[np.minimum((t - p.t0).astype(int), p.samples.size - 1)] * np.exp(1j * p.phase)
            carrier = 2 * math.pi * (p.frequency - reference) * t * 1e-9 + p.carrier_phase - p.phase
            values[inside] = np.conj(iq) * np.exp(1j * carrier)
        terms.append([scale / 2 * op, qutip.coefficient(values, tlist=times, order=0)])
        terms.append([scale / 2 * op.dag(), qutip.coefficient(np.conj(values), tlist=times, order=0)])
    collapse = []
    for op, q in zip(a, device.qubits, strict=True):
        t1, t2 = q.t1 * 1e9, q.t2 * 1e9
        collapse += [op / math.sqrt(t1), math.sqrt(2 * (1 / t2 - 0.5 / t1)) * op.dag() * op]
    rho0 = qutip.ket2dm(qutip.tensor([qutip.basis(dims, 0)] * n))
    started = time.perf_counter()
    qutip.mesolve(qutip.QobjEvo(terms), rho0, [0.0, until], collapse,
                  options={"atol": 1e-8, "rtol": 1e-6, "max_step": 0.5, "nsteps": 10**7})
    return time.perf_counter() - started


def ghz5(prefix: float) -> None:
    import workbench

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ghz5.qasm")
        Path(path).write_text(GHZ5)
        wall, qpu, trace = workbench_cli(path, 4000)
    counts = trace["_counts"]
    correlated = (counts.get("00000", 0) + counts.get("11111", 0)) / 4000
    info = trace["executorInfo"]
    device = load_catalogue(None).get("qutip-5q")
    schedule = workbench.prepare(GHZ5, device=device).programs[0]
    until = max(a.t0 for a in schedule.acquires)  # the simulator stops at the last acquisition
    meso = mesolve_seconds(device, schedule, prefix) * until / prefix
    print(f"GHZ-5 on qutip-5q: 3 levels, T1/T2, 4000 shots, {until} ns simulated ({info['methods'][0]}, "
          f"{info.get('trajectories', 0)} jump trajectories, error {info.get('trajectory_error')}); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'':52s} {'seconds':>9s} {'vs mesolve':>11s}")
    print(f"{'workbench run (warm, best of 3)':52s} {wall:9.2f} {meso / wall:10.0f}x")
    print(f"{'  of which the executor (timeTakenQpu)':52s} {qpu:9.2f} {meso / qpu:10.0f}x")
    print(f"{f'qutip mesolve (first {prefix:g} ns, extrapolated)':52s} {meso:9.0f}")
    print("chalmers-qubit SarimnerProcessor: not run (no ZZ in its model; on 5 qutrits it is mesolve)")
    print(f"P(00000) + P(11111) = {correlated:.4f} (counts)")


# --------------------------------------------------------------------------------------------------
# scaling


def chain(n: int) -> Device:
    """n transmons in a chain: qubit i has qutip-5q qubit (i mod 4)'s physics, edge (i, i+1) the ZZ and
    coupler of qutip-5q's edge (i mod 4)."""
    base = load_catalogue(None).get("qutip-5q").model_dump(exclude_none=True)
    qubits = [{**base["qubits"][i % 4], "index": i} for i in range(n)]
    couplings = []
    for i in range(n - 1):
        template = base["couplings"][i % 4]
        low, high = (i, i + 1) if i % 2 == 0 else (i + 1, i)  # the odd qubit has the high frequency
        couplings.append({**template, "qubits": [low, high], "channel": f"u{i}"})
    return Device.model_validate({**base, "name": f"chain-{n}", "qubits": qubits, "couplings": couplings})


def staircase(device: Device) -> Schedule:
    from workbench.pulses.shapes import calibrated

    n = len(device.qubits)
    b = ScheduleBuilder("staircase", device.dt, device.frame_frequencies(), n)
    sx = {q.index: calibrated(q.drive.sx) for q in device.qubits}
    x = {q.index: calibrated(q.drive.x) for q in device.qubits}
    for q in range(n):
        b.play(0, f"d{q}", sx[q], "sx")
        b.play(48 * (q + 1), f"d{q}", x[q], "x")
    end = 48 * (n + 1) + 500
    for q in range(n):
        b.play(end, f"d{q}", sx[q], "sx")
        b.acquire(end + 48, 100, q, q)
    return b.build()


def run_case(n: int, levels: int, method: str) -> dict[str, float]:
    """In this (fresh) process: one run of the staircase; seconds, CPU seconds and peak memory added."""
    from workbench.executors.qutip import QutipExecutor
    from workbench.options import COMMON_OPTIONS, resolve_options

    device = chain(n)
    schedule = staircase(device)
    options = resolve_options(COMMON_OPTIONS + QutipExecutor.options,
                              [("bench", {"seed": 1, "shots": 1000, "levels": levels, "method": method})])
    warm = resolve_options(COMMON_OPTIONS + QutipExecutor.options, [("bench", {"seed": 1, "shots": 10})])
    QutipExecutor(chain(1)).run([staircase(chain(1))], warm)  # imports and first-use costs
    executor = QutipExecutor(device)
    executor.check([schedule], options)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    data = executor.run([schedule], options)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": wall, "cpu": cpu, "mb": max(peak - before, 0) / 1024,
            "error": float(data.info.get("trajectory_error", 0.0))}


def scaling(budget: float) -> None:
    from workbench.executors.qutip import methods

    print(f"\nScaling: staircase on an n-qubit ZZ chain, T1/T2, one experiment; seconds (CPU) and MB added; "
          f"budget {budget:g} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    header = f"{'n':>2s} {'lv':>2s} " + " ".join(f"{m:>26s}" for m in METHODS)
    print(header)
    for levels in (2, 3):
        over: set[str] = set()
        for n in range(1, 9):
            cells = []
            for method in METHODS:
                dim = levels**n
                why = methods.refusal(method, dim, True, methods.DEFAULT_TRAJECTORIES)
                if why is not None:
                    cells.append("not accepted")
                    continue
                if method in over:
                    cells.append("over budget")
                    continue
                here = str(Path(__file__).parent)
                code = (f"import json, sys; sys.path.insert(0, {here!r}); import bench_chips; "
                        f"print(json.dumps(bench_chips.run_case({n}, {levels}, {method!r})))")
                try:
                    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                         timeout=max(10 * budget, 120), check=True)
                    result = json.loads(out.stdout.strip().splitlines()[-1])
                except subprocess.TimeoutExpired:
                    over.add(method)
                    cells.append("over budget")
                    continue
                if result["seconds"] > budget:
                    over.add(method)
                cell = f"{result['seconds']:.2f} s ({result['cpu']:.2f}) {result['mb']:.1f} MB"
                cells.append(cell)
            print(f"{n:2d} {levels:2d} " + " ".join(f"{c:>26s}" for c in cells), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-ghz", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--prefix", type=float, default=30.0, help="ns of mesolve actually run")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds after which a method stops growing")
    args = parser.parse_args()
    if not args.skip_ghz:
        ghz5(args.prefix)
    if not args.skip_scaling:
        scaling(args.budget)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
