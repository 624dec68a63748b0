"""What can be read from a parsed program before running it: its inputs, its measurement registers,
its ``workbench`` pragmas, and the statements no device can run.

These checks need no device, so they run when the job is loaded: a program with runtime classical
control fails at once, with its line, before a device is chosen.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import JobError, UnsupportedError

CAPTURES = ("capture", "capture_v0", "capture_v1", "capture_v2", "capture_v3")
OPTION_KEYS = ("shots", "meas_level", "meas_return", "rep_time")


def where(node: Any) -> str | None:
    span = getattr(node, "span", None)
    return None if span is None else f"line {span.start_line} column {span.start_column + 1}"


def children(node: Any) -> list[Any]:
    """The AST nodes directly under ``node`` (lists flattened), annotations excluded."""
    from openqasm3 import ast

    out: list[Any] = []
    for f in dataclasses.fields(node):
        if f.name in ("span", "annotations"):
            continue
        value = getattr(node, f.name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, list):
                out.extend(x for x in item if isinstance(x, ast.QASMNode))
            elif isinstance(item, ast.QASMNode):
                out.append(item)
    return out


def walk(node: Any, *, into_definitions: bool = True) -> Any:
    """Every node under ``node`` (itself included), depth first."""
    from openpulse import ast as pulse_ast
    from openqasm3 import ast

    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if not into_definitions and isinstance(current, pulse_ast.CalibrationDefinition | ast.QuantumGateDefinition):
            continue
        stack.extend(reversed(children(current)))


def yields_result(node: Any) -> bool:
    """Does an expression hold a measurement or a capture?"""
    from openqasm3 import ast

    for n in walk(node):
        if isinstance(n, ast.QuantumMeasurement):
            return True
        if isinstance(n, ast.FunctionCall) and n.name.name in CAPTURES:
            return True
    return False


def base_name(target: Any) -> str | None:
    from openqasm3 import ast

    if isinstance(target, ast.Identifier):
        return target.name
    if isinstance(target, ast.IndexedIdentifier):
        return target.name.name
    return None


@dataclass
class Summary:
    """The device-independent facts of a program."""

    inputs: dict[str, Any] = field(default_factory=dict)  # name -> type node
    memory: set[str] = field(default_factory=set)  # registers that receive measurement results
    complex_memory: bool = False
    device: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    input_defaults: dict[str, Any] = field(default_factory=dict)
    headers: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def summarize(program: Any) -> Summary:
    from openpulse import ast as pulse_ast
    from openqasm3 import ast

    out = Summary()
    version = getattr(program, "version", None)
    if version is not None and not str(version).startswith("3"):
        raise JobError(f"OpenQASM {version} has no OpenPulse grammar; write 'OPENQASM 3.0;'")
    declared: dict[str, Any] = {}
    for node in walk(program, into_definitions=False):
        _refuse(node)
        if isinstance(node, ast.Pragma):
            _pragma(node, out)
        elif isinstance(node, ast.IODeclaration) and node.io_identifier == ast.IOKeyword.input:
            out.inputs[node.identifier.name] = node.type
        elif isinstance(node, ast.QuantumMeasurementStatement) and node.target is not None:
            out.memory.add(base_name(node.target) or "")
        elif isinstance(node, ast.ClassicalAssignment) and yields_result(node.rvalue):
            out.memory.add(base_name(node.lvalue) or "")
        elif isinstance(node, ast.ClassicalDeclaration):
            declared.setdefault(node.identifier.name, node.type)
            if node.init_expression is not None and yields_result(node.init_expression):
                out.memory.add(node.identifier.name)
        elif isinstance(node, ast.CalibrationGrammarDeclaration) and node.name != "openpulse":
            raise UnsupportedError(f"calibration grammar '{node.name}' is not supported; the workbench reads "
                                   "\"openpulse\"", where(node))
        elif isinstance(node, pulse_ast.CalibrationDefinition):
            for inner in walk(node):
                _refuse(inner)
    out.memory.discard("")
    kinds = {_memory_kind(declared.get(name)) for name in out.memory}
    if "bit" in kinds and "complex" in kinds:
        raise UnsupportedError("the program stores measurement results in both bit and complex registers; one run "
                               "returns either bits (meas_level 2) or IQ values (meas_level 1)")
    out.complex_memory = "complex" in kinds
    return out


def _memory_kind(type_node: Any) -> str:
    from openqasm3 import ast

    base = type_node.base_type if isinstance(type_node, ast.ArrayType) else type_node
    return "complex" if isinstance(base, ast.ComplexType) else "bit"


def _refuse(node: Any) -> None:
    """Statements that need a running shot (or a feature the workbench lacks) fail at load time."""
    from openqasm3 import ast

    reasons = {
        ast.WhileLoop: "a while loop runs until a condition that is only known during the shot (runtime classical "
                       "control); unroll it or use a for loop over a constant range",
        ast.SubroutineDefinition: "subroutines (def) are not supported; use a gate definition or a defcal",
        ast.SwitchStatement: "switch statements are not supported; use if with a condition known when compiling",
        ast.AliasStatement: "aliases (let) are not supported",
    }
    for kind, reason in reasons.items():
        if isinstance(node, kind):
            raise UnsupportedError(reason, where(node))
    if isinstance(node, ast.QuantumGate) and node.modifiers:
        raise UnsupportedError(f"gate modifiers ({node.modifiers[0].modifier.name} @) are not supported; give the "
                               "modified gate a defcal", where(node))


def _pragma(node: Any, out: Summary) -> None:
    """``pragma workbench.<key> <value>``: the facts a PulseQobj keeps in its header and config."""
    command = node.command.strip()
    if not command.startswith("workbench."):
        out.warnings.append(f"{where(node)}: pragma '{command[:60]}' ignored")
        return
    key, _, value = command[len("workbench."):].partition(" ")
    value = value.strip()
    if key == "device":
        out.device = value
        return
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise JobError(f"pragma workbench.{key}: not valid JSON ({exc.msg})", where(node)) from None
    if key == "options":
        if not isinstance(data, dict) or set(data) - set(OPTION_KEYS):
            raise JobError(f"pragma workbench.options takes a JSON object with keys {', '.join(OPTION_KEYS)}",
                           where(node))
        out.options.update(data)
    elif key == "inputs":
        if not isinstance(data, dict):
            raise JobError("pragma workbench.inputs takes a JSON object of input names and values", where(node))
        out.input_defaults.update(data)
    elif key == "experiment":
        if not isinstance(data, dict) or not isinstance(data.get("name", ""), str):
            raise JobError("pragma workbench.experiment takes a JSON object with a 'name'", where(node))
        out.headers.append(data)
    else:
        raise JobError(f"unknown pragma workbench.{key} (known: device, options, inputs, experiment)", where(node))
