"""Benchmark: what costing a job before it runs adds, and how fast each adversarial input is refused.

Run with ``python benchmarks/bench_budgets.py [--experiments 400] [--repeats 3]``. Everything is
measured in this one run and printed (nothing is asserted: speed depends on the machine):

* overhead: for a large pulse job (a sweep of ``--experiments`` two-qubit experiments of ~30 plays,
  frame changes and acquisitions each), the time of :func:`workbench.core.check_budgets` (the shared
  estimates plus the qutip executor's sub-step count) against the baseline, the time to build the
  schedules from the loaded job (``job.schedules(device)``), and their ratio; once with every play in
  its frame (the common case) and once with detuned drives (the interval walk);
* refusals: the wall time from the input to the one-line error for each adversarial input of
  docs/budgets.md, best of ``--repeats`` (imports warmed up first). None of them runs anything.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench import budgets
from workbench.core import check_budgets, option_specs
from workbench.errors import InputError
from workbench.executors.registry import executor_class, load_catalogue
from workbench.jobs import load_job
from workbench.options import resolve_options

Q2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
Q3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def pulse(t0: int, ch: str, duration: int, amp: float) -> dict:
    return {"name": "parametric_pulse", "t0": t0, "ch": ch, "pulse_shape": "gaussian",
            "parameters": {"duration": duration, "amp": amp, "sigma": duration / 4}}


def acquire(t0: int, qubit: int, slot: int) -> dict:
    return {"name": "acquire", "t0": t0, "duration": 1000, "qubits": [qubit], "memory_slot": [slot]}


def qobj(experiments: list[list[dict]], slots: int = 2) -> dict:
    return {"qobj_id": "bench", "type": "PULSE", "schema_version": "1.2.0", "header": {},
            "config": {"shots": 1000, "meas_level": 2, "memory_slots": slots, "pulse_library": []},
            "experiments": [{"header": {"name": f"e{i}"}, "instructions": ins} for i, ins in enumerate(experiments)]}


def large_job(experiments: int, detuned: bool) -> dict:
    """A sweep: per experiment 14 gaussians per drive at swept amplitudes, a coupler pulse, phase shifts."""
    out = []
    for e in range(experiments):
        amp = 0.05 + 0.9 * e / max(experiments - 1, 1)
        ins: list[dict] = []
        if detuned:
            ins += [{"name": "setf", "t0": 0, "ch": "d0", "frequency": 4.95},
                    {"name": "setf", "t0": 0, "ch": "d1", "frequency": 5.25}]
        t = 0
        for k in range(14):
            ins += [pulse(t, "d0", 48, amp * (0.5 + k / 28)), pulse(t, "d1", 48, amp * (0.6 + k / 40)),
                    {"name": "fc", "t0": t + 48, "ch": "d0", "phase": 0.1 * k}]
            t += 48
        ins.append(pulse(t, "u0", 200, 0.3))
        t += 200
        ins += [acquire(t, 0, 0), acquire(t, 1, 1)]
        out.append(ins)
    return qobj(out)


def best(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def overhead(experiments: int, repeats: int) -> None:
    device = load_catalogue(None).get("qutip-2q")
    cls = executor_class(device.executor)
    for detuned in (False, True):
        job = load_job(large_job(experiments, detuned))
        options = resolve_options(option_specs(cls) + budgets.BUDGET_OPTIONS,
                                  [("bench", {"shots": 1000, "max_sim_steps": 10**9, "max_state_work": 10**12})])
        limits = budgets.Limits({k: options[k] for k in budgets.BY_OPTION})
        programs = job.schedules(device)
        probe = cls(device)
        check_budgets(job, programs, probe, options, limits)  # warm: builds the simulated systems once
        t_build = best(lambda job=job: job.schedules(device), repeats)
        t_cost = best(lambda job=job, programs=programs, probe=probe, options=options, limits=limits:
                      check_budgets(job, programs, probe, options, limits), repeats)
        plays = sum(len(p.plays) for p in programs)
        steps = probe.cost(programs, options)["max_sim_steps"]
        label = "detuned drives (interval walk)" if detuned else "plays in frame (common case)  "
        print(f"{label}: {experiments} experiments, {plays} plays, {steps:,} sub-steps estimated | "
              f"build schedules {t_build * 1e3:8.1f} ms | cost check {t_cost * 1e3:7.1f} ms | "
              f"ratio {t_cost / t_build:.3f}")


def _refused(fn: Callable[[], Any]) -> str:
    try:
        fn()
    except InputError as exc:
        return str(exc)
    raise AssertionError("not refused")


def refusals(repeats: int) -> None:
    from workbench.api import prepare

    tmp = Path(tempfile.mkdtemp(prefix="bench-budgets-"))
    sparse = tmp / "huge.json"
    with open(sparse, "wb") as fh:
        fh.truncate(300 * 2**20)
    folder = tmp / "c"
    folder.mkdir()
    (folder / "c.qasm").write_text(Q2 + 'include "/etc/passwd";\nqreg q[1];\n')
    laughs = "gate l0 a { x a; }\n" + "".join(f"gate l{i} a {{ {' '.join([f'l{i - 1} a;'] * 10)} }}\n"
                                             for i in range(1, 10))
    deep = "gate g0 a { x a; }\n" + "".join(f"gate g{i} a {{ g{i - 1} a; }}\n" for i in range(1, 1000))
    anchors = "      l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"      l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9))
    yml = tmp / "lol.yml"
    yml.write_text("devices:\n  - name: lol\n    base: qutip-1q\n    defaults:\n" + anchors)
    coupler = [{"name": "setf", "t0": 0, "ch": "u0", "frequency": 999.0},
               *({"name": "parametric_pulse", "t0": 0, "ch": ch, "pulse_shape": "constant",
                  "parameters": {"duration": 10_000, "amp": 0.05}} for ch in ("u0", "d0", "d1")),
               acquire(10_000, 0, 0)]
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("1e6-sample gaussian (qutip)", lambda: prepare(qobj([[pulse(0, "d0", 10**6, 0.1), acquire(10**6, 0, 0)]], 1),
                                                         "qutip-1q")),
        ("setf 999 GHz on a coupler, 10,000 samples", lambda: prepare(qobj([coupler], 1), "qutip-2q")),
        ("ten 1e7-sample pulses", lambda: prepare(qobj([[pulse(i * 10**7, "d0", 10**7, 0.1) for i in range(10)]
                                                         + [acquire(10**8, 0, 0)]], 1), "qutip-1q")),
        ("1e7 shots x 50 experiments", lambda: prepare(qobj([[pulse(0, "d0", 16, 0.1), acquire(16, 0, 0)]] * 50, 1),
                                                        "qutip-1q", shots=10**7)),
        ("300 MB job file (sparse)", lambda: load_job(sparse)),
        ("run /dev/zero", lambda: load_job(Path("/dev/zero"))),
        ("include \"/etc/passwd\"", lambda: load_job(folder / "c.qasm")),
        ("1.2 KB billion laughs (OpenQASM 2)", lambda: load_job(Q2 + laughs + "qreg q[1];\nl9 q[0];\n")),
        ("QASM 3 for loop over [0:1e9]", lambda: load_job(Q3 + "qubit[1] q;\nfor int i in [0:1000000000] "
                                                           "{ x q[0]; }\n")),
        ("gate definitions nested 1000 deep", lambda: load_job(Q2 + deep + "qreg q[1];\ng999 q[0];\n")),
        ("YAML aliases, 10^9 values", lambda: load_catalogue(yml)),
    ]
    width = max(len(name) for name, _ in cases)
    for name, fn in cases:
        message = _refused(fn)
        t = best(lambda fn=fn: _refused(fn), repeats)
        print(f"{name:<{width}}  {t * 1e3:8.1f} ms  {message[:110]}")
    with contextlib.suppress(OSError):
        os.remove(sparse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    overhead(args.experiments, args.repeats)
    refusals(args.repeats)


if __name__ == "__main__":
    main()
