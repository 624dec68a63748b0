// A phase sweep as an OpenPulse program: two pi/2 pulses of qutip-1q with the frame turned by the input
// 'phi' between them, so P(1) = cos(phi/2)^2 (1 at phi = 0, 0 at phi = pi):
//   workbench run phase.qasm --set inputs='{"phi": [0, 1.5708, 3.1416]}'
OPENQASM 3.0;
defcalgrammar "openpulse";

input float[64] phi;

cal {
    extern drag(complex[float[64]], duration, duration, float[64]) -> waveform;
    waveform x90 = drag(0.2384085, 48dt, 12dt, 0.457119);
}

defcal ramsey_phase $0 {
    play(q0_drive, x90);
    shift_phase(q0_drive, phi);
    play(q0_drive, x90);
}

bit[1] c;
ramsey_phase $0;
c[0] = measure $0;
