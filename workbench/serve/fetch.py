"""Input URLs (QHAna passes ``circuit`` and ``executionOptions`` as URLs): fetched with care.

The server must not become a proxy into the lab network, so a URL is fetched only when its host is
in the allowed list (``--allow-host``; none by default), over http or https, without following
redirects, with a timeout and a size cap. ``data:`` URLs (what QHAna's own plugins pass for small
inputs) are decoded here and need no host.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from workbench.errors import URLNotAllowedError
from workbench.serve.settings import Settings


@dataclass(frozen=True)
class Fetched:
    text: str
    content_type: str | None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise URLNotAllowedError(f"redirects to {newurl[:120]!r}; give the final URL", None)


def fetch(url: str, settings: Settings, field: str) -> Fetched:
    """The text at ``url`` (UTF-8), or :class:`URLNotAllowedError` naming ``field``."""
    url = url.strip()
    if url.startswith("data:"):
        return _data_url(url, settings, field)
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise URLNotAllowedError("is not a valid URL", field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise URLNotAllowedError("must be an http(s) or data: URL", field)
    host = parts.hostname.lower()
    allowed = {h.lower() for h in settings.allowed_hosts}
    if host not in allowed and f"{host}:{port}" not in allowed:
        raise URLNotAllowedError(f"host {host!r} is not one this server fetches from (workbench serve "
                                 "--allow-host)", field)
    opener = urllib.request.build_opener(_NoRedirect())
    request = urllib.request.Request(url, headers={"User-Agent": "workbench-serve"})
    try:
        with opener.open(request, timeout=settings.fetch_timeout) as response:
            raw = response.read(settings.fetch_max_bytes + 1)
            content_type = response.headers.get("Content-Type")
    except URLNotAllowedError as exc:
        raise URLNotAllowedError(exc.message, field) from None
    except urllib.error.HTTPError as exc:
        raise URLNotAllowedError(f"answered HTTP {exc.code}", field) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise URLNotAllowedError(f"cannot be fetched ({' '.join(str(reason).split())[:120]})", field) from None
    if len(raw) > settings.fetch_max_bytes:
        raise URLNotAllowedError(f"is larger than {settings.fetch_max_bytes} bytes", field)
    return Fetched(_decode(raw, field), content_type)


def _data_url(url: str, settings: Settings, field: str) -> Fetched:
    head, sep, payload = url[5:].partition(",")
    if not sep:
        raise URLNotAllowedError("is a data: URL without a ','", field)
    params = head.split(";")
    mime = params[0] or "text/plain"
    if len(payload) > settings.fetch_max_bytes * 2:
        raise URLNotAllowedError(f"is larger than {settings.fetch_max_bytes} bytes", field)
    try:
        raw = base64.b64decode(payload, validate=True) if "base64" in params[1:] else \
            urllib.parse.unquote_to_bytes(payload)
    except ValueError:
        raise URLNotAllowedError("is a data: URL with invalid base64", field) from None
    if len(raw) > settings.fetch_max_bytes:
        raise URLNotAllowedError(f"is larger than {settings.fetch_max_bytes} bytes", field)
    return Fetched(_decode(raw, field), mime)


def _decode(raw: bytes, field: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise URLNotAllowedError(f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                                 field) from None
