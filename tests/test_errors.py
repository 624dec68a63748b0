"""The workbench's errors are also the builtins a Python user catches (``except ValueError`` around the
API works), and nothing in the package mistakes one of its own errors for a library's ValueError."""

from __future__ import annotations

import pickle
import socket
import textwrap

import pytest

import workbench
from workbench import errors
from workbench.errors import (
    BudgetError,
    CancelledError,
    ConfigError,
    DeviceNotFoundError,
    ExecutionError,
    ExecutorNotFoundError,
    InputError,
    JobError,
    OptionsError,
    OutputError,
    UnsupportedError,
    WorkbenchError,
)

INPUT_ERRORS = (InputError, JobError, ConfigError, OptionsError, DeviceNotFoundError, ExecutorNotFoundError,
                UnsupportedError, OutputError, BudgetError, errors.URLNotAllowedError)
#: What `workbench serve` refuses for reasons other than the request's content, with their HTTP codes.
SERVICE_ERRORS = {errors.ServiceError: 400, errors.AuthenticationError: 401, errors.RequestTooLargeError: 413,
                  errors.TooManyJobsError: 429, errors.QueueFullError: 503}


@pytest.mark.parametrize("cls", INPUT_ERRORS)
def test_every_input_error_is_a_value_error_with_exit_code_2(cls):
    assert issubclass(cls, WorkbenchError) and issubclass(cls, ValueError)
    assert cls.exit_code == 2


@pytest.mark.parametrize("cls", [DeviceNotFoundError, ExecutorNotFoundError])
def test_unknown_names_are_lookup_errors_but_not_key_errors(cls):
    """LookupError, not KeyError: ``str(KeyError("x"))`` is ``"'x'"``, which would quote the one-line message."""
    assert issubclass(cls, LookupError) and not issubclass(cls, KeyError)
    assert str(cls("unknown device 'x'")) == "unknown device 'x'"


def test_execution_errors_are_runtime_errors_and_the_rest_stays_apart():
    assert issubclass(ExecutionError, RuntimeError) and ExecutionError.exit_code == 1
    assert not issubclass(ExecutionError, ValueError)
    assert not issubclass(CancelledError, ValueError | RuntimeError | LookupError)
    assert WorkbenchError.exit_code == CancelledError.exit_code == 1
    others = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, WorkbenchError)]
    assert issubclass(errors.CredentialsRejectedError, ExecutionError)  # a refused token: still a failed run
    assert set(others) == {WorkbenchError, ExecutionError, errors.CredentialsRejectedError, CancelledError,
                           *INPUT_ERRORS, *SERVICE_ERRORS}
    assert {cls: cls.status for cls in SERVICE_ERRORS} == SERVICE_ERRORS


def test_the_message_is_unchanged_and_survives_pickling():
    """Dask hands errors between processes by pickle: class, message and location come back."""
    error = JobError("unknown shape 'foo'", "experiments[0].instructions[3].pulse_shape", "job.json")
    assert str(error) == "job.json: experiments[0].instructions[3].pulse_shape: unknown shape 'foo'"
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is JobError and str(again) == str(error)
    assert (again.message, again.location, again.source) == (error.message, error.location, error.source)


def test_a_bad_job_through_run_is_a_value_error():
    with pytest.raises(ValueError) as info:
        workbench.run('{"qobj_id": "q", "type": "PULSE", "experiments": []}', device="qutip-1q", shots=10, seed=1)
    assert type(info.value) is JobError
    assert "experiments" in str(info.value) and "\n" not in str(info.value)


def test_a_bad_option_through_run_is_a_value_error():
    with pytest.raises(ValueError, match="option 'shots'") as info:
        workbench.run("x-gate", device="qutip-1q", shots=0, seed=1)
    assert isinstance(info.value, OptionsError)


def test_an_unknown_device_through_run_is_a_lookup_error():
    with pytest.raises(LookupError, match="unknown device 'no-such-device'; known devices: ") as info:
        workbench.run("x-gate", device="no-such-device", seed=1)
    assert isinstance(info.value, DeviceNotFoundError) and isinstance(info.value, ValueError)


def test_an_uninstalled_executor_through_run_is_a_lookup_error(tmp_path):
    config = tmp_path / "lab.yml"
    config.write_text("devices:\n  - name: z\n    base: qutip-1q\n    executor: not-installed\n")
    with pytest.raises(LookupError, match="no executor named 'not-installed' is installed") as info:
        workbench.run("x-gate", device="z", config=config, seed=1)
    assert isinstance(info.value, ExecutorNotFoundError)


def test_an_unreachable_cluster_through_run_is_a_runtime_error(tmp_path):
    """A real failure: the Qblox executor connecting to a loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "lab.yml"
    config.write_text(textwrap.dedent(f"""
        clusters:
          - name: gone
            address: 127.0.0.1
            port: {port}
            is_dummy: false
            connect_timeout: 0.5
            modules:
              2: {{type: QCM_RF}}
              4: {{type: QRM_RF}}
        devices:
          - name: lab-1q
            base: qblox-dummy-1q
            executor_config:
              cluster: gone
    """))
    with pytest.raises(RuntimeError, match=f"cannot connect to the cluster at 127.0.0.1:{port}") as info:
        workbench.run("x-gate", device="lab-1q", config=config, seed=1)
    assert type(info.value) is ExecutionError


def test_a_job_error_inside_json_parsing_is_not_rewrapped_as_a_json_error():
    """The loader catches ValueError from json.loads; its own JobError (a ValueError now) keeps its message."""
    with pytest.raises(JobError) as info:
        workbench.load_job('{"qobj_id": "q", "type": "PULSE", "experiments": [], "x": NaN}')
    assert str(info.value) == "NaN is not valid JSON; numbers must be finite"

