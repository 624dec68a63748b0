OPENQASM 3.0;
cal {
    bit[1] psb;
    waveform flat_pi = constant(100.0ns, 0.125);
    set_frequency(q0_rf_frame, 4808660254.037845);
    play(q0_rf_frame, flat_pi);
    barrier q0_rf_frame, r0_measure_frame;
    psb[0] = capture_v0(r0_measure_frame);
}
