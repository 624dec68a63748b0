"""Benchmark: compiling a 1000-gate random two-qubit circuit to pulses on ``qutip-2q``, and exporting it.

Run with ``python benchmarks/bench_compile.py [--gates 1000] [--repeat 5]``. Prints only (no assertion):

* the circuit: ``--gates`` gates drawn uniformly from rz (random angle), sx, x (either qubit) and cz,
  seeded, so every run compiles the same circuit, then a measurement of both qubits;
* ``circuit_to_schedule``: the first call of the process (imports of the transpiler, the first
  sampling of each calibrated pulse) and the best of ``--repeat`` warm calls, split into Qiskit's
  transpilation and the expansion into the IR, with the cost per input gate and per schedule instruction;
* ``schedules_to_qobj`` (the dict) and ``json.dumps(..., indent=2)`` (what ``workbench compile`` writes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.executors.registry import load_catalogue

DEVICE = "qutip-2q"


def random_circuit(gates: int, seed: int = 2026):
    from qiskit import QuantumCircuit

    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(2, 2)
    for _ in range(gates):
        kind = rng.integers(4)
        q = int(rng.integers(2))
        if kind == 0:
            qc.rz(float(rng.uniform(-np.pi, np.pi)), q)
        elif kind == 1:
            qc.sx(q)
        elif kind == 2:
            qc.x(q)
        else:
            qc.cz(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gates", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from workbench.circuits import to_pulses
    from workbench.circuits.program import CircuitProgram
    from workbench.jobs.to_qobj import schedules_to_qobj

    device = load_catalogue(None).get(DEVICE)
    circuit = random_circuit(args.gates)
    program = CircuitProgram("random", circuit)
    positions = sorted(q.index for q in device.qubits)

    start = time.perf_counter()
    schedule = to_pulses.circuit_to_schedule(program, device)
    first = time.perf_counter() - start
    warm, schedule = best(lambda: to_pulses.circuit_to_schedule(program, device), args.repeat)
    transpile, compiled = best(lambda: to_pulses._transpile(circuit, device, positions), args.repeat)
    expand = warm - transpile
    to_dict, qobj = best(lambda: schedules_to_qobj([schedule], shots=1024, backend_name=device.name), args.repeat)
    to_text, text = best(lambda: json.dumps(qobj, indent=2), args.repeat)

    native = schedule.metadata["gate_counts"]
    n_native = sum(v for k, v in native.items() if k in to_pulses.NATIVE_GATES)
    n_ins = schedule.instruction_count()
    print(f"circuit: {args.gates} random gates (rz/sx/x/cz) on 2 qubits + 2 measurements, device {DEVICE}")
    print(f"compiled: {n_native} native gates {native}, {n_ins} schedule instructions, "
          f"{schedule.duration} samples ({schedule.duration * device.dt * 1e6:.2f} us)")
    print()
    print(f"{'step':<40}{'time':>12}{'per input gate':>18}{'per instruction':>18}")
    rows = [
        ("circuit_to_schedule, first call", first),
        ("circuit_to_schedule, warm (best)", warm),
        ("  of which Qiskit transpile", transpile),
        ("  of which expansion into the IR", expand),
        ("schedules_to_qobj (dict)", to_dict),
        ("json.dumps(indent=2)", to_text),
    ]
    for label, seconds in rows:
        print(f"{label:<40}{seconds * 1e3:>10.2f} ms{seconds / args.gates * 1e6:>15.2f} us"
              f"{seconds / max(n_ins, 1) * 1e6:>15.2f} us")
    print()
    print(f"PulseQobj text: {len(text) / 1024:.1f} KiB; {len(compiled.data)} compiled circuit instructions")


if __name__ == "__main__":
    main()
