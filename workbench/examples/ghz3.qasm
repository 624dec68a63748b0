// A three-qubit GHZ state, (|000> + |111>)/sqrt(2), in OpenQASM 3: counts only in 000 and 111.
OPENQASM 3.0;
include "stdgates.inc";
qubit[3] q;
bit[3] c;
h q[0];
cx q[0], q[1];
cx q[1], q[2];
c = measure q;
