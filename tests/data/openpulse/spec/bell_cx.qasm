// A Bell pair with a defcal'd cx, in the style of the specification's cross-resonance example, for
// qutip-2q: cx = (I x H) CZ (I x H) with H = rz(pi/2) sx rz(pi/2) on the target's drive frame and the
// CZ pulse on the coupler frame (the device's calibrated numbers). "h $0" has no defcal: the device's
// own calibration plays it.
OPENQASM 3.0;
defcalgrammar "openpulse";
include "stdgates.inc";

cal {
    extern drag(complex[float[64]], duration, duration, float[64]) -> waveform;
    extern gaussian_square(complex[float[64]], duration, duration, duration) -> waveform;
    port d1;
    port u0;
    frame target = newframe(d1, 5.3e9, 0.0);
    frame coupler = newframe(u0, 1.7e8, 0.0);
    waveform sx1 = drag(0.238334, 48dt, 12dt, 0.508808);
    waveform cz01 = gaussian_square(0.487471, 200dt, 120dt, 10dt);
}

defcal h_target $1 {
    shift_phase(target, -pi / 2);
    play(target, sx1);
    shift_phase(target, -pi / 2);
}

defcal cx $0, $1 {
    h_target $1;
    barrier target, coupler;
    play(coupler, cz01);
    barrier target, coupler;
    h_target $1;
}

bit[2] c;
h $0;
cx $0, $1;
c[0] = measure $0;
c[1] = measure $1;
