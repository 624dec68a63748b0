"""Built-in example jobs, generated for a device from its own calibrations.

The examples are PulseQobj dicts (the bare ``qobj``, no envelope, no job id) rather than files so
that they always use the pulses a device is calibrated with: a Rabi sweep on a user's device with a
different pi amplitude still sweeps around *its* pi amplitude. Everything returned is plain JSON
(Python ints, floats, strings, lists, dicts) and deterministic, so the same device gives the same
file byte for byte.

A few examples are files instead (:data:`EXAMPLE_FILES`, shipped in ``workbench/examples/``):
circuits, which need no calibration, a PulseQobj sweep and OpenPulse programs, which show files as
users write them.
They are usable by name from any folder (``workbench run bell.qasm``); a file of that name in the
current folder wins (:func:`workbench.jobs.loader.source_kind`).

Conventions used below:

* times and durations are in samples of the device's ``dt``; frequencies in the qobj are in GHz;
* a measurement of qubit ``i`` at time ``T`` is its readout pulse on ``m<i>`` at ``T`` and an
  acquisition of ``acquire_duration`` samples starting ``acquire_delay`` samples later;
* the frame phase ``phi`` set with ``fc`` enters the drive as ``D = amp * exp(i phi)`` and the drive
  Hamiltonian is ``(Omega/2)(D a + D* a^dagger)``: the calibrated ``sx`` (real amplitude) is
  ``Rx(pi/2)`` and the same pulse in a frame rotated by ``-pi/2`` is ``Ry(pi/2)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from workbench.devices.model import Coupling, Device, PulseCalibration, Qubit
from workbench.errors import JobError, UnsupportedError

SCHEMA_VERSION = "1.3.0"
REP_TIME_US = 200
DEFAULT_SHOTS = 1024


# -------------------------------------------------------------------------------------- building blocks


def _play(t0: int, channel: str, cal: PulseCalibration, amp: float | None = None) -> dict[str, Any]:
    return {
        "name": "parametric_pulse",
        "t0": int(t0),
        "ch": channel,
        "pulse_shape": cal.shape,
        "parameters": _plain(cal.parameters(amp)),
    }


def _phase(t0: int, channel: str, phase: float) -> dict[str, Any]:
    # wrapped to (-pi, pi]: the same rotation, and files stay readable for long Ramsey delays
    return {"name": "fc", "t0": int(t0), "ch": channel, "phase": float(math.remainder(phase, 2 * math.pi))}


def _delay(t0: int, channel: str, duration: int) -> list[dict[str, Any]]:
    """A delay instruction, or none for a zero delay (an empty instruction only adds noise)."""
    if duration <= 0:
        return []
    return [{"name": "delay", "t0": int(t0), "ch": channel, "duration": int(duration)}]


def _measure(q: Qubit, t0: int, slot: int) -> list[dict[str, Any]]:
    ro = q.readout
    return [
        _play(t0, f"m{q.index}", ro.pulse),
        {
            "name": "acquire",
            "t0": int(t0 + ro.acquire_delay),
            "duration": int(ro.acquire_duration),
            "qubits": [q.index],
            "memory_slot": [slot],
        },
    ]


def _sx(q: Qubit) -> PulseCalibration:
    """The pi/2 pulse; a device without a calibrated ``sx`` gets the pi pulse at half amplitude."""
    if q.drive.sx is not None:
        return q.drive.sx
    return q.drive.x.model_copy(update={"amp": q.drive.x.amp / 2})


def _plain(value: Any) -> Any:
    """numpy scalars and tuples to JSON-native Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    return value


def _experiment(name: str, instructions: list[dict[str, Any]], memory_slots: int,
                metadata: dict[str, Any]) -> dict[str, Any]:
    ordered = sorted(instructions, key=lambda inst: inst["t0"])  # stable: same-time order is kept
    return {
        "header": {"name": name, "memory_slots": memory_slots, "metadata": _plain(metadata)},
        "instructions": ordered,
    }


def _qobj(name: str, device: Device, experiments: list[dict[str, Any]], shots: int) -> dict[str, Any]:
    qubits = sorted(device.qubits, key=lambda q: q.index)
    shapes = sorted({inst["pulse_shape"] for e in experiments for inst in e["instructions"]
                     if inst["name"] == "parametric_pulse"})
    return {
        "qobj_id": f"example-{name}",
        "type": "PULSE",
        "schema_version": SCHEMA_VERSION,
        "header": {"backend_name": device.name},
        "config": {
            "shots": shots,
            "meas_level": 2,
            "meas_return": "single",
            "memory_slots": max(e["header"]["memory_slots"] for e in experiments),
            "memory_slot_size": 100,
            "qubit_lo_freq": [q.drive_frequency / 1e9 for q in qubits],
            "meas_lo_freq": [q.readout.frequency / 1e9 for q in qubits],
            "pulse_library": [],
            "parametric_pulses": shapes,
            "rep_time": REP_TIME_US,
        },
        "experiments": experiments,
    }


# ------------------------------------------------------------------------------------ argument checks


def _qubit(device: Device, index: Any) -> Qubit:
    if isinstance(index, bool) or not isinstance(index, int | np.integer):
        raise JobError(f"a qubit index must be an integer, got {index!r}", "qubit")
    try:
        return device.qubit(int(index))
    except KeyError:
        known = sorted(q.index for q in device.qubits)
        raise UnsupportedError(f"device '{device.name}' has no qubit {index}; it has {known}") from None


def _shots(shots: Any) -> int:
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 1:
        raise JobError(f"shots must be a positive integer, got {shots!r}", "shots")
    return int(shots)


def _reals(values: Iterable[Any], name: str) -> list[float]:
    try:
        items = list(values)
    except TypeError:
        raise JobError(f"{name} must be a list of numbers, got {values!r}", name) from None
    if not items:
        raise JobError(f"{name} must not be empty", name)
    out = []
    for i, v in enumerate(items):
        if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.integer | np.floating):
            raise JobError(f"expected a number, got {v!r}", f"{name}[{i}]")
        if not math.isfinite(float(v)):
            raise JobError(f"expected a finite number, got {v!r}", f"{name}[{i}]")
        out.append(float(v))
    return out


def _delays_in_samples(device: Device, delays: Sequence[float]) -> list[int]:
    """Seconds to whole samples of dt (the grid every instruction lives on)."""
    samples = []
    for i, seconds in enumerate(_reals(delays, "delays")):
        if seconds < 0:
            raise JobError(f"a delay cannot be negative, got {seconds} s", f"delays[{i}]")
        n = round(seconds / device.dt)
        if n > 10**9:
            raise JobError(f"delay {seconds} s is {n} samples, more than 10^9", f"delays[{i}]")
        samples.append(int(n))
    return samples


# ------------------------------------------------------------------------------------------ examples


def x_gate(device: Device, qubit: int = 0, shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """A pi pulse then a measurement: the smallest job that shows the device flips a qubit."""
    q = _qubit(device, qubit)
    x = q.drive.x
    instructions = [_play(0, f"d{q.index}", x), *_measure(q, x.duration, 0)]
    experiment = _experiment("x-gate", instructions, 1, {"qubit": q.index})
    return _qobj("x-gate", device, [experiment], _shots(shots))


def rabi(device: Device, qubit: int = 0, amplitudes: Sequence[float] | None = None,
         shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """The calibrated pi pulse at a sweep of amplitudes, one experiment each.

    The default sweep runs from 0 to twice the calibrated amplitude (capped at 1), so a well
    calibrated device shows one full oscillation with its maximum in the middle.
    """
    q = _qubit(device, qubit)
    x = q.drive.x
    if amplitudes is None:
        top = math.copysign(min(2 * abs(x.amp), 1.0), x.amp)
        values = [float(a) for a in np.linspace(0.0, top, 21)]
    else:
        values = _reals(amplitudes, "amplitudes")
        for i, a in enumerate(values):
            if abs(a) > 1:
                raise JobError(f"amplitude {a} is outside [-1, 1]", f"amplitudes[{i}]")
    experiments = []
    for k, amp in enumerate(values):
        instructions = [_play(0, f"d{q.index}", x, amp), *_measure(q, x.duration, 0)]
        experiments.append(_experiment(f"rabi-{k:03d}", instructions, 1, {"amp": amp}))
    return _qobj("rabi", device, experiments, _shots(shots))


def t1(device: Device, qubit: int = 0, delays: Sequence[float] | None = None,
       shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """Excite, wait, measure: the excited population decays as exp(-delay / T1).

    ``delays`` are in seconds and are rounded to whole samples; the metadata records the delay
    actually played. The default spans three times the device's T1 (or 150 us when unknown).
    """
    q = _qubit(device, qubit)
    x = q.drive.x
    if delays is None:
        span = 3 * (q.t1 if q.t1 is not None else 50e-6)
        delays = [float(s) for s in np.linspace(0.0, span, 16)]
    experiments = []
    for k, n in enumerate(_delays_in_samples(device, delays)):
        d = f"d{q.index}"
        instructions = [_play(0, d, x), *_delay(x.duration, d, n), *_measure(q, x.duration + n, 0)]
        experiments.append(_experiment(f"t1-{k:03d}", instructions, 1, {"delay": n * device.dt}))
    return _qobj("t1", device, experiments, _shots(shots))


def ramsey(device: Device, qubit: int = 0, delays: Sequence[float] | None = None, detuning: float = 1e6,
           shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """Two pi/2 pulses around a delay, the second advanced in phase by ``2 pi detuning delay``.

    The phase advance makes the fringes oscillate at ``detuning`` (plus any real frequency error)
    without detuning the drive itself, the usual "virtual detuning" of a Ramsey experiment. Delays are
    in seconds, rounded to samples; the default covers five fringe periods in 41 points.
    """
    q = _qubit(device, qubit)
    if isinstance(detuning, bool) or not isinstance(detuning, int | float) or not math.isfinite(detuning):
        raise JobError(f"detuning must be a finite number of Hz, got {detuning!r}", "detuning")
    detuning = float(detuning)
    sx = _sx(q)
    if delays is None:
        span = 5 / abs(detuning) if detuning else (q.t2 if q.t2 is not None else 20e-6)
        delays = [float(s) for s in np.linspace(0.0, span, 41)]
    experiments = []
    d = f"d{q.index}"
    for k, n in enumerate(_delays_in_samples(device, delays)):
        delay = n * device.dt
        second = sx.duration + n
        instructions = [
            _play(0, d, sx),
            *_delay(sx.duration, d, n),
            _phase(second, d, 2 * math.pi * detuning * delay),
            _play(second, d, sx),
            *_measure(q, second + sx.duration, 0),
        ]
        experiments.append(_experiment(f"ramsey-{k:03d}", instructions, 1,
                                       {"delay": delay, "detuning": detuning}))
    return _qobj("ramsey", device, experiments, _shots(shots))


def _cz_coupling(device: Device) -> Coupling:
    for coupling in device.couplings:
        if coupling.cz is not None:
            return coupling
    raise UnsupportedError(f"device '{device.name}' has no coupling with a calibrated CZ pulse")


def _ry(t0: int, channel: str, sx: PulseCalibration, sign: int) -> list[dict[str, Any]]:
    """``Ry(sign * pi/2)``: the sx pulse in a frame turned by ``-sign * pi/2``, then turned back."""
    return [
        _phase(t0, channel, -sign * math.pi / 2),
        _play(t0, channel, sx),
        _phase(t0 + sx.duration, channel, sign * math.pi / 2),
    ]


def bell(device: Device, shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """A Bell state on the first coupled pair: Ry(pi/2) on both, CZ, Ry(-pi/2) on the second qubit.

    Ideally this gives ``(|00> - |11>)/sqrt(2)``: counts only in ``00`` and ``11``. Flipping the sign
    convention of the frame phase flips every Y rotation and still gives a Bell state, so the example
    does not depend on that convention.
    """
    if len(device.qubits) < 2:
        raise UnsupportedError(f"the bell example needs 2 qubits; '{device.name}' has {len(device.qubits)}")
    coupling = _cz_coupling(device)
    cz = coupling.cz
    assert cz is not None  # _cz_coupling guarantees it; keeps type checkers informed
    qa, qb = (device.qubit(i) for i in coupling.qubits)
    sa, sb = _sx(qa), _sx(qb)
    da, db = f"d{qa.index}", f"d{qb.index}"
    prepared = max(sa.duration, sb.duration)
    after_cz = prepared + cz.duration
    done = after_cz + sb.duration
    instructions = [
        *_ry(0, da, sa, +1),
        *_ry(0, db, sb, +1),
        _play(prepared, coupling.channel, cz),
        *_ry(after_cz, db, sb, -1),
        *_measure(qa, done, 0),
        *_measure(qb, done, 1),
    ]
    experiment = _experiment("bell", instructions, 2, {"qubits": [qa.index, qb.index]})
    return _qobj("bell", device, [experiment], _shots(shots))


def chevron(device: Device, n_amp: int = 8, n_width: int = 6, shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """A CZ chevron on the first coupled pair: ``|11>``, then the coupler pulse with swept amplitude (0.1 to
    0.8) and flat-top width (40 to 240 samples), then both qubits measured; ``n_amp * n_width``
    experiments with metadata ``amp`` and ``width``. Big two-qubit sweeps like this are what
    ``--parallel`` is for."""
    coupling = _cz_coupling(device)
    cz = coupling.cz
    assert cz is not None  # _cz_coupling guarantees it
    qa, qb = (device.qubit(i) for i in coupling.qubits)
    da, db = f"d{qa.index}", f"d{qb.index}"
    experiments = []
    for width in np.linspace(40, 240, n_width).round(-1).astype(int):
        cal = cz.model_copy(update={"width": int(width), "duration": int(width) + 80})
        for amp in np.linspace(0.1, 0.8, n_amp):
            start = max(qa.drive.x.duration, qb.drive.x.duration)
            instructions = [_play(0, da, qa.drive.x), _play(0, db, qb.drive.x),
                            _play(start, coupling.channel, cal, float(amp))]
            t = start + cal.duration
            instructions += _measure(qa, t, 0) + _measure(qb, t, 1)
            experiments.append(_experiment(f"cz-a{amp:.3f}-w{width}", instructions, 2,
                                           {"amp": float(amp), "width": int(width)}))
    return _qobj("chevron", device, experiments, _shots(shots))


def pulse_train(device: Device, instructions: int = 100_000, shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """One experiment of exactly ``instructions`` instructions, for schedule views and benchmarks: the
    calibrated x pulse on qubit 0 and 1 in turn (qubit 0 alone on a one-qubit device), a frame change
    (``fc``, a virtual Z) before every tenth pulse, and a joint readout of those qubits after every
    200 pulses, 300 ns apart at least (what a Qblox sequencer needs between acquisitions). Not in
    :data:`EXAMPLES`: nobody runs it for its physics."""
    if isinstance(instructions, bool) or not isinstance(instructions, int | np.integer) or instructions < 1:
        raise JobError(f"instructions must be a positive integer, got {instructions!r}", "instructions")
    qubits = sorted(device.qubits, key=lambda q: q.index)[:2]
    ops: list[dict[str, Any]] = []
    t = k = 0
    while len(ops) < instructions:
        q = qubits[k % len(qubits)]
        channel = f"d{q.index}"
        if k % 10 == 0:
            ops.append(_phase(t, channel, math.pi / 2))
        ops.append({**_play(t, channel, q.drive.x), "label": "x"})
        k += 1
        if k % len(qubits) == 0:
            t += max(p.drive.x.duration for p in qubits)
        if k % 200 == 0:
            for slot, r in enumerate(qubits):
                ops += _measure(r, t, slot)
            t += max(r.readout.pulse.duration for r in qubits) + 300
    ops = ops[:instructions]
    slots = max([0] + [slot + 1 for op in ops if op["name"] == "acquire" for slot in op["memory_slot"]])
    experiment = _experiment(f"train-{instructions}", ops, max(slots, 1), {"instructions": int(instructions)})
    return _qobj(f"train-{instructions}", device, [experiment], _shots(shots))


def _setf(t0: int, channel: str, frequency: float) -> dict[str, Any]:
    return {"name": "setf", "t0": int(t0), "ch": channel, "frequency": float(frequency) / 1e9}


def rabi_length(device: Device, qubit: int = 0, durations: Sequence[float] | None = None,
                shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """A flat pulse at a quarter of the pi pulse's amplitude, of growing length: P(1) oscillates at the Rabi
    frequency. ``durations`` in seconds are rounded to whole samples (at least one); the default runs to
    two and a half pi durations in 31 points."""
    from workbench.pulses.shapes import calibrated

    q = _qubit(device, qubit)
    x = q.drive.x
    amp = x.amp / 4
    pi_samples = abs(float(np.sum(calibrated(x).real)) / amp) if amp else 100.0
    if durations is None:
        samples = np.unique(np.linspace(8, 2.5 * pi_samples, 31).round().astype(int))
    else:
        samples = np.array(_delays_in_samples(device, durations))
        if np.any(samples < 1):
            raise JobError("a pulse lasts at least one sample of dt", "durations")
    d = f"d{q.index}"
    experiments = []
    for k, n in enumerate(samples):
        pulse = PulseCalibration(shape="constant", duration=int(n), amp=amp)
        instructions = [_play(0, d, pulse), *_measure(q, int(n), 0)]
        experiments.append(_experiment(f"rabi-length-{k:03d}", instructions, 1, {"duration": int(n) * device.dt}))
    return _qobj("rabi-length", device, experiments, _shots(shots))


def echo(device: Device, qubit: int = 0, delays: Sequence[float] | None = None,
         shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """Hahn echo: pi/2, half the delay, pi, half the delay, -pi/2. The pi pulse refocuses slow phase noise
    and any detuning; without delay the sequence is a pi rotation, so P(1) decays from 1 towards 1/2 at
    the echo coherence time. ``delays`` (total, in seconds) are rounded to even numbers of samples; the
    default spans twice the device's T2 in 31 points."""
    q = _qubit(device, qubit)
    sx, x = _sx(q), q.drive.x
    if delays is None:
        span = 2 * (q.t2 if q.t2 is not None else 20e-6)
        delays = [float(s) for s in np.linspace(0.0, span, 31)]
    d = f"d{q.index}"
    experiments = []
    for k, n in enumerate(_delays_in_samples(device, delays)):
        half = n // 2
        t_pi = sx.duration + half
        t_last = t_pi + x.duration + half
        instructions = [_play(0, d, sx), *_delay(sx.duration, d, half), _play(t_pi, d, x),
                        *_delay(t_pi + x.duration, d, half), _play(t_last, d, sx, -sx.amp),
                        *_measure(q, t_last + sx.duration, 0)]
        experiments.append(_experiment(f"echo-{k:03d}", instructions, 1, {"delay": 2 * half * device.dt}))
    return _qobj("echo", device, experiments, _shots(shots))


def qubit_spectroscopy(device: Device, qubit: int = 0, span: float = 12e6, points: int = 61,
                       duration: float = 1e-6, shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """A long flat pulse with the pi pulse's area, its frame stepped over ``span`` Hz around the drive
    frequency (``setf``): P(1) traces the qubit line (the generalised Rabi formula)."""
    from workbench.pulses.shapes import calibrated

    q = _qubit(device, qubit)
    samples = max(64, round(duration / device.dt))
    pulse = PulseCalibration(shape="gaussian_square", duration=samples, amp=0.1, sigma=16.0, width=samples - 64)
    amp = q.drive.x.amp * float(np.sum(calibrated(q.drive.x, amp=1.0).real)) / float(
        np.sum(calibrated(pulse, amp=1.0).real))
    if abs(amp) > 1:
        raise JobError(f"a {duration:g} s pi-area pulse would need amplitude {amp:.3g} > 1", "duration")
    centre = q.drive_frequency
    d = f"d{q.index}"
    experiments = []
    for k, offset in enumerate(np.linspace(-span / 2, span / 2, points)):
        f = float(centre + offset)
        instructions = [_setf(0, d, f), _play(0, d, pulse, amp), *_measure(q, samples, 0)]
        experiments.append(_experiment(f"qubit-spec-{k:03d}", instructions, 1, {"frequency": f}))
    return _qobj("qubit-spectroscopy", device, experiments, _shots(shots))


def resonator_spectroscopy(device: Device, qubit: int = 0, span: float = 10e6, points: int = 41,
                           shots: int = DEFAULT_SHOTS) -> dict[str, Any]:
    """The readout frequency stepped over ``span`` Hz around the calibrated one, with the qubit in ``|0>`` and
    after the pi pulse (``|1>``): integrated IQ per shot (meas_level 1), the resonator's two responses."""
    q = _qubit(device, qubit)
    x = q.drive.x
    centre = q.readout.frequency
    m, d = f"m{q.index}", f"d{q.index}"
    experiments = []
    for state in (0, 1):
        t = x.duration if state else 0
        for k, offset in enumerate(np.linspace(-span / 2, span / 2, points)):
            f = float(centre + offset)
            instructions = ([_play(0, d, x)] if state else []) + [_setf(t, m, f), *_measure(q, t, 0)]
            experiments.append(_experiment(f"resonator-spec-{state}-{k:03d}", instructions, 1,
                                           {"frequency": f, "prepared": state}))
    qobj = _qobj("resonator-spectroscopy", device, experiments, _shots(shots))
    qobj["config"]["meas_level"] = 1
    return qobj


# ------------------------------------------------------------------------------------------ registry


class Example(NamedTuple):
    """A registry entry; a tuple so ``builder, description, min_qubits = EXAMPLES[name]`` works."""

    builder: Callable[..., dict[str, Any]]
    description: str
    min_qubits: int


EXAMPLES: dict[str, Example] = {
    "x-gate": Example(x_gate, "pi pulse on qubit 0 and a measurement", 1),
    "rabi": Example(rabi, "amplitude sweep of the pi pulse, 0 to 2x the calibrated amplitude (21 points)", 1),
    "t1": Example(t1, "pi pulse, variable delay, measurement: energy relaxation", 1),
    "ramsey": Example(ramsey, "two pi/2 pulses around a delay with 1 MHz virtual detuning", 1),
    "bell": Example(bell, "Bell state on a coupled pair: Ry(pi/2) on both, CZ, Ry(-pi/2)", 2),
    "rabi-length": Example(rabi_length, "flat pulse of growing length at a quarter of the pi amplitude", 1),
    "echo": Example(echo, "Hahn echo: pi/2, delay/2, pi, delay/2, -pi/2", 1),
    "qubit-spectroscopy": Example(qubit_spectroscopy, "drive frequency sweep with a 1 us pi-area pulse", 1),
    "resonator-spectroscopy": Example(resonator_spectroscopy, "readout frequency sweep, qubit in |0> and |1> "
                                      "(meas_level 1)", 1),
    "chevron": Example(chevron, "CZ chevron: |11>, coupler pulse of swept amplitude and width (48 experiments)", 2),
}

#: The analysis each example calls for (``workbench.analysis.ANALYSES``); ``workbench run --analyse`` and
#: the results panel run it.
ANALYSES: dict[str, str] = {"rabi": "rabi-amplitude", "rabi-length": "rabi-length", "t1": "t1", "ramsey": "ramsey",
                            "echo": "echo", "qubit-spectroscopy": "qubit-spectroscopy",
                            "resonator-spectroscopy": "resonator-spectroscopy", "chevron": "chevron"}


class ExampleFile(NamedTuple):
    """A job file shipped with the package (``workbench/examples/``), usable by its name from any folder."""

    description: str
    qubits: int  # what the job needs (checked against the file by the tests)


#: Where the shipped example files are (package data).
EXAMPLE_DIR = Path(__file__).with_name("examples")
#: The shipped example files by name: what each is and how many qubits it needs.
EXAMPLE_FILES: dict[str, ExampleFile] = {
    "bell.qasm": ExampleFile("Bell state circuit (OpenQASM 2): H, CX, measure both qubits", 2),
    "ghz3.qasm": ExampleFile("three-qubit GHZ circuit (OpenQASM 3): H, two CX, measure all", 3),
    "ghz5.qasm": ExampleFile("five-qubit GHZ circuit (OpenQASM 2) along a chain: H, four CX, measure all "
                             "(qutip-5q)", 5),
    "sweep.json": ExampleFile("PulseQobj sweep: the pi pulse of qutip-1q detuned -25..25 MHz with shiftf "
                              "(26 experiments, coordinate 'detuning')", 1),
    "prog.qasm": ExampleFile("OpenPulse program: the X gate of qutip-1q as a defcal playing its DRAG pulse", 1),
    "sweep.qasm": ExampleFile("OpenPulse program with an input: the DRAG pulse at amplitude 'amp' "
                              "(--set inputs='{\"amp\": [0.1, 0.2]}')", 1),
    "phase.qasm": ExampleFile("OpenPulse program with an input: two pi/2 pulses, the frame turned by 'phi' "
                              "between them", 1),
}


def example_file(name: str) -> Path | None:
    """The shipped file of that name (``bell.qasm``...), None when there is none."""
    return EXAMPLE_DIR / name if isinstance(name, str) and name in EXAMPLE_FILES else None


def job_kind(name: str) -> str:
    """``circuit`` or ``pulse`` (the job's ``kind``): what an example, generated or shipped, gives when loaded.
    OpenPulse programs are pulse jobs; other OpenQASM files are circuits."""
    if not name.endswith(".qasm"):
        return "pulse"
    return "pulse" if "defcalgrammar" in (EXAMPLE_DIR / name).read_text(encoding="utf-8") else "circuit"


def listing() -> list[dict[str, Any]]:
    """Every example, generated ones first: name, qubits needed, job kind, description, and where a shipped
    file is (``workbench examples``)."""
    rows: list[dict[str, Any]] = [{"name": name, "qubits": e.min_qubits, "kind": "pulse", "description": e.description,
                                   "file": None} for name, e in EXAMPLES.items()]
    rows += [{"name": name, "qubits": e.qubits, "kind": job_kind(name), "description": e.description,
              "file": str(EXAMPLE_DIR / name)} for name, e in EXAMPLE_FILES.items()]
    return rows


def build(name: str, device: Device) -> dict[str, Any]:
    """The named example as a PulseQobj dict for ``device``, with each builder's defaults."""
    entry = EXAMPLES.get(name) if isinstance(name, str) else None
    if entry is None:
        raise JobError(f"unknown example {name!r}; known examples: {', '.join(EXAMPLES)}")
    if not device.is_pulse_device:
        raise UnsupportedError(f"example '{name}' is a pulse job and '{device.name}' is a gate-level device; "
                               "choose a pulse device (workbench devices)")
    if len(device.qubits) < entry.min_qubits:
        raise UnsupportedError(
            f"example '{name}' needs {entry.min_qubits} qubits; '{device.name}' has {len(device.qubits)}"
        )
    return entry.builder(device)
