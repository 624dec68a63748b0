OPENQASM 3.0;
cal {
    bit[2] psb;
    frame my_frame = newframe(q0_rf, 4801000000.0, 0.0);
    waveform x90 = gaussian(48.0ns, 12.0ns, 0.217715769437454, false);
    set_frequency(q0_rf_frame, 4802000000.0);
    shift_frequency(q0_rf_frame, -2000000.0);
    set_phase(q0_rf_frame, 0.25);
    shift_phase(q0_rf_frame, 0.5);
    swap_phases(q0_rf_frame, my_frame);
    set_scale(q0_rf_frame, 0.5);
    play(q0_rf_frame, x90);
    barrier q0_rf_frame, my_frame;
    play(my_frame, x90);
    delay[100.0ns] q0_rf_frame, r0_measure_frame;
    barrier q0_rf_frame, my_frame, r0_measure_frame;
    psb[0] = capture_v0(r0_measure_frame);
    psb[1] = capture_v0(r0_measure_frame);
}
