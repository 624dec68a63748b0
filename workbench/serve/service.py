"""What every route shares: the settings, the device catalogue, the job store and the runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.serve.limits import client_id
from workbench.serve.runner import JobRunner
from workbench.serve.settings import Settings
from workbench.serve.store import JobStore


class Service:
    """One server's state; the app starts its runner and closes its store (ASGI lifespan)."""

    def __init__(self, settings: Settings):
        from workbench.executors.registry import load_catalogue

        self.settings = settings
        self.catalogue = load_catalogue(settings.config)
        self.store = JobStore(settings.store_url())
        self.runner = JobRunner(self.store, settings, self.catalogue)

    def client(self, request: Any) -> str:
        """Who is asking (raises AuthenticationError when a token is required and missing or unknown)."""
        return client_id(self.settings, request.headers.get("authorization"),
                         request.client.host if request.client else None)


    def run_folder(self, rec: Any) -> Path | None:
        """The output folder of a finished run, only if it lies inside this server's data directory.

        The folder comes from the job store, which other servers (a shared PostgreSQL database) or anyone
        who can write the database may have filled: a stored path never chooses what is served from
        elsewhere on this machine."""
        if not rec.folder:
            return None
        root = Path(self.settings.datadir).resolve()
        try:
            folder = Path(rec.folder).resolve()
        except (OSError, RuntimeError, ValueError):
            return None
        return folder if folder != root and folder.is_relative_to(root) and folder.is_dir() else None


def service_of(request: Any) -> Service:
    return request.app.state.service
