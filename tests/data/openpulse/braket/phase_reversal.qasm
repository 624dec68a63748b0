OPENQASM 3.0;
cal {
    bit[1] psb;
    input float phi;
    waveform x90 = gaussian(48.0ns, 12.0ns, 0.217715769437454, false);
    play(q0_rf_frame, x90);
    shift_phase(q0_rf_frame, phi);
    play(q0_rf_frame, x90);
    barrier q0_rf_frame, r0_measure_frame;
    psb[0] = capture_v0(r0_measure_frame);
}
