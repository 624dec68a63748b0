// An X gate as an OpenQASM 3 + OpenPulse program: the calibrated DRAG pulse of qutip-1q, then the
// device's readout. On qutip-1q it flips the qubit (counts nearly all '1').
OPENQASM 3.0;
defcalgrammar "openpulse";

cal {
    extern drag(complex[float[64]], duration, duration, float[64]) -> waveform;
    waveform xp = drag(0.476817, 48dt, 12dt, 0.457119);
}

defcal x $0 {
    play(q0_drive, xp);          // q0_drive: a frame the device predefines on port d0
}

bit[1] c;
x $0;
c[0] = measure $0;               // no defcal for measure: the device's calibrated readout
