"""OpenQASM circuits: loading, gate-level programs, and compilation to pulses with device calibrations."""
