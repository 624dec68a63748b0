// A Rabi sweep as an OpenPulse program: the DRAG pulse of qutip-1q at the amplitude 'amp', an input
// bound by the execution option inputs, one experiment per value:
//   workbench run sweep.qasm --set inputs='{"amp": [0.1, 0.2, 0.3]}'
OPENQASM 3.0;
defcalgrammar "openpulse";

input float[64] amp;

cal {
    extern drag(complex[float[64]], duration, duration, float[64]) -> waveform;
}

defcal rabi_pulse $0 {
    play(q0_drive, drag(amp, 48dt, 12dt, 0.457119));
}

bit[1] c;
rabi_pulse $0;
c[0] = measure $0;
