OPENQASM 3.0;
cal {
    waveform g = gaussian(40.0ns, 8.0ns, 0.3, false);
    waveform gz = gaussian(40.0ns, 8.0ns, 0.3, true);
    waveform dg = drag_gaussian(40.0ns, 8.0ns, 2e-09, 0.3, false);
    waveform dgz = drag_gaussian(40.0ns, 8.0ns, 2e-09, 0.3, true);
    waveform k = constant(20.0ns, 0.1 + 0.05im);
    waveform es = erf_square(120.0ns, 80.0ns, 6.0ns, 4.0ns, 0.4, false);
    waveform esz = erf_square(120.0ns, 80.0ns, 6.0ns, 0.0ns, 0.4, true);
    waveform arb = {0.0, 0.1 + 0.1im, 0.2, 0.1 - 0.1im, 0.0};
    play(q0_rf_frame, g);
    play(q0_rf_frame, gz);
    play(q0_rf_frame, dg);
    play(q0_rf_frame, dgz);
    play(q0_rf_frame, k);
    play(q0_rf_frame, es);
    play(q0_rf_frame, esz);
    play(q0_rf_frame, arb);
}
