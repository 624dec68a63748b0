"""Expressions and function calls of an OpenPulse program: the pulse-level built-ins.

``newframe``, ``play``, ``capture_v0``...``capture_v3``, ``set_frequency``, ``shift_frequency``,
``set_phase``, ``shift_phase``, ``get_frequency``, ``get_phase`` (and Amazon Braket's ``swap_phases``
and ``set_scale``), the waveform functions and OpenQASM's math functions. ``shift_phase(f, a)`` adds
``a`` to the frame's phase: the carrier is ``exp(i (2 pi f t + phase))``, so ``rz(theta)`` is
``shift_phase(drive, -theta)`` as in the specification's own example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.errors import JobError, UnsupportedError
from workbench.jobs.openpulse import expressions as ex
from workbench.jobs.openpulse.analysis import CAPTURES
from workbench.jobs.openpulse.values import Capture, Duration, Frame, Port, QubitRef, Register, Scope, Waveform
from workbench.jobs.openpulse.waveforms import WAVEFORM_FUNCTIONS, call_waveform, from_list

if TYPE_CHECKING:
    from workbench.devices.model import Device
    from workbench.jobs.openpulse.timeline import Timeline

_FRAME_CHANGES = {"set_frequency": "setf", "shift_frequency": "shiftf", "set_phase": "setp", "shift_phase": "shiftp"}
PULSE_FUNCTIONS = frozenset({"newframe", "play", "get_frequency", "get_phase", "swap_phases", "set_scale",
                             *_FRAME_CHANGES, *CAPTURES}) | WAVEFORM_FUNCTIONS


class Calls:
    """Evaluates expressions; the interpreter supplies the device, the timeline and the scopes."""

    device: Device
    timeline: Timeline
    externs: set[str]
    block_start: int  # time at which frames made by newframe start: 0 in cal blocks, the defcal's start inside one
    in_defcal: bool = False

    def _measure_expression(self, node: Any, scope: Scope, where: str | None) -> Any:
        raise NotImplementedError

    # --------------------------------------------------------------------------------- expressions
    def evaluate(self, node: Any, scope: Scope, where: str | None) -> Any:
        from openqasm3 import ast

        if isinstance(node, ast.IntegerLiteral | ast.FloatLiteral | ast.BooleanLiteral):
            return node.value
        if isinstance(node, ast.ImaginaryLiteral):
            return complex(0.0, node.value)
        if isinstance(node, ast.DurationLiteral):
            return self.duration_literal(node.value, node.unit.name, where)
        if isinstance(node, ast.BitstringLiteral):
            return int(node.value)
        if isinstance(node, ast.Identifier):
            return self.name_value(node.name, scope, where)
        if isinstance(node, ast.UnaryExpression):
            return ex.unary(node.op.name, self.evaluate(node.expression, scope, where), where)
        if isinstance(node, ast.BinaryExpression):
            return ex.binary(node.op.name, self.evaluate(node.lhs, scope, where),
                             self.evaluate(node.rhs, scope, where), where)
        if isinstance(node, ast.ArrayLiteral):
            values = [self.evaluate(v, scope, where) for v in node.values]
            if len(values) > ex.MAX_LIST:
                raise JobError(f"an array of {len(values)} elements exceeds the limit of {ex.MAX_LIST}", where)
            return values
        if isinstance(node, ast.Cast):
            return ex.coerce(node.type, self.evaluate(node.argument, scope, where), where, "the cast value")
        if isinstance(node, ast.IndexExpression):
            return self._index(self.evaluate(node.collection, scope, where), node.index, scope, where)
        if isinstance(node, ast.FunctionCall):
            return self.call(node, scope, where)
        if isinstance(node, ast.QuantumMeasurement):
            return self._measure_expression(node, scope, where)
        if isinstance(node, ast.SizeOf):
            value = self.evaluate(node.target, scope, where)
            if isinstance(value, list):
                return len(value)
        raise UnsupportedError(f"expression {type(node).__name__} is not supported", where)

    def duration_literal(self, value: float, unit: str, where: str | None) -> Duration:
        if unit == "dt":
            return Duration(value)
        dt = float(self.device.dt or 0.0)
        return Duration(value * ex.SECONDS[unit] / dt)

    def name_value(self, name: str, scope: Scope, where: str | None) -> Any:
        found = scope.lookup(name)
        if found is None:
            if name in ex.BUILTIN_CONSTANTS:
                return ex.BUILTIN_CONSTANTS[name]
            if name.startswith("$"):
                return QubitRef(int(name[1:]))
            raise JobError(f"'{name}' is not defined (the device's ports and frames: "
                           f"{', '.join(self._names_hint())})", where)
        return found[1]

    def _names_hint(self) -> list[str]:
        frames = list(self.device.openpulse_frames())
        names = self.device.openpulse_ports() + frames
        return names if len(names) <= 12 else [*names[:12], "..."]

    def _index(self, value: Any, index: Any, scope: Scope, where: str | None) -> Any:
        if isinstance(value, Register):
            raise ex.runtime_error(where)
        if not isinstance(value, list):
            raise JobError(f"cannot index {ex.describe(value)}", where)
        items = index if isinstance(index, list) else [index]
        if len(items) != 1:
            raise UnsupportedError("only one index per array is supported", where)
        i = self.evaluate(items[0], scope, where)
        if isinstance(i, bool) or not isinstance(i, int) or not -len(value) <= i < len(value):
            raise JobError(f"index {i!r} is outside an array of {len(value)}", where)
        return value[i]

    # ------------------------------------------------------------------------------------ calls
    def call(self, node: Any, scope: Scope, where: str | None) -> Any:
        name = node.name.name
        if scope.lookup(name) is None and name in ex.MATH:
            return ex.call_math(name, [self.evaluate(a, scope, where) for a in node.arguments], where)
        if name == "play":
            return self._play(node, scope, where)
        args = [self.evaluate(a, scope, where) for a in node.arguments]
        if name in WAVEFORM_FUNCTIONS:
            return call_waveform(name, args, float(self.device.dt or 0.0), where)
        if name == "newframe":
            return self._newframe(args, where)
        if name in _FRAME_CHANGES:
            frame, value = self._frame_and_value(name, args, where)
            self.timeline.frame_change(frame, _FRAME_CHANGES[name], value, where)
            return None
        if name in ("get_frequency", "get_phase"):
            frame = self._frame(args, 1, name, where)
            return frame.frequency if name == "get_frequency" else frame.phase
        if name == "swap_phases":
            first, second = self._frame(args[:1], 1, name, where), self._frame(args[1:], 1, name, where)
            a, b = first.phase, second.phase
            self.timeline.frame_change(first, "setp", b, where)
            self.timeline.frame_change(second, "setp", a, where)
            return None
        if name == "set_scale":
            frame, value = self._frame_and_value(name, args, where)
            frame.scale = value
            return None
        if name in CAPTURES:
            return self._capture(name, args, where)
        if name == "capture_v4":
            raise UnsupportedError("capture_v4 (photon counts) is not supported: transmon readout gives bits "
                                   "(capture_v0, capture_v2) or IQ values (capture_v1, capture_v3)", where)
        if name in self.externs:
            raise UnsupportedError(f"extern '{name}' cannot be honoured: the workbench provides waveform functions, "
                                   "frame functions and captures, not other externs", where)
        raise JobError(f"unknown function '{name}'", where)

    def _frame(self, args: list[Any], count: int, name: str, where: str | None) -> Frame:
        if len(args) != count or not isinstance(args[0], Frame):
            got = ex.describe(args[0]) if args else "nothing"
            raise JobError(f"{name}() takes a frame first, got {got}", where)
        return args[0]

    def _frame_and_value(self, name: str, args: list[Any], where: str | None) -> tuple[Frame, float]:
        frame = self._frame(args[:1], 1, name, where)
        if len(args) != 2:
            raise JobError(f"{name}() takes a frame and a value, got {len(args)} arguments", where)
        value = args[1]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise JobError(f"{name}() takes a real value, got {ex.describe(value)}", where)
        return frame, float(value)

    def _newframe(self, args: list[Any], where: str | None) -> Frame:
        if len(args) != 3 or not isinstance(args[0], Port):
            raise JobError("newframe() takes a port, a frequency and a phase: newframe(d0, 4.8e9, 0.0)", where)
        port, frequency, phase = args
        for what, value in (("frequency", frequency), ("phase", phase)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise JobError(f"newframe() {what} must be a real number, got {ex.describe(value)}", where)
        if port.channel.startswith(("d", "m", "u")) and not 0 < float(frequency) < 1e12:
            raise JobError(f"newframe() frequency {frequency} Hz is out of range", where)
        return self.timeline.new_frame("newframe", port.channel, float(frequency), float(phase), self.block_start,
                                       at_start=self.block_start == 0 and not self.in_defcal)

    def _play(self, node: Any, scope: Scope, where: str | None) -> None:
        from openqasm3 import ast

        if len(node.arguments) != 2:
            raise JobError(f"play() takes a frame and a waveform, got {len(node.arguments)} arguments", where)
        frame = self.evaluate(node.arguments[0], scope, where)
        if not isinstance(frame, Frame):
            raise JobError(f"play() takes a frame first, got {ex.describe(frame)} (a port is not a frame: make one "
                           "with newframe(port, frequency, phase))", where)
        wave_node = node.arguments[1]
        wave = self.evaluate(wave_node, scope, where)
        if isinstance(wave, list):
            wave = from_list(wave, where)
        if not isinstance(wave, Waveform):
            raise JobError(f"play() takes a waveform second, got {ex.describe(wave)}", where)
        if wave.label is not None:
            name = wave.label
        elif isinstance(wave_node, ast.FunctionCall):
            name = wave_node.name.name
        else:
            name = "waveform"
        self.timeline.play(frame, wave, name, where)

    def _capture(self, name: str, args: list[Any], where: str | None) -> Capture:
        if not args or not isinstance(args[0], Frame):
            raise JobError(f"{name}() takes a frame first", where)
        frame = args[0]
        if len(args) > 2:
            raise JobError(f"{name}() takes a frame and at most a duration or filter waveform", where)
        if len(args) == 2:
            extra = args[1]
            if isinstance(extra, Duration):
                samples = extra.whole(f"{name}() duration", where, allow_zero=False)
            elif isinstance(extra, Waveform | list):
                samples = len(extra) if isinstance(extra, list) else extra.duration
                self.timeline.warnings.append(f"{where}: {name}() filter samples are not used; the device's readout "
                                              "calibration integrates and discriminates (only its length counts)")
            else:
                raise JobError(f"{name}() takes a duration or a filter waveform after the frame, got "
                               f"{ex.describe(extra)}", where)
        else:
            if frame.channel[0] not in "ma":
                samples = 1  # the capture itself reports the port
            else:
                samples = self.device.qubit(int(frame.channel[1:])).readout.acquire_duration
        return self.timeline.capture(frame, samples, where)
