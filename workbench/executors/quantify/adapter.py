"""Everything that knows quantify-scheduler and qblox-instruments, and nothing else does.

quantify-scheduler has announced its end of life in favour of qblox-scheduler: moving over means
rewriting this module alone. It receives a :class:`~.plan.Program` (Qblox semantics, no library
types) and gives back plain numpy arrays and text artefacts. Both libraries are imported inside the
functions here, on first use, so ``import workbench`` and the device catalogue never load them.

The IR -> quantify-scheduler mapping, one plan operation at a time:

=================  =================================================================================
plan operation     quantify-scheduler
=================  =================================================================================
pulse              ``NumericalPulse`` with the exact samples (1 GSa/s, one extra point so the sampled
                   waveform is the IR's sample for sample), on the channel's port and clock
frequency          ``SetClockFrequency(clock, f)`` -> ``set_freq`` (NCO = f - LO)
phase              ``ShiftClockPhase(clock, deg)`` -> ``set_ph_delta``
reset              ``ResetClockPhase(clock)`` -> ``reset_ph`` at each experiment start
idle               ``IdlePulse(duration)`` (IR delays, the relaxation after each experiment)
acquire            ``ThresholdedAcquisition`` (meas_level 2, bin mode APPEND), ``SSBIntegrationComplex``
                   (meas_level 1: APPEND for single, AVERAGE for avg); acq_channel = memory slot,
                   ``coords={"acq_id_<slot>": id}`` ties each bin back to the IR acquisition
=================  =================================================================================

Ports and clocks: ``d<i>`` -> ``q<i>:mw`` / ``q<i>.01``, ``m<i>`` -> ``q<i>:res`` / ``q<i>.ro``,
``u<k>`` -> ``u<k>:cz`` / ``u<k>.cz``. Every operation is placed at its absolute time relative to one
reference operation, so quantify's scheduling never moves anything.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import ExecutionError, UnsupportedError
from workbench.executors.quantify.config import RF, QuantifyConfig
from workbench.executors.quantify.plan import Op, Program

log = logging.getLogger(__name__)

NS = 1e-9
_MODULE_TYPES = {"QCM": "CLUSTER_QCM", "QRM": "CLUSTER_QRM", "QCM_RF": "CLUSTER_QCM_RF", "QRM_RF": "CLUSTER_QRM_RF"}
_SEQ = re.compile(r"^seq(\d+)$")
_MOD = re.compile(r"_module(\d+)$")


def port(channel: str) -> str:
    kind, index = channel[0], channel[1:]
    return {"d": f"q{index}:mw", "m": f"q{index}:res", "u": f"u{index}:cz"}[kind]


def clock(channel: str) -> str:
    kind, index = channel[0], channel[1:]
    return {"d": f"q{index}.01", "m": f"q{index}.ro", "u": f"u{index}.cz"}[kind]


def coord_name(acq_channel: int) -> str:
    """The coordinate that carries acquisition ids on one acquisition channel (quantify wants coords keys
    distinct between channels)."""
    return f"acq_id_{acq_channel}"


def library_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in ("quantify-scheduler", "quantify-core", "qblox-instruments", "qcodes"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _import_libraries() -> None:
    """Import the stack once, turning a missing or broken install into one clear line."""
    try:
        import qblox_instruments  # noqa: F401
        import quantify_scheduler  # noqa: F401
    except Exception as exc:  # an ImportError, or a library failing at import time
        raise ExecutionError(
            f"the quantify executor needs quantify-scheduler and qblox-instruments ({type(exc).__name__}: {exc}); "
            'install them with: pip install "quantify-scheduler==0.28.1" "qblox-instruments>=1.1,<1.2"'
        ) from None


# --------------------------------------------------------------------------------------------- hardware config


def hardware_config(config: QuantifyConfig, instrument: str) -> dict[str, Any]:
    """quantify-scheduler's ``QbloxHardwareCompilationConfig`` for the wiring, the cluster named
    ``instrument`` (its qcodes name, which the instrument coordinator looks up)."""
    cluster = config.cluster
    modulation: dict[str, Any] = {}
    mixers: dict[str, Any] = {}
    output_att: dict[str, int] = {}
    input_att: dict[str, int] = {}
    input_gain: dict[str, Any] = {}
    graph: dict[str, list[str]] = {}
    for ch in config.channels:
        key = f"{port(ch.channel)}-{clock(ch.channel)}"
        kind = cluster.modules[ch.module].type
        if kind in RF:
            modulation[key] = ({"lo_freq": ch.lo_freq} if ch.lo_freq is not None
                               else {"interm_freq": ch.interm_freq})
        if ch.mixer is not None:
            mixers[key] = {"amp_ratio": ch.mixer.amp_ratio, "phase_error": ch.mixer.phase_error,
                           "dc_offset_i": ch.mixer.dc_offset_i, "dc_offset_q": ch.mixer.dc_offset_q}
        if ch.output_att is not None:
            output_att[key] = ch.output_att
        if ch.input_att is not None:
            input_att[key] = ch.input_att
        if ch.input_gain is not None:
            input_gain[key] = {"gain_I": ch.input_gain.gain_i, "gain_Q": ch.input_gain.gain_q}
        graph.setdefault(f"{instrument}.module{ch.module}.complex_output_{ch.output}", []).append(port(ch.channel))
    options: dict[str, Any] = {"modulation_frequencies": modulation}
    for name, value in (("mixer_corrections", mixers), ("output_att", output_att), ("input_att", input_att),
                        ("input_gain", input_gain)):
        if value:
            options[name] = value
    return {
        "config_type": "quantify_scheduler.backends.qblox_backend.QbloxHardwareCompilationConfig",
        "hardware_description": {
            instrument: {
                "instrument_type": "Cluster",
                "ref": cluster.ref,
                "modules": {str(slot): {"instrument_type": m.type} for slot, m in sorted(cluster.modules.items())},
            }
        },
        "hardware_options": options,
        "connectivity": {"graph": [[src, ports if len(ports) > 1 else ports[0]] for src, ports in graph.items()]},
    }


# ------------------------------------------------------------------------------------------------- schedule


def to_schedule(program: Program, name: str) -> Any:
    """The program as a quantify-scheduler ``Schedule`` (``repetitions`` = shots)."""
    from quantify_scheduler import ClockResource, Schedule
    from quantify_scheduler.enums import BinMode
    from quantify_scheduler.operations.acquisition_library import SSBIntegrationComplex, ThresholdedAcquisition
    from quantify_scheduler.operations.pulse_library import (
        IdlePulse,
        NumericalPulse,
        ResetClockPhase,
        SetClockFrequency,
        ShiftClockPhase,
    )

    sched = Schedule(name, repetitions=program.shots)
    for ch, freq in program.clocks.items():
        sched.add_resource(ClockResource(clock(ch), freq))
    ref = sched.add(IdlePulse(4 * NS), label="time reference")  # every operation is placed from its start
    acquisitions = {a.id: a for a in program.acquisitions}
    bin_mode = BinMode.APPEND if program.bin_mode == "append" else BinMode.AVERAGE
    for i, op in enumerate(program.ops):
        if op.kind == "pulse":
            assert op.samples is not None and op.channel is not None
            n = op.samples.size
            samples = np.append(op.samples, op.samples[-1])  # n + 1 points span n ns
            operation: Any = NumericalPulse(samples, np.arange(n + 1) * NS, port(op.channel), clock(op.channel))
        elif op.kind == "frequency":
            operation = SetClockFrequency(clock(op.channel or ""), op.value)
        elif op.kind == "phase":
            operation = ShiftClockPhase(op.value, clock(op.channel or ""))
        elif op.kind == "reset":
            operation = ResetClockPhase(clock(op.channel or ""))
        elif op.kind == "idle":
            operation = IdlePulse(op.duration * NS)
        else:
            acq = acquisitions[op.acquisition]
            common = {"port": port(acq.channel), "clock": clock(acq.channel), "duration": acq.duration * NS,
                      "acq_channel": acq.slot, "coords": {coord_name(acq.slot): acq.id}, "bin_mode": bin_mode}
            if program.protocol == "threshold":
                rotation, threshold = program.thresholds[acq.channel]
                operation = ThresholdedAcquisition(**common, acq_rotation=rotation, acq_threshold=threshold)
            else:
                operation = SSBIntegrationComplex(**common)
        sched.add(operation, ref_op=ref, ref_pt="start", rel_time=op.time * NS, label=f"{i}: {describe(op, program)}")
    return sched


def describe(op: Op, program: Program) -> str:
    """What a plan operation is, in the IR's words, for the timing table."""
    if op.kind == "pulse":
        return f"play {op.name or 'waveform'} on {op.channel}"
    if op.kind == "frequency":
        return f"{op.channel} frequency {op.value:.10g} Hz"
    if op.kind == "phase":
        return f"{op.channel} NCO phase {op.value:+.6g} deg"
    if op.kind == "reset":
        return f"{op.channel} NCO phase reset"
    if op.kind == "idle":
        return "idle"
    acq = next(a for a in program.acquisitions if a.id == op.acquisition)
    return f"acquire q{acq.qubit} of experiment {acq.experiment} into slot {acq.slot}"


# -------------------------------------------------------------------------------------------------- session


@dataclass
class Compiled:
    """A compiled program and the facts the executor needs about it."""

    program: Program
    schedule: Any  # quantify CompiledSchedule
    instructions: dict[str, int]  # "module2_seq0" -> Q1ASM instructions
    waveform_samples: dict[str, int]  # "module2_seq0" -> samples in waveform memory
    limits: dict[str, tuple[int, int]]  # "module2_seq0" -> (instruction limit, waveform sample limit)
    bins: dict[int, tuple[int, int, str, int, int]] = field(default_factory=dict)
    # acquisition id -> (slot, sequencer, qblox acquisition index name, first bin, stride)

    def overflow(self) -> str | None:
        """Why this program does not fit its sequencers' memories, or None."""
        for seq, n in self.instructions.items():
            if n > self.limits[seq][0]:
                return f"{n} Q1ASM instructions on {seq} (limit {self.limits[seq][0]})"
        for seq, n in self.waveform_samples.items():
            if n > self.limits[seq][1]:
                return f"{n} waveform samples on {seq} (limit {self.limits[seq][1]})"
        return None


class ClusterSession:
    """One Qblox cluster (real or dummy) with the quantify objects that drive it.

    qcodes keeps one global registry of instrument names: every object made here gets a name no other
    instrument has, and :meth:`close` closes only what this session created.
    """

    def __init__(self, config: QuantifyConfig, connect_timeout: float):
        self.config = config
        self.connect_timeout = connect_timeout
        self.name = ""
        self._created: list[Any] = []  # qcodes instruments made here, closed in reverse order
        self.cluster: Any = None
        self._device: Any = None
        self._coordinator: Any = None
        self._compiler: Any = None
        self._workdir: str | None = None

    # -- set-up ----------------------------------------------------------------------------------------------

    def open(self) -> None:
        _import_libraries()
        from qblox_instruments import Cluster, ClusterType
        from quantify_scheduler import InstrumentCoordinator, QuantumDevice, SerialCompiler
        from quantify_scheduler.instrument_coordinator.components.qblox import ClusterComponent

        cfg = self.config.cluster
        self.name = _free_name("wb_" + re.sub(r"\W", "_", cfg.name), sorted(cfg.modules))
        if cfg.is_dummy:
            dummy = {slot: getattr(ClusterType, _MODULE_TYPES[m.type]) for slot, m in cfg.modules.items()}
            self.cluster = Cluster(self.name, dummy_cfg=dummy)
            self._workdir = _private_assembly(self.cluster)
        else:
            assert cfg.address is not None
            self.cluster = Cluster(self.name, identifier=cfg.address, port=cfg.port)
        self._created.append(self.cluster)
        check_modules(self.cluster, self.config)
        self._device = QuantumDevice(f"{self.name}_device")
        self._created.append(self._device)
        self._device.hardware_config(hardware_config(self.config, self.name))
        self._coordinator = InstrumentCoordinator(f"{self.name}_coordinator", add_default_generic_icc=False)
        self._created.append(self._coordinator)
        component = ClusterComponent(self.cluster)
        self._created.append(component)
        self._coordinator.add_component(component)
        self._compiler = SerialCompiler(f"{self.name}_compiler", quantum_device=self._device)
        log.info("cluster '%s' ready as qcodes instrument '%s' (%s)", cfg.name, self.name,
                 "dummy" if cfg.is_dummy else cfg.address)

    def close(self) -> None:
        from qcodes.instrument import Instrument

        # The cluster component registers one sub-component per module ("ic_<cluster>_module<slot>"),
        # named after our unique cluster name, so they are ours to close too.
        owned = [f"ic_{self.name}_module{slot}" for slot in self.config.cluster.modules] if self.name else []
        for name in owned:
            with contextlib.suppress(Exception):
                if Instrument.exist(name):
                    Instrument.find_instrument(name).close()
        for instrument in reversed(self._created):
            with contextlib.suppress(Exception):  # closing must never mask the run's own error
                instrument.close()
        self._created.clear()
        self.cluster = self._device = self._coordinator = self._compiler = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    # -- compile ---------------------------------------------------------------------------------------------

    def compile(self, program: Program, name: str) -> Compiled:
        from quantify_scheduler.backends.qblox import constants

        schedule = to_schedule(program, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # instruction overflow: measured below instead
            try:
                compiled = self._compiler.compile(schedule, config=self._device.generate_compilation_config())
            except (ValueError, RuntimeError, KeyError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UnsupportedError(f"quantify-scheduler cannot compile this job for the cluster: {first}") from None
        instructions: dict[str, int] = {}
        samples: dict[str, int] = {}
        limits: dict[str, tuple[int, int]] = {}
        bins: dict[int, tuple[int, int, str, int, int]] = {}
        cluster_block = compiled.compiled_instructions.get(self.name, {})
        coords = _acquisition_coords(cluster_block)
        for module_key, module in cluster_block.items():
            match = _MOD.search(module_key)
            if not match or not isinstance(module, Mapping):
                continue
            slot = int(match.group(1))
            kind = self.config.cluster.modules[slot].type
            max_instr = (constants.MAX_NUMBER_OF_INSTRUCTIONS_QRM if kind in ("QRM", "QRM_RF")
                         else constants.MAX_NUMBER_OF_INSTRUCTIONS_QCM)
            for seq_name, settings in module.get("sequencers", {}).items():
                label = f"module{slot}_{seq_name}"
                program_text = settings.sequence["program"]
                instructions[label] = sum(1 for line in program_text.splitlines()
                                          if line.strip() and not line.strip().endswith(":")
                                          and not line.strip().startswith("#"))
                samples[label] = sum(len(w["data"]) for w in settings.sequence["waveforms"].values())
                limits[label] = (max_instr, constants.MAX_SAMPLE_SIZE_WAVEFORMS)
            for seq_name, channels in module.get("acq_hardware_mapping", {}).items():
                seq = int(_SEQ.match(seq_name).group(1))  # type: ignore[union-attr]
                for acq_channel, indices in channels.items():
                    for acq_index, where in indices.items():
                        aid = coords[acq_channel][acq_index]
                        bins[aid] = (slot, seq, str(where.index), int(where.bin), int(where.stride))
        return Compiled(program, compiled, instructions, samples, limits, bins)

    # -- run -------------------------------------------------------------------------------------------------

    def load_dummy(self, compiled: Compiled, values: Mapping[int, np.ndarray]) -> None:
        """Put the twin's expected IQ points into the dummy's acquisition memory, bin by bin.

        The dummy returns what it is given divided by the integration length (ns), as the hardware
        divides its integrated sum; so each point is multiplied by it. Threshold bits are what the
        sequencer's rotation + threshold make of the point, as the hardware would compute them.
        """
        from qblox_instruments.ieee488_2 import DummyBinnedAcquisitionData

        from workbench.executors.quantify.plan import hardware_bits

        program = compiled.program
        per_index: dict[tuple[int, int, str], dict[int, Any]] = {}
        acqs = {a.id: a for a in program.acquisitions}
        reps = program.shots if program.bin_mode == "append" else 1
        for aid, (slot, seq, index, first, stride) in compiled.bins.items():
            acq = acqs[aid]
            points = np.asarray(values[aid], dtype=complex)
            if program.bin_mode == "average":
                points = np.array([points.mean()])
            if not np.all(np.isfinite(points)):
                raise ExecutionError(f"the twin produced no data for experiment {acq.experiment} slot {acq.slot}")
            if program.protocol == "threshold":
                rotation, threshold = program.thresholds[acq.channel]
                bits = hardware_bits(points, rotation, threshold)
            else:
                bits = np.zeros(points.size, dtype=np.int8)
            table = per_index.setdefault((slot, seq, index), {})
            length = acq.duration
            for rep in range(reps):
                p = points[rep]
                table[first + rep * stride] = DummyBinnedAcquisitionData(
                    data=(float(p.real) * length, float(p.imag) * length), thres=int(bits[rep]), avg_cnt=0)
        for (slot, seq, index), table in per_index.items():
            if sorted(table) != list(range(len(table))):
                raise ExecutionError(f"acquisition bins of module {slot} sequencer {seq} are not contiguous")
            module = self.cluster.modules[slot - 1]
            module.set_dummy_binned_acquisition_data(sequencer=seq, acq_index_name=index,
                                                     data=[table[b] for b in range(len(table))])

    def execute(self, compiled: Compiled, timeout: float) -> dict[int, dict[str, np.ndarray]]:
        """Prepare, start, wait, retrieve: per acquisition id ``{"iq": ..., "bits": ...}`` over shots
        (one value for averaged bins). IQ is read from the same bins for thresholded acquisitions."""
        ic = self._coordinator
        try:
            ic.prepare(compiled.schedule)
            ic.start()
            ic.wait_done(timeout_sec=max(1, int(np.ceil(timeout))))
            dataset = ic.retrieve_acquisition()
        except TimeoutError as exc:
            with contextlib.suppress(Exception):
                ic.stop(allow_failure=True)
            raise ExecutionError(f"the cluster did not finish within {timeout:.0f} s ({exc})") from None
        except (ValueError, RuntimeError, KeyError, OSError) as exc:
            with contextlib.suppress(Exception):
                ic.stop(allow_failure=True)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExecutionError(f"the cluster failed to run the program: {first}") from None
        program = compiled.program
        out: dict[int, dict[str, np.ndarray]] = {}
        for acq in program.acquisitions:
            var = dataset[acq.slot]
            index_dim = next(d for d in var.dims if d.startswith("acq_index"))
            position = int(np.flatnonzero(var.coords[coord_name(acq.slot)].values == acq.id)[0])
            values = np.asarray(var.isel({index_dim: position}).values)
            entry: dict[str, np.ndarray] = {}
            if program.protocol == "threshold":
                entry["bits"] = values.astype(float)
                entry["iq"] = self._raw_integration(compiled, acq.id)
            else:
                entry["iq"] = values.astype(complex).reshape(-1)
            out[acq.id] = entry
        return out

    def _raw_integration(self, compiled: Compiled, aid: int) -> np.ndarray:
        """Integrated IQ of a thresholded acquisition's bins (the hardware keeps both), normalised."""
        slot, seq, index, first, stride = compiled.bins[aid]
        raw = self.cluster.modules[slot - 1].get_acquisitions(seq)[index]["acquisition"]["bins"]["integration"]
        length = next(a.duration for a in compiled.program.acquisitions if a.id == aid)
        picks = first + stride * np.arange(compiled.program.shots)
        i = np.asarray(raw["path0"], dtype=float)[picks]
        q = np.asarray(raw["path1"], dtype=float)[picks]
        return (i + 1j * q) / length

    # -- inspection ------------------------------------------------------------------------------------------

    def artifacts(self, compiled: Compiled, prefix: str = "") -> dict[str, str]:
        """Q1ASM per sequencer, waveforms, sequencer settings and the timing table, as text files."""
        out: dict[str, str] = {}
        cluster_block = compiled.schedule.compiled_instructions.get(self.name, {})
        for module_key, module in cluster_block.items():
            match = _MOD.search(module_key)
            if not match or not isinstance(module, Mapping):
                continue
            slot = int(match.group(1))
            for seq_name, settings in module.get("sequencers", {}).items():
                label = f"module{slot}_{seq_name}"
                sequence = settings.sequence
                out[f"{prefix}q1asm/{label}.q1asm"] = sequence["program"]
                waveforms = {name: {"index": w["index"], "data": [round(float(x), 9) for x in w["data"]]}
                             for name, w in sequence["waveforms"].items()}
                out[f"{prefix}waveforms/{label}.json"] = json.dumps(waveforms)
                details = {
                    "module": slot, "type": self.config.cluster.modules[slot].type, "sequencer": seq_name,
                    "output": settings.channel_name, "modulation_frequency_hz": settings.modulation_freq,
                    "acquisitions": sequence.get("acquisitions", {}),
                    "integration_length_ns": settings.integration_length_acq,
                    "threshold_rotation_deg": settings.thresholded_acq_rotation,
                    "threshold": settings.thresholded_acq_threshold,
                }
                out[f"{prefix}sequencers/{label}.json"] = json.dumps(details, indent=1, default=str)
        out[f"{prefix}timing_table.csv"] = _timing_table(compiled.schedule)
        out[f"{prefix}hardware_config.json"] = json.dumps(hardware_config(self.config, "cluster"), indent=1)
        return out


def _timing_table(compiled: Any) -> str:
    """Every operation at its compiled absolute time, with its port, clock and what it is in the IR.

    Built from the compiled schedule's schedulables: quantify's own ``timing_table`` makes one pandas
    frame per operation (2 s at 2000 operations) and prints pulses with all their samples.
    """
    rows = []
    for schedulable in compiled.schedulables.values():
        op = compiled.operations[schedulable["operation_id"]]
        label = str(schedulable["label"]).split(": ", 1)[-1]
        start = float(schedulable["abs_time"])
        acquisition = op.data.get("acquisition_info") or []
        infos = acquisition or op.data.get("pulse_info") or []
        if infos:
            info = infos[0]
            rows.append((round((start + float(info.get("t0", 0))) / NS, 3), round(float(info["duration"]) / NS, 3),
                         info.get("port") or "", info.get("clock") or "", bool(acquisition), type(op).__name__, label))
    rows.sort(key=lambda r: r[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["abs_time_ns", "duration_ns", "port", "clock", "is_acquisition", "operation", "ir"])
    writer.writerows(rows)
    return buffer.getvalue()


def _acquisition_coords(cluster_block: Mapping[str, Any]) -> dict[Any, dict[int, int]]:
    """acq_channel -> acq_index -> our acquisition id (from the ``coords`` each acquisition carries)."""
    out: dict[Any, dict[int, int]] = {}
    for channel, data in cluster_block.get("acq_channels_data", {}).items():
        coords = data.coords if isinstance(data.coords, list) else [data.coords]
        out[channel] = {i: int(c[coord_name(channel)]) for i, c in enumerate(coords)}
    return out


def _free_name(base: str, slots: list[int]) -> str:
    """A qcodes instrument name nobody holds, nor any name the session derives from it."""
    from qcodes.instrument import Instrument

    n = 0
    while True:
        name = base if n == 0 else f"{base}_{n}"
        derived = (name, f"{name}_device", f"{name}_coordinator", f"ic_{name}",
                   *(f"ic_{name}_module{slot}" for slot in slots))
        if not any(Instrument.exist(x) for x in derived):
            return name
        n += 1


_ASSEMBLERS = {"linux": "q1asm_linux", "darwin": "q1asm_macos", "win32": "q1asm_windows.exe"}
_PROGRAM_COMMAND = "SEQuencer#:PROGram"


def _private_assembly(cluster: Any) -> str | None:
    """Make the dummy's modules assemble programs in a folder of their own.

    qblox-instruments 1.1's dummy modules write every program to ``./tmp.q1asm`` in the process's
    working directory and run the assembler there: junk in the user's folder, and two dummy runs at
    once (threads or processes sharing a folder) overwrite each other's program between write and
    assembly. This rebinds that one command of *our* cluster's module transports to the same assembler
    run in a private temporary folder; the result (assembler status and log) is reported exactly as
    before. Other instruments are untouched. Returns the folder, removed on close.
    """
    import qblox_instruments

    modules = getattr(getattr(cluster, "_transport", None), "_modules", None)
    assembler = Path(qblox_instruments.__file__).parent / "assemblers" / _ASSEMBLERS.get(sys.platform, "")
    if not isinstance(modules, dict) or not assembler.is_file():
        log.warning("cannot isolate the dummy cluster's assembler (qblox-instruments changed): programs are "
                    "assembled through ./tmp.q1asm in the working directory")
        return None
    workdir = tempfile.mkdtemp(prefix="workbench-q1asm-")
    for transport in modules.values():
        commands = getattr(transport, "_cmds", None)
        if isinstance(commands, dict) and _PROGRAM_COMMAND in commands:
            commands[_PROGRAM_COMMAND] = partial(_assemble, transport, workdir, str(assembler))
    return workdir


def _assemble(transport: Any, workdir: str, assembler: str, cmd_params: list, cmd_args: list, bin_in: bytes) -> None:
    folder = tempfile.mkdtemp(dir=workdir)  # one per program: sequencers never share files
    try:
        Path(folder, "program.q1asm").write_text(transport._decode_bin(bin_in).decode(), encoding="utf-8")
        done = subprocess.run([assembler, "-o", "program", "program.q1asm"], cwd=folder, capture_output=True,
                              text=True, check=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    transport._asm_log = done.stdout + done.stderr
    transport._asm_status = done.returncode == 0
    if not transport._asm_status:
        transport._system_error.append("Assembly failed.")


def module_type(module: Any) -> str:
    """QCM / QRM / QCM_RF / QRM_RF of a qblox-instruments module object."""
    kind = "QRM" if module.is_qrm_type else "QCM"
    return kind + ("_RF" if module.is_rf_type else "")


def check_modules(cluster: Any, config: QuantifyConfig) -> None:
    """The modules the cluster has must be the ones the config describes (a wrong slot would play a
    program on the wrong lines)."""
    for slot, expected in sorted(config.cluster.modules.items()):
        module = cluster.modules[slot - 1]
        if not module.present():
            raise ExecutionError(f"cluster '{config.cluster.name}' has no module in slot {slot} "
                                 f"(the config says {expected.type})")
        found = module_type(module)
        if found != expected.type:
            raise ExecutionError(f"cluster '{config.cluster.name}' has a {found} in slot {slot}, "
                                 f"the config says {expected.type}")
