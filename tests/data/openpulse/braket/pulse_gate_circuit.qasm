OPENQASM 3.0;
bit[1] b;
cal {
    waveform x90 = gaussian(48.0ns, 12.0ns, 0.217715769437454, false);
}
rx(1.5707963267948966) $0;
cal {
    play(q0_rf_frame, x90);
}
b[0] = measure $0;
