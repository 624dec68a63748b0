OPENQASM 3.0;
cal {
    bit[1] psb;
    waveform x_pulse = gaussian(48.0ns, 12.0ns, 0.435431538874908, false);
    play(q0_rf_frame, x_pulse);
    barrier q0_rf_frame, r0_measure_frame;
    psb[0] = capture_v0(r0_measure_frame);
}
