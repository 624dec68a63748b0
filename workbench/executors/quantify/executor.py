"""The ``quantify`` executor: runs IR schedules on a Qblox cluster through quantify-scheduler.

A run takes the cluster's lock, connects (a real cluster is probed with a bounded timeout first),
cuts the job into programs that fit the sequencers (acquisition bins, instruction and waveform
memory), compiles and runs each, and returns the acquisitions as retrieved from the cluster. On a
dummy cluster the acquisitions are the digital twin's (:mod:`.twin`), loaded into the dummy before
each program runs, so dummy results take the same Qblox path as real ones.

Module layout: :mod:`.config` (executor_config models and checks), :mod:`.plan` (IR -> timed Qblox
operations), :mod:`.adapter` (the only module that imports quantify-scheduler / qblox-instruments),
:mod:`.connection` (probe and locks), :mod:`.twin` (expected data for dummies).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from workbench.devices.model import Device
from workbench.errors import CancelledError, ExecutionError, OptionsError, UnsupportedError, WorkbenchError
from workbench.executors.base import ExecutionData, Progress, QuantumExecutor, TwinSimulation
from workbench.executors.quantify import config as qconfig
from workbench.executors.quantify.plan import MAX_BINS, Program, build_program, check_schedule, timing_rules
from workbench.options import OptionSpec, ResolvedOptions, Secret
from workbench.schedule.checks import TimingRules
from workbench.schedule.ir import Schedule

log = logging.getLogger(__name__)

#: The longest idle between shots a Qblox program is given (s): T1 is at most milliseconds, and the program
#: counts its waits in ns.
MAX_REP_TIME = 1.0

ARTIFACTS_HELP = ("q1asm/<module>_<seq>.q1asm (the Q1ASM program of each sequencer), waveforms/<module>_<seq>.json, "
                  "sequencers/<module>_<seq>.json (output, NCO, integration, thresholds), timing_table.csv, "
                  "hardware_config.json; one batch-<k>/ folder each when a job needs several programs")


class QuantifyExecutor(QuantumExecutor):
    """Qblox cluster (real, or a dummy with a digital twin) through quantify-scheduler."""

    name: ClassVar[str] = "quantify"
    title: ClassVar[str] = "Qblox cluster through quantify-scheduler (dummy clusters run a digital twin)"
    kind: ClassVar[str] = "hardware"
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec("connect_timeout", float, None, "seconds a real cluster gets to answer (default: the "
                   "cluster's connect_timeout)", minimum=0.001, maximum=600.0, nullable=True),
        OptionSpec("lock_timeout", float, 300.0, "seconds to wait while another run uses the cluster",
                   minimum=0.0, maximum=86400.0),
    )
    measure_levels: ClassVar[tuple[int, ...]] = (1, 2)
    job_kinds: ClassVar[tuple[str, ...]] = ("pulse", "circuit")
    tags: ClassVar[tuple[str, ...]] = ("qblox", "quantify-scheduler")

    def __init__(self, device: Device, credentials: Mapping[str, Secret] | None = None):
        super().__init__(device, credentials)
        self.config = qconfig.validate(device)
        self._session: Any = None
        self._lock: Any = None

    @classmethod
    def validate_device(cls, device: Device) -> None:
        qconfig.validate(device)

    @classmethod
    def timing_rules(cls, device: Device) -> TimingRules:
        return timing_rules(device, qconfig.validate(device))

    @classmethod
    def versions(cls) -> dict[str, str]:
        from workbench.executors.quantify.adapter import library_versions

        return library_versions()

    def check(self, schedules: Sequence[Schedule], options: ResolvedOptions) -> None:
        super().check(schedules, options)
        rep_time = float(options["rep_time"])
        if not rep_time <= MAX_REP_TIME:  # the idle is counted in ns in the program: 1e308 s overflowed it
            raise OptionsError(f"must be <= {MAX_REP_TIME:g} s on a Qblox cluster (the idle between shots is a "
                               f"wait in ns in its program), got {rep_time:g}", "option 'rep_time'",
                               f"executor {self.name}")
        for i, sched in enumerate(schedules):
            check_schedule(i, sched, self.device, self.config, int(options["shots"]), int(options["meas_level"]),
                           str(options["meas_return"]))

    def effective_options(self, programs: Sequence[Any], options: ResolvedOptions) -> Mapping[str, Any]:
        if options["connect_timeout"] is None:
            return {"connect_timeout": self.config.cluster.connect_timeout}
        return {}

    def twin_simulation(self, programs: Sequence[Any], options: ResolvedOptions) -> TwinSimulation | None:
        """The digital twin's simulation (the pulse simulator on this device, with the options
        :func:`.twin.simulate` uses), or None when the cluster is real or nothing is acquired.

        A parallel run spreads this simulation, the expensive part of a dummy run, over its workers and
        hands its data back to :meth:`run` as ``twin_data``; the cluster itself (one per process, one
        run at a time) stays in the calling process.
        """
        if not self.config.cluster.is_dummy or not any(s.acquires for s in programs):
            return None
        from workbench.executors.qutip import QutipExecutor
        from workbench.options import COMMON_OPTIONS, resolve_options

        specs = tuple(s for s in COMMON_OPTIONS if s.name not in {o.name for o in QutipExecutor.options})
        twin_options = resolve_options(specs + QutipExecutor.options, [
            ("twin", {"shots": int(options["shots"]), "seed": int(options["seed"]), "meas_level": 1,
                      "meas_return": "single"}),
        ])
        return TwinSimulation(QutipExecutor, twin_options)

    # ------------------------------------------------------------------------------------------------- run

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
        """``twin_data``: the twin's simulation when it ran elsewhere (see :meth:`twin_simulation`); a dummy
        cluster then loads its per-shot IQ instead of simulating again."""
        from workbench.executors.quantify import twin
        from workbench.executors.quantify.adapter import ClusterSession
        from workbench.executors.quantify.connection import ClusterLock, probe

        shots, seed = int(options["shots"]), int(options["seed"])
        level, ret = int(options["meas_level"]), str(options["meas_return"])
        cluster = self.config.cluster
        timeout = float(options["connect_timeout"] or cluster.connect_timeout)
        n_exp = len(schedules)
        slots = max((s.memory_slots for s in schedules), default=0)
        slot_qubit = np.full((n_exp, slots), -1, dtype=np.int64)
        for e, sched in enumerate(schedules):
            for a in sched.acquires:
                slot_qubit[e, a.memory_slot] = a.qubit
        per_shot = level == 2 or ret == "single"
        iq = np.full((n_exp, shots, slots), np.nan + 1j * np.nan, dtype=complex) if per_shot else None
        memory = np.zeros((n_exp, shots, slots), dtype=np.int8) if level == 2 else None
        iq_mean = None if per_shot else np.full((n_exp, slots), np.nan + 1j * np.nan, dtype=complex)
        info: dict[str, Any] = {
            "cluster": cluster.name,
            "mode": "dummy cluster, data from the digital twin (pulse simulator)" if cluster.is_dummy
            else f"cluster at {cluster.address}:{cluster.port}",
            "acquisition": ("ThresholdedAcquisition (hardware discrimination), bin mode append" if level == 2 else
                            f"SSBIntegrationComplex, bin mode {'append' if per_shot else 'average'}"),
            "artifacts": ARTIFACTS_HELP,
            "programs": [],
        }
        timings = {"lock": 0.0, "connect": 0.0, "twin": 0.0, "compile": 0.0, "cluster": 0.0}
        artifacts: dict[str, str | bytes] = {}
        if cancel is not None and cancel.is_set():
            raise CancelledError("run cancelled")
        started = time.perf_counter()
        self._lock = ClusterLock(cluster.name, float(options["lock_timeout"]))
        self._lock.acquire()
        timings["lock"] = time.perf_counter() - started
        try:
            t = time.perf_counter()
            if not cluster.is_dummy:
                assert cluster.address is not None
                info["idn"] = probe(cluster.address, timeout, cluster.port)
            self._session = ClusterSession(self.config, timeout)
            try:
                self._session.open()
            except WorkbenchError:
                raise
            except Exception as exc:  # an instrument library failing on a real cluster: one line, not a trace
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise ExecutionError(f"cannot set up cluster '{cluster.name}': {type(exc).__name__}: {first}") from None
            timings["connect"] = time.perf_counter() - t
            expected: np.ndarray | None = None
            if cluster.is_dummy and twin_data is not None:
                expected = twin_data.iq
            elif cluster.is_dummy and any(s.acquires for s in schedules):
                t = time.perf_counter()
                expected = twin.simulate(self.device, schedules, shots, seed, cancel)
                timings["twin"] = time.perf_counter() - t
            batches = self._batches(schedules, shots, per_shot)
            results: list[tuple[Program, Any]] = []
            done = 0
            while batches:
                if cancel is not None and cancel.is_set():
                    raise CancelledError("run cancelled")
                indices = batches.pop(0)
                program = build_program(indices, schedules, self.device, self.config, shots=shots, meas_level=level,
                                        meas_return=ret, rep_time=float(options["rep_time"]))
                t = time.perf_counter()
                compiled = self._session.compile(program, f"{schedules[indices[0]].name}")
                timings["compile"] += time.perf_counter() - t
                overflow = compiled.overflow()
                if overflow is not None:
                    if len(indices) == 1:
                        raise UnsupportedError(f"experiment {indices[0]} does not fit the cluster: {overflow}",
                                               f"experiments[{indices[0]}]")
                    half = len(indices) // 2
                    log.info("program of %d experiments too large (%s): splitting", len(indices), overflow)
                    batches[:0] = [indices[:half], indices[half:]]
                    continue
                t = time.perf_counter()
                if expected is not None:
                    self._session.load_dummy(compiled, twin.expected_points(program, expected))
                measured = self._session.execute(compiled, self._run_timeout(program, timeout))
                timings["cluster"] += time.perf_counter() - t
                self._store(program, measured, iq, memory, iq_mean)
                results.append((program, compiled))
                info["programs"].append({
                    "experiments": [indices[0], indices[-1]],
                    "duration_ns": program.duration_ns,
                    "instructions": compiled.instructions,
                    "waveform_samples": compiled.waveform_samples,
                })
                done += len(indices)
                if progress is not None:
                    progress(done, n_exp)
            for b, (_, compiled) in enumerate(results):
                prefix = f"batch-{b:03d}/" if len(results) > 1 else ""
                artifacts.update(self._session.artifacts(compiled, prefix))
        finally:
            self.close()
        info["seconds"] = {k: round(v, 6) for k, v in timings.items()}
        return ExecutionData(slot_qubit=slot_qubit, iq=iq, memory=memory, iq_mean=iq_mean,
                             qpu_seconds=timings["cluster"], info=info, artifacts=artifacts)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        super().close()

    # --------------------------------------------------------------------------------------------- helpers

    @staticmethod
    def _batches(schedules: Sequence[Schedule], shots: int, per_shot: bool) -> list[list[int]]:
        """Consecutive experiments whose acquisitions fit each readout sequencer's bins; compiling
        splits a batch further when it overflows instruction or waveform memory."""
        factor = shots if per_shot else 1
        batches: list[list[int]] = []
        current: list[int] = []
        used: dict[int, int] = {}
        for e, sched in enumerate(schedules):
            need: dict[int, int] = {}
            for a in sched.acquires:
                need[a.qubit] = need.get(a.qubit, 0) + factor
            if current and any(used.get(q, 0) + n > MAX_BINS for q, n in need.items()):
                batches.append(current)
                current, used = [], {}
            current.append(e)
            for q, n in need.items():
                used[q] = used.get(q, 0) + n
        if current:
            batches.append(current)
        return batches

    @staticmethod
    def _run_timeout(program: Program, connect_timeout: float) -> float:
        """How long the cluster may take: the program's real duration, with margin."""
        return 2.0 * program.shots * program.duration_ns * 1e-9 + 10.0 + connect_timeout

    @staticmethod
    def _store(program: Program, measured: Mapping[int, Mapping[str, np.ndarray]], iq: np.ndarray | None,
               memory: np.ndarray | None, iq_mean: np.ndarray | None) -> None:
        """Put the kept acquisitions where their memory slots say; NaN means the cluster returned
        nothing, which must fail loudly rather than read as all-zero counts."""
        for a in program.acquisitions:
            if not a.kept:
                continue
            values = measured[a.id]
            points = np.asarray(values["iq"])
            bits = values.get("bits")
            if not np.all(np.isfinite(points)) or (bits is not None and not np.all(np.isfinite(bits))):
                raise ExecutionError(f"the cluster returned no data (NaN) for experiment {a.experiment}, memory "
                                     f"slot {a.slot}")
            if iq_mean is not None:
                iq_mean[a.experiment, a.slot] = complex(points.reshape(-1)[0])
                continue
            assert iq is not None
            iq[a.experiment, :, a.slot] = points
            if memory is not None and bits is not None:
                memory[a.experiment, :, a.slot] = bits.astype(np.int8)
