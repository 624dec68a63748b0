"""Quantum statements of an OpenPulse program: gate calls, defcals, measurements, barriers, delays, boxes.

Part of :class:`~workbench.jobs.openpulse.interpreter.Interpreter` (a mixin, to keep files small):
the timing rules are in the interpreter's docstring. A gate call runs, in this order of preference,
the most specific matching ``defcal`` (constants and physical qubits count), a ``gate`` definition of
the program (inlined), or the device's calibration (:mod:`workbench.jobs.openpulse.gates`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.errors import JobError, UnsupportedError
from workbench.jobs.openpulse import expressions as ex
from workbench.jobs.openpulse.analysis import base_name, walk
from workbench.jobs.openpulse.calls import Calls
from workbench.jobs.openpulse.markup import annotation
from workbench.jobs.openpulse.values import Capture, Duration, Frame, QubitRef, Register, Scope

if TYPE_CHECKING:
    from workbench.jobs.openpulse.gates import DeviceGates


class Return(Exception):
    """``return`` in a defcal: unwinds its body with the value."""

    def __init__(self, value: Any):
        self.value = value


@dataclass
class Defcal:
    node: Any
    qubits: list[str]  # "$0" or a name (any qubit)
    frames: set[str] | None = None  # names the body uses, resolved on the first call


class Quantum(Calls):
    """Gate calls and the other quantum statements, on the interpreter's scopes and timeline."""

    global_scope: Scope
    defcals: dict[str, list[Defcal]]
    gate_defs: dict[str, Any]
    qubit_registers: dict[str, list[int]]
    gates: DeviceGates
    context: list[str]

    def where(self, node: Any) -> str | None:
        raise NotImplementedError

    def block(self, statements: list[Any], scope: Scope) -> None:
        raise NotImplementedError

    def _store_value(self, register: Register, indices: list[Any] | None, value: Any, node: Any,
                     scope: Scope) -> None:
        raise NotImplementedError

    def _s_Box(self, node: Any, scope: Scope) -> None:
        here = self.where(node)
        frames = self._frames_used(node.body, scope)
        start = self.timeline.align(frames)
        self.block(node.body, Scope(scope))
        end = self.timeline.align(frames)
        if node.duration is not None:
            length = self.evaluate(node.duration, scope, here)
            if not isinstance(length, Duration):
                raise JobError(f"box duration must be a duration, got {ex.describe(length)}", here)
            n = length.whole("box duration", here)
            if end - start > n:
                raise JobError(f"the box lasts {end - start} samples, longer than its duration {n}", here)
            for f in frames:
                f.clock = start + n

    def _frames_used(self, body: Any, scope: Scope) -> list[Frame]:
        """The frames a block touches: those it names and those of the qubits it names."""
        from openqasm3 import ast

        frames: list[Frame] = []
        qubits: set[int] = set()
        for n in _walk_list(body):
            if isinstance(n, ast.Identifier):
                found = scope.lookup(n.name)
                value = found[1] if found is not None else None
                if isinstance(value, Frame) and value not in frames:
                    frames.append(value)
                elif n.name.startswith("$") and n.name[1:].isdigit():
                    qubits.add(int(n.name[1:]))
                elif isinstance(value, list) and n.name in self.qubit_registers:
                    qubits.update(value)
                elif isinstance(value, QubitRef):
                    qubits.add(value.index)
        for f in self.timeline.frames_of(sorted(qubits)):
            if f not in frames:
                frames.append(f)
        return frames

    # --------------------------------------------------------------------------------- quantum ops
    def _physical(self, index: int, here: str | None) -> int:
        known = {q.index for q in self.device.qubits}
        if index not in known:
            raise JobError(f"qubit ${index} does not exist on device '{self.device.name}' (qubits: "
                           f"{', '.join(f'${q}' for q in sorted(known))})", here)
        return index

    def _qubits(self, operand: Any, scope: Scope, here: str | None) -> list[int]:
        from openqasm3 import ast

        if isinstance(operand, ast.IndexedIdentifier):
            register = scope.get(operand.name.name, here)
            if not isinstance(register, list) or len(operand.indices) != 1 or len(operand.indices[0]) != 1:
                raise JobError(f"'{operand.name.name}' is not a qubit register", here)
            i = self.evaluate(operand.indices[0][0], scope, here)
            if isinstance(i, bool) or not isinstance(i, int) or not -len(register) <= i < len(register):
                raise JobError(f"index {i!r} is outside qubit register '{operand.name.name}' of {len(register)}",
                               here)
            return [register[i]]
        name = operand.name
        if name.startswith("$"):
            return [self._physical(int(name[1:]), here)]
        value = scope.get(name, here)
        if isinstance(value, QubitRef):
            return [value.index]
        if isinstance(value, list) and name in self.qubit_registers:
            return list(value)
        raise JobError(f"'{name}' is not a qubit", here)

    def _s_QuantumGate(self, node: Any, scope: Scope) -> None:
        here = self.where(node)
        operands = [self._qubits(q, scope, here) for q in node.qubits]
        args = [self.evaluate(a, scope, here) for a in node.arguments]
        for v in args:
            if ex.runtime_value(v):
                raise ex.runtime_error(here)
        width = max((len(o) for o in operands), default=1)
        if any(len(o) not in (1, width) for o in operands):
            raise JobError("qubit registers of different sizes in one gate call", here)
        for k in range(width):
            qubits = [o[k] if len(o) > 1 else o[0] for o in operands]
            if len(set(qubits)) != len(qubits):
                raise JobError(f"gate '{node.name.name}' is given one qubit twice", here)
            self.apply_gate(node.name.name, args, qubits, node, here)

    def _s_QuantumPhase(self, node: Any, scope: Scope) -> None:
        pass  # a global phase changes nothing that can be measured

    def apply_gate(self, name: str, args: list[Any], qubits: list[int], node: Any, here: str | None) -> Any:
        entry = self._find_defcal(name, args, qubits, here)
        if entry is not None:
            return self._run_defcal(entry, args, qubits, here)
        if name in self.gate_defs:
            self._run_gate_def(self.gate_defs[name], args, qubits, here)
            return None
        self.gates.gate(name, args, qubits, here)
        return None

    def _find_defcal(self, name: str, args: list[Any], qubits: list[int], here: str | None) -> Defcal | None:
        from openqasm3 import ast

        best, best_score = None, -1
        for entry in self.defcals.get(name, []):
            if len(entry.qubits) != len(qubits) or len(entry.node.arguments) != len(args):
                continue
            if any(q.startswith("$") and int(q[1:]) != actual for q, actual in zip(entry.qubits, qubits, strict=True)):
                continue
            score = sum(q.startswith("$") for q in entry.qubits)
            matched = True
            for param, value in zip(entry.node.arguments, args, strict=True):
                if isinstance(param, ast.ClassicalArgument):
                    continue
                constant = self.evaluate(param, self.global_scope, here)
                if not _same(constant, value):
                    matched = False
                    break
                score += 1
            if matched and score >= best_score:
                best, best_score = entry, score
        return best

    def _run_defcal(self, entry: Defcal, args: list[Any], qubits: list[int], here: str | None) -> Any:
        from openqasm3 import ast

        node = entry.node
        if entry.frames is None:
            entry.frames = {n.name for n in _walk_list(node.body) if isinstance(n, ast.Identifier)}
        named = [v for v in (self.global_scope.lookup(n) for n in entry.frames) if v is not None]
        frames = self.timeline.frames_of(qubits)
        frames += [v[1] for v in named if isinstance(v[1], Frame) and v[1] not in frames]
        start = self.timeline.align(frames)
        scope = Scope(self.global_scope, "defcal")
        for param, value in zip(node.arguments, args, strict=True):
            if isinstance(param, ast.ClassicalArgument):
                scope.declare(param.name.name, ex.coerce(param.type, value, here, param.name.name), here)
        for q_name, q in zip(entry.qubits, qubits, strict=True):
            if not q_name.startswith("$"):
                scope.declare(q_name, QubitRef(q), here)
        saved = (self.block_start, self.in_defcal)
        self.block_start, self.in_defcal = start, True
        self.context.append(f"in defcal {node.name.name} {' '.join(f'${q}' for q in qubits)}, called at "
                            f"{here.split(' (')[0] if here else '?'}")
        try:
            self.block(node.body, scope)
        except Return as result:
            return result.value
        finally:
            self.block_start, self.in_defcal = saved
            self.context.pop()
            self.timeline.align(frames)  # the defcal occupies its qubits and frames until it ends
        return None

    def _run_gate_def(self, node: Any, args: list[Any], qubits: list[int], here: str | None) -> None:
        if len(node.arguments) != len(args) or len(node.qubits) != len(qubits):
            raise JobError(f"gate '{node.name.name}' takes {len(node.arguments)} parameter(s) and {len(node.qubits)} "
                           f"qubit(s), got {len(args)} and {len(qubits)}", here)
        scope = Scope(self.global_scope, "gate")
        for param, value in zip(node.arguments, args, strict=True):
            scope.declare(param.name, value, here, constant=True)
        for q_node, q in zip(node.qubits, qubits, strict=True):
            scope.declare(q_node.name, QubitRef(q), here)
        self.context.append(f"in gate {node.name.name}, called at {here.split(' (')[0] if here else '?'}")
        try:
            self.block(node.body, scope)
        finally:
            self.context.pop()

    def measure(self, qubit: int, here: str | None) -> Any:
        entry = self._find_defcal("measure", [], [qubit], here)
        if entry is not None:
            result = self._run_defcal(entry, [], [qubit], here)
            if not isinstance(result, Capture):
                raise JobError(f"defcal measure ${qubit} must return a capture result (return capture_v2(...);)", here)
            return result
        return self.gates.measure(qubit, here)

    def _measure_expression(self, node: Any, scope: Scope, where: str | None) -> Any:
        qubits = self._qubits(node.qubit, scope, where)
        results = [self.measure(q, where) for q in qubits]
        return results[0] if len(results) == 1 and not _is_register(node.qubit, self.qubit_registers) else results

    def _s_QuantumMeasurementStatement(self, node: Any, scope: Scope) -> None:
        from openqasm3 import ast

        here = self.where(node)
        value = self._measure_expression(node.measure, scope, here)
        if node.target is None:
            raise JobError("store the measurement result: 'c[0] = measure $0;'", here)
        register = scope.get(base_name(node.target), here)
        if not isinstance(register, Register):
            raise JobError(f"'{base_name(node.target)}' cannot receive a measurement result", here)
        indices = node.target.indices if isinstance(node.target, ast.IndexedIdentifier) else []
        self._store_value(register, indices, value, node, scope)

    def _s_QuantumReset(self, node: Any, scope: Scope) -> None:
        here = self.where(node)
        for operand in node.qubits if isinstance(node.qubits, list) else [node.qubits]:
            for q in self._qubits(operand, scope, here):
                entry = self._find_defcal("reset", [], [q], here)
                if entry is None:
                    raise UnsupportedError("reset needs a measurement and a conditional pulse during the shot "
                                           "(runtime classical control); every shot starts in |0>, or give reset "
                                           "a defcal", here)
                self._run_defcal(entry, [], [q], here)

    def _operands(self, operands: list[Any], scope: Scope, here: str | None) -> tuple[list[Frame], list[int]]:
        frames: list[Frame] = []
        qubits: list[int] = []
        for operand in operands:
            from openqasm3 import ast

            if isinstance(operand, ast.Identifier) and not operand.name.startswith("$"):
                value = scope.get(operand.name, here)
                if isinstance(value, Frame):
                    frames.append(value)
                    continue
            qubits.extend(self._qubits(operand, scope, here))
        return frames, qubits

    def _s_QuantumBarrier(self, node: Any, scope: Scope) -> None:
        here = self.where(node)
        if not node.qubits:
            self.timeline.align(list(self.timeline.frames))
            return
        frames, qubits = self._operands(node.qubits, scope, here)
        self.timeline.align(frames + [f for f in self.timeline.frames_of(qubits) if f not in frames])

    def _s_DelayInstruction(self, node: Any, scope: Scope) -> None:
        here = self.where(node)
        length = self.evaluate(node.duration, scope, here)
        if not isinstance(length, Duration):
            raise JobError(f"delay takes a duration, e.g. delay[100ns], got {ex.describe(length)}", here)
        n = length.whole("the delay", here)
        keep = annotation(node, "delay") is not None
        if not node.qubits:
            for q in sorted(q.index for q in self.device.qubits):
                self.timeline.qubit_delay(q, n, here)
            return
        frames, qubits = self._operands(node.qubits, scope, here)
        for frame in frames:
            self.timeline.delay(frame, n, here, keep=keep)
        for q in qubits:
            self.timeline.qubit_delay(q, n, here)


def _walk_list(body: Any) -> Any:
    for statement in body if isinstance(body, list) else [body]:
        yield from walk(statement)


def _is_register(operand: Any, registers: dict[str, list[int]]) -> bool:
    from openqasm3 import ast

    return isinstance(operand, ast.Identifier) and operand.name in registers


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Duration) and isinstance(b, Duration):
        return abs(a.samples - b.samples) <= 1e-9
    if ex.is_number(a) and ex.is_number(b):
        return abs(complex(a) - complex(b)) <= 1e-12 * max(1.0, abs(complex(a)))
    return a == b
