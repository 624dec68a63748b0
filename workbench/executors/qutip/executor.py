"""The ``qutip`` executor: a pulse-level simulator of the device's transmons.

The model (:mod:`.hamiltonian`) is chalmers-qubit's ``SarimnerModel`` with its ``DecoherenceNoise``,
driven by the schedule's plays with their carriers; :mod:`.compile` turns each schedule into exact
piecewise-constant steps, and one of three engines (:mod:`.methods`: dense propagators, the density
matrix with sparse operators, or quantum-jump trajectories) runs many experiments at once and
measures them projectively at their acquisitions. Here we pick the qubits to simulate (cut into
groups that never interact), choose the engine, batch experiments, sample shots reproducibly and
turn levels into IQ points with the device's readout physics.

The executor is named after the conventions it follows, not after what it runs: it integrates with
its own numpy/scipy propagators and never imports qutip or chalmers-qubit. Both are test references
(``tests/test_qutip_physics.py``, ``benchmarks/bench_simulator.py``), installed with the ``test`` extra.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from workbench.devices.model import Device
from workbench.errors import CancelledError, UnsupportedError
from workbench.executors.base import ExecutionData, Progress, QuantumExecutor
from workbench.executors.qutip import methods
from workbench.executors.qutip.compile import (
    Program,
    compile_schedule,
    components,
    count_steps,
    simulated_qubits,
    slot_writers,
)
from workbench.executors.qutip.hamiltonian import TransmonSystem, build_system
from workbench.options import OptionSpec, ResolvedOptions, Secret
from workbench.readout import acquisition_frequencies, iq_points, level_centres
from workbench.schedule.ir import Schedule

if TYPE_CHECKING:
    from workbench.executors.qutip.propagate import Outcome

log = logging.getLogger(__name__)

MAX_STATE_DIM = methods.PROPAGATOR_MAX  # the dense propagators' limit (kept for callers of the old name)
CHUNK_EXPERIMENTS = 256  # experiments propagated together (progress and cancel act between chunks)
CHUNK_STEPS = 400_000  # step rows compiled per chunk, bounding the compile arrays
CHUNK_PADDED = 4_000_000  # experiments x longest phase: the step-index table the solver walks
MAX_LEAVES = 1_000_000  # joint outcomes of an experiment's independent groups, multiplied out

Part = tuple[int, int]  # (experiment, group of its qubits)


def experiment_rng(seed: int, experiment: int) -> np.random.Generator:
    """The RNG of one experiment: the same draws whatever batch or worker the experiment runs in."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(experiment)]))


def trajectory_rng(seed: int, experiment: int, group: int) -> np.random.Generator:
    """The RNG of one experiment's trajectories (per group of qubits), independent of its shots."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(experiment)], spawn_key=(1, int(group))))


def state_dim(qubits: int, levels: int, noise: bool) -> int:
    n = levels**qubits
    return n * n if noise else n


class QutipExecutor(QuantumExecutor):
    """Lindblad simulation of 3-level transmons in their rotating frames, measured projectively."""

    name: ClassVar[str] = "qutip"
    title: ClassVar[str] = ("Pulse-level transmon simulator: chalmers-qubit's model integrated by the workbench's "
                            "own numpy/scipy engines (propagators, ODE, trajectories; qutip and chalmers-qubit "
                            "are not used)")
    kind: ClassVar[str] = "simulator"
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec("noise", bool, True, "include T1/T2 decoherence (Lindblad); false: unitary evolution"),
        OptionSpec("levels", int, 3, "transmon levels simulated per qubit (2 has no leakage and no coupler)",
                   minimum=2, maximum=6),
        OptionSpec("method", str, "automatic",
                   "propagator (exact dense), ode (density matrix, sparse), trajectories (quantum jumps on "
                   "kets); automatic chooses by the size of each simulated group of qubits",
                   choices=methods.METHODS),
        OptionSpec("trajectories", int, methods.DEFAULT_TRAJECTORIES,
                   "Monte-Carlo budget per experiment (method trajectories, with decoherence): an experiment "
                   "whose jumps have probability q runs max(32, q * trajectories) of them",
                   minimum=1, maximum=1_000_000),
    )
    measure_levels: ClassVar[tuple[int, ...]] = (1, 2)
    job_kinds: ClassVar[tuple[str, ...]] = ("pulse", "circuit")
    tags: ClassVar[tuple[str, ...]] = ("pulse-simulator", "lindblad")
    runs_experiment_subsets: ClassVar[bool] = True
    batch_experiments: int = CHUNK_EXPERIMENTS  # per instance: results depend on it only in rounding (1e-15)
    # how a run split over Dask workers combines the parts' executorInfo (workbench/parallel/merge.py)
    info_merge: ClassVar[Mapping[str, str]] = {"propagators": "sum", "series_steps": "sum", "steps": "sum",
                                            "batches": "sum", "max_branches": "max", "max_substeps": "max",
                                            "representations": "union", "methods": "union",
                                            "trajectories": "max", "trajectory_error": "max", "jumps": "sum"}

    def __init__(self, device: Device, credentials: Mapping[str, Secret] | None = None):
        super().__init__(device, credentials)
        self._systems: dict[tuple[tuple[int, ...], int, bool], TransmonSystem] = {}
        self._couplers = {c.channel: c.qubits for c in device.couplings}
        self._zz_pairs = {frozenset(c.qubits) for c in device.couplings if c.zz != 0.0}
        self._operators: dict[tuple[tuple[int, ...], int, bool], Any] = {}
        self._components: dict[int, tuple[Schedule, list[tuple[int, ...]]]] = {}

    @classmethod
    def versions(cls) -> dict[str, str]:
        """The libraries a run actually uses; qutip and chalmers-qubit are never imported."""
        return dict(_library_versions())

    def components(self, schedule: Schedule) -> list[tuple[int, ...]]:
        """The groups of qubits of ``schedule`` simulated apart (none without acquisitions)."""
        cached = self._components.get(id(schedule))
        if cached is not None and cached[0] is schedule:  # schedules are immutable; check, run and plan ask
            return cached[1]
        found = components(simulated_qubits(schedule, self._couplers), schedule, self._couplers,
                           self._zz_pairs) if schedule.acquires else []
        self._components[id(schedule)] = (schedule, found)
        return found

    def _lindblad(self, qubits: tuple[int, ...], noise: bool) -> bool:
        return noise and any(self.device.qubit(q).t1 is not None or self.device.qubit(q).t2 is not None
                             for q in qubits)

    def method_for(self, qubits: tuple[int, ...], options: ResolvedOptions) -> str:
        levels = int(options["levels"])
        return methods.choose(levels ** len(qubits), self._lindblad(qubits, bool(options["noise"])),
                              str(options["method"]))

    def check(self, schedules: Sequence[Schedule], options: ResolvedOptions) -> None:
        super().check(schedules, options)
        levels = options["levels"]
        refusals: dict[tuple[int, ...], str | None] = {}
        for i, sched in enumerate(schedules):
            for name in sched.channels:
                if name.startswith("u"):
                    if name not in self._couplers:
                        known = ", ".join(sorted(self._couplers)) or "none"
                        raise UnsupportedError(
                            f"control channel {name} is not a coupler of device '{self.device.name}' "
                            f"(couplers: {known})", f"experiments[{i}]")
                    if levels < 3 and sched.plays_on(name):
                        raise UnsupportedError(
                            f"coupler {name} drives |11> <-> |2x>, which needs levels >= 3 (got {levels})",
                            f"experiments[{i}]")
            for qubits in self.components(sched):
                why = refusals.get(qubits, "")
                if why == "":
                    method = self.method_for(qubits, options)
                    lindblad = self._lindblad(qubits, bool(options["noise"]))
                    why = refusals[qubits] = methods.refusal(method, levels ** len(qubits),
                                                             lindblad or method == "ode", int(options["trajectories"]))
                if why is not None:
                    raise UnsupportedError(
                        f"simulating qubits {list(qubits)} with {levels} levels: {why}; run with another method, "
                        "noise=false or levels=2, or split the experiment", f"experiments[{i}]")

    def effective_options(self, programs: Sequence[Any], options: ResolvedOptions) -> Mapping[str, Any]:
        """``method: automatic`` becomes the engine that will run, when one engine runs every group of
        qubits of the job (a job mixing sizes keeps ``automatic``: no single name reproduces it)."""
        if options["method"] != "automatic":
            return {}
        groups = {qubits for sched in programs for qubits in self.components(sched)}
        chosen = {self.method_for(qubits, options) for qubits in groups}
        return {"method": chosen.pop()} if len(chosen) == 1 else {}

    def cost(self, schedules: Sequence[Schedule], options: ResolvedOptions) -> Mapping[str, float]:
        """Steps the propagator would integrate (a carrier detuned from every frame multiplies a play's
        samples by its sub-steps: a ``setf`` to 999 GHz on a coupler under simultaneous drives needs
        ~10^5 per sample), and those steps times the dimension of the state the chosen method evolves (a
        density matrix, or a ket for trajectories)."""
        levels, noise = int(options["levels"]), bool(options["noise"])
        steps = work = 0
        groups, _ = self._groups(schedules)
        for qubits, members in groups.items():
            system = self.system(qubits, levels, noise)
            if self.method_for(qubits, options) == "trajectories":  # kets, never the density matrix
                dim = levels ** len(qubits)
            else:
                dim = state_dim(len(qubits), levels, noise and bool(system.collapse))
            cache: dict[Any, int] = {}
            counted = sum(count_steps(schedules[e], system, cache) for e, _ in members)  # parts: (experiment, group)
            steps += counted
            work += counted * dim
        return {"max_sim_steps": steps, "max_state_work": work}

    def system(self, qubits: tuple[int, ...], levels: int, noise: bool) -> TransmonSystem:
        key = (qubits, levels, noise)
        if key not in self._systems:
            self._systems[key] = build_system(self.device, qubits, levels, noise)
        return self._systems[key]

    def _superoperators(self, system: TransmonSystem) -> Any:
        from workbench.executors.qutip.operators import Superoperators

        key = (system.qubits, system.levels, system.has_decay)
        if key not in self._operators:
            self._operators[key] = Superoperators(system)
        return self._operators[key]

    def run(
        self,
        schedules: Sequence[Schedule],
        options: ResolvedOptions,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        *,
        experiment_ids: Sequence[int] | None = None,
        twin_data: ExecutionData | None = None,
    ) -> ExecutionData:
        """``experiment_ids`` are the schedules' indices in their job when this is a part of it (a parallel
        run's task): shots (and trajectories) are drawn from the RNG of the experiment's place in the job,
        never of its place in this call, so a part gives the rows the whole job would."""
        started = time.perf_counter()
        n_exp = len(schedules)
        ids = list(range(n_exp)) if experiment_ids is None else [int(i) for i in experiment_ids]
        if len(ids) != n_exp:
            raise ValueError(f"{len(ids)} experiment_ids for {n_exp} schedules")
        shots = int(options["shots"])
        seed = int(options["seed"])
        levels = int(options["levels"])
        noise = bool(options["noise"])
        slots = max((s.memory_slots for s in schedules), default=0)
        slot_qubit = np.full((n_exp, slots), -1, dtype=np.int64)
        iq = np.full((n_exp, shots, slots), np.nan + 1j * np.nan, dtype=complex)
        populations = np.full((n_exp, slots, levels), np.nan)
        info: dict[str, Any] = {
            "engine": "workbench engines (numpy/scipy: exact piecewise-constant steps, density-matrix ODE or "
                      "trajectories) of chalmers-qubit's SarimnerModel; qutip and chalmers-qubit not used",
            "levels": levels, "noise": noise, "propagators": 0, "series_steps": 0, "steps": 0, "max_branches": 1,
            "max_substeps": 1, "batches": 0, "representations": [], "methods": [],
            "rng": "experiment e draws its shots from numpy default_rng(SeedSequence([seed, e])), the trajectories "
                   "of its group of qubits g from default_rng(SeedSequence([seed, e], spawn_key=(1, g)))",
        }
        centres: dict[tuple[int, float | None], np.ndarray] = {}
        for e, outcome in self._outcomes(schedules, options, ids, info, progress, cancel):
            self._sample(e, schedules[e], outcome, shots, seed, slot_qubit, iq, populations,
                         acquisition_frequencies(schedules[e]), ids[e], centres)
        elapsed = time.perf_counter() - started
        log.info("simulated %d experiment(s) in %.3f s (%s)", n_exp, elapsed, ", ".join(info["methods"]) or "nothing")
        return ExecutionData(
            slot_qubit=slot_qubit,
            iq=iq,
            extras={"populations": (("experiment", "slot", "level"), populations)},
            qpu_seconds=elapsed,
            info=info,
        )

    def _outcomes(self, schedules: Sequence[Schedule], options: ResolvedOptions, ids: list[int],
                  info: dict[str, Any], progress: Progress | None = None,
                  cancel: threading.Event | None = None) -> Iterator[tuple[int, Outcome]]:
        """Each experiment's exact outcome (joint distribution of its slots' levels), as soon as all its
        groups of qubits are simulated; ``info`` collects the facts for the trace."""
        levels = int(options["levels"])
        noise = bool(options["noise"])
        n_exp = len(schedules)
        groups, idle = self._groups(schedules)
        parts_of = {e: len(self.components(schedules[e])) for e in range(n_exp)}
        pending: dict[int, dict[int, tuple[Outcome, tuple[int, ...]]]] = {}
        done = len(idle)
        if idle:
            log.info("%d experiment(s) without acquisitions: nothing to simulate", len(idle))
        if progress is not None and done:
            progress(done, n_exp)
        representations: set[str] = set()
        used: set[str] = set()
        for qubits, members in groups.items():
            system = self.system(qubits, levels, noise)
            method = self.method_for(qubits, options)
            used.add(method)
            representations.add(self._describe(system, method, noise))
            for batch in self._batches(members, schedules, system):
                if cancel is not None and cancel.is_set():
                    raise CancelledError("run cancelled")
                outcomes, stats = self._propagate(method, system, batch, options, ids, cancel)
                finished = []
                for (e, g), prog, out in zip(batch[0], batch[1], outcomes, strict=True):
                    pending.setdefault(e, {})[g] = (out, qubits)
                    info["max_branches"] = max(info["max_branches"], out.branches)
                    info["max_substeps"] = max(info["max_substeps"], prog.substeps)
                    if method == "trajectories":
                        info["trajectories"] = max(info.get("trajectories", 0), out.trajectories)
                        info["trajectory_error"] = max(info.get("trajectory_error", 0.0), out.error)
                    if len(pending[e]) == parts_of[e]:
                        finished.append((e, self._join(schedules[e], pending.pop(e))))
                for key, value in stats.items():
                    info[key] = info.get(key, 0) + value
                info["batches"] += 1
                yield from finished
                done += len(finished)
                if progress is not None:
                    progress(done, n_exp)
        info["representations"] = sorted(representations)
        info["methods"] = sorted(used)
        if "trajectory_error" in info:
            info["trajectory_error"] = float(f"{info['trajectory_error']:.3g}")

    def distributions(self, schedules: Sequence[Schedule], options: ResolvedOptions) -> list[dict[str, float]]:
        """The joint distribution of each experiment's memory slots before readout: ``{"0110": p}`` with
        the level of slot 0 rightmost (Qiskit's order; a level 2 reads "2", an unwritten slot "0"), as
        the shots are drawn from it. For tests and analyses that want probabilities without shot noise."""
        seed = int(options["seed"]) if options["seed"] is not None else 0
        ids = list(range(len(schedules)))
        out: list[dict[str, float]] = [{"0" * s.memory_slots: 1.0} for s in schedules]
        info: dict[str, Any] = {"max_branches": 1, "max_substeps": 1, "batches": 0}
        options = options.with_values({"seed": seed}, "distributions") if options["seed"] is None else options
        for e, outcome in self._outcomes(schedules, options, ids, info):
            table: dict[str, float] = {}
            for weight, record in zip(outcome.weights, outcome.records, strict=True):
                key = "".join(str(max(int(v), 0)) for v in record[::-1])
                table[key] = table.get(key, 0.0) + float(weight)
            out[e] = table
        return out

    @staticmethod
    def _describe(system: TransmonSystem, method: str, noise: bool) -> str:
        lindblad = noise and system.has_decay
        if method == "trajectories":
            kind = f"ket dim {system.dim}, " + ("quantum-jump trajectories" if lindblad else "one exact trajectory")
        else:
            density = lindblad or method == "ode"
            kind = f"{'lindblad' if density else 'ket'} dim {system.dim ** 2 if density else system.dim}"
        return f"{kind} (qubits {list(system.qubits)}) by {method}"

    def _propagate(self, method: str, system: TransmonSystem, batch: tuple[list[Part], list[Program]],
                   options: ResolvedOptions, ids: list[int],
                   cancel: threading.Event | None) -> tuple[list[Outcome], dict[str, int]]:
        """One batch of programs of one system through the chosen engine."""
        programs = batch[1]
        noise = bool(options["noise"])
        if method == "trajectories":
            from workbench.executors.qutip.trajectories import TrajectoryPropagator

            seed = int(options["seed"])
            rngs = [trajectory_rng(seed, ids[e], g) for e, g in batch[0]]
            runner = TrajectoryPropagator(system, int(options["trajectories"]) if noise else 1)
            outcomes = runner.run(programs, rngs, cancel=cancel)
            return outcomes, {"propagators": runner.stats.propagators, "steps": runner.stats.steps,
                              "jumps": runner.jumps}
        if method == "ode":
            from workbench.executors.qutip.density import DensityPropagator
            from workbench.executors.qutip.propagate import Layout

            engine = DensityPropagator(Layout(system, True), self._superoperators(system))
        else:
            from workbench.executors.qutip.propagate import Propagator, Representation

            engine = Propagator(Representation(system, lindblad=noise and system.has_decay))
        outcomes = engine.run(programs, cancel=cancel)
        return outcomes, {"propagators": engine.stats.propagators, "series_steps": engine.stats.taylor,
                          "steps": engine.stats.steps}

    def _groups(self, schedules: Sequence[Schedule]) -> tuple[dict[tuple[int, ...], list[Part]], list[int]]:
        """Parts of experiments by the qubits they simulate (one system each), and the experiments with
        nothing to simulate."""
        groups: dict[tuple[int, ...], list[Part]] = {}
        idle: list[int] = []
        for e, sched in enumerate(schedules):
            found = self.components(sched)
            if not found:
                idle.append(e)
            for g, qubits in enumerate(found):
                groups.setdefault(qubits, []).append((e, g))
        return groups, idle

    def batch_plan(self, schedules: Sequence[Schedule], options: ResolvedOptions) -> list[list[int]]:
        """The experiments :meth:`run` propagates together, batch by batch (experiments without
        acquisitions last, as one group).

        A batch shares its propagators and is advanced in lockstep, so its results depend on its
        members at the level of rounding (1e-15). A parallel run therefore gives each batch whole to
        one task (run with ``experiment_ids``, the batch alone forms the same batch again) and its
        results are bit for bit those of a serial run. An experiment whose qubits fall into several
        independent groups is in several batches: those batches go together.
        """
        groups, idle = self._groups(schedules)
        batches: list[list[int]] = []
        for qubits, members in groups.items():
            system = self.system(qubits, int(options["levels"]), bool(options["noise"]))
            batches.extend(sorted({e for e, _ in parts}) for parts, _ in self._batches(members, schedules, system))
        plan = _merge_overlapping(batches)
        if idle:
            plan.append(idle)
        return plan

    def _batches(self, members: list[Part], schedules: Sequence[Schedule],
                 system: TransmonSystem) -> Iterator[tuple[list[Part], list[Program]]]:
        """Compile lazily and cut into batches bounded in experiments, step rows and padded table size
        (the solver walks all experiments of a batch in lockstep, padded to the longest phase).

        Batches are evenly sized (400 experiments: 200 + 200, not 256 + 144): the same work as serial,
        and a parallel run, which gives each batch to one worker, is balanced."""
        batch: tuple[list[Part], list[Program]] = ([], [])
        rows = longest = 0
        limit = math.ceil(len(members) / max(1, math.ceil(len(members) / self.batch_experiments)))
        for part in members:
            prog = compile_schedule(schedules[part[0]], system)
            size = sum(len(p) for p in prog.phases)
            length = max((len(p) for p in prog.phases), default=0)
            if batch[0] and (len(batch[0]) >= limit or rows + size > CHUNK_STEPS
                             or (len(batch[0]) + 1) * max(longest, length) > CHUNK_PADDED):
                yield batch
                batch, rows, longest = ([], []), 0, 0
            batch[0].append(part)
            batch[1].append(prog)
            rows += size
            longest = max(longest, length)
        if batch[0]:
            yield batch

    def _join(self, schedule: Schedule, parts: dict[int, tuple[Outcome, tuple[int, ...]]]) -> Outcome:
        """One experiment's outcome from its independent groups of qubits: the joint distribution is the
        product, and each slot comes from the group of the qubit that finally wrote it."""
        if len(parts) == 1:
            return next(iter(parts.values()))[0]
        from workbench.executors.qutip.propagate import Outcome

        writers = slot_writers(schedule)
        m = schedule.memory_slots
        levels = next(iter(parts.values()))[0].slot_populations.shape[1]
        weights = np.ones(1)
        records = np.full((1, m), -1, dtype=np.int64)
        pops = np.full((m, levels), np.nan)
        error, trajectories = 0.0, 0
        for g in sorted(parts):
            out, qubits = parts[g]
            mine = np.isin(writers, qubits)
            if weights.size * out.weights.size > MAX_LEAVES:
                raise UnsupportedError(f"the independent groups of qubits of this experiment have more than "
                                       f"{MAX_LEAVES} joint outcomes together")
            records = np.repeat(records, out.weights.size, axis=0)
            records[:, mine] = np.tile(out.records, (weights.size, 1))[:, mine]
            weights = (weights[:, None] * out.weights[None, :]).reshape(-1)
            pops[mine] = out.slot_populations[mine]
            error = max(error, out.error)
            trajectories = max(trajectories, out.trajectories)
        return Outcome(weights, records, pops, None, int(weights.size), trajectories=trajectories, error=error)

    def _sample(self, e: int, schedule: Schedule, out: Outcome, shots: int, seed: int, slot_qubit: np.ndarray,
                iq: np.ndarray, populations: np.ndarray, frequencies: Mapping[int, float],
                experiment: int | None = None,
                centres: dict[tuple[int, float | None], np.ndarray] | None = None) -> None:
        """Shots from the exact joint outcome distribution, then IQ points per written slot (at the
        readout tone's frequency, which matters for qubits whose readout has a resonator). ``centres``
        keeps each qubit's IQ centres per readout frequency across the experiments of a run."""
        m = schedule.memory_slots
        writers = slot_writers(schedule)
        slot_qubit[e, :m] = writers
        populations[e, :m] = out.slot_populations
        rng = experiment_rng(seed, e if experiment is None else experiment)
        if len(out.weights) > 1:
            cumulative = np.cumsum(out.weights)
            leaf = np.minimum(np.searchsorted(cumulative, rng.random(shots) * cumulative[-1], side="right"),
                              len(out.weights) - 1)
        else:
            leaf = np.zeros(shots, dtype=np.int64)
        levels = out.records[leaf]  # (shots, m)
        for slot in range(m):
            q = int(writers[slot])
            if q < 0:
                continue
            readout = self.device.qubit(q).readout
            frequency = frequencies.get(slot)
            known = centres.get((q, frequency)) if centres is not None else None
            if known is None:
                known = level_centres(readout, frequency)
                if centres is not None:
                    centres[(q, frequency)] = known
            iq[e, :, slot] = iq_points(levels[:, slot], readout, rng, frequency, known)


@functools.lru_cache(maxsize=1)
def _library_versions() -> tuple[tuple[str, str], ...]:
    """From package metadata, read once per process: each lookup scans site-packages (~25 ms)."""
    out = []
    for name in ("numpy", "scipy"):
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return tuple(out)


def _merge_overlapping(groups: list[list[int]]) -> list[list[int]]:
    """Groups that share a member become one (in order of first appearance)."""
    out: list[set[int]] = []
    for group in groups:
        mine = set(group)
        overlapping = [g for g in out if g & mine]
        for g in overlapping:
            mine |= g
            out.remove(g)
        out.append(mine)
    return [sorted(g) for g in out]


def final_states(device: Device, schedules: Sequence[Schedule], *, levels: int = 3, noise: bool = True,
                 method: str = "automatic", trajectories: int = methods.DEFAULT_TRAJECTORIES,
                 seed: int = 0) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """The density matrix at the end of each schedule, in the frame of the true qubit frequencies.

    For calibration and tests, which need phases that shots cannot show. Acquisitions act as
    non-selective measurements (the state is averaged over their outcomes). Returns
    ``(qubits, rho)`` per schedule, ``rho`` on the joint level space of ``qubits`` (first qubit is the
    most significant digit of the basis index, as in ``qutip.tensor``). All simulated qubits form one
    system here, with ``method`` chosen as a run would for that system.
    """
    couplers = {c.channel: c.qubits for c in device.couplings}
    out: list[tuple[tuple[int, ...], np.ndarray]] = []
    for index, sched in enumerate(schedules):
        qubits = simulated_qubits(sched, couplers) or (device.qubits[0].index,)
        system = build_system(device, qubits, levels, noise)
        lindblad = noise and system.has_decay
        chosen = methods.choose(system.dim, lindblad, method)
        program = compile_schedule(sched, system, until_end=True)
        if chosen == "trajectories":
            from workbench.executors.qutip.trajectories import TrajectoryPropagator

            runner = TrajectoryPropagator(system, trajectories if lindblad else 1)
            (outcome,) = runner.run([program], [trajectory_rng(seed, index, 0)], keep_final=True)
        elif chosen == "ode":
            from workbench.executors.qutip.density import DensityPropagator
            from workbench.executors.qutip.propagate import Layout

            (outcome,) = DensityPropagator(Layout(system, True)).run([program], keep_final=True)
        else:
            from workbench.executors.qutip.propagate import Propagator, Representation

            (outcome,) = Propagator(Representation(system, lindblad=lindblad)).run([program], keep_final=True)
        out.append((qubits, outcome.final))
    return out
