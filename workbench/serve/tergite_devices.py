"""Our pulse devices as Tergite describes devices: the device record and the calibration record.

The SDK reads the device record into a dataclass, so only the field names Tergite defines appear
(an unknown key would make it drop the device as malformed). The calibration carries what the SDK
builds its gates from, in the units it assumes: qubit drive frequency [Hz], pi-pulse amplitude,
duration and sigma [s]; resonator frequency [Hz], pulse amplitude and duration [s], integration time
[s]; coupler id = control-channel index. The SDK plays its own Gaussian pi pulse with our calibrated
amplitude, duration and sigma (our DRAG correction is not part of Tergite's calibration).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workbench._version import __version__
from workbench.devices.model import Device

#: When the calibration records say they were taken: the server's start (our configs carry no date).
CALIBRATED = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _coupler_index(channel: str) -> int:
    return int(channel[1:])


def device_record(device: Device) -> dict[str, Any]:
    n = device.qubit_count
    indices = [q.index for q in device.qubits]
    edges = [list(e) for e in (device.edges() or [])]
    couplers = []
    for c in device.couplings:
        a, b = c.qubits
        couplers += [[[a, b], _coupler_index(c.channel)], [[b, a], _coupler_index(c.channel)]]
    return {
        "name": device.name, "version": __version__, "number_of_qubits": n, "num_qubits": n,
        "num_couplers": len(device.couplings), "num_resonators": n, "is_online": device.available,
        "basis_gates": ["rx", "rz", "cz"] if device.couplings else ["rx", "rz"],
        "coupling_map": edges, "coordinates": [[i, 0] for i in indices], "is_simulator": True,
        "simulator": True, "characterized": True, "open_pulse": True, "meas_map": [[i] for i in indices],
        "dt": device.dt, "dtm": device.dt, "description": device.description or device.title,
        "qubit_ids": [f"q{i}" for i in indices],
        "coupling_dict": {c.channel: [f"q{c.qubits[0]}", f"q{c.qubits[1]}"] for c in device.couplings},
        "qubit_ids_coupler_map": couplers, "is_active": device.available,
    }


def _value(value: Any, unit: str) -> dict[str, Any]:
    return {"value": value, "date": CALIBRATED, "unit": unit}


def calibration_record(device: Device) -> dict[str, Any]:
    dt_ = float(device.dt or 1e-9)
    qubits, resonators = [], []
    for q in sorted(device.qubits, key=lambda q: q.index):
        x = q.drive.x
        qubits.append({
            "id": q.index, "index": _value(q.index, ""),
            "frequency": _value(q.drive_frequency, "Hz"),
            "anharmonicity": _value(q.anharmonicity, "Hz"),
            "t1_decoherence": _value(q.t1, "s") if q.t1 else None,
            "t2_decoherence": _value(q.t2, "s") if q.t2 else None,
            "pi_pulse_amplitude": _value(x.amp, ""),
            "pi_pulse_duration": _value(x.duration * dt_, "s"),
            "pulse_type": _value("Gaussian", ""),
            "pulse_sigma": _value((x.sigma or x.duration / 4) * dt_, "s"),
        })
        r = q.readout
        resonators.append({
            "id": q.index, "index": _value(q.index, ""),
            "frequency": _value(r.frequency, "Hz"),
            "pulse_amplitude": _value(r.pulse.amp, ""),
            "pulse_duration": _value(r.pulse.duration * dt_, "s"),
            "acq_delay": _value(r.acquire_delay * dt_, "s"),
            "acq_integration_time": _value(r.acquire_duration * dt_, "s"),
        })
    couplers = []
    for c in device.couplings:
        cz = c.cz
        duration = (cz.duration if cz else 4) * dt_  # split into rise and plateau: the SDK divides by the rise
        couplers.append({
            "id": _coupler_index(c.channel),
            "frequency": _value(c.frequency or 0.0, "Hz"),
            "frequency_detuning": _value(0.0, "Hz"), "anharmonicity": _value(0.0, "Hz"),
            "cz_pulse_amplitude": _value(cz.amp if cz else 0.0, ""),
            "cz_pulse_dc_bias": _value(0.0, ""), "cz_pulse_phase_offset": _value(0.0, "rad"),
            "cz_pulse_duration_before": _value(0.0, "s"),
            "cz_pulse_duration_rise": _value(duration / 4, "s"),
            "cz_pulse_duration_constant": _value(duration * 3 / 4, "s"),
        })
    return {"name": device.name, "version": __version__, "last_calibrated": CALIBRATED, "qubits": qubits,
            "resonators": resonators, "couplers": couplers}
