"""Generate the Amazon Braket pulse programs the OpenPulse tests read (run once; the output is kept).

Braket is not a test dependency of the workbench: its newest release pins cloudpickle 2.2.1, which
breaks `pip check` beside dask (see README.md here). So the programs are made once with a separate
environment and kept as data:

    python -m venv /tmp/braket && /tmp/braket/bin/pip install "amazon-braket-sdk==1.88.1" "cloudpickle>=3" \
        numpy pydantic pyyaml
    PYTHONPATH=<repository root> /tmp/braket/bin/python tests/data/openpulse/braket/make_programs.py

Everything here is offline: hand-made Port and Frame objects stand in for a device's (Rigetti-style
names: q0_rf_frame, r0_measure_frame, q0_q1_cz_frame ...), which the tests map onto the workbench's
ports and frames through the device's `openpulse_names`. Amplitudes come from the physics of the
built-in devices (qutip-1q, qutip-2q) so that the programs do what their names say; the defcal'd
CNOT plays the devices' own calibrated pulses as explicit samples (ArbitraryWaveform).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from braket.circuits import Circuit, FreeParameter, QubitSet
from braket.circuits.gates import CNot
from braket.circuits.serialization import IRType, OpenQASMSerializationProperties, QubitReferenceType
from braket.pulse import (
    ArbitraryWaveform,
    ConstantWaveform,
    DragGaussianWaveform,
    ErfSquareWaveform,
    Frame,
    GaussianWaveform,
    Port,
    PulseSequence,
)

from workbench.devices.catalogue import Catalogue
from workbench.pulses.shapes import calibrated

OUT = Path(__file__).parent
DT = 1e-9
catalogue = Catalogue.load(None)
ONE = catalogue.get("qutip-1q")
TWO = catalogue.get("qutip-2q")
RABI = ONE.qubit(0).drive.rabi_rate  # Hz per unit amplitude: P1 = sin^2(pi * rabi * sum(s) * dt)


def port(name: str) -> Port:
    return Port(name, dt=DT)


def frame(name: str, port_name: str, frequency: float) -> Frame:
    return Frame(name, port(port_name), frequency=frequency, phase=0.0, is_predefined=True)


def area_amplitude(waveform_at_1, rotation: float) -> float:
    """Amplitude that rotates by ``rotation`` (rad) on resonance: sum(s) dt * rabi * 2 pi = rotation."""
    area = float(np.real(np.sum(waveform_at_1.sample(DT)))) * DT
    return rotation / (2 * math.pi * RABI * area)


def program(sequence: PulseSequence) -> str:
    return sequence.to_ir(sort_input_parameters=True) if sequence.parameters else sequence.to_ir()


def save(name: str, text: str) -> None:
    (OUT / name).write_text(text.rstrip("\n") + "\n")
    print(f"wrote {name}")


q0 = ONE.qubit(0)
drive = frame("q0_rf_frame", "q0_rf", q0.drive_frequency)
readout = frame("r0_measure_frame", "r0_tx", q0.readout.frequency)

# 1. A gaussian pi pulse (no DRAG, Braket's sampling), then the readout: the qubit flips.
unit = GaussianWaveform(length=48e-9, sigma=12e-9, amplitude=1.0, zero_at_edges=False)
pi_amp = area_amplitude(unit, math.pi)
x = GaussianWaveform(length=48e-9, sigma=12e-9, amplitude=pi_amp, zero_at_edges=False, id="x_pulse")
save("x_flip.qasm", program(PulseSequence().play(drive, x).barrier([drive, readout]).capture_v0(readout)))

# 2. A constant pi pulse of 100 ns, resonant and detuned by sqrt(3)/(2T): the detuned drive makes one full
#    generalised Rabi cycle and leaves the qubit in |0> (P1 = 1/4 sin^2(pi) = 0).
T = 100e-9
flat = ConstantWaveform(length=T, iq=1 / (2 * RABI * T), id="flat_pi")
detuning = math.sqrt(3) / (2 * T)
save("resonant_constant.qasm", program(PulseSequence().play(drive, flat).barrier([drive, readout]).capture_v0(readout)))
save("detuned_constant.qasm", program(
    PulseSequence().set_frequency(drive, q0.drive_frequency + detuning).play(drive, flat)
    .barrier([drive, readout]).capture_v0(readout)))

# 3. Two pi/2 pulses with shift_phase(phi) between them: P1 = cos^2(phi / 2); phi = pi undoes the first.
half = GaussianWaveform(length=48e-9, sigma=12e-9, amplitude=area_amplitude(unit, math.pi / 2),
                        zero_at_edges=False, id="x90")
phi = FreeParameter("phi")
save("phase_reversal.qasm", program(
    PulseSequence().play(drive, half).shift_phase(drive, phi).play(drive, half)
    .barrier([drive, readout]).capture_v0(readout)))

# 4. A gate circuit with a pulse gate: rx(pi/2) from the device's calibration, then a pi/2 pulse: a flip.
circuit = Circuit().rx(0, math.pi / 2).pulse_gate([0], PulseSequence().play(drive, half))
serialization = OpenQASMSerializationProperties(qubit_reference_type=QubitReferenceType.PHYSICAL)
save("pulse_gate_circuit.qasm", circuit.to_ir(IRType.OPENQASM, serialization_properties=serialization).source)

# 5. Bell pair: h from the device's calibration, CNOT from a defcal of the devices' own pulses
#    (H on the target = shift_phase(-pi/2) . sx . shift_phase(-pi/2); CZ on the coupler; H again).
a, b = TWO.qubit(0), TWO.qubit(1)
coupling = TWO.couplings[0]
d1 = frame("q1_rf_frame", "q1_rf", b.drive_frequency)
cz_frame = frame("q0_q1_cz_frame", "q0_q1_cz", TWO.frame_frequencies()[coupling.channel])
sx1 = ArbitraryWaveform(calibrated(b.drive.sx).tolist(), id="sx_q1")
cz = ArbitraryWaveform(calibrated(coupling.cz).tolist(), id="cz_q0_q1")
cnot = (PulseSequence().shift_phase(d1, -math.pi / 2).play(d1, sx1).shift_phase(d1, -math.pi / 2)
        .barrier([d1, cz_frame]).play(cz_frame, cz).barrier([d1, cz_frame])
        .shift_phase(d1, -math.pi / 2).play(d1, sx1).shift_phase(d1, -math.pi / 2))
bell = Circuit().h(0).cnot(0, 1)
save("bell_defcal_cnot.qasm", bell.to_ir(IRType.OPENQASM, serialization_properties=serialization,
                                         gate_definitions={(CNot(), QubitSet([0, 1])): cnot}).source)

# 6. Every Braket waveform function, played once, and Braket's own samples of each (the reference).
shapes = {
    "g": GaussianWaveform(length=40e-9, sigma=8e-9, amplitude=0.3, zero_at_edges=False, id="g"),
    "gz": GaussianWaveform(length=40e-9, sigma=8e-9, amplitude=0.3, zero_at_edges=True, id="gz"),
    "dg": DragGaussianWaveform(length=40e-9, sigma=8e-9, beta=2e-9, amplitude=0.3, zero_at_edges=False, id="dg"),
    "dgz": DragGaussianWaveform(length=40e-9, sigma=8e-9, beta=2e-9, amplitude=0.3, zero_at_edges=True, id="dgz"),
    "k": ConstantWaveform(length=20e-9, iq=0.1 + 0.05j, id="k"),
    "es": ErfSquareWaveform(length=120e-9, width=80e-9, sigma=6e-9, off_center=4e-9, amplitude=0.4,
                            zero_at_edges=False, id="es"),
    "esz": ErfSquareWaveform(length=120e-9, width=80e-9, sigma=6e-9, off_center=0.0, amplitude=0.4,
                             zero_at_edges=True, id="esz"),
    "arb": ArbitraryWaveform([0.0, 0.1 + 0.1j, 0.2, 0.1 - 0.1j, 0.0], id="arb"),
}
sequence = PulseSequence()
for waveform in shapes.values():
    sequence = sequence.play(drive, waveform)
save("waveforms.qasm", program(sequence))
reference = {}
for name, waveform in shapes.items():
    samples = np.asarray(waveform.amplitudes if name == "arb" else waveform.sample(DT), dtype=complex)
    reference[name] = [[float(z.real), float(z.imag)] for z in samples]
(OUT / "waveform_samples.json").write_text(json.dumps(reference, indent=1) + "\n")
print("wrote waveform_samples.json")

# 7. Frame operations Braket writes: a user frame on a port, set/shift frequency and phase, swap_phases,
#    set_scale, delay and barrier on several frames, two captures. Two frames share the port q0_rf, one
#    after the other (a barrier between): a port plays one waveform at a time.
mine = Frame("my_frame", port("q0_rf"), frequency=q0.drive_frequency + 1e6, phase=0.0, is_predefined=False)
save("frame_ops.qasm", program(
    PulseSequence().set_frequency(drive, q0.drive_frequency + 2e6).shift_frequency(drive, -2e6)
    .set_phase(drive, 0.25).shift_phase(drive, 0.5).swap_phases(drive, mine).set_scale(drive, 0.5)
    .play(drive, half).barrier([drive, mine]).play(mine, half).delay([drive, readout], 100e-9)
    .barrier([drive, mine, readout])
    .capture_v0(readout).capture_v0(readout)))
