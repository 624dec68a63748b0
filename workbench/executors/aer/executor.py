"""The ``aer`` executor: OpenQASM circuits run as given on Qiskit Aer, results in Qiskit's conventions.

Two promises shape this module. First, the circuit runs *as is* (the QHAna interface demands it): no
measurement is added or removed, and a circuit is only transpiled when Aer does not know one of its
instructions, at optimisation level 0 (basis translation only), so the gates Aer runs are the gates
in the file. Second, a run is reproducible outside the workbench: experiment 0 runs with the options
seed itself as ``seed_simulator`` (later experiments with seeds derived from it, all listed in the
trace), the Aer method is resolved before the run and recorded, and the core's counts are Aer's
``get_counts()`` for the same circuit and seed, register spaces included.

Qiskit and Aer are imported inside the methods: ``import workbench`` and the device listing must not
pay for them.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from importlib import metadata
from typing import Any, ClassVar

import numpy as np

from workbench.circuits.program import CircuitProgram, split_registers
from workbench.devices.model import Device
from workbench.errors import CancelledError, ExecutionError, UnsupportedError
from workbench.executors.base import ExecutionData, Progress, QuantumExecutor
from workbench.options import OptionSpec, ResolvedOptions, Secret

log = logging.getLogger(__name__)

METHODS = ("automatic", "stabilizer", "statevector", "density_matrix", "matrix_product_state")

# Gates Aer's stabilizer method simulates (its basis, minus the non-gates), and what may surround them.
CLIFFORD_GATES = frozenset({"id", "x", "y", "z", "h", "s", "sdg", "sx", "sxdg", "cx", "cy", "cz", "swap", "ecr",
                            "pauli"})
QUARTER_TURN_GATES = frozenset({"rz"})  # Clifford when the angle is a multiple of pi/2; Aer's stabilizer has rz
NON_GATES = frozenset({"measure", "barrier", "reset", "delay"})
CONTROL_FLOW = frozenset({"if_else", "while_loop", "for_loop", "switch_case", "break_loop", "continue_loop"})

MAX_DENSITY_MATRIX_QUBITS = 12  # 4**12 complex128 entries = 256 MiB, the statevector budget of 24 qubits
MAX_STATEVECTOR_OUTPUT_QUBITS = 20  # 2**20 amplitudes = about 30 MB of JSON; larger files help nobody


def experiment_seed(seed: int, experiment: int, stream: int = 0) -> int:
    """``seed_simulator`` of one experiment: the options seed itself for experiment 0's shots.

    So a one-circuit job (every OpenQASM job) is reproduced by a plain Aer call with the seed in
    ``execution-options.json``; other experiments and the extra statevector shot get independent
    seeds derived with ``SeedSequence``.
    """
    if experiment == 0 and stream == 0:
        return int(seed)
    state = np.random.SeedSequence([int(seed), int(experiment), int(stream)]).generate_state(1, dtype=np.uint32)
    return int(state[0])


def _instructions(circuit: Any) -> Iterable[Any]:
    """Every instruction, including those inside control-flow blocks."""
    for instruction in circuit.data:
        yield instruction
        for block in getattr(instruction.operation, "blocks", ()):
            yield from _instructions(block)


def non_clifford_operations(circuit: Any) -> list[str]:
    """Names of the operations that keep a circuit from Aer's stabilizer method (empty: Clifford).

    A custom gate (an OpenQASM ``gate`` definition) counts as Clifford when its definition is: the
    level-0 translation in :meth:`AerExecutor._runnable` unrolls it into the stabilizer basis, as a
    direct ``transpile`` does before Aer picks its method. Qiskit's standard gates outside the basis
    (``t``, ``rx``, but also the Clifford ``iswap``) count as non-Clifford without a look at their
    definitions, as they do for Aer's own automatic choice.
    """
    memo: dict[Any, bool] = {}
    return sorted({i.operation.name for i in _instructions(circuit) if not _is_clifford(i.operation, memo)})


def is_clifford(circuit: Any) -> bool:
    """:func:`non_clifford_operations` is empty, decided at the first offending operation."""
    memo: dict[Any, bool] = {}
    return all(_is_clifford(i.operation, memo) for i in _instructions(circuit))


def _is_clifford(op: Any, memo: dict[Any, bool]) -> bool:
    name = op.name
    if name in CLIFFORD_GATES or name in NON_GATES or name in CONTROL_FLOW:
        return True
    if name in QUARTER_TURN_GATES:
        return _quarter_turns(op.params)
    if getattr(op, "_standard_gate", None) is not None:
        return False
    try:
        key: Any = (name, tuple(float(p) for p in op.params), getattr(op, "num_qubits", 0))
    except (TypeError, ValueError):  # unbound parameters: never Clifford for sure, never memoised
        return False
    if key not in memo:
        memo[key] = False  # a definition that refers to itself (never valid) must not recurse forever
        definition = getattr(op, "definition", None)
        memo[key] = definition is not None and all(
            _is_clifford(i.operation, memo) for i in _instructions(definition))
    return memo[key]


def _quarter_turns(params: Sequence[Any]) -> bool:
    try:
        turns = [float(p) / (math.pi / 2) for p in params]
    except (TypeError, ValueError):  # an unbound parameter
        return False
    return all(abs(t - round(t)) < 1e-9 for t in turns)


def measured_qubits(circuit: Any) -> np.ndarray:
    """For each classical bit, the qubit last measured into it (-1 if none), through control flow."""
    out = np.full(circuit.num_clbits, -1, dtype=np.int64)

    def walk(data: Any, qubits: Mapping[Any, int], clbits: Mapping[Any, int]) -> None:
        for instruction in data:
            op = instruction.operation
            if op.name == "measure":
                for q, c in zip(instruction.qubits, instruction.clbits, strict=True):
                    out[clbits[c]] = qubits[q]
            for block in getattr(op, "blocks", ()):
                walk(block.data, dict(zip(block.qubits, (qubits[q] for q in instruction.qubits), strict=True)),
                     dict(zip(block.clbits, (clbits[c] for c in instruction.clbits), strict=True)))

    walk(circuit.data, {q: i for i, q in enumerate(circuit.qubits)}, {c: i for i, c in enumerate(circuit.clbits)})
    return out


def hex_memory_to_bits(memory: Sequence[str], width: int) -> np.ndarray:
    """Aer's per-shot hex memory (``'0x5'``: bit m = classical bit m) -> (shots, width) int8 bits.

    One decoder for both paths: the helper process's, which imports nothing of the workbench (decoded
    once per distinct value, not once per shot).
    """
    from workbench.executors.aer.helper_main import decode_memory

    return decode_memory(list(memory), width, np)


@cache
def known_operations(method: str) -> frozenset[str]:
    """Instructions Aer runs natively with this method (building Aer's Target costs milliseconds per call)."""
    from qiskit_aer import AerSimulator

    return frozenset(AerSimulator(method=method).target.operation_names) | {"barrier"}


@cache
def _translator(method: str) -> tuple[Any, threading.Lock]:
    """The level-0 pass manager for a method, built once per process (50 ms to build, < 1 ms to run)."""
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_aer import AerSimulator

    return generate_preset_pass_manager(optimization_level=0, backend=AerSimulator(method=method)), threading.Lock()


@lru_cache(maxsize=1)
def _library_versions() -> tuple[tuple[str, str], ...]:
    out = []
    for name in ("qiskit", "qiskit-aer"):
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return tuple(out)


class AerExecutor(QuantumExecutor):
    """Gate-level simulation of OpenQASM 2/3 circuits with qiskit-aer's AerSimulator."""

    name: ClassVar[str] = "aer"
    title: ClassVar[str] = "Qiskit Aer circuit simulator (OpenQASM 2/3 circuits run as given)"
    kind: ClassVar[str] = "simulator"
    consumes: ClassVar[str] = "circuit"
    job_kinds: ClassVar[tuple[str, ...]] = ("circuit",)
    measure_levels: ClassVar[tuple[int, ...]] = (2,)
    tags: ClassVar[tuple[str, ...]] = ("circuit-executor", "qc-simulator", "qiskit", "qasm", "qasm-2", "qasm-3")
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec("statevector", bool, False,
                   "also save the final statevector (one extra shot, measurements included: collapsed)"),
        OptionSpec("method", str, "automatic",
                   "Aer simulation method; automatic: stabilizer for Clifford circuits, else statevector",
                   choices=METHODS),
    )
    # how a run split over Dask workers combines the parts' executorInfo (workbench/parallel/merge.py)
    runs_experiment_subsets: ClassVar[bool] = True
    info_merge: ClassVar[Mapping[str, str]] = {"seeds": "experiments", "transpiled": "experiments",
                                            "statevectorSeeds": "experiments", "statevectorOutcomes": "experiments",
                                            "aerSeconds": "sum"}

    def __init__(self, device: Device, credentials: Mapping[str, Secret] | None = None):
        super().__init__(device, credentials)

    @classmethod
    def versions(cls) -> dict[str, str]:
        """From package metadata (no import), read once per process: it costs about 1 ms per package."""
        return dict(_library_versions())

    def check(self, programs: Sequence[CircuitProgram], options: ResolvedOptions) -> None:  # type: ignore[override]
        super().check(programs, options)  # meas_level, and qubits beyond the device's num_qubits
        method = options["method"]
        for i, program in enumerate(programs):
            where = f"experiments[{i}]"
            n = len(program.qubits)
            if method == "stabilizer":
                others = non_clifford_operations(program.circuit)
                if others:
                    raise UnsupportedError(f"method 'stabilizer' simulates Clifford circuits only; this one uses "
                                           f"{', '.join(others[:6])} (use method 'automatic' or 'statevector')", where)
            if method == "density_matrix" and n > MAX_DENSITY_MATRIX_QUBITS:
                raise UnsupportedError(f"method 'density_matrix' is limited to {MAX_DENSITY_MATRIX_QUBITS} qubits "
                                       f"(4^n amplitudes); this circuit has {n}", where)
            if options["statevector"] and n > MAX_STATEVECTOR_OUTPUT_QUBITS:
                raise UnsupportedError(f"statevector output is limited to {MAX_STATEVECTOR_OUTPUT_QUBITS} qubits "
                                       f"(2^n amplitudes in every output file); this circuit has {n}", where)

    def effective_options(self, programs: Sequence[Any], options: ResolvedOptions) -> Mapping[str, Any]:
        """``method: automatic`` becomes the method that will run, so execution-options.json pins it."""
        if options["method"] != "automatic":
            return {}
        return {"method": self.resolve_method(programs)}

    @staticmethod
    def resolve_method(programs: Sequence[CircuitProgram]) -> str:
        """What ``automatic`` means: stabilizer when every circuit is Clifford (any size, exact), else statevector.

        Aer's own automatic choice is similar but made inside the run, where it cannot be recorded.
        """
        return "stabilizer" if programs and all(is_clifford(p.circuit) for p in programs) else "statevector"

    def run(  # type: ignore[override]
        self,
        programs: Sequence[CircuitProgram],
        options: ResolvedOptions,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        *,
        experiment_ids: Sequence[int] | None = None,
        twin_data: ExecutionData | None = None,
    ) -> ExecutionData:
        """``experiment_ids``: the programs' indices in their job when this is a part of it (a parallel run's
        task); seeds follow the experiment's place in the job, so a part gives the rows the whole job would."""
        started = time.perf_counter()
        n_exp = len(programs)
        ids = list(range(n_exp)) if experiment_ids is None else [int(i) for i in experiment_ids]
        if len(ids) != n_exp:
            raise ValueError(f"{len(ids)} experiment_ids for {n_exp} programs")
        shots = int(options["shots"])
        seed = int(options["seed"])
        method = options["method"]
        if method == "automatic":  # run() called without the core's effective_options
            method = self.resolve_method(programs)
        want_state = bool(options["statevector"])
        width = max((p.memory_slots for p in programs), default=0)
        memory = np.zeros((n_exp, shots, width), dtype=np.int8)
        slot_qubit = np.full((n_exp, width), -1, dtype=np.int64)
        seeds = [experiment_seed(seed, ids[e]) for e in range(n_exp)]
        info: dict[str, Any] = {"engine": "qiskit-aer AerSimulator", "method": method, "seeds": seeds,
                                "transpiled": [], "aerSeconds": 0.0}
        vectors: list[np.ndarray] | None = [] if want_state else None
        aer_seconds = 0.0
        for e, program in enumerate(programs):
            if cancel is not None and cancel.is_set():
                raise CancelledError("run cancelled")
            circuit = program.circuit
            m = program.memory_slots
            slot_qubit[e, :m] = measured_qubits(circuit)
            runnable, transpiled = self._runnable(circuit, method)
            info["transpiled"].append(transpiled)
            if circuit.num_qubits == 0:  # nothing to simulate: bits never written read 0
                if vectors is not None:
                    vectors.append(np.ones(1, dtype=complex))
            else:
                t0 = time.perf_counter()
                bits, _ = _simulate(runnable, method, shots, seeds[e], m, program.name, cancel)
                aer_seconds += time.perf_counter() - t0
                if bits is not None:
                    memory[e, :, :m] = bits
                if vectors is not None:
                    vector, outcome, sv_seed = self._final_state(runnable, method, seed, ids[e], program, cancel)
                    vectors.append(vector)
                    info.setdefault("statevectorSeeds", []).append(sv_seed)
                    info.setdefault("statevectorOutcomes", []).append(outcome)
            if progress is not None:
                progress(e + 1, n_exp)
        info["aerSeconds"] = round(aer_seconds, 6)
        elapsed = time.perf_counter() - started
        log.info("aer ran %d circuit(s) with method %s in %.3f s", n_exp, method, elapsed)
        return ExecutionData(slot_qubit=slot_qubit, memory=memory, statevector=vectors, qpu_seconds=elapsed,
                             info=info)

    @staticmethod
    def _runnable(circuit: Any, method: str) -> tuple[Any, bool]:
        """The circuit itself when Aer knows every instruction, else its level-0 translation to Aer's basis.

        Level 0 only rewrites unknown gates (custom OpenQASM gates, rarer standard gates); it neither
        cancels nor merges gates, so the circuit Aer runs is the file's.
        """
        known = known_operations(method)
        if all(i.operation.name in known for i in _instructions(circuit)):
            return circuit, False
        manager, lock = _translator(method)
        try:
            with lock:  # one pass manager per process; its run keeps state on the instance
                return manager.run(circuit), True
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            raise ExecutionError(f"the circuit cannot be translated to Aer's instructions: {_one_line(exc)}") from None

    def _final_state(self, circuit: Any, method: str, seed: int, experiment: int, program: CircuitProgram,
                     cancel: threading.Event | None = None) -> tuple[np.ndarray, str, int]:
        """The state of all qubits after the whole circuit, measurements included, in one extra shot.

        Aer's ``save_statevector`` after measurements reports a single shot's collapsed state, and in a
        many-shot run it switches off measurement sampling (every shot simulated: 300x slower at 12
        qubits). One separate shot with its own seed gives the same kind of state at the cost of one
        shot, leaves the counts of the main run untouched, and its outcome is recorded so the vector
        can be matched to a count key. The stabilizer and density-matrix methods cannot save a
        statevector; that shot then runs on the statevector method.
        """
        sv_method = method if method in ("statevector", "matrix_product_state") else "statevector"
        sv_seed = experiment_seed(seed, experiment, stream=1)
        m = program.memory_slots
        bits, vector = _simulate(circuit, sv_method, 1, sv_seed, m, program.name, cancel, save_statevector=True)
        value = int(sum(int(b) << i for i, b in enumerate(bits[0]))) if bits is not None and m else 0
        outcome = split_registers(format(value, f"0{m}b"), program.creg_sizes) if m else ""
        return vector, outcome, sv_seed


def _simulate(circuit: Any, method: str, shots: int, seed: int, width: int, name: str,
              cancel: threading.Event | None, *, save_statevector: bool = False) -> tuple[Any, Any]:
    """``(bits (shots, width) int8 or None, statevector or None)`` of one Aer run.

    In the helper process (:mod:`workbench.executors.aer.helper`), so this thread keeps answering
    Ctrl-C and ``cancel`` while Aer's C++ code holds the interpreter lock; in this process where
    there is no helper (not POSIX).
    """
    from workbench.executors.aer import helper

    request = {"circuit": circuit, "method": method, "shots": shots, "seed": seed, "width": width,
               "save_statevector": save_statevector}
    if helper.AVAILABLE:
        return helper.simulate(request, cancel, f"experiment '{name}'")
    return _simulate_here(request, name)


def _simulate_here(request: dict[str, Any], name: str) -> tuple[Any, Any]:
    from qiskit_aer import AerSimulator

    circuit = request["circuit"]
    if request["save_statevector"]:
        circuit = circuit.copy()
        circuit.save_statevector()
    try:
        result = AerSimulator(method=request["method"]).run(
            circuit, shots=request["shots"], seed_simulator=request["seed"], memory=True).result()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        raise ExecutionError(f"qiskit-aer failed on experiment '{name}': {_one_line(exc)}") from None
    if not result.success:
        raise ExecutionError(f"qiskit-aer failed on experiment '{name}': {_one_line(result.status)}")
    hexes = getattr(result.results[0].data, "memory", None)
    width = request["width"]
    bits = hex_memory_to_bits(hexes, width) if hexes is not None and width else None
    vector = np.asarray(result.data(0)["statevector"], dtype=complex) if request["save_statevector"] else None
    return bits, vector


def _one_line(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 300 else text[:297] + "..."
