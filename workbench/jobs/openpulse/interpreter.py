"""One experiment of an OpenPulse program, executed at compile time into a schedule.

Statements run in order, as a compiler would unroll them: ``for`` loops over constant ranges are
unrolled, ``if`` takes the branch its (compile-time) condition selects, gate calls run their
``defcal`` (or, without one, the device's calibration: :mod:`workbench.jobs.openpulse.gates`), and
every ``play``, frame change, ``delay`` and capture lands on the frame's clock in a
:class:`~workbench.jobs.openpulse.timeline.Timeline`.

Timing, in the specification's words plus what it leaves open:

* every frame has its own clock; ``cal`` blocks create frames at time 0, a ``defcal`` at its start;
* ``barrier`` on frames aligns them; on qubits (or with no operands) it aligns the frames of those
  qubits (of all frames);
* a ``defcal`` (and a gate without one) aligns its qubits' frames and the frames its body names when
  it starts (the specification's implicit barrier) and when it ends, so gates on a qubit follow each
  other as in a circuit; a qubit's frames are those on its ports ``d<i>``, ``m<i>``, ``a<i>``, plus
  the ``u<k>`` of couplings between the qubits of a two-qubit gate;
* ``delay`` on frames only moves their clocks (annotate it ``@workbench.delay`` to keep a delay
  instruction in the schedule); ``delay`` on qubits aligns the qubit's frames, puts a delay
  instruction on ``d<i>`` (as circuits do) and moves them all;
* ``box`` aligns the frames it uses at its start and at its end (at ``start + d`` for ``box[d]``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.errors import JobError, UnsupportedError
from workbench.jobs.openpulse import expressions as ex
from workbench.jobs.openpulse.analysis import base_name, where
from workbench.jobs.openpulse.gates import DeviceGates
from workbench.jobs.openpulse.markup import annotation, header_registers, json_text, natural, shape_annotation
from workbench.jobs.openpulse.quantum import Defcal, Quantum, Return
from workbench.jobs.openpulse.timeline import Timeline
from workbench.jobs.openpulse.values import Capture, Duration, Frame, Port, Register, Scope, Waveform
from workbench.jobs.openpulse.waveforms import from_list
from workbench.schedule.builder import ScheduleBuilder

if TYPE_CHECKING:
    from workbench.devices.model import Device
    from workbench.schedule.ir import Schedule

_DURATION_TEXT = re.compile(r"^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(dt|ns|us|ms|s)$")
MAX_STEPS = 2_000_000  # statements executed for one experiment (loops unrolled)
MAX_LOOP = 1_000_000


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _End(Exception):
    pass


@dataclass
class Experiment:
    """What running the program for one set of input values gives."""

    schedule: Schedule
    warnings: list[str] = field(default_factory=list)


class Interpreter(Quantum):
    def __init__(self, program: Any, device: Device, memory: set[str], inputs: dict[str, Any]):
        self.program = program
        self.device = device
        self.memory = memory
        self.inputs = inputs
        self.timeline = Timeline(device)
        self.externs: set[str] = set()
        self.block_start = 0
        self.in_defcal = False
        self.defcals: dict[str, list[Defcal]] = {}
        self.gate_defs: dict[str, Any] = {}
        self.qubit_registers: dict[str, list[int]] = {}
        self.next_virtual = 0
        self.registers: list[Register] = []
        self.next_slot = 0
        self.steps = 0
        self.context: list[str] = []  # call sites, innermost last, for error locations
        self.device_scope = Scope(None, "device")
        self.global_scope = Scope(self.device_scope, "global")
        self._predefined: dict[str, Frame] = {}
        for port in device.openpulse_ports():
            self.device_scope.declare(port, Port(port), None)
        for spec in device.openpulse_frames().values():
            frame = self.timeline.new_frame(spec.name, spec.port, spec.frequency, 0.0, 0)
            self._predefined[spec.name] = frame
            self.device_scope.declare(spec.name, frame, None)
        for alias, target in device.openpulse_names.items():
            self.device_scope.declare(alias, self.device_scope.values[target], None)
        self.gates = DeviceGates(device, self.timeline, self._device_frame)

    def _device_frame(self, name: str) -> Frame:
        """A predefined frame, or the frame the program declared under its name at global scope."""
        value = self.global_scope.values.get(name)
        return value if isinstance(value, Frame) else self._predefined[name]

    def where(self, node: Any) -> str | None:
        here = where(node)
        if self.context and here is not None:
            return f"{here} ({self.context[-1]})"
        return here

    # ------------------------------------------------------------------------------------------ run
    def run(self, name: str, metadata: dict[str, Any], header: dict[str, Any] | None) -> Experiment:
        try:
            self.block(self.program.statements, self.global_scope)
        except _End:
            pass
        except (_Break, _Continue):
            raise JobError("break/continue outside a loop") from None
        except RecursionError:
            raise JobError("gates or defcals call each other too deeply (a recursive definition?)") from None
        slots = self._slots()
        creg_sizes = tuple((r.name, r.size) for r in self.registers)
        memory_slots = self.next_slot
        if header is not None:
            if "creg_sizes" in header:
                creg_sizes = header_registers(header["creg_sizes"])
            memory_slots = max(memory_slots, natural(header.get("memory_slots", 0), "memory_slots"))
            metadata = dict(header.get("metadata") or {})
            metadata.setdefault("name", header.get("name", name))
            name = header.get("name") or name
        builder = ScheduleBuilder(name=name, dt=float(self.device.dt or 0.0),
                                  frequencies=self.timeline.initial_frequencies(), memory_slots=memory_slots,
                                  metadata=metadata, creg_sizes=creg_sizes)
        return Experiment(self.timeline.build(builder, slots), list(self.timeline.warnings))

    def _slots(self) -> dict[int, tuple[int, int | None]]:
        slots: dict[int, tuple[int, int | None]] = {}
        for token in self.timeline.captures:
            if token.slot is None:
                raise JobError("the result of this capture is never stored in a bit or complex register (e.g. "
                               "'c[0] = capture_v2(q0_acquire, 800dt);')", token.where)
            slots[token.index] = (token.slot, token.register_slot)
        return slots

    def block(self, statements: list[Any], scope: Scope) -> None:
        for statement in statements:
            self.statement(statement, scope)

    def statement(self, node: Any, scope: Scope) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise JobError(f"the program runs more than {MAX_STEPS} statements for one experiment (loops unrolled); "
                           "split it into several jobs", self.where(node))
        handler = getattr(self, f"_s_{type(node).__name__}", None)
        if handler is None:
            raise UnsupportedError(f"{type(node).__name__} statements are not supported", self.where(node))
        handler(node, scope)

    # -------------------------------------------------------------------------------- declarations
    def _s_Include(self, node: Any, scope: Scope) -> None:
        if node.filename != "stdgates.inc":
            raise UnsupportedError(f"only \"stdgates.inc\" can be included, not \"{node.filename}\"", self.where(node))

    def _s_CalibrationGrammarDeclaration(self, node: Any, scope: Scope) -> None:
        pass  # checked when the job was loaded

    def _s_Pragma(self, node: Any, scope: Scope) -> None:
        pass  # read when the job was loaded

    def _s_ExternDeclaration(self, node: Any, scope: Scope) -> None:
        self.externs.add(node.name.name)

    def _s_ConstantDeclaration(self, node: Any, scope: Scope) -> None:
        here = self.where(node)
        value = ex.coerce(node.type, self.evaluate(node.init_expression, scope, here), here, node.identifier.name)
        scope.declare(node.identifier.name, value, here, constant=True)

    def _s_IODeclaration(self, node: Any, scope: Scope) -> None:
        from openqasm3 import ast

        name, here = node.identifier.name, self.where(node)
        if node.io_identifier != ast.IOKeyword.input:
            self._declare(name, node.type, None, scope, node)
            return
        if type(node.type).__name__ == "PortType":
            scope.declare(name, self._device_name(name, Port, here), here)
            return
        if name not in self.inputs:
            raise JobError(f"input '{name}' has no value; bind it with the execution option inputs, e.g. "
                           f"--set inputs='{{\"{name}\": ...}}'", here)
        value = self.inputs[name]
        if type(node.type).__name__ == "DurationType":
            value = self._input_duration(name, value, here)
        scope.declare(name, ex.coerce(node.type, value, here, f"input '{name}'"), here, constant=True)

    def _input_duration(self, name: str, value: Any, here: str | None) -> Duration:
        """A duration input: seconds as a number, or text such as "100ns" or "48dt"."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Duration(value / float(self.device.dt or 1.0))
        match = _DURATION_TEXT.match(str(value).strip())
        if match is None:
            raise JobError(f"input '{name}' is a duration: give seconds or text such as \"100ns\", got {value!r}", here)
        return self.duration_literal(float(match.group(1)), match.group(2), here)

    def _device_name(self, name: str, kind: type, here: str | None) -> Any:
        value = self.device_scope.values.get(name)
        if not isinstance(value, kind):
            what = "port" if kind is Port else "frame"
            known = self.device.openpulse_ports() if kind is Port else list(self.device.openpulse_frames())
            raise JobError(f"device '{self.device.name}' has no {what} '{name}' (it has {', '.join(known)}; other "
                           "names can be mapped in the device's openpulse_names)", here)
        return value

    def _s_ClassicalDeclaration(self, node: Any, scope: Scope) -> None:
        self._declare(node.identifier.name, node.type, node.init_expression, scope, node)

    def _declare(self, name: str, type_node: Any, init: Any, scope: Scope, node: Any) -> None:
        here = self.where(node)
        kind = type(type_node).__name__
        if kind == "PortType":
            if init is not None:
                raise JobError("a port cannot be initialised; ports come from the device", here)
            scope.declare(name, self._device_name(name, Port, here), here)
            return
        if kind == "FrameType":
            if init is None:
                scope.declare(name, self._device_name(name, Frame, here), here)
                return
            frame = self.evaluate(init, scope, here)
            if not isinstance(frame, Frame):
                raise JobError(f"frame '{name}' must be made with newframe(port, frequency, phase)", here)
            if frame.name == "newframe":
                frame.name = name
            scope.declare(name, frame, here)
            return
        if kind == "WaveformType":
            value = self.evaluate(init, scope, here) if init is not None else None
            if isinstance(value, list):
                value = from_list(value, here)
            if not isinstance(value, Waveform):
                raise JobError(f"waveform '{name}' needs a waveform value", here)
            label = annotation(node, "name")
            shape, parameters = shape_annotation(node, value, here, self.timeline.warnings)
            scope.declare(name, Waveform(value.samples, shape, parameters,
                                         json_text(label, "@workbench.name", here) if label else name), here)
            return
        # Results go to registers: those a measurement or capture writes, and every bit register declared
        # without a value outside defcals (Qiskit's classical bits, measured or not, keep their slots).
        unset_bits = kind == "BitType" and init is None and scope.kind not in ("defcal", "gate")
        if (name in self.memory or unset_bits) and not self.in_defcal and kind in ("BitType", "ComplexType",
                                                                                   "ArrayType"):
            register = self._register(name, type_node, scope, here)
            scope.declare(name, register, here)
            if init is not None:
                self._store_value(register, None, self.evaluate(init, scope, here), node, scope)
            return
        value = self.evaluate(init, scope, here) if init is not None else ex.default_value(type_node)
        scope.declare(name, ex.coerce(type_node, value, here, name), here)

    def _register(self, name: str, type_node: Any, scope: Scope, here: str | None) -> Register:
        from openqasm3 import ast

        if isinstance(type_node, ast.ArrayType):
            if len(type_node.dimensions) != 1:
                raise UnsupportedError(f"register '{name}' must have one dimension", here)
            size_node, base = type_node.dimensions[0], type_node.base_type
            kind = "complex" if isinstance(base, ast.ComplexType) else "bit" if isinstance(base, ast.BitType) else ""
        else:
            size_node = type_node.size if isinstance(type_node, ast.BitType) else None
            kind = "bit" if isinstance(type_node, ast.BitType) else "complex"
        if not kind:
            raise JobError(f"'{name}' receives measurement results, so it must be a bit or complex register", here)
        size = 1 if size_node is None else self.evaluate(size_node, scope, here)
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= 100_000:
            raise JobError(f"register '{name}' has size {size!r}; give a whole number from 1 to 100000", here)
        register = Register(name, size, self.next_slot, kind, size_node is None)
        self.next_slot += size
        self.registers.append(register)
        return register

    def _s_QubitDeclaration(self, node: Any, scope: Scope) -> None:
        here = self.where(node)
        size = 1 if node.size is None else self.evaluate(node.size, scope, here)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise JobError(f"qubit register size {size!r} is not a positive whole number", here)
        indices = sorted(q.index for q in self.device.qubits)
        if self.next_virtual + size > len(indices):
            raise UnsupportedError(f"the program declares {self.next_virtual + size} qubits; device "
                                   f"'{self.device.name}' has {len(indices)}", here)
        self.qubit_registers[node.qubit.name] = indices[self.next_virtual:self.next_virtual + size]
        scope.declare(node.qubit.name, self.qubit_registers[node.qubit.name], here)
        self.next_virtual += size

    def _s_CalibrationDefinition(self, node: Any, scope: Scope) -> None:
        qubits = [q.name for q in node.qubits]
        for q in qubits:
            if q.startswith("$"):
                self._physical(int(q[1:]), self.where(node))
        self.defcals.setdefault(node.name.name, []).append(Defcal(node, qubits))

    def _s_QuantumGateDefinition(self, node: Any, scope: Scope) -> None:
        self.gate_defs[node.name.name] = node

    # ------------------------------------------------------------------------------------- control
    def _s_CalibrationStatement(self, node: Any, scope: Scope) -> None:
        before = self.block_start
        self.block_start = 0 if not self.in_defcal else before
        try:
            self.block(node.body, scope)
        finally:
            self.block_start = before

    def _s_ExpressionStatement(self, node: Any, scope: Scope) -> None:
        self.timeline.after_play = annotation(node, "after_play") is not None
        try:
            self.evaluate(node.expression, scope, self.where(node))
        finally:
            self.timeline.after_play = False

    def _s_ClassicalAssignment(self, node: Any, scope: Scope) -> None:
        from openqasm3 import ast

        here = self.where(node)
        name = base_name(node.lvalue)
        target = scope.get(name, here) if name is not None else None
        value = self.evaluate(node.rvalue, scope, here)
        if isinstance(target, Register):
            if node.op.name != "=":
                raise ex.runtime_error(here)
            indices = node.lvalue.indices if isinstance(node.lvalue, ast.IndexedIdentifier) else []
            self._store_value(target, indices, value, node, scope)
            return
        op = node.op.name
        if op != "=":
            value = ex.binary(op[:-1], target, value, here)
        if isinstance(node.lvalue, ast.IndexedIdentifier):
            if not isinstance(target, list) or len(node.lvalue.indices) != 1 or len(node.lvalue.indices[0]) != 1:
                raise UnsupportedError("only one index into an array is supported", here)
            i = self.evaluate(node.lvalue.indices[0][0], scope, here)
            if isinstance(i, bool) or not isinstance(i, int) or not -len(target) <= i < len(target):
                raise JobError(f"index {i!r} is outside an array of {len(target)}", here)
            target[i] = value
            return
        scope.assign(name, value, here)

    def _store_value(self, register: Register, indices: list[Any] | None, value: Any, node: Any, scope: Scope) -> None:
        """Bind capture results to the register's memory slots."""
        here = self.where(node)
        tokens = value if isinstance(value, list) else [value]
        if indices:
            if len(indices) != 1 or len(indices[0]) != 1:
                raise UnsupportedError("only one index into a register is supported", here)
            i = self.evaluate(indices[0][0], scope, here)
            if isinstance(i, bool) or not isinstance(i, int) or not -register.size <= i < register.size:
                raise JobError(f"index {i!r} is outside register '{register.name}' of {register.size}", here)
            offsets = [i % register.size]
        else:
            offsets = list(range(len(tokens)))
            if len(tokens) != register.size:
                raise JobError(f"{len(tokens)} result(s) cannot fill register '{register.name}' of {register.size}",
                               here)
        for offset, token in zip(offsets, tokens, strict=True):
            if not isinstance(token, Capture):
                raise JobError(f"register '{register.name}' receives measurement results; it cannot hold "
                               f"{ex.describe(token)}", here)
            if token.slot is not None:
                raise JobError("this measurement result is already stored; each capture goes to one slot", here)
            token.slot, token.kind = register.first + offset, register.kind
            register_slot = annotation(node, "register_slot")
            if register_slot is not None:
                token.register_slot = natural(json.loads(register_slot), "register_slot")

    def _s_ForInLoop(self, node: Any, scope: Scope) -> None:
        here = self.where(node)
        values = self._loop_values(node.set_declaration, scope, here)
        name = node.identifier.name
        for value in values:
            inner = Scope(scope)
            inner.declare(name, ex.coerce(node.type, value, here, name) if node.type is not None else value, here)
            try:
                self.block(node.block if isinstance(node.block, list) else [node.block], inner)
            except _Break:
                break
            except _Continue:
                continue

    def _loop_values(self, definition: Any, scope: Scope, here: str | None) -> list[Any]:
        from openqasm3 import ast

        if isinstance(definition, ast.DiscreteSet):
            return [self.evaluate(v, scope, here) for v in definition.values]
        if not isinstance(definition, ast.RangeDefinition) or definition.start is None or definition.end is None:
            value = self.evaluate(definition, scope, here)
            if isinstance(value, list):
                return value
            raise UnsupportedError("a for loop needs a range [start:end] or [start:step:end], a set or an array", here)
        start = self.evaluate(definition.start, scope, here)
        end = self.evaluate(definition.end, scope, here)
        step = self.evaluate(definition.step, scope, here) if definition.step is not None else 1
        if isinstance(start, Duration) or isinstance(end, Duration):
            lo, hi = ex.binary("*", start, 1, here), ex.binary("*", end, 1, here)
            inc = step if isinstance(step, Duration) else Duration(float(step))
            count = (hi.samples - lo.samples) / inc.samples if inc.samples else -1
            return [Duration(lo.samples + k * inc.samples) for k in range(self._count(count, here))]
        for v in (start, end, step):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise JobError(f"a range takes numbers or durations, got {ex.describe(v)}", here)
        if step == 0:
            raise JobError("a range step must not be 0", here)
        count = self._count((end - start) / step, here)
        return [start + k * step for k in range(count)]

    @staticmethod
    def _count(span: float, here: str | None) -> int:
        count = int(span + 1e-9) + 1 if span >= -1e-9 else 0
        if count > MAX_LOOP:
            raise JobError(f"the loop runs {count} times, more than {MAX_LOOP}", here)
        return count

    def _s_BranchingStatement(self, node: Any, scope: Scope) -> None:
        condition = self.evaluate(node.condition, scope, self.where(node))
        if ex.runtime_value(condition):
            raise ex.runtime_error(self.where(node))
        self.block(node.if_block if condition else node.else_block, Scope(scope))

    def _s_BreakStatement(self, node: Any, scope: Scope) -> None:
        raise _Break

    def _s_ContinueStatement(self, node: Any, scope: Scope) -> None:
        raise _Continue

    def _s_EndStatement(self, node: Any, scope: Scope) -> None:
        raise _End

    def _s_ReturnStatement(self, node: Any, scope: Scope) -> None:
        value = self.evaluate(node.expression, scope, self.where(node)) if node.expression is not None else None
        raise Return(value)
