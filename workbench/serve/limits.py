"""What the server refuses before doing any work: oversized bodies, unknown tokens, too many jobs.

* Bodies: ``Content-Length`` over the limit is refused at once, and a body without one is counted as
  it arrives and cut off at the limit (413), so no request can make the server buffer more.
* Tokens: when the server has tokens, every API request needs ``Authorization: Bearer <token>``;
  tokens are compared with :func:`hmac.compare_digest` against every configured token (the time taken
  does not tell which one matched or how much of it), and never logged.
* Jobs: a client (its token, else its address) may have :attr:`Settings.max_per_client` unfinished
  jobs (429), and the server :attr:`Settings.max_queue` unfinished jobs over all clients (503).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from workbench.errors import AuthenticationError, QueueFullError, TooManyJobsError
from workbench.serve.settings import Settings
from workbench.serve.store import UNFINISHED, JobStore

#: Seconds a registered job waits for its job file before it is cancelled and stops counting.
REGISTERED_TTL = 3600.0
#: Paths anyone may read: the API description and the service's own documentation page.
OPEN_PATHS = ("/docs", "/openapi.json", "/docs/swagger", "/docs/oauth2-redirect")


class BodyLimit:
    """ASGI middleware: request bodies over ``limit`` bytes are refused with 413."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    size = self.limit + 1
                if size > self.limit:
                    await _too_large(send, self.limit)
                    return
        seen = 0
        refused = False

        async def limited() -> dict:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    refused = True
                    raise _BodyTooLarge
            return message

        started = False

        async def watch(message: dict) -> None:
            nonlocal started
            if refused:  # whatever the app made of a cut-off body (FastAPI: 400), the answer is 413
                if not started:
                    started = True
                    await _too_large(send, self.limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except _BodyTooLarge:
            if not started:
                await _too_large(send, self.limit)
        except Exception:
            if not refused:
                raise
            if not started:
                await _too_large(send, self.limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int) -> None:
    import json

    body = json.dumps({"detail": f"request body larger than the server's limit of {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def client_id(settings: Settings, authorization: str | None, address: str | None) -> str:
    """Who is asking: ``token:<hash prefix>`` for a valid token (the token itself is never kept), else
    ``addr:<address>``; raises :class:`AuthenticationError` when tokens are required and this is none."""
    token = _bearer(authorization)
    if settings.auth_required:
        if token is None:
            raise AuthenticationError("Unauthorized: this server needs 'Authorization: Bearer <token>'")
        matched = False
        for known in settings.tokens:  # every token compared, whichever matches
            matched |= hmac.compare_digest(token.encode(), str(known.reveal()).encode())
        if not matched:
            raise AuthenticationError("Unauthorized: unknown token")
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:12]
    return f"addr:{address or 'unknown'}"


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def admit(settings: Settings, store: JobStore, client: str) -> None:
    """Refuse a new job when the client or the server has as many as allowed (registered jobs whose file
    never came expire after :data:`REGISTERED_TTL` seconds first)."""
    store.expire_registered(REGISTERED_TTL)
    if store.count(UNFINISHED, client) >= settings.max_per_client:
        raise TooManyJobsError(f"this client has {settings.max_per_client} unfinished jobs, the most the server "
                               "allows per client; wait for some to finish")
    if store.count(UNFINISHED) >= settings.max_queue:
        raise QueueFullError(f"the server's queue is full ({settings.max_queue} jobs); try again later")
