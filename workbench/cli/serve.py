"""``workbench serve``: the Tergite-compatible backend and the QHAna plugin over this workbench (docs/serve.md).

The parser is built without importing FastAPI or uvicorn; they load when the command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    from workbench.serve.settings import POOLS  # plain data: no FastAPI

    p = sub.add_parser(
        "serve", help="serve the devices as a Tergite-compatible backend and a QHAna circuit-executor plugin",
        description="One HTTP service (OpenAPI docs at /docs): the Tergite SDK's REST API and QHAna's plugin "
        "API over the same devices, queue and data directory as 'workbench run'. Loopback by default.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", default="8000", help="port (default 8000)")
    p.add_argument("--datadir", metavar="DIR",
                   help="data directory the runs are kept in (default: $WORKBENCH_DATADIR, else ./workbench-data)")
    p.add_argument("--store", metavar="FILE|URL", help="job store: a SQLite file (default <datadir>/.serve/"
                   "serve-jobs.sqlite3) or postgresql://user@host/db, shared by several servers")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run jobs on this Dask scheduler (tcp://host:port) "
                   "instead of the server's own local Dask cluster")
    p.add_argument("--executor-pool", choices=POOLS, default="dask", dest="pool",
                   help="without --scheduler, where jobs compute: 'dask' (default: a local Dask cluster of one "
                   "worker process per core, started with the server) or 'threads' (in the server process: "
                   "no worker processes, for low-memory machines)")
    p.add_argument("--workers", metavar="N", default="2", help="jobs run at once (default 2); each waits on its "
                   "run in a thread of the server; hardware devices still run one job at a time")
    p.add_argument("--tokens-file", metavar="FILE", help="bearer tokens, one per line; with tokens (or "
                   "$WORKBENCH_SERVE_TOKENS, comma-separated) every request needs one")
    p.add_argument("--allow-host", metavar="HOST", action="append", default=[], dest="allowed_hosts",
                   help="a host (or host:port) QHAna input URLs may point to (repeatable; default: none, only "
                   "data: URLs and uploads)")
    p.add_argument("--max-request-mb", metavar="MB", default="16", help="largest request body (default 16 MB)")
    p.add_argument("--max-queue", metavar="N", default="1000", help="unfinished jobs (all clients) before 503 "
                   "(default 1000)")
    p.add_argument("--max-per-client", metavar="N", default="100", help="unfinished jobs per client before 429 "
                   "(default 100)")


def _positive(text: str, flag: str, kind: type = int) -> Any:
    from workbench.errors import OptionsError

    try:
        value = kind(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise OptionsError(f"must be a positive number, got {text!r}", flag)
    return value


def settings_from(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from workbench.errors import OptionsError
    from workbench.results.datadir import resolve
    from workbench.serve.settings import DEFAULT_DATADIR, Settings, read_tokens

    scheduler = None
    if args.scheduler:
        from workbench.parallel.spec import check_address

        scheduler = check_address(args.scheduler, "--scheduler")
    port = int(args.port) if str(args.port).isdigit() else -1
    if not 0 <= port < 65536:
        raise OptionsError(f"must be a port number, got {args.port!r}", "--port")
    return Settings(
        datadir=resolve(args.datadir) or Path(DEFAULT_DATADIR), config=args.config, store=args.store,
        scheduler=scheduler, pool=args.pool, workers=_positive(args.workers, "--workers"),
        tokens=read_tokens(args.tokens_file), allowed_hosts=tuple(args.allowed_hosts),
        max_request_bytes=int(_positive(args.max_request_mb, "--max-request-mb", float) * 1024 * 1024),
        max_queue=_positive(args.max_queue, "--max-queue"), max_per_client=_positive(args.max_per_client,
                                                                                      "--max-per-client"))


def command(args: argparse.Namespace) -> int:
    import uvicorn

    from workbench.serve.app import create_app

    settings = settings_from(args)
    app = create_app(settings)
    port = int(args.port)
    if args.host not in ("127.0.0.1", "localhost", "::1") and not settings.auth_required:
        print(f"warning: listening on {args.host} without tokens: anyone who reaches this port can run jobs "
              "(give --tokens-file or WORKBENCH_SERVE_TOKENS)", file=sys.stderr, flush=True)
    print(f"workbench serve: http://{args.host}:{port}/docs (data directory {settings.datadir}, "
          f"{'tokens required' if settings.auth_required else 'no tokens'})", flush=True)
    uvicorn.run(app, host=args.host, port=port, log_level="debug" if os.environ.get("WORKBENCH_DEBUG") else "warning",
                access_log=False)
    return 0
