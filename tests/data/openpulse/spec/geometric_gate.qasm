// The specification's geometric gate and cross-resonance examples, on qutip-2q's ports: two frames
// on one port (the 0-1 and 1-2 transitions of qubit 0), waveforms from samples, scale(), math on
// angles, delay on two frames, and a frame made inside a defcal from get_frequency/get_phase.
// Adapted: a workbench port plays one waveform at a time, so the two frames on d0 take turns (the
// barriers); the specification plays them at once, as one two-tone signal.
OPENQASM 3.0;
defcalgrammar "openpulse";

cal {
    extern gaussian_square(complex[float[64]], duration, duration, duration) -> waveform;
    port d0;
    port d1;
    float fq_01 = 4.9e9;
    float anharm = -250e6;
    frame frame_01 = newframe(d0, fq_01, 0);
    frame frame_12 = newframe(d0, fq_01 + anharm, 0);
    frame frame0 = newframe(d0, 4.9e9, 0);
    waveform X_01 = {0.1, 0.5 + 0.1im, 0.1};
    waveform X_12 = {0.1, 0.4 - 0.2im, 0.1};
}

defcal geo_gate(angle[32] theta) $0 {
    float[32] a = sin(theta / 2);
    float[32] b = sqrt(1 - a ** 2);
    play(frame_01, scale(a, X_01));
    barrier frame_01, frame_12;
    play(frame_12, scale(b, X_12));
    delay[16ns] frame_01, frame_12;
    play(frame_01, scale(a, X_01));
    barrier frame_01, frame_12;
    play(frame_12, scale(b, X_12));
}

defcal cross_resonance $0, $1 {
    waveform wf1 = gaussian_square(0.5, 256dt, 128dt, 32dt);
    waveform wf2 = gaussian_square(0.1, 256dt, 128dt, 32dt);
    shift_phase(frame0, pi / 2);
    // locally-scoped frame, made at the start of this defcal
    frame temp_frame = newframe(d1, get_frequency(frame0), get_phase(frame0));
    play(frame0, wf1);
    play(temp_frame, wf2);
}

cross_resonance $0, $1;
geo_gate(pi / 3) $0;
