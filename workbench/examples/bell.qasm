// A Bell state: (|00> + |11>)/sqrt(2). Runs as is on aer-simulator and as calibrated pulses on
// qutip-2q or qblox-dummy-2q (workbench run bell.qasm --device qutip-2q).
OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
