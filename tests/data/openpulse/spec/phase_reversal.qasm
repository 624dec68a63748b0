// A virtual Z between two pi/2 pulses (the specification's "Shift phase of the drive frame ... a
// virtual rz gate"): P(1) = cos^2(phi / 2), so shift_phase(pi) reverses the first rotation. "n_half"
// pi/2 pulses in a loop over a constant range rotate by n pi / 2: P(1) = sin^2(n pi / 4).
OPENQASM 3.0;
defcalgrammar "openpulse";

input angle[32] phi;
input int n_half;

cal {
    extern gaussian(complex[float[64]], duration, duration) -> waveform;
    waveform x90 = gaussian(0.23830252392938342, 48dt, 12dt);
}

defcal sx90 $0 {
    play(q0_drive, x90);
}

defcal rz(angle theta) $0 {
    shift_phase(q0_drive, -theta);
}

bit c;
sx90 $0;
rz(-phi) $0;
sx90 $0;
for int i in [1:n_half] {
    sx90 $0;
}
c = measure $0;
