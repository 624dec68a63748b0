"""The OpenPulse waveform library, sampled by the workbench itself (Qiskit 2 has none)."""
