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
