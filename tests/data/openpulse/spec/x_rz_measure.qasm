// The OpenPulse specification's calibration examples (extern waveform functions, ports, frames,
// "defcal x", "defcal rz(angle[20] theta)" as a phase shift, "defcal measure" returning a capture),
// adapted to the workbench's qutip-1q: ports d0/m0/a0, its frequencies, a gaussian pi pulse for its
// Rabi rate (40 MHz per unit amplitude), its readout pulse and integration window.
OPENQASM 3.0;
defcalgrammar "openpulse";

cal {
    extern gaussian(complex[float[64]], duration, duration) -> waveform;
    extern gaussian_square(complex[float[64]], duration, duration, duration) -> waveform;
    extern capture_v2(frame, duration) -> bit;

    port d0;
    port m0;
    port a0;

    frame driveframe = newframe(d0, 4.8e9, 0.0);
    frame stimulus_frame = newframe(m0, 6.8e9, 0.0);
    frame capture_frame = newframe(a0, 6.8e9, 0.0);
}

defcal x $0 {
    play(driveframe, gaussian(0.47660504785876684, 48dt, 12dt));
}

// Shift phase of the drive frame by -theta: a virtual rz gate
defcal rz(angle[20] theta) $0 {
    shift_phase(driveframe, -theta);
}

defcal measure $0 -> bit {
    // Measurement stimulus envelope
    waveform meas_wf = gaussian_square(0.1, 800dt, 736dt, 16dt);
    play(stimulus_frame, meas_wf);
    // Align measure and capture frames
    barrier stimulus_frame, capture_frame;
    return capture_v2(capture_frame, 800dt);
}

bit[1] c;
x $0;
rz(pi / 2) $0;
c[0] = measure $0;
