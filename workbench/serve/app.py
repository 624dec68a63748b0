"""The ASGI application: both services, one store, one runner, errors turned into HTTP codes here.

Every error a route raises is a typed :mod:`workbench.errors` exception; :func:`_status` is the one
place that decides its HTTP code, and the body is ``{"detail": "<the one-line message>"}`` (the
field the Tergite SDK shows) -- the same line ``workbench run`` prints for the same input.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from workbench._version import __version__
from workbench.errors import (
    DeviceNotFoundError,
    InputError,
    ServiceError,
    WorkbenchError,
)
from workbench.serve.limits import OPEN_PATHS, BodyLimit
from workbench.serve.service import Service
from workbench.serve.settings import Settings
from workbench.serve.store import JobNotFoundError

log = logging.getLogger("workbench.serve")


def _status(exc: WorkbenchError) -> int:
    if isinstance(exc, ServiceError):
        return exc.status
    if isinstance(exc, JobNotFoundError | DeviceNotFoundError):
        return 404
    if isinstance(exc, InputError):
        return 422
    return 500


def create_app(settings: Settings) -> FastAPI:
    """The application for ``settings``; the runner starts and stops with it (ASGI lifespan)."""
    from workbench.serve import qhana_api, tergite_api

    service = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.runner.start()
        try:
            yield
        finally:
            service.runner.stop()
            service.store.close()

    app = FastAPI(title="Quantum Executor Workbench service", version=__version__, lifespan=lifespan,
                  description="A Tergite-compatible backend and a QHAna circuit-executor plugin over the "
                  "workbench's devices (docs/serve.md).", docs_url="/docs/swagger", redoc_url=None)
    app.state.service = service

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Any:
        if settings.auth_required and request.url.path not in OPEN_PATHS:
            try:
                service.client(request)
            except WorkbenchError as exc:
                return _error(exc)
        return await call_next(request)

    @app.exception_handler(WorkbenchError)
    async def workbench_error(request: Request, exc: WorkbenchError) -> JSONResponse:
        return _error(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "form"))
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg", "invalid request")
        return JSONResponse({"detail": message}, status_code=422)

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> str:
        from workbench.serve.api_docs import openapi_html

        return openapi_html(app.openapi())  # served from here: FastAPI's Swagger page needs a CDN

    @app.get("/", include_in_schema=False)
    def root() -> dict[str, Any]:
        return {"title": "Quantum Executor Workbench service", "version": __version__, "docs": "/docs",
                "tergite": "/v2/devices", "qhana": "/plugins/"}

    app.include_router(tergite_api.router)
    app.include_router(qhana_api.router)
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)  # outermost: before anything reads
    return app


def _error(exc: WorkbenchError) -> JSONResponse:
    status = _status(exc)
    if status >= 500 and not isinstance(exc, ServiceError):
        log.error("request failed: %s", exc)
    headers = {"Retry-After": "5"} if status in (429, 503) else None
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else headers
    return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=status, headers=headers)

