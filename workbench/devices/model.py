"""Device descriptions: what a device is physically and how it is calibrated.

Units are SI throughout (Hz, s); times of pulses are in samples of the device's ``dt``.

Two kinds of numbers live here and the difference matters for tune-up:

* **physics** (``Qubit.frequency``, ``anharmonicity``, ``t1``, ``t2``, ``drive.rabi_rate``,
  ``readout.iq_centers``, ``readout.iq_noise``, ``readout.resonator``, coupling ``rate``/``zz``): what
  the device really does. Simulators and the Qblox dummy twin use them to produce data.
* **calibration** (``drive.frequency``, pulse amplitudes and shapes, ``readout.discriminator``,
  coupling ``cz`` pulse and ``frequency``): what the workbench *believes* and uses to build pulses and
  interpret data. Tune-up routines measure the physics and rewrite the calibration.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Model(BaseModel):
    # allow_inf_nan=False: an infinite dt or a NaN frequency passed every bound (inf > 0) and ended the run
    # in an OverflowError after the simulation; refused when the config is read, with its path.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PulseCalibration(_Model):
    """A calibrated pulse: an OpenPulse parametric shape with its parameters (samples of dt)."""

    shape: Literal["gaussian", "drag", "gaussian_square", "constant"] = "drag"
    duration: int = Field(gt=0)
    amp: float = Field(ge=-1.0, le=1.0)
    sigma: float | None = Field(default=None, gt=0)
    beta: float | None = None
    width: int | None = Field(default=None, ge=0)
    angle: float = 0.0

    def parameters(self, amp: float | None = None) -> dict[str, Any]:
        """OpenPulse ``parametric_pulse`` parameters, optionally with another amplitude."""
        params: dict[str, Any] = {"duration": self.duration, "amp": self.amp if amp is None else amp}
        for key in ("sigma", "beta", "width"):
            value = getattr(self, key)
            if value is not None:
                params[key] = value
        if self.angle:
            params["angle"] = self.angle
        return params


class DriveCalibration(_Model):
    rabi_rate: float = Field(gt=0, description="Hz of Rabi frequency per unit of drive amplitude (physics)")
    frequency: float | None = Field(
        default=None, gt=0, description="calibrated drive frequency in Hz; the qubit frequency when absent"
    )
    x: PulseCalibration = Field(description="pi rotation about x")
    sx: PulseCalibration | None = Field(default=None, description="pi/2 rotation about x")


class Discriminator(_Model):
    """Linear discriminator: state 1 when ``weights . (I, Q) + offset > 0``."""

    kind: Literal["linear"] = "linear"
    weights: tuple[float, float]
    offset: float


class Resonator(_Model):
    """Readout-resonator physics (optional): how the IQ response depends on the readout frequency.

    Without it the readout has no frequency response (the IQ centres hold at any frequency), which is
    what devices written before it expect. With it, level ``k`` of the transmon pulls the resonator
    to ``f_k`` (``frequency - dispersive_shift`` for ``|0>``, ``frequency + dispersive_shift`` for the
    excited levels) and a tone at ``f`` on ``m<i>`` is transmitted as the Lorentzian
    ``S_k(f) = 1 / (1 + 2i (f - f_k) / linewidth)``. The IQ point of level ``k`` is
    ``z_bg + (c_k - z_bg) S_k(f) / S_k(frequency)`` with ``c_k`` the ``iq_centers``: the centres are
    the points at ``frequency``, where ``|0>`` and ``|1>`` are furthest apart, and far off resonance every
    level reads ``z_bg``, the common background solved from the ``|0>`` and ``|1>`` centres (so that those
    two are one resonator seen through one complex gain). See :func:`workbench.readout.iq_centres_at`.
    """

    frequency: float = Field(gt=0, description="Hz, midway between the |0> and |1> resonances (physics)")
    linewidth: float = Field(gt=0, description="Hz, full width at half maximum kappa/2pi (physics)")
    dispersive_shift: float = Field(description="chi in Hz: |0> at frequency - chi, excited levels at + chi")

    @field_validator("dispersive_shift")
    @classmethod
    def _nonzero(cls, chi: float) -> float:
        if chi == 0:
            raise ValueError("must not be 0 (the levels would be indistinguishable at every frequency)")
        return chi


class ReadoutCalibration(_Model):
    frequency: float = Field(gt=0, description="readout resonator / measure channel frequency in Hz")
    pulse: PulseCalibration = Field(description="readout pulse played on m<i>")
    acquire_delay: int = Field(default=0, ge=0, description="samples between readout pulse start and acquisition")
    acquire_duration: int = Field(gt=0, description="integration window in samples")
    iq_centers: dict[int, tuple[float, float]] = Field(
        description="integrated IQ point of each transmon level, arbitrary units (physics)"
    )
    iq_noise: float = Field(ge=0, description="standard deviation of I and Q per shot (physics)")
    discriminator: Discriminator | None = None
    resonator: Resonator | None = Field(
        default=None, description="readout resonator (physics); without it the IQ centres hold at any frequency"
    )

    @field_validator("iq_centers")
    @classmethod
    def _levels(cls, centers: dict[int, tuple[float, float]]) -> dict[int, tuple[float, float]]:
        if 0 not in centers or 1 not in centers:
            raise ValueError("needs IQ centers for levels 0 and 1")
        return centers


class Qubit(_Model):
    index: int = Field(ge=0)
    frequency: float = Field(gt=0, description="0-1 transition frequency in Hz (physics)")
    anharmonicity: float = Field(description="f12 - f01 in Hz, negative for a transmon (physics)")
    t1: float | None = Field(default=None, gt=0, description="energy relaxation time in s")
    t2: float | None = Field(default=None, gt=0, description="Ramsey dephasing time in s (<= 2 t1)")
    drive: DriveCalibration
    readout: ReadoutCalibration

    @model_validator(mode="after")
    def _t2_bound(self) -> Qubit:
        if self.t1 is not None and self.t2 is not None and self.t2 > 2 * self.t1 * (1 + 1e-12):
            raise ValueError(f"t2 = {self.t2} s exceeds 2 * t1 = {2 * self.t1} s")
        return self

    @property
    def drive_frequency(self) -> float:
        return self.drive.frequency if self.drive.frequency is not None else self.frequency


class Coupling(_Model):
    """A pair of qubits with a parametric coupler driven from control channel ``channel``.

    The coupler's drive, in the frame at ``frequency``, exchanges ``|11>`` and ``|20>`` (``transition: "11-20"``:
    the first qubit of ``qubits`` is excited twice) at ``sqrt(2) * rate`` per unit amplitude; a full
    cycle returns ``|11>`` with a sign flip: a CZ.
    """

    qubits: tuple[int, int]
    channel: str = Field(pattern=r"^u\d+$")
    rate: float = Field(gt=0, description="Hz of exchange rate g per unit coupler amplitude (physics)")
    transition: Literal["11-20", "11-02"] = "11-20"
    zz: float = Field(default=0.0, description="always-on ZZ coupling in Hz (physics)")
    frequency: float | None = Field(
        default=None, description="calibrated coupler drive frequency in Hz; the transition frequency when absent"
    )
    cz: PulseCalibration | None = None

    @field_validator("qubits")
    @classmethod
    def _distinct(cls, qubits: tuple[int, int]) -> tuple[int, int]:
        if qubits[0] == qubits[1]:
            raise ValueError("a coupling needs two different qubits")
        return qubits


class Device(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    vendor: str = "workbench"
    title: str = ""
    description: str = ""
    available: bool = True
    executor: str
    dt: float | None = Field(default=None, gt=0, description="sample period in s (pulse devices)")
    qubits: list[Qubit] = []
    num_qubits: int | None = Field(
        default=None, gt=0, description="qubit count of a gate-level device, which has no per-qubit physics"
    )
    coupling_map: list[tuple[int, int]] | None = Field(
        default=None, description="gate-level devices: allowed two-qubit pairs; absent means all-to-all"
    )
    couplings: list[Coupling] = []
    defaults: dict[str, Any] = Field(default_factory=dict, description="execution option defaults")
    executor_config: dict[str, Any] = Field(
        default_factory=dict,
        description="executor-specific settings (e.g. Qblox cluster wiring), validated by the executor class",
    )
    tags: list[str] = []
    openpulse_names: dict[str, str] = Field(
        default_factory=dict,
        description="other names a program may use for the device's OpenPulse ports and frames, e.g. Amazon "
        "Braket's {q0_rf_frame: q0_drive}; see docs/openpulse.md",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Device:
        if self.qubits and self.num_qubits is not None:
            raise ValueError("give either 'qubits' (a pulse device) or 'num_qubits' (a gate-level device)")
        if not self.qubits and self.num_qubits is None:
            raise ValueError("a device needs 'qubits' (a pulse device) or 'num_qubits' (a gate-level device)")
        if self.qubits and self.dt is None:
            raise ValueError("a pulse device (one with 'qubits') needs 'dt'")
        indices = [q.index for q in self.qubits]
        if len(set(indices)) != len(indices):
            raise ValueError(f"qubit indices repeat: {indices}")
        channels = [c.channel for c in self.couplings]
        if len(set(channels)) != len(channels):
            raise ValueError(f"control channels repeat: {channels}")
        for c in self.couplings:
            missing = [q for q in c.qubits if q not in indices]
            if missing:
                raise ValueError(f"coupling {c.channel} names unknown qubit(s) {missing}")
        if self.openpulse_names:
            from workbench.devices.openpulse_names import check_aliases

            if not self.qubits:
                raise ValueError("openpulse_names: a gate-level device has no ports or frames to name")
            check_aliases(self.openpulse_names, self.openpulse_ports(), self.openpulse_frames())
        return self

    @property
    def is_pulse_device(self) -> bool:
        """Has per-qubit physics and calibrations (runs schedules); else a gate-level device."""
        return bool(self.qubits)

    @property
    def qubit_count(self) -> int:
        return len(self.qubits) if self.qubits else int(self.num_qubits or 0)

    def edges(self) -> list[tuple[int, int]] | None:
        """Two-qubit pairs a circuit may use (both directions), None for all-to-all."""
        pairs = [tuple(c.qubits) for c in self.couplings] if self.is_pulse_device else self.coupling_map
        if pairs is None:
            return None
        return sorted({(a, b) for a, b in pairs} | {(b, a) for a, b in pairs})

    def qubit(self, index: int) -> Qubit:
        for q in self.qubits:
            if q.index == index:
                return q
        raise KeyError(index)

    def coupling(self, channel: str) -> Coupling:
        for c in self.couplings:
            if c.channel == channel:
                return c
        raise KeyError(channel)

    def transition_frequency(self, coupling: Coupling) -> float:
        """Frequency of the ``|11>`` <-> ``|20>`` (or ``|02>``) transition the coupler drives."""
        a, b = (self.qubit(i) for i in coupling.qubits)
        if coupling.transition == "11-02":
            a, b = b, a
        return a.frequency + a.anharmonicity - b.frequency

    def frame_frequencies(self) -> dict[str, float]:
        """Default frame frequency of every channel, from the calibration."""
        freqs: dict[str, float] = {}
        for q in self.qubits:
            freqs[f"d{q.index}"] = q.drive_frequency
            freqs[f"m{q.index}"] = q.readout.frequency
        for c in self.couplings:
            freqs[c.channel] = c.frequency if c.frequency is not None else self.transition_frequency(c)
        return freqs

    def openpulse_ports(self) -> list[str]:
        """Ports an OpenPulse program may use without declaring them (the channels)."""
        from workbench.devices.openpulse_names import port_names

        return port_names([q.index for q in self.qubits], [c.channel for c in self.couplings])

    def openpulse_frames(self) -> dict[str, Any]:
        """Predefined OpenPulse frames by name (:class:`~workbench.devices.openpulse_names.FrameSpec`)."""
        from workbench.devices.openpulse_names import frame_specs

        return frame_specs(self.frame_frequencies(), [q.index for q in self.qubits],
                           [c.channel for c in self.couplings])

    def summary(self) -> dict[str, Any]:
        """The QHAna ``devices`` entry plus what helps a user choose."""
        return {
            "name": self.name,
            "vendor": self.vendor,
            "title": self.title or self.name,
            "description": self.description,
            "available": self.available,
            "executor": self.executor,
            "qubits": self.qubit_count,
            "couplings": ([list(c.qubits) for c in self.couplings] if self.is_pulse_device
                          else [list(p) for p in self.coupling_map] if self.coupling_map is not None else None),
            "dt": self.dt,
            "tags": list(self.tags),
            **({"openpulse": self._openpulse_listing()} if self.is_pulse_device else {}),
        }

    def _openpulse_listing(self) -> dict[str, Any]:
        from workbench.devices.openpulse_names import listing

        return listing(self.frame_frequencies(), [q.index for q in self.qubits], [c.channel for c in self.couplings],
                       self.openpulse_names)
