"""Benchmark: a two-qubit CZ chevron on ``qutip-2q`` (T1/T2, 3 levels), serial against a 2-worker LocalCluster.

Run with ``python benchmarks/bench_parallel.py [--shots 1024] [--repeats 2]``. Everything is measured in
this one run and printed:

* the main case: a 400-experiment chevron (20 coupler amplitudes x 20 flat-top widths, both qubits
  excited, both measured), ``workbench.run(job, "qutip-2q", seed=1)`` serially and with
  ``parallel=Parallel(workers=2)`` (a ``LocalCluster`` of two worker processes on 127.0.0.1). The
  first parallel call includes starting the cluster and the workers' imports; the others reuse it
  (as the CLI does not: it starts and stops a cluster per command, see the first-call figure);
* the scaling curve: the same sweep with 20 amplitudes x 1, 2, 5, 10, 20, 40 widths (20 to 800
  experiments), best of ``--repeats`` warm calls each way;
* every parallel result is compared with the serial one (Datasets identical apart from ids, dates,
  timings and the trace's ``parallel`` section) and the comparison is printed.

The pulse simulator parallelises in units of its own propagation batches (at most 256 experiments,
evenly sized: 400 -> 2 x 200), because a batch's results depend on its members in the last bits; so
a job of up to 256 experiments is one task and gains nothing, and a 2-core machine gains at most 2x.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import workbench
from workbench import examples
from workbench.api import execute, prepare
from workbench.executors.registry import load_catalogue
from workbench.parallel import Parallel, close_local_cluster

DEVICE = "qutip-2q"
VOLATILE = ("tuid", "jobId", "date", "timeTaken", "timeTakenCompile", "timeTakenPrepare", "timeTakenQpu", "parallel")


def chevron(n_amp: int, n_width: int, shots: int) -> dict[str, Any]:
    """The built-in CZ chevron (workbench.examples.chevron) on qutip-2q."""
    return examples.chevron(load_catalogue(None).get(DEVICE), n_amp, n_width, shots)


def comparable(result: workbench.Result) -> Any:
    ds = result.dataset.copy()
    trace = json.loads(ds.attrs["trace"])
    for key in VOLATILE:
        trace.pop(key, None)
    ds.attrs["trace"] = json.dumps(trace, sort_keys=True)
    ds.attrs.pop("tuid")
    return ds


def best(fn: Any, repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    spec = Parallel(workers=2)
    before = " ".join(f"{x:.2f}" for x in os.getloadavg())  # other processes compete for the same cores

    prepared = prepare(chevron(20, 20, args.shots), DEVICE, seed=1)
    execute(prepared)  # imports and first use of scipy, outside every measurement
    t = time.perf_counter()
    first = execute(prepared, parallel=spec)
    first_parallel = time.perf_counter() - t
    serial_s, serial = best(lambda: execute(prepared), args.repeats)
    parallel_s, parallel = best(lambda: execute(prepared, parallel=spec), args.repeats)
    same = comparable(serial).identical(comparable(parallel)) and comparable(serial).identical(comparable(first))
    tasks = parallel.trace["parallel"]["tasks"]
    print(f"400-experiment CZ chevron on {DEVICE} (noise on, 3 levels, {args.shots} shots), {os.cpu_count()} cores, "
          f"load average before: {before}")
    print(f"  serial (warm, best of {args.repeats})                    {serial_s:7.2f} s")
    print(f"  parallel, first call (starts the cluster)           {first_parallel:7.2f} s")
    print(f"  parallel, warm cluster (best of {args.repeats})              {parallel_s:7.2f} s   "
          f"speed-up {serial_s / parallel_s:.2f}x")
    held = ", ".join(f"{t['experiments']} ({t['seconds']:.2f} s)" for t in tasks)
    print(f"  tasks (experiments, seconds on the worker): {held}")
    print(f"  executor time in the serial run (timeTakenQpu)      {serial.trace['timeTakenQpu']:7.2f} s")
    print(f"  identical results: {same}")
    print()
    print("scaling with the number of experiments (warm, best of each)")
    print(f"{'experiments':>11} {'tasks':>5} {'serial s':>9} {'parallel s':>10} {'speed-up':>8}  identical")
    for widths in (1, 2, 5, 10, 20, 40):
        job = prepare(chevron(20, widths, args.shots), DEVICE, seed=1)
        try:
            s_s, s_r = best(lambda job=job: execute(job), args.repeats)
            p_s, p_r = best(lambda job=job: execute(job, parallel=spec), args.repeats)
        except Exception as exc:  # report, do not hide: a failing size is a finding
            print(f"{len(job.programs):>11}  failed: {type(exc).__name__}: {exc}")
            continue
        ok = comparable(s_r).identical(comparable(p_r))
        print(f"{len(job.programs):>11} {len(p_r.trace['parallel']['tasks']):>5} {s_s:>9.2f} {p_s:>10.2f} "
              f"{s_s / p_s:>7.2f}x  {ok}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    close_local_cluster()


if __name__ == "__main__":  # required: the cluster's worker processes import this file again
    main()
