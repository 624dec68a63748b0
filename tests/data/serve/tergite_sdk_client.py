"""Run by tests/test_serve_tergite.py in a venv holding the unmodified Tergite SDK (tergite==2025.3.1).

Usage: python tergite_sdk_client.py URL TOKEN OUT.json
Connects to a `workbench serve` at URL, lists the backends, runs a pulse schedule on qutip-1q, a
transpiled circuit on qutip-1q and a two-qubit pulse schedule on qutip-2q, and writes what the SDK
returned (job ids, counts, memory, statuses) as JSON to OUT.json.
"""

import json
import sys

import numpy as np
from qiskit import QuantumCircuit, compiler, pulse
from tergite.qiskit.providers import Tergite
from tergite.qiskit.providers.provider_account import ProviderAccount


def wait(job):
    import time

    for _ in range(600):
        result = job.result()
        if result is not None:
            return result
        time.sleep(0.2)
    raise SystemExit(f"job {job.job_id()} did not finish")


def measure(backend, sched, qubits):
    cal = backend.device_properties  # the SDK's own calibration record of the device
    t = sched.duration
    for q in qubits:
        res = cal.resonators[q]
        dt = backend.dt
        m, a = pulse.MeasureChannel(q), pulse.AcquireChannel(q)
        sched = sched.insert(t, pulse.SetFrequency(res.frequency.value, m))
        sched = sched.insert(t, pulse.Play(pulse.Constant(duration=round(res.pulse_duration.value / dt),
                                                          amp=res.pulse_amplitude.value), m))
        sched = sched.insert(t, pulse.Acquire(round(res.acq_integration_time.value / dt), a,
                                              mem_slot=pulse.MemorySlot(q)))
    return sched


def main():
    url, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
    provider = Tergite.use_provider_account(ProviderAccount(service_name="workbench", url=url, token=token or None))
    names = sorted(b.name for b in provider.backends())
    report = {"backends": names, "jobs": {}}

    b1 = provider.get_backend("qutip-1q")
    cal = b1.device_properties.qubits[0]
    d0 = pulse.DriveChannel(0)
    sched = pulse.Schedule(name="x_gate")
    sched += pulse.SetFrequency(cal.frequency.value, d0)
    dur = round(cal.pi_pulse_duration.value / b1.dt)
    sigma = cal.pulse_sigma.value / b1.dt
    sched += pulse.Play(pulse.Gaussian(duration=dur, amp=cal.pi_pulse_amplitude.value, sigma=sigma), d0)
    sched = measure(b1, sched, [0])
    b1.set_options(shots=200)
    jobs = {"schedule_1q": b1.run(sched, meas_level=2, meas_return="single", qobj_id="schedule-1q")}

    qc = QuantumCircuit(1, 1, name="h_measure")
    qc.h(0)
    qc.measure(0, 0)
    tc = compiler.transpile(qc, backend=b1, initial_layout=[0])
    jobs["circuit_1q"] = b1.run(tc, meas_level=2, meas_return="single", qobj_id="circuit-1q")

    b2 = provider.get_backend("qutip-2q")
    c2 = b2.device_properties.qubits
    s2 = pulse.Schedule(name="x_on_q1")
    d1 = pulse.DriveChannel(1)
    s2 += pulse.SetFrequency(c2[1].frequency.value, d1)
    s2 += pulse.Play(pulse.Gaussian(duration=round(c2[1].pi_pulse_duration.value / b2.dt),
                                    amp=c2[1].pi_pulse_amplitude.value, sigma=c2[1].pulse_sigma.value / b2.dt), d1)
    s2 = measure(b2, s2, [0, 1])
    b2.set_options(shots=100)
    jobs["schedule_2q"] = b2.run(s2, meas_level=2, meas_return="single", qobj_id="schedule-2q")

    for key, job in jobs.items():
        result = wait(job)
        report["jobs"][key] = {"job_id": job.job_id(), "status": str(job.status()),
                               "counts": dict(result.get_counts()), "memory": result.get_memory(0)[:5]}
    again = provider.job(jobs["schedule_1q"].job_id())  # reads the HDF5 logfile
    report["reloaded_status"] = str(again.status())
    report["logfile"] = str(again.logfile)  # where the SDK kept the HDF5 logfile it downloaded
    with open(out, "w") as fh:
        json.dump(report, fh, indent=2)


if __name__ == "__main__":
    np.random.seed(0)
    main()
