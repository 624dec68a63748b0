// A five-qubit GHZ state, (|00000> + |11111>)/sqrt(2), along a chain: counts in 00000 and 11111. Runs as
// calibrated pulses on the chip qutip-5q (workbench run ghz5.qasm --device qutip-5q), or as is on aer-simulator.
OPENQASM 2.0;
include "qelib1.inc";
qreg q[5];
creg c[5];
h q[0];
cx q[0], q[1];
cx q[1], q[2];
cx q[2], q[3];
cx q[3], q[4];
measure q -> c;
