"""Benchmark: the same schedules as an OpenQASM 3 + OpenPulse program and as a PulseQobj, both ways.

Run with ``python benchmarks/bench_openpulse.py [--repeat 5]``. Prints only (no assertion), best of
``--repeat`` warm rounds after one cold round, for three jobs on their device: a compiled Bell circuit
(``qutip-2q``, 1 experiment), the Rabi example (``qutip-1q``, 21 experiments) and a compiled 400-gate
random two-qubit circuit (``qutip-2q``):

* writing: ``schedules_to_openpulse`` (text) and ``schedules_to_qobj`` + ``json.dumps`` (the baseline);
* reading: ``OpenPulseJob(text)`` (the reference parsers; split from) ``.schedules(device)`` (executing
  the program), against ``load_job(json).schedules(device)`` (the baseline);
* the ratio of each OpenPulse time to its PulseQobj baseline, and the sizes of the two texts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from workbench.executors.registry import load_catalogue


def best(fn, repeat: int) -> tuple[float, object]:
    fn()  # the cold round: imports, parser caches
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def jobs(catalogue):
    from bench_compile import random_circuit
    from qiskit import QuantumCircuit

    from workbench.circuits.program import CircuitProgram
    from workbench.circuits.to_pulses import circuit_to_schedule
    from workbench.examples import build
    from workbench.jobs import load_job

    two, one = catalogue.get("qutip-2q"), catalogue.get("qutip-1q")
    bell = QuantumCircuit(2, 2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    yield "bell (compiled)", two, [circuit_to_schedule(CircuitProgram("bell", bell), two)]
    yield "rabi (21 experiments)", one, load_job(build("rabi", one)).schedules(one)
    yield "400 random gates", two, [circuit_to_schedule(CircuitProgram("random", random_circuit(400)), two)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from workbench.jobs import load_job
    from workbench.jobs.openpulse_job import OpenPulseJob
    from workbench.jobs.to_openpulse import schedules_to_openpulse
    from workbench.jobs.to_qobj import schedules_to_qobj

    catalogue = load_catalogue(None)
    print(f"{'job':<24}{'write ms':>10}{'qobj ms':>10}{'ratio':>8}{'parse ms':>10}{'run ms':>10}"
          f"{'qobj ms':>10}{'ratio':>8}{'qasm kB':>9}{'json kB':>9}")
    for name, device, schedules in jobs(catalogue):
        write, text = best(lambda s=schedules: schedules_to_openpulse(s), args.repeat)
        write_q, data = best(lambda s=schedules: json.dumps(schedules_to_qobj(s, shots=100)), args.repeat)
        parse, job = best(lambda t=text: OpenPulseJob(t), args.repeat)
        run, _ = best(lambda j=job, d=device: j.schedules(d), args.repeat)
        read_q, _ = best(lambda q=data, d=device: load_job(q).schedules(d), args.repeat)
        print(f"{name:<24}{write * 1e3:>10.1f}{write_q * 1e3:>10.1f}{write / write_q:>8.1f}{parse * 1e3:>10.1f}"
              f"{run * 1e3:>10.1f}{read_q * 1e3:>10.1f}{(parse + run) / read_q:>8.1f}{len(text) / 1e3:>9.1f}"
              f"{len(data) / 1e3:>9.1f}")


if __name__ == "__main__":
    main()
