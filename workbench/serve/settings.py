"""What a server is started with: addresses, limits, tokens, where jobs and runs are kept.

Tokens are held as :class:`~workbench.options.Secret` so that no repr, log line or traceback shows them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import OptionsError
from workbench.options import Secret

TOKENS_ENV = "WORKBENCH_SERVE_TOKENS"
DEFAULT_DATADIR = "workbench-data"
POOLS = ("dask", "threads")
STORE_FILE = "serve-jobs.sqlite3"  # inside <datadir>/.serve/, which no run listing reads


@dataclass(frozen=True)
class Settings:
    """One server's configuration (``workbench serve`` flags; docs/serve.md lists them)."""

    datadir: Path = Path(DEFAULT_DATADIR)
    config: str | None = None  # device config file, as ``workbench --config``
    # SQLite file or PostgreSQL URL (which may hold a password); default <datadir>/.serve/serve-jobs.sqlite3
    store: str | None = field(default=None, repr=False)
    scheduler: str | None = None  # Dask scheduler address: runs go there instead of the local cluster
    pool: str = "dask"  # without a scheduler: "dask" (the process's LocalCluster) or "threads" (in-process)
    workers: int = 2  # dispatch threads: how many jobs run at once (each waits on its run)
    tokens: tuple[Secret, ...] = field(default=(), repr=False)
    allowed_hosts: tuple[str, ...] = ()  # hosts QHAna input URLs may name (host or host:port)
    max_request_bytes: int = 16 * 1024 * 1024
    max_queue: int = 1000  # unfinished jobs over all clients: more -> 503
    max_per_client: int = 100  # unfinished jobs of one client (token or address): more -> 429
    fetch_timeout: float = 10.0
    fetch_max_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.pool not in POOLS:
            raise OptionsError(f"must be one of {', '.join(POOLS)}, got {self.pool!r}", "--executor-pool")

    def store_url(self) -> str:
        return self.store or str(self.datadir / ".serve" / STORE_FILE)

    @property
    def auth_required(self) -> bool:
        return bool(self.tokens)


def read_tokens(path: str | None) -> tuple[Secret, ...]:
    """Tokens from ``$WORKBENCH_SERVE_TOKENS`` (comma-separated) and a file (one per line, ``#`` comments)."""
    found: list[str] = [t.strip() for t in os.environ.get(TOKENS_ENV, "").split(",") if t.strip()]
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise OptionsError(f"cannot read the tokens file ({exc})", "--tokens-file") from None
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                found.append(line)
    for token in found:
        if len(token) < 16:
            raise OptionsError("every token must have at least 16 characters", "--tokens-file")
    return tuple(Secret(t) for t in found)
