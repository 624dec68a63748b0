"""The ``qutip`` executor: a pulse-level simulator of the device's transmons.

The model (:mod:`.hamiltonian`) is chalmers-qubit's ``SarimnerModel`` with its ``DecoherenceNoise``,
driven by the schedule's plays with their carriers; :mod:`.compile` turns each schedule into exact
piecewise-constant steps and :mod:`.propagate` runs many experiments at once and measures them
projectively at their acquisitions. Here we only pick the qubits to simulate, batch experiments,
sample shots reproducibly and turn levels into IQ points with the device's readout physics.

The executor is named after the conventions it follows, not after what it runs: it integrates with
its own numpy/scipy propagators and never imports qutip or chalmers-qubit. Both are test references
(``tests/test_qutip_physics.py``, ``benchmarks/bench_simulator.py``), installed with the ``test`` extra.
"""

from __future__ import annotations

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
from workbench.executors.qutip.compile import Program, compile_schedule, count_steps, simulated_qubits
from workbench.executors.qutip.hamiltonian import TransmonSystem, build_system
from workbench.options import OptionSpec, ResolvedOptions, Secret
from workbench.readout import acquisition_frequencies, iq_points
from workbench.schedule.ir import Schedule

if TYPE_CHECKING:
    from workbench.executors.qutip.propagate import Outcome

log = logging.getLogger(__name__)

MAX_STATE_DIM = 729  # Liouville dimension of three qutrits (or ket dimension): beyond, memory decides
CHUNK_EXPERIMENTS = 256  # experiments propagated together (progress and cancel act between chunks)
CHUNK_STEPS = 400_000  # step rows compiled per chunk, bounding the compile arrays
CHUNK_PADDED = 4_000_000  # experiments x longest phase: the step-index table the solver walks


def experiment_rng(seed: int, experiment: int) -> np.random.Generator:
    """The RNG of one experiment: the same draws whatever batch or worker the experiment runs in."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(experiment)]))


def state_dim(qubits: int, levels: int, noise: bool) -> int:
    n = levels**qubits
    return n * n if noise else n


class QutipExecutor(QuantumExecutor):
    """Lindblad simulation of 3-level transmons in their rotating frames, measured projectively."""

    name: ClassVar[str] = "qutip"
    title: ClassVar[str] = ("Pulse-level transmon simulator: chalmers-qubit's model integrated by the workbench's "
                            "own numpy/scipy propagators (qutip and chalmers-qubit are not used)")
    kind: ClassVar[str] = "simulator"
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec("noise", bool, True, "include T1/T2 decoherence (Lindblad); false: unitary evolution"),
        OptionSpec("levels", int, 3, "transmon levels simulated per qubit (2 has no leakage and no coupler)",
                   minimum=2, maximum=6),
    )
    measure_levels: ClassVar[tuple[int, ...]] = (1, 2)
    job_kinds: ClassVar[tuple[str, ...]] = ("pulse", "circuit")
    tags: ClassVar[tuple[str, ...]] = ("pulse-simulator", "lindblad")
    runs_experiment_subsets: ClassVar[bool] = True
    batch_experiments: int = CHUNK_EXPERIMENTS  # per instance: results depend on it only in rounding (1e-15)
    # how a run split over Dask workers combines the parts' executorInfo (workbench/parallel/merge.py)
    info_merge: ClassVar[Mapping[str, str]] = {"propagators": "sum", "series_steps": "sum", "steps": "sum",
                                            "batches": "sum", "max_branches": "max", "max_substeps": "max",
                                            "representations": "union"}

    def __init__(self, device: Device, credentials: Mapping[str, Secret] | None = None):
        super().__init__(device, credentials)
        self._systems: dict[tuple[tuple[int, ...], int, bool], TransmonSystem] = {}
        self._couplers = {c.channel: c.qubits for c in device.couplings}

    @classmethod
    def versions(cls) -> dict[str, str]:
        """The libraries a run actually uses; qutip and chalmers-qubit are never imported."""
        out = {}
        for name in ("numpy", "scipy"):
            try:
                out[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                out[name] = "not installed"
        return out

    def check(self, schedules: Sequence[Schedule], options: ResolvedOptions) -> None:
        super().check(schedules, options)
        levels = options["levels"]
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
            qubits = simulated_qubits(sched, self._couplers)
            dim = state_dim(len(qubits), levels, options["noise"])
            if dim > MAX_STATE_DIM:
                raise UnsupportedError(
                    f"simulating qubits {list(qubits)} with {levels} levels needs a state of dimension {dim} "
                    f"(limit {MAX_STATE_DIM}); run with noise=false or levels=2, or split the experiment",
                    f"experiments[{i}]")

    def cost(self, schedules: Sequence[Schedule], options: ResolvedOptions) -> Mapping[str, float]:
        """Steps the propagator would integrate (a carrier detuned from every frame multiplies a play's
        samples by its sub-steps: a ``setf`` to 999 GHz on a coupler under simultaneous drives needs
        ~10^5 per sample), and those steps times the state dimension."""
        levels, noise = int(options["levels"]), bool(options["noise"])
        steps = work = 0
        groups, _ = self._groups(schedules)
        for qubits, members in groups.items():
            system = self.system(qubits, levels, noise)
            dim = state_dim(len(qubits), levels, noise and bool(system.collapse))
            cache: dict[Any, int] = {}
            counted = sum(count_steps(schedules[e], system, cache) for e in members)
            steps += counted
            work += counted * dim
        return {"max_sim_steps": steps, "max_state_work": work}

    def system(self, qubits: tuple[int, ...], levels: int, noise: bool) -> TransmonSystem:
        key = (qubits, levels, noise)
        if key not in self._systems:
            self._systems[key] = build_system(self.device, qubits, levels, noise)
        return self._systems[key]

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
        run's task): shots are drawn from the RNG of the experiment's place in the job, never of its place
        in this call, so a part gives the rows the whole job would."""
        from workbench.executors.qutip.propagate import Propagator, Representation

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
            "engine": "workbench propagators (numpy/scipy, exact piecewise-constant steps) of chalmers-qubit's "
                      "SarimnerModel; qutip and chalmers-qubit not used",
            "levels": levels, "noise": noise, "propagators": 0, "series_steps": 0, "steps": 0, "max_branches": 1,
            "max_substeps": 1, "batches": 0, "representations": [],
            "rng": "experiment e draws its shots from numpy default_rng(SeedSequence([seed, e]))",
        }
        groups, idle = self._groups(schedules)
        done = len(idle)
        if idle:
            log.info("%d experiment(s) without acquisitions: nothing to simulate", len(idle))
        if progress is not None and done:
            progress(done, n_exp)
        representations: set[str] = set()
        for qubits, members in groups.items():
            system = self.system(qubits, levels, noise)
            rep = Representation(system, lindblad=noise and bool(system.collapse))
            kind = "lindblad" if rep.lindblad else "ket"
            representations.add(f"{kind} dim {rep.dim} (qubits {list(qubits)})")
            for batch in self._batches(members, schedules, system):
                if cancel is not None and cancel.is_set():
                    raise CancelledError("run cancelled")
                engine = Propagator(rep)
                programs = batch[1]
                outcomes = engine.run(programs, cancel=cancel)
                for e, prog, out in zip(batch[0], programs, outcomes, strict=True):
                    self._sample(e, prog, out, shots, seed, slot_qubit, iq, populations,
                                 acquisition_frequencies(schedules[e]), ids[e])
                    info["max_branches"] = max(info["max_branches"], out.branches)
                    info["max_substeps"] = max(info["max_substeps"], prog.substeps)
                info["propagators"] += engine.stats.propagators
                info["series_steps"] += engine.stats.taylor
                info["steps"] += engine.stats.steps
                info["batches"] += 1
                done += len(batch[0])
                if progress is not None:
                    progress(done, n_exp)
        info["representations"] = sorted(representations)
        elapsed = time.perf_counter() - started
        log.info("simulated %d experiment(s) in %.3f s (%d propagators)", n_exp, elapsed, info["propagators"])
        return ExecutionData(
            slot_qubit=slot_qubit,
            iq=iq,
            extras={"populations": (("experiment", "slot", "level"), populations)},
            qpu_seconds=elapsed,
            info=info,
        )

    def _groups(self, schedules: Sequence[Schedule]) -> tuple[dict[tuple[int, ...], list[int]], list[int]]:
        """Experiments by the qubits they simulate (one system each), and those with nothing to simulate."""
        groups: dict[tuple[int, ...], list[int]] = {}
        idle: list[int] = []
        for e, sched in enumerate(schedules):
            if sched.acquires:
                groups.setdefault(simulated_qubits(sched, self._couplers), []).append(e)
            else:
                idle.append(e)
        return groups, idle

    def batch_plan(self, schedules: Sequence[Schedule], options: ResolvedOptions) -> list[list[int]]:
        """The experiments :meth:`run` propagates together, batch by batch (experiments without
        acquisitions last, as one group).

        A batch shares its propagators and is advanced in lockstep, so its results depend on its
        members at the level of rounding (1e-15). A parallel run therefore gives each batch whole to
        one task (run with ``experiment_ids``, the batch alone forms the same batch again) and its
        results are bit for bit those of a serial run.
        """
        groups, idle = self._groups(schedules)
        plan: list[list[int]] = []
        for qubits, members in groups.items():
            system = self.system(qubits, int(options["levels"]), bool(options["noise"]))
            plan.extend(indices for indices, _ in self._batches(members, schedules, system))
        if idle:
            plan.append(idle)
        return plan

    def _batches(self, members: list[int], schedules: Sequence[Schedule],
                 system: TransmonSystem) -> Iterator[tuple[list[int], list[Program]]]:
        """Compile lazily and cut into batches bounded in experiments, step rows and padded table size
        (the solver walks all experiments of a batch in lockstep, padded to the longest phase).

        Batches are evenly sized (400 experiments: 200 + 200, not 256 + 144): the same work as serial,
        and a parallel run, which gives each batch to one worker, is balanced."""
        batch: tuple[list[int], list[Program]] = ([], [])
        rows = longest = 0
        limit = math.ceil(len(members) / max(1, math.ceil(len(members) / self.batch_experiments)))
        for e in members:
            prog = compile_schedule(schedules[e], system)
            size = sum(len(p) for p in prog.phases)
            length = max((len(p) for p in prog.phases), default=0)
            if batch[0] and (len(batch[0]) >= limit or rows + size > CHUNK_STEPS
                             or (len(batch[0]) + 1) * max(longest, length) > CHUNK_PADDED):
                yield batch
                batch, rows, longest = ([], []), 0, 0
            batch[0].append(e)
            batch[1].append(prog)
            rows += size
            longest = max(longest, length)
        if batch[0]:
            yield batch

    def _sample(self, e: int, prog: Program, out: Outcome, shots: int, seed: int, slot_qubit: np.ndarray,
                iq: np.ndarray, populations: np.ndarray, frequencies: Mapping[int, float],
                experiment: int | None = None) -> None:
        """Shots from the exact joint outcome distribution, then IQ points per written slot (at the
        readout tone's frequency, which matters for qubits whose readout has a resonator)."""
        m = prog.memory_slots
        slot_qubit[e, :m] = prog.slot_qubit
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
            q = int(prog.slot_qubit[slot])
            if q < 0:
                continue
            iq[e, :, slot] = iq_points(levels[:, slot], self.device.qubit(q).readout, rng, frequencies.get(slot))


def final_states(device: Device, schedules: Sequence[Schedule], *, levels: int = 3,
                 noise: bool = True) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """The density matrix at the end of each schedule, in the frame of the true qubit frequencies.

    For calibration and tests, which need phases that shots cannot show. Acquisitions act as
    non-selective measurements (the state is averaged over their outcomes). Returns
    ``(qubits, rho)`` per schedule, ``rho`` on the joint level space of ``qubits`` (first qubit is the
    most significant digit of the basis index, as in ``qutip.tensor``).
    """
    from workbench.executors.qutip.propagate import Propagator, Representation

    couplers = {c.channel: c.qubits for c in device.couplings}
    out: list[tuple[tuple[int, ...], np.ndarray]] = []
    for sched in schedules:
        qubits = simulated_qubits(sched, couplers) or (device.qubits[0].index,)
        system = build_system(device, qubits, levels, noise)
        rep = Representation(system, lindblad=noise and bool(system.collapse))
        program = compile_schedule(sched, system, until_end=True)
        (outcome,) = Propagator(rep).run([program], keep_final=True)
        out.append((qubits, outcome.final))
    return out
