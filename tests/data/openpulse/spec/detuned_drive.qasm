// The specification's qubit spectroscopy, one frequency per experiment: a frame is set to the qubit
// frequency plus "detuning" (an input: one experiment per value) and a constant pulse of area pi
// plays on it (T = 100 ns, amplitude 1 / (2 rabi_rate T) on qutip-1q). On resonance the qubit flips;
// detuned by sqrt(3) / (2 T) it makes one full generalised Rabi cycle and ends in |0>:
// P(1) = W^2 / (W^2 + D^2) sin^2(sqrt(W^2 + D^2) T / 2).
OPENQASM 3.0;
defcalgrammar "openpulse";

const float qubit_frequency = 4.8e9;
const duration pulse_length = 100ns;
input float detuning;

cal {
    extern constant(complex[float[64]], duration) -> waveform;
    port d0;
    frame driveframe = newframe(d0, qubit_frequency, 0.0);
}

defcal saturation_pulse $0 {
    play(driveframe, constant(0.125, pulse_length));
}

cal {
    set_frequency(driveframe, qubit_frequency + detuning);
}

bit[1] c;
saturation_pulse $0;
c[0] = measure $0;
