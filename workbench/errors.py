"""Every error the workbench raises on purpose.

User-facing layers (CLI, widgets) print ``str(error)`` as a single line; anything that is not a
:class:`WorkbenchError` is a bug in the workbench, not in the user's input. Input errors carry the
place they point at (a JSON path, a QASM line, a config key) so that the message alone is enough to
fix the input.

Each error also subclasses the builtin a Python user would reach for (as xarray's ``MergeError`` is a
``ValueError``): bad input is a :class:`ValueError`, an unknown device or executor also a
:class:`LookupError`, a failed run a :class:`RuntimeError`. Code around the API can then catch them
without knowing the workbench's own types; ``str()`` and ``exit_code`` do not depend on it.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class: ``str()`` is a one-line message fit for a user."""

    exit_code = 1


class InputError(WorkbenchError, ValueError):
    """Something the user supplied is wrong; the CLI exits with code 2.

    ``location`` is where the problem is (``experiments[3].instructions[7].pulse_shape``,
    ``line 4``, ``devices[0].qubits[1].t2``); it is prefixed to the message when given.
    """

    exit_code = 2

    def __init__(self, message: str, location: str | None = None, source: str | None = None):
        self.message = message
        self.location = location or None
        self.source = source or None
        super().__init__(self._render())

    def _render(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        text = " ".join(text.split())  # one line, whatever the message was built from
        return f"{self.source}: {text}" if self.source else text


class JobError(InputError):
    """A job file (PulseQobj JSON or OpenQASM) that cannot be read or does not validate."""


class ConfigError(InputError):
    """A device configuration file or entry that does not validate."""


class OptionsError(InputError):
    """An execution option with a wrong type or value."""


class DeviceNotFoundError(InputError, LookupError):
    """The requested device is not in the catalogue."""


class ExecutorNotFoundError(InputError, LookupError):
    """No installed executor has the requested type."""


class UnsupportedError(InputError):
    """A valid job asks for something the chosen device or executor cannot do."""


class OutputError(InputError):
    """The output folder cannot be written without destroying earlier results."""


class BudgetError(InputError):
    """A job whose estimated cost exceeds a resource budget (docs/budgets.md): refused before any work.

    The message names the estimate, the limit and the option that raises it; nothing has been
    computed or written when it is raised.
    """


class ExecutionError(WorkbenchError, RuntimeError):
    """The executor failed while running a valid job (instrument, solver, ...)."""


class CredentialsRejectedError(ExecutionError):
    """The executor's service refused the credentials the run was given (a wrong or expired token).

    Raise it rather than a plain :class:`ExecutionError` from a plugin: interfaces that ask for
    credentials can then ask again (the QHAna task reopens its authentication step) instead of
    failing the job."""


class CancelledError(WorkbenchError):
    """A run was cancelled by the user before it finished."""


class ServiceError(WorkbenchError):
    """A request the server (``workbench serve``) refuses for a reason other than its content.

    ``status`` is the HTTP code it becomes; ``workbench.serve.app`` maps every error in one place.
    """

    status = 400


class AuthenticationError(ServiceError):
    """No bearer token, or one the server was not given."""

    status = 401


class RequestTooLargeError(ServiceError):
    """A request body over the server's size limit."""

    status = 413


class TooManyJobsError(ServiceError):
    """One client has as many unfinished jobs as the server allows per client."""

    status = 429


class QueueFullError(ServiceError):
    """The server's queue holds as many jobs as it is allowed to."""

    status = 503


class URLNotAllowedError(InputError):
    """An input URL the server will not fetch (host not allowed, scheme, too large, unreachable)."""
