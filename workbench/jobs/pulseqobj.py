"""The PulseQobj (OpenPulse job, schema 1.x) as pydantic models, plus the checks pydantic cannot do.

Qiskit 2 removed ``qiskit.qobj``, so the schema lives here. The models are strict where a mistake
would silently change the physics (types of times, frequencies, phases, channels, slots) and open
where Qiskit writes bookkeeping the workbench has no use for (``header`` and ``config`` extras), so
that any PulseQobj Qiskit ever assembled loads without edits.

Parsing happens in two steps: pydantic checks each value in isolation; :func:`parse_document` then
checks what needs the whole document (pulse-library names, acquire lists of equal length, memory
slots). Both raise :class:`~workbench.errors.JobError` located by a JSON path relative to the qobj
(``experiments[3].instructions[7].pulse_shape``), also when the qobj sits inside a Tergite envelope,
because that is the part of the file users edit.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

from workbench.errors import JobError
from workbench.jobs.envelope import is_envelope, unwrap
from workbench.pulses.shapes import parse_samples
from workbench.validation import format_validation_error, hidden_tag

#: Instruction names with a meaning of their own; any other name plays a pulse-library waveform.
INSTRUCTION_NAMES = ("parametric_pulse", "setf", "shiftf", "setp", "fc", "delay", "acquire", "snapshot")
#: Frequencies above this (in GHz) are almost certainly Hz written into a GHz field.
MAX_GHZ = 1000.0
#: More memory slots than this is a typo, and executors allocate shots x slots arrays.
MAX_MEMORY_SLOTS = 4096

_REMOVED = {"pv": "'pv' (persistent value) instructions were removed from OpenPulse; "
                  "play a constant parametric pulse instead"}


# --- scalar types -------------------------------------------------------------------------------
# JSON has one number type and Python treats bool as int: both would let `"t0": true` or a
# fractional sample count through, so numbers are checked by hand.


def _as_int(value: Any) -> int:
    if type(value) is int:  # what JSON gives almost always; the abstract checks below are slow
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError("must be an integer")
    if isinstance(value, numbers.Integral):
        return int(value)
    if not math.isfinite(float(value)) or not float(value).is_integer():
        raise ValueError("must be an integer (a whole number of samples)")
    return int(value)


def _non_negative_int(value: Any) -> int:
    number = _as_int(value)
    if number < 0:
        raise ValueError("must be >= 0")
    return number


def _positive_int(value: Any) -> int:
    number = _as_int(value)
    if number <= 0:
        raise ValueError("must be > 0")
    return number


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError("must be a number")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError("number too large") from None
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def _non_negative_float(value: Any) -> float:
    number = _as_float(value)
    if number < 0:
        raise ValueError("must be >= 0")
    return number


def _ghz(value: Any) -> float:
    number = _as_float(value)
    if abs(number) > MAX_GHZ:
        raise ValueError("implausibly large: PulseQobj frequencies are in GHz, not Hz")
    return number


def _lo_ghz(value: Any) -> float:
    """An LO frequency; 0.0 means "not set" (the Tergite SDK always writes ``[0.0] * n``)."""
    number = _ghz(value)
    if number < 0:
        raise ValueError("an LO frequency must be > 0 GHz (or 0.0 for not set)")
    return number


def _memory_slots(value: Any) -> int:
    number = _non_negative_int(value)
    if number > MAX_MEMORY_SLOTS:
        raise ValueError(f"must be <= {MAX_MEMORY_SLOTS}")
    return number


_CHANNEL = re.compile(r"^([dmua])(\d+)$")


def _channel(value: Any, kinds: str) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a channel name such as 'd0'")
    match = _CHANNEL.match(value)
    if not match or match.group(1) not in kinds:
        expected = ", ".join(f"{k}<i>" for k in kinds)
        raise ValueError(f"unknown channel {value!r} (expected {expected})")
    return f"{match.group(1)}{int(match.group(2))}"  # "d01" -> "d1": one spelling per channel


def _play_channel(value: Any) -> str:
    if isinstance(value, str) and value.startswith("a") and _CHANNEL.match(value):
        raise ValueError(f"cannot play on acquire channel {value!r}; use an 'acquire' instruction")
    return _channel(value, "dmu")


def _any_channel(value: Any) -> str:
    return _channel(value, "dmua")


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


NonNegativeInt = Annotated[int, BeforeValidator(_non_negative_int)]
PositiveInt = Annotated[int, BeforeValidator(_positive_int)]
FiniteFloat = Annotated[float, BeforeValidator(_as_float)]
NonNegativeFloat = Annotated[float, BeforeValidator(_non_negative_float)]
GHz = Annotated[float, BeforeValidator(_ghz)]
LoGHz = Annotated[float, BeforeValidator(_lo_ghz)]
MemorySlots = Annotated[int, BeforeValidator(_memory_slots)]
PlayChannel = Annotated[str, BeforeValidator(_play_channel)]
AnyChannel = Annotated[str, BeforeValidator(_any_channel)]
Text = Annotated[str, BeforeValidator(_text)]


class _Strict(BaseModel):
    """Unknown keys are typos here (``"phse"``), and a typo must not silently become a no-op."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Open(BaseModel):
    """Qiskit writes bookkeeping keys the workbench ignores; they are kept, never rejected."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)


# --- instructions -------------------------------------------------------------------------------


class _Instruction(_Strict):
    name: str
    t0: NonNegativeInt
    label: Any = None  # Qiskit's label of the pulse or snapshot: informational
    conditional: Any = None

    @field_validator("conditional")
    @classmethod
    def _unconditional(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError("conditional instructions are not supported")
        return value

    @property
    def text_label(self) -> str | None:
        return self.label if isinstance(self.label, str) and self.label else None


class ParametricPulse(_Instruction):
    """Play of a standard shape sampled by the workbench (``constant``, ``gaussian``, ``drag`` ...)."""

    name: Literal["parametric_pulse"]
    ch: PlayChannel
    pulse_shape: Text
    parameters: dict[str, Any]


class LibraryPlay(_Instruction):
    """Play of a ``config.pulse_library`` waveform: the instruction's name is the waveform's name.

    Extra keys and a missing ``ch`` are let through here and rejected after the name is checked: a
    misspelt instruction (``"aquire"`` with its ``qubits``) must be reported as an unknown name, not
    as unknown or missing fields.
    """

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)

    ch: PlayChannel = ""


class FrequencyChange(_Instruction):
    """``setf`` sets, ``shiftf`` shifts the channel's frame frequency (GHz)."""

    name: Literal["setf", "shiftf"]
    ch: PlayChannel
    frequency: GHz


class PhaseChange(_Instruction):
    """``setp`` sets, ``fc`` (frame change) shifts the channel's frame phase (rad)."""

    name: Literal["setp", "fc"]
    ch: PlayChannel
    phase: FiniteFloat


class DelayInstruction(_Instruction):
    name: Literal["delay"]
    ch: AnyChannel
    duration: NonNegativeInt


class AcquireInstruction(_Instruction):
    """Acquisition of several qubits at once; ``memory_slot[j]`` receives ``qubits[j]``."""

    name: Literal["acquire"]
    duration: PositiveInt
    qubits: list[NonNegativeInt]
    memory_slot: list[NonNegativeInt]
    register_slot: list[NonNegativeInt] | None = None
    kernels: Any = None  # custom integration kernels: ignored, the device's readout calibration is used
    discriminators: Any = None

    @field_validator("qubits")
    @classmethod
    def _some_qubit(cls, qubits: list[int]) -> list[int]:
        if not qubits:
            raise ValueError("an acquire needs at least one qubit")
        return qubits


class Snapshot(_Instruction):
    """A simulator debugging aid: accepted so that Qiskit jobs load, then ignored."""

    name: Literal["snapshot"]
    type: Any = None


Instruction = ParametricPulse | LibraryPlay | FrequencyChange | PhaseChange | DelayInstruction | \
    AcquireInstruction | Snapshot

_TAGS = {
    "parametric_pulse": "parametric_pulse",
    "setf": "frequency",
    "shiftf": "frequency",
    "setp": "phase",
    "fc": "phase",
    "delay": "delay",
    "acquire": "acquire",
    "snapshot": "snapshot",
}


def _instruction_tag(value: Any) -> str | None:
    """Pick the model from ``name``: a name that is no instruction is a pulse-library play."""
    name = value.get("name") if isinstance(value, Mapping) else getattr(value, "name", None)
    if not isinstance(name, str):
        return None
    return hidden_tag(_TAGS.get(name, "play"))


AnyInstruction = Annotated[
    Annotated[ParametricPulse, Tag(hidden_tag("parametric_pulse"))]
    | Annotated[LibraryPlay, Tag(hidden_tag("play"))]
    | Annotated[FrequencyChange, Tag(hidden_tag("frequency"))]
    | Annotated[PhaseChange, Tag(hidden_tag("phase"))]
    | Annotated[DelayInstruction, Tag(hidden_tag("delay"))]
    | Annotated[AcquireInstruction, Tag(hidden_tag("acquire"))]
    | Annotated[Snapshot, Tag(hidden_tag("snapshot"))],
    Discriminator(
        _instruction_tag,
        custom_error_type="instruction",
        custom_error_message="an instruction must be an object with a string 'name' ("
        + ", ".join(INSTRUCTION_NAMES) + " or a pulse_library waveform name)",
    ),
]


# --- config, header, experiments ----------------------------------------------------------------


def _meas_level(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise ValueError("must be 0, 1 or 2")
    return int(value)


def _meas_return(value: Any) -> Any:
    if value is None:
        return None
    if value not in ("single", "avg"):
        raise ValueError("must be 'single' or 'avg'")
    return value


class LibraryPulse(_Strict):
    """A sampled waveform; ``samples`` are parsed (``[re, im]`` pairs or numbers) after validation."""

    name: Text
    samples: Any


class QobjConfig(_Open):
    """Job-wide settings; times in µs and frequencies in GHz as Qiskit's assembler writes them."""

    shots: PositiveInt | None = None
    meas_level: Annotated[int | None, BeforeValidator(_meas_level)] = None
    meas_return: Annotated[str | None, BeforeValidator(_meas_return)] = None
    memory_slots: MemorySlots | None = None
    memory_slot_size: PositiveInt | None = None
    qubit_lo_freq: list[LoGHz] | None = None
    meas_lo_freq: list[LoGHz] | None = None
    pulse_library: list[LibraryPulse] = Field(default_factory=list)
    parametric_pulses: list[str] = Field(default_factory=list)
    rep_time: NonNegativeFloat | None = None  # µs
    rep_delay: NonNegativeFloat | None = None  # µs
    init_qubits: bool | None = None
    memory: bool | None = None
    parameter_binds: Any = None

    @field_validator("parameter_binds")
    @classmethod
    def _no_binds(cls, value: Any) -> Any:
        if value not in (None, [], {}):
            raise ValueError("parameter binding is not supported; bind parameters before assembling the job")
        return value


_PER_EXPERIMENT = "not supported per experiment; set it in the job config"


class ExperimentConfig(_Open):
    """Per-experiment overrides: LO frequencies (a frequency sweep) and memory slots."""

    qubit_lo_freq: list[LoGHz] | None = None
    meas_lo_freq: list[LoGHz] | None = None
    memory_slots: MemorySlots | None = None
    shots: Any = None
    meas_level: Any = None
    meas_return: Any = None

    @field_validator("shots", "meas_level", "meas_return")
    @classmethod
    def _job_wide(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError(_PER_EXPERIMENT)
        return value


class ExperimentHeader(_Open):
    name: str | None = None
    memory_slots: MemorySlots | None = None
    metadata: dict[str, Any] | None = None


class Experiment(_Strict):
    header: ExperimentHeader = Field(default_factory=ExperimentHeader)
    config: ExperimentConfig | None = None
    instructions: list[AnyInstruction]


class QobjHeader(_Open):
    backend_name: str | None = None
    backend_version: str | None = None


_QASM_QOBJ = ("a QASM qobj holds gate-level circuits; only PULSE qobjs (OpenPulse schedules) are "
              "supported; submit circuits as OpenQASM text")


def _qobj_type(value: Any) -> str:
    if value == "QASM":
        raise ValueError(_QASM_QOBJ)
    if value != "PULSE":
        raise ValueError("must be 'PULSE'")
    return value


def _schema_version(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be a string such as '1.2.0'")
    if not value.startswith("1.") and value != "1":
        raise ValueError(f"schema version {value!r} is not supported (expected 1.x)")
    return value


class PulseQobj(_Strict):
    qobj_id: str | None = None
    type: Annotated[str, BeforeValidator(_qobj_type)]
    schema_version: Annotated[str | None, BeforeValidator(_schema_version)] = None
    header: QobjHeader = Field(default_factory=QobjHeader)
    config: QobjConfig = Field(default_factory=QobjConfig)
    experiments: list[Experiment]

    @field_validator("experiments")
    @classmethod
    def _some_experiment(cls, experiments: list[Experiment]) -> list[Experiment]:
        if not experiments:
            raise ValueError("a job needs at least one experiment")
        return experiments


# --- whole-document parsing ---------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedDocument:
    """A validated PulseQobj with what the checks derived: library samples, slots, warnings."""

    qobj: PulseQobj
    job_id: str | None  # the envelope's job_id, else the qobj_id
    enveloped: bool
    library: Mapping[str, np.ndarray]
    memory_slots: tuple[int | None, ...]  # declared slots per experiment (None: as many as used)
    warnings: tuple[str, ...]
    envelope: str | None = None  # Tergite envelope era ("E0", "E1"), None for a bare qobj


def _validate(model: type[BaseModel], data: Any, prefix: str | None = None) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        location, message = format_validation_error(exc, prefix)
        raise JobError(message, location) from None


def parse_document(data: Any) -> ParsedDocument:
    """Validate a decoded job document (bare qobj or Tergite envelope); raises located JobErrors."""
    if not isinstance(data, Mapping):
        raise JobError(_not_an_object(data))
    job_id = None
    envelope_warnings: tuple[str, ...] = ()
    era = None
    if is_envelope(data):
        unwrapped = unwrap(data)
        job_id, data, era, envelope_warnings = (unwrapped.job_id, unwrapped.qobj, unwrapped.era,
                                                unwrapped.warnings)
    elif not {"type", "experiments", "qobj_id"} & set(data):
        raise JobError("not a PulseQobj: expected an object with \"type\": \"PULSE\" and \"experiments\" "
                       "(or a Tergite envelope with params.qobj)")
    if isinstance(data, Mapping) and data.get("type") == "QASM":  # say this before anything else
        raise JobError(_QASM_QOBJ, "type")
    qobj: PulseQobj = _validate(PulseQobj, data)
    library = _library(qobj.config)
    slots, warnings = _check_experiments(qobj, library)
    return ParsedDocument(qobj, job_id if job_id is not None else qobj.qobj_id, era is not None, library, slots,
                          envelope_warnings + tuple(warnings), era)


def _not_an_object(data: Any) -> str:
    if isinstance(data, list | tuple):
        if data and all(isinstance(item, Mapping) and is_envelope(item) for item in data):
            return (f"this file holds a list of {len(data)} Tergite job files (as Tergite's test fixtures do); "
                    "a job is one JSON object: save each job file of the list in a file of its own")
        return "a job must be a JSON object (a PulseQobj or a Tergite envelope), got a list"
    return f"a job must be a JSON object (a PulseQobj or a Tergite envelope), got {type(data).__name__}"


def _library(config: QobjConfig) -> dict[str, np.ndarray]:
    library: dict[str, np.ndarray] = {}
    first: dict[str, int] = {}
    for i, pulse in enumerate(config.pulse_library):
        where = f"config.pulse_library[{i}]"
        if pulse.name in INSTRUCTION_NAMES or pulse.name in _REMOVED:
            raise JobError(f"'{pulse.name}' is an instruction name and cannot name a waveform",
                           f"{where}.name")
        if pulse.name in first:
            raise JobError(f"duplicate waveform name '{pulse.name}' (also "
                           f"config.pulse_library[{first[pulse.name]}])", f"{where}.name")
        first[pulse.name] = i
        samples = parse_samples(pulse.samples, f"{where}.samples")
        samples.setflags(write=False)  # shared by every play of this waveform
        library[pulse.name] = samples
    return library


def declared_memory_slots(qobj: PulseQobj, experiment: Experiment) -> int | None:
    """Experiment config, then experiment header, then job config: the most specific wins."""
    for value in (experiment.config.memory_slots if experiment.config else None,
                  experiment.header.memory_slots, qobj.config.memory_slots):
        if value is not None:
            return value
    return None


def _unknown_instruction(name: str, library: Mapping[str, np.ndarray]) -> str:
    if name in _REMOVED:
        return _REMOVED[name]
    names = sorted(library)
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    known = f"config.pulse_library has: {shown}" if names else "config.pulse_library is empty"
    close = difflib.get_close_matches(name, [*INSTRUCTION_NAMES, *names], n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return (f"unknown instruction '{name}': {hint}expected one of {', '.join(INSTRUCTION_NAMES)} "
            f"or the name of a pulse_library waveform ({known})")


def _check_experiments(qobj: PulseQobj, library: Mapping[str, np.ndarray]) -> tuple[tuple[int | None, ...],
                                                                                       list[str]]:
    warnings: list[str] = []
    declared_all: list[int | None] = []
    with_kernels = 0
    for e, experiment in enumerate(qobj.experiments):
        declared = declared_memory_slots(qobj, experiment)
        declared_all.append(declared)
        slot_owner: dict[int, tuple[int, str]] = {}  # memory slot -> (qubit, where) of its first acquire
        for k, ins in enumerate(experiment.instructions):
            where = f"experiments[{e}].instructions[{k}]"
            if isinstance(ins, LibraryPlay):
                if ins.name not in library:
                    raise JobError(_unknown_instruction(ins.name, library), f"{where}.name")
                if not ins.ch:
                    raise JobError("field required", f"{where}.ch")
                if ins.model_extra:
                    raise JobError("unknown field (a pulse_library play takes t0, ch and label)",
                                   f"{where}.{next(iter(ins.model_extra))}")
            if isinstance(ins, Snapshot):
                warnings.append(f"{where}: snapshot ignored (simulator debugging aid, not supported)")
            if not isinstance(ins, AcquireInstruction):
                continue
            if ins.kernels or ins.discriminators:
                with_kernels += 1
            _check_acquire(ins, where, declared, slot_owner)
    if with_kernels:
        warnings.append(f"{with_kernels} acquire instruction(s) carry kernels or discriminators; they are "
                        "ignored and the device's readout calibration is used")
    return tuple(declared_all), warnings


def _check_acquire(ins: AcquireInstruction, where: str, declared: int | None,
                   slot_owner: dict[int, tuple[int, str]]) -> None:
    n = len(ins.qubits)
    if len(ins.memory_slot) != n:
        raise JobError(f"has {len(ins.memory_slot)} entries for {n} qubit(s); give one memory slot per qubit",
                       f"{where}.memory_slot")
    if ins.register_slot is not None and len(ins.register_slot) != n:
        raise JobError(f"has {len(ins.register_slot)} entries for {n} qubit(s); give one register slot per "
                       "qubit", f"{where}.register_slot")
    for j, qubit in enumerate(ins.qubits):
        if qubit in ins.qubits[:j]:
            raise JobError(f"qubit {qubit} is acquired twice by one instruction", f"{where}.qubits[{j}]")
    for j, slot in enumerate(ins.memory_slot):
        if slot in ins.memory_slot[:j]:
            raise JobError(f"memory slot {slot} is used twice by one instruction",
                           f"{where}.memory_slot[{j}]")
        if declared is not None and slot >= declared:
            raise JobError(f"memory slot {slot} is out of range: the experiment has {declared} memory slot(s)"
                           + (f" (0..{declared - 1})" if declared else ""), f"{where}.memory_slot[{j}]")
        owner = slot_owner.setdefault(slot, (ins.qubits[j], where))
        if owner[0] != ins.qubits[j]:
            raise JobError(f"memory slot {slot} already receives qubit {owner[0]} ({owner[1]}); "
                           "one slot holds one qubit's result", f"{where}.memory_slot[{j}]")
