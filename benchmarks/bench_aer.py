"""Benchmark: OpenQASM circuits on the workbench's ``aer`` executor vs qiskit-aer called directly.

Run with ``python benchmarks/bench_aer.py [--shots 10000] [--repeats 3]``. Everything is measured in
this one run and printed (nothing is asserted: speed depends on the machine):

* two sets of circuits, timed separately: 10 random 5-qubit circuits of depth 20 with measurements
  (``qiskit.circuit.random.random_circuit``, written to OpenQASM 2 and read back, so both sides run
  the very same circuits) and a 10-qubit GHZ circuit;
* the workbench: ``workbench.run(qasm_text, device="aer-simulator", shots, seed)`` then ``counts()``
  for each circuit: the whole public API (parsing the text, options, the run with per-shot memory,
  the result Dataset and the counts);
* direct, the usual recipe: ``AerSimulator().run(transpile(qc, sim), shots, seed_simulator)`` then
  ``get_counts()``, on circuits already in memory (no parsing);
* direct, the same work as the workbench: the method the workbench recorded, a level-0 translation
  only for circuits Aer cannot run as they are (pass manager built in the warm-up, as the workbench
  caches it), ``get_counts()`` without per-shot memory: the difference to it is the workbench's own
  overhead, per-shot memory included;
* the best of ``--repeats`` warm rounds (one warm-up round first, so imports are not timed), the
  overhead ratios, and whether the counts are identical to each direct variant. The usual recipe
  optimises at level 2 and so may run a different (equivalent) circuit: its counts can differ
  from the workbench's for the random circuits; the same-work variant must match exactly.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import workbench

DEVICE = "aer-simulator"


def random_set(count: int, qubits: int, depth: int) -> list[tuple[str, str]]:
    """``(name, OpenQASM 2 text)`` of reproducible random circuits with a measurement of every qubit."""
    import qiskit.qasm2
    from qiskit.circuit.random import random_circuit

    return [(f"random-{i}", qiskit.qasm2.dumps(random_circuit(qubits, depth, measure=True, seed=1000 + i)))
            for i in range(count)]


def ghz_set(qubits: int) -> list[tuple[str, str]]:
    lines = ['OPENQASM 2.0;', 'include "qelib1.inc";', f"qreg q[{qubits}];", f"creg c[{qubits}];", "h q[0];"]
    lines += [f"cx q[{i}],q[{i + 1}];" for i in range(qubits - 1)]
    lines.append("measure q -> c;")
    return [(f"ghz-{qubits}", "\n".join(lines) + "\n")]


def parse(text: str) -> Any:
    import qiskit.qasm2

    return qiskit.qasm2.loads(text, custom_instructions=qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def run_workbench(circuits: list[tuple[str, str]], shots: int, seeds: list[int]) -> tuple[list[dict], list[str]]:
    counts, methods = [], []
    for (_, text), seed in zip(circuits, seeds, strict=True):
        result = workbench.run(text, device=DEVICE, shots=shots, seed=seed)
        counts.append(result.counts())
        methods.append(result.options["method"])
    return counts, methods


def run_usual(parsed: list[Any], shots: int, seeds: list[int]) -> list[dict]:
    from qiskit import transpile
    from qiskit_aer import AerSimulator

    simulator = AerSimulator()
    return [simulator.run(transpile(qc, simulator), shots=shots, seed_simulator=seed).result().get_counts()
            for qc, seed in zip(parsed, seeds, strict=True)]


class SameWork:
    """The Aer calls the workbench makes, by hand. Simulators, Aer's instruction sets and the pass
    managers are built in the warm-up round and reused (the workbench caches them per process too),
    so the timed rounds hold only per-circuit work."""

    def __init__(self) -> None:
        self.simulators: dict[str, Any] = {}
        self.known: dict[str, set[str]] = {}
        self.managers: dict[str, Any] = {}

    def __call__(self, parsed: list[Any], methods: list[str], shots: int, seeds: list[int]) -> list[dict]:
        from qiskit.transpiler import generate_preset_pass_manager
        from qiskit_aer import AerSimulator

        out = []
        for qc, method, seed in zip(parsed, methods, seeds, strict=True):
            if method not in self.simulators:
                self.simulators[method] = AerSimulator(method=method)
                self.known[method] = set(self.simulators[method].target.operation_names) | {"barrier"}
            simulator = self.simulators[method]
            if any(i.operation.name not in self.known[method] for i in qc.data):
                if method not in self.managers:
                    self.managers[method] = generate_preset_pass_manager(optimization_level=0, backend=simulator)
                qc = self.managers[method].run(qc)
            out.append(simulator.run(qc, shots=shots, seed_simulator=seed).result().get_counts())
        return out


def best_of(repeats: int, call: Callable[[], Any]) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        value = call()
        best = min(best, time.perf_counter() - started)
    return best, value


def bench(label: str, circuits: list[tuple[str, str]], shots: int, repeats: int) -> None:
    seeds = [11 + i for i in range(len(circuits))]
    parsed = [parse(text) for _, text in circuits]
    _, methods = run_workbench(circuits, shots, seeds)  # warm-up: imports, first Aer call
    run_usual(parsed, shots, seeds)
    run_same_work = SameWork()
    run_same_work(parsed, methods, shots, seeds)
    t_wb, (wb_counts, _) = best_of(repeats, lambda: run_workbench(circuits, shots, seeds))
    t_usual, usual = best_of(repeats, lambda: run_usual(parsed, shots, seeds))
    t_same, same = best_of(repeats, lambda: run_same_work(parsed, methods, shots, seeds))
    n = len(circuits)
    print(f"\n{label}: {n} circuit(s), {shots} shots each, methods {sorted(set(methods))}, best of {repeats}")
    print(f"  {'variant':<46} {'seconds':>8} {'per circuit':>12} {'workbench/it':>13} {'same counts':>12}")
    print(f"  {'workbench.run(qasm text) + counts()':<46} {t_wb:8.3f} {t_wb / n * 1e3:10.1f}ms {'':>13} {'':>12}")
    for name, seconds, counts in (("direct: AerSimulator().run(transpile(qc))", t_usual, usual),
                                  ("direct: same method and translation as aer", t_same, same)):
        identical = sum(a == b for a, b in zip(wb_counts, counts, strict=True))
        print(f"  {name:<46} {seconds:8.3f} {seconds / n * 1e3:10.1f}ms {t_wb / seconds:12.2f}x "
              f"{identical:>7}/{n:<4}")
    print(f"  overhead vs the usual recipe: {100 * (t_wb / t_usual - 1):+.1f}%; "
          f"vs the same work done directly: {100 * (t_wb / t_same - 1):+.1f}% "
          f"({(t_wb - t_same) / n * 1e3:+.1f} ms per circuit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from importlib import metadata

    print(f"qiskit {metadata.version('qiskit')}, qiskit-aer {metadata.version('qiskit-aer')}, "
          f"workbench {workbench.__version__}, python {sys.version.split()[0]}")
    bench("random 5-qubit depth-20 circuits", random_set(10, 5, 20), args.shots, args.repeats)
    bench("GHZ-10", ghz_set(10), args.shots, args.repeats)


if __name__ == "__main__":
    main()
