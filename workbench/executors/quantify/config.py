"""The ``executor_config`` of a Qblox device: which cluster, and how the qubits are wired to it.

A device says ``executor_config: {cluster: NAME, channels: [...]}``; the catalogue puts the
``clusters:`` entry called NAME in place of the name, so what reaches :func:`parse_config` is
self-contained. Everything here is checked when the catalogue loads (no instrument library is
imported), so a config that could never compile or connect fails before any job is built, with the
place inside ``executor_config`` that is wrong.

Channel wiring is a *list* rather than a mapping keyed by channel: YAML silently keeps the last of two
equal keys, and a channel wired twice is exactly the mistake this has to catch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workbench.devices.model import Device
from workbench.errors import ConfigError

ModuleType = Literal["QCM", "QRM", "QCM_RF", "QRM_RF"]

# Qblox hardware facts the wiring is checked against.
OUTPUTS = {"QCM": 2, "QRM": 1, "QCM_RF": 2, "QRM_RF": 1}  # complex (I/Q) outputs per module type
ACQUIRES = {"QRM", "QRM_RF"}  # module types with inputs, i.e. that can read a qubit out
RF = {"QCM_RF", "QRM_RF"}  # module types with an internal local oscillator
NCO_LIMIT = 500e6  # Hz: the sequencer's NCO reaches +-500 MHz around the LO (or around 0 on baseband)
LO_RANGE = (2e9, 18e9)  # Hz: the internal LO of RF modules
MAX_SLOT = 20
DEFAULT_CONNECT_TIMEOUT = 5.0  # s

_CHANNEL = re.compile(r"^[dmu]\d+$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Module(_Model):
    type: ModuleType = Field(description="QCM, QRM (baseband) or QCM_RF, QRM_RF (internal LO)")


class Cluster(_Model):
    """A ``clusters:`` entry: one Qblox cluster, real (``address``) or a dummy in this process."""

    name: str = Field(description="what devices call it in executor_config.cluster")
    address: str | None = Field(default=None, description="IP address or host name of a real cluster")
    port: int = Field(default=5025, ge=1, le=65535, description="the cluster's SCPI port")
    is_dummy: bool = Field(default=False, description="simulate the cluster in-process (qblox-instruments dummy)")
    ref: Literal["internal", "external"] = Field(default="internal", description="10 MHz reference clock source")
    connect_timeout: float = Field(default=DEFAULT_CONNECT_TIMEOUT, gt=0, le=600,
                                   description="seconds to wait for a real cluster to answer")
    modules: dict[int, Module] = Field(description="modules by slot (1-20)")

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"'{name}' is not a valid name (letters, digits, '.', '_', '-')")
        return name

    @field_validator("modules")
    @classmethod
    def _slots(cls, modules: dict[int, Module]) -> dict[int, Module]:
        if not modules:
            raise ValueError("a cluster needs at least one module")
        bad = [s for s in modules if not 1 <= s <= MAX_SLOT]
        if bad:
            raise ValueError(f"slot {bad[0]} does not exist (a cluster has slots 1-{MAX_SLOT})")
        return modules

    @model_validator(mode="after")
    def _reachable(self) -> Cluster:
        if not self.is_dummy and not self.address:
            raise ValueError(f"cluster '{self.name}' needs an 'address' (or is_dummy: true)")
        return self


class Mixer(_Model):
    """Mixer corrections of one output, as quantify-scheduler's ``mixer_corrections`` take them."""

    amp_ratio: float = Field(default=1.0, ge=0.5, le=2.0, description="gain ratio Q/I")
    phase_error: float = Field(default=0.0, ge=-45.0, le=45.0, description="degrees")
    dc_offset_i: float = Field(default=0.0, description="V on the I path")
    dc_offset_q: float = Field(default=0.0, description="V on the Q path")


class InputGain(_Model):
    gain_i: int = Field(ge=-6, le=26, description="dB, baseband QRM input path I")
    gain_q: int = Field(ge=-6, le=26, description="dB, baseband QRM input path Q")


class Channel(_Model):
    """One OpenPulse channel (``d<i>`` drive, ``m<i>`` readout + its acquisitions, ``u<k>`` coupler)
    wired to a module output. Its sequencer is allocated by the compiler and named in the artefacts."""

    channel: str = Field(description="d<i>, m<i> or u<k>; a<i> acquisitions run on m<i>")
    module: int = Field(description="slot of the module")
    output: int = Field(default=0, ge=0, description="complex output index of the module")
    lo_freq: float | None = Field(default=None, gt=0, description="Hz, RF modules: fixed LO (NCO = frame - LO)")
    interm_freq: float | None = Field(default=None, description="Hz, RF modules: fixed NCO (LO = frame - NCO)")
    output_att: int | None = Field(default=None, ge=0, le=60, description="dB, RF modules, even")
    input_att: int | None = Field(default=None, ge=0, le=30, description="dB, QRM_RF readout channels, even")
    input_gain: InputGain | None = Field(default=None, description="baseband QRM readout channels")
    mixer: Mixer | None = None
    time_of_flight: float = Field(default=4e-9, ge=0, le=1e-5,
                                  description="s from a readout pulse to its signal at the input (m<i>)")

    @field_validator("channel")
    @classmethod
    def _channel(cls, name: str) -> str:
        if not _CHANNEL.match(name):
            raise ValueError(f"'{name}' is not a wirable channel (d<i>, m<i> or u<k>; a<i> runs on m<i>)")
        return name

    @field_validator("output_att", "input_att")
    @classmethod
    def _even(cls, value: int | None) -> int | None:
        if value is not None and value % 2:
            raise ValueError(f"attenuation is set in steps of 2 dB, got {value}")
        return value

    @field_validator("interm_freq")
    @classmethod
    def _nco(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and abs(value) <= NCO_LIMIT):
            raise ValueError(f"the NCO reaches +-{NCO_LIMIT / 1e6:g} MHz, got {value:g} Hz")
        return value


class QuantifyConfig(_Model):
    cluster: Cluster
    channels: list[Channel] = Field(min_length=1)

    def channel(self, name: str) -> Channel | None:
        for c in self.channels:
            if c.channel == name:
                return c
        return None

    def module_type(self, channel: Channel) -> ModuleType:
        return self.cluster.modules[channel.module].type

    def lo_frequency(self, channel: Channel, frame_frequency: float) -> float | None:
        """The LO an RF channel runs on (None on baseband modules, whose NCO makes the whole frequency)."""
        if self.module_type(channel) not in RF:
            return None
        if channel.lo_freq is not None:
            return channel.lo_freq
        return frame_frequency - float(channel.interm_freq or 0.0)


def parse_config(raw: Mapping[str, Any]) -> QuantifyConfig:
    """Validate the structure of an ``executor_config``; :class:`ConfigError` located inside it."""
    from workbench.validation import format_validation_error

    cluster = raw.get("cluster") if isinstance(raw, Mapping) else None
    if isinstance(cluster, str):  # the catalogue resolves names; a bare string means none was found
        raise ConfigError(f"cluster '{cluster}' is not defined in 'clusters'", "cluster")
    try:
        return QuantifyConfig.model_validate(raw)
    except ValidationError as exc:
        location, message = format_validation_error(exc)
        raise ConfigError(message, location or None) from None


def validate(device: Device) -> QuantifyConfig:
    """Everything that can be checked without an instrument: structure, slots, module types, outputs,
    channels wired once, every qubit and coupler wired, LOs an output can share and frequencies its NCO
    can reach (for the device's default frames)."""
    config = parse_config(device.executor_config)
    if device.dt is None or not device.is_pulse_device:
        raise ConfigError("a Qblox device needs qubits and a sample period 'dt' (pulse device)")
    ns = device.dt / 1e-9
    if round(ns) < 1 or abs(ns - round(ns)) > 1e-9:
        raise ConfigError(f"dt = {device.dt:g} s is not a whole number of ns (Qblox AWGs run at 1 GSa/s)")
    modules = config.cluster.modules
    known = {f"d{q.index}" for q in device.qubits} | {f"m{q.index}" for q in device.qubits}
    known |= {c.channel for c in device.couplings}
    frames = device.frame_frequencies()
    first: dict[str, int] = {}
    los: dict[tuple[int, int], tuple[str, float]] = {}
    for i, ch in enumerate(config.channels):
        where = f"channels[{i}]"
        if ch.channel in first:
            raise ConfigError(f"channel {ch.channel} is wired twice (channels[{first[ch.channel]}] and {where})",
                              f"{where}.channel")
        first[ch.channel] = i
        if ch.channel not in known:
            raise ConfigError(f"device '{device.name}' has no channel {ch.channel} (it has {', '.join(sorted(known))})",
                              f"{where}.channel")
        if ch.module not in modules:
            slots = ", ".join(str(s) for s in sorted(modules))
            raise ConfigError(f"slot {ch.module} is not a module of cluster '{config.cluster.name}' "
                              f"(modules in slots {slots})", f"{where}.module")
        kind = modules[ch.module].type
        if ch.channel.startswith("m") and kind not in ACQUIRES:
            raise ConfigError(f"{ch.channel} reads a qubit out, which needs an input: slot {ch.module} is a {kind} "
                              "(use a QRM or QRM_RF)", f"{where}.module")
        if ch.output >= OUTPUTS[kind]:
            raise ConfigError(f"a {kind} has {OUTPUTS[kind]} output(s) (0-{OUTPUTS[kind] - 1}), got {ch.output}",
                              f"{where}.output")
        _check_frequencies(config, ch, kind, frames[ch.channel], where)
        _check_options(ch, kind, where)
        lo = config.lo_frequency(ch, frames[ch.channel])
        if lo is not None:
            other = los.setdefault((ch.module, ch.output), (ch.channel, lo))
            if abs(other[1] - lo) > 1.0:
                raise ConfigError(
                    f"{ch.channel} shares slot {ch.module} output {ch.output} (one LO) with {other[0]} but needs "
                    f"LO {lo / 1e9:.6g} GHz where {other[0]} needs {other[1] / 1e9:.6g} GHz; give both the same "
                    "lo_freq", where)
    missing = sorted(known - set(first))
    if missing:
        raise ConfigError(f"channel(s) {', '.join(missing)} of device '{device.name}' are not wired", "channels")
    return config


def _check_frequencies(config: QuantifyConfig, ch: Channel, kind: str, frame: float, where: str) -> None:
    if kind in RF:
        if ch.lo_freq is None and ch.interm_freq is None:
            raise ConfigError(f"{ch.channel} is on an RF module: give lo_freq or interm_freq "
                              "(frame frequency = LO + NCO)", where)
        if ch.lo_freq is not None and ch.interm_freq is not None:
            raise ConfigError("give lo_freq or interm_freq, not both (the other follows from the frame frequency)",
                              where)
        lo = config.lo_frequency(ch, frame)
        assert lo is not None
        if not LO_RANGE[0] <= lo <= LO_RANGE[1]:
            raise ConfigError(f"{ch.channel} at {frame / 1e9:.6g} GHz needs LO {lo / 1e9:.6g} GHz, outside the "
                              f"{LO_RANGE[0] / 1e9:g}-{LO_RANGE[1] / 1e9:g} GHz of a {kind}", where)
        if abs(frame - lo) > NCO_LIMIT:
            raise ConfigError(f"{ch.channel} at {frame / 1e9:.6g} GHz is {abs(frame - lo) / 1e6:.6g} MHz from the LO "
                              f"({lo / 1e9:.6g} GHz); the NCO reaches {NCO_LIMIT / 1e6:g} MHz", f"{where}.lo_freq")
    else:
        if ch.lo_freq is not None or ch.interm_freq is not None:
            field = "lo_freq" if ch.lo_freq is not None else "interm_freq"
            raise ConfigError(f"slot {ch.module} is a baseband {kind}: it has no LO (its NCO plays the frame "
                              "frequency itself)", f"{where}.{field}")
        if abs(frame) > NCO_LIMIT:
            raise ConfigError(f"{ch.channel} at {frame / 1e9:.6g} GHz cannot be played by a baseband {kind} (its NCO "
                              f"reaches {NCO_LIMIT / 1e6:g} MHz; external LOs are not supported): use a "
                              f"{kind}_RF", f"{where}.module")


def _check_options(ch: Channel, kind: str, where: str) -> None:
    if ch.output_att is not None and kind not in RF:
        raise ConfigError(f"output_att is for RF modules; slot {ch.module} is a {kind}", f"{where}.output_att")
    if ch.input_att is not None and (kind != "QRM_RF" or not ch.channel.startswith("m")):
        raise ConfigError("input_att is for readout channels (m<i>) on a QRM_RF", f"{where}.input_att")
    if ch.input_gain is not None and (kind != "QRM" or not ch.channel.startswith("m")):
        raise ConfigError("input_gain is for readout channels (m<i>) on a baseband QRM", f"{where}.input_gain")
    if ch.time_of_flight != Channel.model_fields["time_of_flight"].default and not ch.channel.startswith("m"):
        raise ConfigError("time_of_flight is for readout channels (m<i>)", f"{where}.time_of_flight")
