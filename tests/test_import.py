"""`import workbench` must stay light: heavy libraries load on first use only."""

import json
import subprocess
import sys

HEAVY = ["qutip", "scipy", "xarray", "pydantic", "yaml", "h5netcdf", "chalmers_qubit", "qiskit",
         "quantify_scheduler", "plotly", "ipywidgets", "pandas"]


def test_import_workbench_loads_no_heavy_library():
    code = ("import sys, json, workbench; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_lazy_attributes_resolve():
    import workbench

    assert callable(workbench.run)
    assert callable(workbench.load_job)
    assert workbench.Result.__name__ == "Result"


def test_the_package_imports_without_fcntl():
    """Windows has no fcntl: the lock users (Qblox cluster locks, config write-back) import without it."""
    code = ("import sys; sys.modules['fcntl'] = None; import warnings; warnings.simplefilter('ignore'); "
            "import workbench.executors.quantify.connection, workbench.tuneup.writeback, workbench.cli.main; "
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
