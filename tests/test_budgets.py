"""Resource budgets (docs/budgets.md): every adversarial input is refused before any work, in milliseconds.

Big inputs are generated here and only costed, never run: each test asserts the refusal (a
:class:`BudgetError` or a located :class:`JobError`/``ConfigError``), and where a budget can be
raised, that the raised budget lets the same job through ``prepare`` (which runs nothing).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from workbench import budgets
from workbench.api import prepare, run
from workbench.cli.main import main
from workbench.errors import BudgetError, ConfigError, InputError, JobError
from workbench.executors.registry import load_catalogue
from workbench.jobs import load_job
from workbench.jobs.loader import load_qasm

Q2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
Q3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def qobj(experiments: list[list[dict]], *, config: dict | None = None) -> dict:
    """A PulseQobj with one experiment per instruction list (memory slot 0 acquired by each)."""
    return {"qobj_id": "budget", "type": "PULSE", "schema_version": "1.2.0", "header": {},
            "config": {"shots": 10, "meas_level": 2, "memory_slots": 1, "pulse_library": [], **(config or {})},
            "experiments": [{"header": {"name": f"e{i}"}, "instructions": ins} for i, ins in enumerate(experiments)]}


def gaussian(t0: int, ch: str, duration: int, amp: float = 0.1) -> dict:
    return {"name": "parametric_pulse", "t0": t0, "ch": ch, "pulse_shape": "gaussian",
            "parameters": {"duration": duration, "amp": amp, "sigma": max(duration // 8, 1)}}


def acquire(t0: int, qubit: int = 0, slot: int = 0) -> dict:
    return {"name": "acquire", "t0": t0, "duration": 16, "qubits": [qubit], "memory_slot": [slot]}


def coupler_at(frequency: float, samples: int) -> list[dict]:
    """A setf of the coupler to ``frequency`` (GHz, as PulseQobj has it) with plays on the coupler and both
    drives at once: no frame makes all three carriers static, so the simulator subdivides every sample."""
    constant = {"pulse_shape": "constant", "parameters": {"duration": samples, "amp": 0.05}}
    return [{"name": "setf", "t0": 0, "ch": "u0", "frequency": frequency},
            *({"name": "parametric_pulse", "t0": 0, "ch": ch, **constant} for ch in ("u0", "d0", "d1")),
            acquire(samples, 0, 0)]


# ---------------------------------------------------------------------------------- 1. jobs are costed


def test_a_million_sample_gaussian_is_refused_before_simulating():
    """It took 169 s: a million distinct propagator steps."""
    job = qobj([[gaussian(0, "d0", 1_000_000), acquire(1_000_000)]])
    with pytest.raises(BudgetError) as info:
        prepare(job, "qutip-1q")
    text = str(info.value)
    assert re.search(r"over budget: 1,000,0\d\d simulator sub-steps exceeds the limit of 200,000", text)
    assert "--set max_sim_steps=N" in text


def test_a_coupler_at_999_ghz_is_costed_by_the_simulator():
    """10 samples forced 75 s, 10,000 samples a 31 GiB allocation: ~125,000 sub-steps per sample."""
    with pytest.raises(BudgetError, match=r"max_sim_steps") as info:
        prepare(qobj([coupler_at(999.0, 10)]), "qutip-2q")
    estimate = int(str(info.value).split("over budget: ")[1].split(" ")[0].replace(",", ""))
    assert 300_000 < estimate < 500_000  # ~42,000 sub-steps per sample once the frame absorbs what it can
    with pytest.raises(BudgetError, match=r"state dimension x simulator steps .*max_state_work"):
        prepare(qobj([coupler_at(999.0, 10_000)]), "qutip-2q", options={"max_sim_steps": 10**9})
    raised = prepare(qobj([coupler_at(999.0, 10)]), "qutip-2q",
                     options={"max_sim_steps": 500_000, "max_state_work": 50_000_000})
    assert raised.options["max_sim_steps"] == 500_000 and raised.options.sources["max_sim_steps"] == "options"


def test_the_simulator_estimate_bounds_what_it_compiles():
    """The estimate mirrors the compiler's frame decisions: never below the rows it builds, and equal to
    them when nothing merges (distinct samples under a residual carrier)."""
    from workbench.executors.qutip.compile import compile_schedule, count_steps
    from workbench.executors.qutip.hamiltonian import build_system

    device = load_catalogue(None).get("qutip-2q")
    system = build_system(device, (0, 1), 3, False)
    for frequency, samples in ((6.2, 40), (5.0, 64), (None, 64)):
        instructions = coupler_at(frequency, samples) if frequency else [gaussian(0, "d0", samples), acquire(samples)]
        (schedule,) = load_job(qobj([instructions])).schedules(device)
        program = compile_schedule(schedule, system)
        rows = sum(len(p) for p in program.phases)
        counted = count_steps(schedule, system)
        assert rows <= counted <= rows + 4, (frequency, rows, counted)
        assert program.substeps == 1 or counted >= samples * program.substeps


def test_a_sweep_on_the_simulator_is_costed_experiment_by_experiment():
    """The executor groups (experiment, group) parts by their qubits: each experiment counts once (a sweep of
    several experiments could not be prepared when the estimate indexed schedules by those parts)."""
    from workbench.executors.qutip import QutipExecutor
    from workbench.executors.qutip.compile import count_steps
    from workbench.executors.qutip.hamiltonian import build_system

    job = qobj([[gaussian(0, "d0", 64, amp), acquire(64)] for amp in (0.1, 0.2, 0.3)])
    prepared = prepare(job, "qutip-1q")
    assert len(prepared.programs) == 3
    system = build_system(prepared.device, (0,), 3, True)
    expected = sum(count_steps(s, system) for s in prepared.programs)
    assert QutipExecutor(prepared.device).cost(prepared.programs, prepared.options)["max_sim_steps"] == expected


def test_the_five_qubit_ghz_on_the_chip_is_within_the_default_budgets():
    """Trajectories evolve kets: their work is costed on the ket (243 for five qutrits), not on the density matrix
    they never build (59,049), which refused the documented ``workbench run ghz5.qasm --device qutip-5q``."""
    from workbench.executors.qutip import QutipExecutor

    prepared = prepare("ghz5.qasm", "qutip-5q")
    cost = QutipExecutor(prepared.device).cost(prepared.programs, prepared.options)
    assert cost["max_state_work"] == cost["max_sim_steps"] * 3**5
    assert cost["max_state_work"] <= budgets.DEFAULT_LIMITS["max_state_work"]


def test_ten_pulses_of_ten_million_samples_are_refused_before_sampling():
    """They reached 5.8 GB: each is refused from its duration, before an array exists."""
    job = qobj([[gaussian(i * 10_000_000, "d0", 10_000_000) for i in range(10)] + [acquire(100_000_000)]])
    with pytest.raises(BudgetError, match=r"10,000,000 samples in one pulse .*max_pulse_samples") as info:
        prepare(job, "qutip-1q")
    assert info.value.location == "experiments[0].instructions[0].parameters.duration"


def test_total_samples_are_counted_while_the_job_is_translated():
    job = qobj([[gaussian(0, "d0", 600), gaussian(600, "d0", 600, amp=0.2), acquire(1200)]])
    with pytest.raises(BudgetError, match=r"1,200 pulse samples \(allocated while translating the job\).*max_samples"):
        prepare(job, "qutip-1q", options={"max_samples": 1000})
    assert prepare(job, "qutip-1q", options={"max_samples": 1200}).programs[0].duration == 1216


def test_shots_times_experiments_times_slots_are_costed():
    """1e7 shots x 50 experiments aborted inside BLAS; the same on a gate-level device."""
    job = qobj([[gaussian(0, "d0", 16), acquire(16)] for _ in range(50)])
    with pytest.raises(BudgetError, match=r"500,000,000 shots x experiments x memory slots .*max_outcomes"):
        prepare(job, "qutip-1q", shots=10_000_000)
    circuit = Q2 + "qreg q[5];\ncreg c[5];\nh q;\nmeasure q -> c;\n"
    with pytest.raises(BudgetError, match="max_outcomes"):
        prepare(circuit, "aer-simulator", shots=10_000_000, options={"max_outcomes": 1000})


def test_output_size_is_costed():
    job = qobj([[gaussian(0, "d0", 16), acquire(16)]])
    with pytest.raises(BudgetError, match=r"MB of output .*max_output_mb"):
        prepare(job, "qutip-1q", shots=100_000, options={"max_output_mb": 1})
    assert prepare(job, "qutip-1q", shots=100_000, options={"max_output_mb": 10}).options["shots"] == 100_000


def test_a_job_file_cannot_raise_its_own_budget():
    job = qobj([[gaussian(0, "d0", 1_000_000), acquire(1_000_000)]], config={"max_sim_steps": 10**12})
    with pytest.raises(BudgetError, match="max_sim_steps"):
        prepare(job, "qutip-1q")
    ok = qobj([[gaussian(0, "d0", 16), acquire(16)]], config={"max_sim_steps": 10**12})
    prepared = prepare(ok, "qutip-1q")
    assert prepared.options["max_sim_steps"] == 200_000


def test_budget_options_are_validated_like_options():
    with pytest.raises(InputError, match="option 'max_samples'"):
        prepare("x-gate", "qutip-1q", options={"max_samples": "lots"})


def test_the_cli_refuses_with_exit_2_one_line_and_nothing_written(tmp_path, capsys):
    path = tmp_path / "big.json"
    path.write_text(json.dumps(qobj([[gaussian(0, "d0", 1_000_000), acquire(1_000_000)]])))
    out = tmp_path / "out"
    assert main(["run", str(path), "--device", "qutip-1q", "--out", str(out)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: over budget:") and "max_sim_steps" in lines[0]
    assert not out.exists()
    small = tmp_path / "small.json"
    small.write_text(json.dumps(qobj([[gaussian(0, "d0", 1200), acquire(1200)]])))
    assert main(["run", str(small), "--device", "qutip-1q", "--set", "max_sim_steps=1000", "--out", str(out)]) == 2
    assert "max_sim_steps" in capsys.readouterr().err and not out.exists()
    assert main(["run", str(small), "--device", "qutip-1q", "--set", "max_sim_steps=2000", "--shots", "10",
                 "--out", str(out), "--no-progress"]) == 0
    options = json.loads((out / "execution-options.json").read_text())
    assert options["max_sim_steps"] == 2000  # echoed: passing the file back reproduces the run


def test_the_api_and_the_widgets_share_the_check():
    job = qobj([[gaussian(0, "d0", 1_000_000), acquire(1_000_000)]])
    with pytest.raises(BudgetError):
        run(job, "qutip-1q")
    from workbench.ui.session import Session

    session = Session(device="qutip-1q")
    session.set_job_text(json.dumps(job))
    problems = session.validate()
    assert isinstance(problems, list) and len(problems) == 1
    assert problems[0].message.startswith("over budget: 1,000,002 simulator sub-steps")
    assert session.set_options({"max_sim_steps": 2_000_000}) == []  # e.g. a raised budget from an options file
    prepared = session.validate()
    assert not isinstance(prepared, list) and prepared.options.sources["max_sim_steps"] == "workbench form"


# ------------------------------------------------------------------------------------- 2. file sizes


def test_special_files_are_refused_unread(tmp_path, capsys):
    assert main(["run", "/dev/zero", "--device", "qutip-1q", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "/dev/zero: not a regular file" in err and not (tmp_path / "out").exists()
    fifo = tmp_path / "job.fifo"
    os.mkfifo(fifo)  # opening it would block until something writes
    with pytest.raises(JobError, match="not a regular file"):
        load_job(fifo)


def test_a_big_job_file_is_refused_before_it_is_read(tmp_path):
    """A 300 MB job used 5.7 GB before being refused; a sparse file costs no disk here."""
    path = tmp_path / "huge.json"
    with open(path, "wb") as fh:
        fh.truncate(300 * 2**20)
    with pytest.raises(BudgetError, match=r"300 MB of job file \(314,572,800 bytes\).*max_job_mb"):
        load_job(path)
    padded = qobj([[gaussian(0, "d0", 16), acquire(16)]])
    padded["header"]["description"] = "x" * (3 * 2**20 // 2)
    small = tmp_path / "small.json"
    small.write_text(json.dumps(padded))
    with pytest.raises(BudgetError, match=r"^[^:]*small.json: over budget: 2 MB of job file .*max_job_mb"):
        prepare(str(small), "qutip-1q", options={"max_job_mb": 1})
    assert len(prepare(str(small), "qutip-1q", options={"max_job_mb": 2}).programs) == 1


def test_pasted_text_and_widget_paths_are_bounded(tmp_path):
    with pytest.raises(BudgetError, match="max_job_mb"):
        load_qasm("//" + "x" * (65 * 2**20), "pasted")
    from workbench.ui.session import Session

    session = Session(device="qutip-1q")
    session.set_job_path("/dev/zero")
    assert session.job is None and "not a regular file" in session.job_problem.message


# -------------------------------------------------------------------------------------- 3. circuits


def billion_laughs(levels: int = 9, width: int = 10) -> str:
    gates = "gate l0 a { x a; }\n" + "".join(
        f"gate l{i} a {{ {' '.join([f'l{i - 1} a;'] * width)} }}\n" for i in range(1, levels + 1))
    return Q2 + gates + f"qreg q[1];\ncreg c[1];\nl{levels} q[0];\nmeasure q[0] -> c[0];\n"


def test_gate_expansion_is_costed_before_qiskit_reads_it():
    """1.2 KB ran 255 s to 7.7 GB, then failed with an empty message."""
    text = billion_laughs()
    assert len(text) < 1300
    with pytest.raises(BudgetError, match=r"1,000,000,001 gate applications \(after expanding gate definitions "
                                          r"and loops\).*--set max_circuit_ops=N"):
        load_job(text)
    assert load_job(billion_laughs(levels=3)).circuit.num_qubits == 1


def test_register_broadcast_counts_each_qubit():
    text = Q2 + "qreg q[1000];\ncreg c[1000];\ngate w a { " + "x a; " * 100 + "}\nw q;\nw q;\nmeasure q -> c;\n"
    with pytest.raises(BudgetError, match=r"201,000 gate applications"):
        prepare(text, "aer-simulator", options={"max_circuit_ops": 200_000})


def test_qasm3_loops_with_huge_bounds_are_costed_or_refused():
    with pytest.raises(BudgetError, match=r"1,000,000,002 gate applications"):
        load_job(Q3 + "qubit[1] q;\nbit[1] c;\nfor int i in [0:1000000000] { x q[0]; }\nc[0] = measure q[0];\n")
    nested = Q3 + "qubit[1] q;\nfor int i in [0:2:99999] {\n  for int j in {1, 2, 3} { x q[0]; }\n}\n"
    with pytest.raises(BudgetError, match=r"150,000 gate applications"):
        prepare(nested, "aer-simulator", options={"max_circuit_ops": 100_000})
    with pytest.raises(JobError) as info:
        load_job(Q3 + "qubit[1] q;\nint n = 5;\n\nfor int i in [0:n] { x q[0]; }\n")
    assert str(info.value).startswith("line 6: the bounds of this for loop")
    small = load_job(Q3 + "qubit[1] q;\nbit[1] c;\nfor int i in [0:3] { x q[0]; }\nc[0] = measure q[0];\n")
    assert small.circuit.count_ops()["for_loop"] == 1


def test_gate_nesting_depth_is_a_clear_error_not_a_recursion_error():
    gates = "gate g0 a { x a; }\n" + "".join(f"gate g{i} a {{ g{i - 1} a; }}\n" for i in range(1, 1000))
    text = Q2 + gates + "qreg q[1];\ncreg c[1];\ng999 q[0];\nmeasure q[0] -> c[0];\n"
    with pytest.raises(JobError) as info:
        prepare(text, "aer-simulator")
    assert str(info.value) == "line 1002: gate definitions nest 1000 deep, more than the 100 levels read"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "circuits"
    folder.mkdir()
    (tmp_path / "secret.inc").write_text("gate leak a { x a; }\n// top secret\n")
    (folder / "mine.inc").write_text("gate flip a { x a; }\n")
    return folder


@pytest.mark.parametrize("name", ["/etc/passwd", "../secret.inc", "sub/mine.inc", "..", "/nonexistent/file.inc"])
def test_includes_outside_the_circuits_folder_are_refused_without_reading_them(tmp_path, name):
    folder = _folder(tmp_path)
    (folder / "sub").mkdir()
    (folder / "sub" / "mine.inc").write_text("gate flip a { x a; }\n")
    circuit = folder / "c.qasm"
    circuit.write_text(Q2 + "qreg q[1];\n\ninclude \"" + name + "\";\nx q[0];\n")
    with pytest.raises(JobError) as info:
        load_job(circuit)
    text = str(info.value)
    assert text == (f'{circuit}: line 5: include "{name}" refused: a circuit may include "qelib1.inc" and files in '
                    "its own folder, named without a path (no '/', '\\' or '..')")


def test_a_symlink_next_to_the_circuit_is_not_followed_out(tmp_path):
    folder = _folder(tmp_path)
    (folder / "link.inc").symlink_to(tmp_path / "secret.inc")
    circuit = folder / "c.qasm"
    circuit.write_text(Q2 + 'include "link.inc";\nqreg q[1];\nleak q[0];\n')
    with pytest.raises(JobError) as info:
        load_job(circuit)
    assert str(info.value) == f'{circuit}: line 3: include "link.inc": no regular file of that name next to the circuit'
    circuit.write_text(Q2 + 'include "missing.inc";\nqreg q[1];\n')
    with pytest.raises(JobError, match=r'include "missing\.inc": no regular file of that name next to the circuit'):
        load_job(circuit)


def test_pasted_text_and_stored_sources_include_the_standard_library_only(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    monkeypatch.chdir(folder)  # mine.inc is in the current folder, and a result stored "c.qasm"
    (folder / "c.qasm").write_text("// a file of the stored name exists here\n")
    text = Q2 + 'include "mine.inc";\nqreg q[1];\nflip q[0];\n'
    for attempt in (lambda: load_job(text), lambda: load_qasm(text, "c.qasm")):
        with pytest.raises(JobError, match=r'line 3: include "mine.inc" refused: only "qelib1.inc" can be included '
                                           r"in text that was not read from a file"):
            attempt()
    (folder / "beside.qasm").write_text(text)
    assert load_job(folder / "beside.qasm").circuit.count_ops()["flip"] == 1


def test_an_error_in_a_nested_include_is_reported_at_the_circuits_include_line(tmp_path):
    folder = _folder(tmp_path)
    (folder / "a.inc").write_text('include "b.inc";\ngate ga x { gb x; }\n')
    (folder / "b.inc").write_text("gate gb x { x x; }\n\n\ngate broken x { nope x; }\n")
    circuit = folder / "c.qasm"
    circuit.write_text(Q2 + "qreg q[1];\n\n\ninclude \"a.inc\";\nga q[0];\n")
    with pytest.raises(JobError) as info:
        load_job(circuit)
    assert str(info.value).startswith(f"{circuit}: line 6: in included file 'b.inc' line 4:")


# ---------------------------------------------------------------------------------------- 4. YAML


def _laughs_config(levels: int) -> str:
    anchors = "      l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"      l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, levels + 1))
    return ("devices:\n  - name: lol\n    base: qutip-1q\n    defaults:\n" + anchors
            + f"  - name: lol2\n    base: qutip-1q\n    defaults:\n      more: *l{levels}\n")


def test_yaml_alias_expansion_is_bounded(tmp_path):
    """Alias expansion in defaults wrote a 26 MB options file; deeper, it exhausted memory."""
    path = tmp_path / "lol.yml"
    path.write_text(_laughs_config(6))
    with pytest.raises(ConfigError) as info:
        load_catalogue(path)
    assert str(info.value) == (f"{path}: line 10: the YAML aliases here expand to more than 200,000 values; write "
                               "the values out instead of repeating an alias of aliases")
    path.write_text(_laughs_config(2))  # 1,111 values: an ordinary use of anchors
    assert load_catalogue(path).get("lol2").defaults["more"][0][0] == ["x"] * 10


def test_special_and_big_config_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="/dev/zero: not a regular file"):
        load_catalogue("/dev/zero")
    path = tmp_path / "big.yml"
    with open(path, "wb") as fh:
        fh.truncate(100 * 2**20)
    with pytest.raises(BudgetError, match="max_job_mb"):
        load_catalogue(path)


def test_every_budget_is_documented():
    doc = (Path(__file__).parents[1] / "docs" / "budgets.md").read_text()
    for budget in budgets.BUDGETS:
        assert f"`{budget.option}`" in doc and f"{budget.default:,}" in doc
    assert np.all([b.default > 0 for b in budgets.BUDGETS])
