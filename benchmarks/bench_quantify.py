"""Benchmark: compile and run time of the ``quantify`` executor against the size of a job.

Run with ``python benchmarks/bench_quantify.py [--shots 256] [--sizes 10 50 200 500 1000 2000]``.

Each job is one experiment on ``qblox-dummy-1q`` (a dummy cluster with the digital twin) with about N
IR instructions: pairs of a calibrated ``sx`` pulse and a virtual-Z frame change (``fc``) on ``d0``,
with a short delay every tenth pair, then a measurement. The sx angles alternate in sign so that the
qubit ends up near |0> whatever N is. Everything is measured in this run through the public API
(``workbench.run``); the executor's own breakdown comes from ``result-trace.json`` (``executorInfo``):

* ``twin``: the pulse simulator computing what the dummy returns;
* ``compile``: IR -> quantify ``Schedule`` -> ``SerialCompiler`` (Q1ASM, waveforms);
* ``cluster``: loading the twin's data into the dummy, prepare / start / wait / retrieve;
* ``run``: the whole ``workbench.run`` call; the first call (imports, dummy set-up) is reported apart.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import workbench
from workbench.executors.registry import load_catalogue

DEVICE = "qblox-dummy-1q"


def job(n_instructions: int, shots: int) -> dict[str, Any]:
    """One experiment with about ``n_instructions`` IR instructions (see the module docstring)."""
    device = load_catalogue(None).get(DEVICE)
    q = device.qubit(0)
    sx, ro = q.drive.sx, q.readout
    assert sx is not None
    instructions: list[dict[str, Any]] = []
    t = 0
    pairs = max(2, (n_instructions - 2) // 4 * 2)  # an even number: the sx pulses cancel in pairs
    for i in range(pairs):
        phase = math.pi if i % 2 else 0.0  # sx, then sx about -x: pairs cancel
        instructions.append({"name": "fc", "t0": t, "ch": "d0", "phase": phase if i else 0.1})
        instructions.append({"name": "parametric_pulse", "t0": t, "ch": "d0", "pulse_shape": sx.shape,
                             "parameters": sx.parameters()})
        t += sx.duration
        if i % 10 == 9:
            instructions.append({"name": "delay", "t0": t, "ch": "d0", "duration": 8})
            t += 8
    instructions.append({"name": "parametric_pulse", "t0": t, "ch": "m0", "pulse_shape": ro.pulse.shape,
                         "parameters": ro.pulse.parameters()})
    instructions.append({"name": "acquire", "t0": t, "duration": ro.acquire_duration, "qubits": [0],
                         "memory_slot": [0]})
    return {
        "qobj_id": f"bench-{n_instructions}", "type": "PULSE", "schema_version": "1.3.0",
        "header": {"backend_name": DEVICE},
        "config": {"shots": shots, "meas_level": 2, "meas_return": "single", "memory_slots": 1,
                   "parametric_pulses": [sx.shape, ro.pulse.shape]},
        "experiments": [{"header": {"name": f"n{n_instructions}", "memory_slots": 1}, "instructions": instructions}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=256)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200, 500, 1000, 2000])
    parser.add_argument("--repeat", type=int, default=2, help="warm runs per size (best is reported)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    first = workbench.run(job(10, args.shots), device=DEVICE, seed=1)
    cold = time.perf_counter() - t0
    print(f"first call of the process (imports, dummy cluster): {cold:.2f} s "
          f"(connect {first.trace['executorInfo']['seconds']['connect']:.2f} s)\n")

    header = (f"{'IR instr.':>9} {'Q1ASM d0':>9} {'twin s':>8} {'compile s':>10} {'cluster s':>10} "
              f"{'run s':>7} {'compile ms/instr':>17} {'P1':>6}")
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        spec = job(n, args.shots)
        best: dict[str, float] | None = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = workbench.run(spec, device=DEVICE, seed=1)
            wall = time.perf_counter() - t0
            info = result.trace["executorInfo"]
            row = dict(info["seconds"], run=wall)
            if best is None or row["run"] < best["run"]:
                best = row
                q1asm = info["programs"][0]["instructions"].get("module2_seq0", 0)
                instructions = result.trace["instructions"]
                counts = result.counts()
        assert best is not None
        p1 = counts.get("1", 0) / args.shots
        print(f"{instructions:>9} {q1asm:>9} {best['twin']:>8.3f} {best['compile']:>10.3f} {best['cluster']:>10.3f} "
              f"{best['run']:>7.3f} {1e3 * best['compile'] / instructions:>17.3f} {p1:>6.3f}")


if __name__ == "__main__":
    main()
