"""The API reference at ``/docs``, rendered on the server from the OpenAPI document: plain HTML, no script.

FastAPI's own page (Swagger UI) loads its JavaScript and CSS from a CDN, so on a lab network without
internet access it stays blank; this page needs nothing but the server. Swagger UI is still offered at
``/docs/swagger`` for machines that can reach the CDN.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; }
.op { margin: 1em 0; padding: .6em .8em; border: 1px solid #ddd; border-radius: 4px; }
.method { display: inline-block; min-width: 4.5em; font-weight: bold; text-transform: uppercase; }
.get { color: #1a7f37; } .post { color: #0550ae; } .put, .patch { color: #9a6700; } .delete { color: #cf222e; }
code { background: #f4f4f4; padding: 0 .2em; } table { border-collapse: collapse; margin: .4em 0; }
td, th { border: 1px solid #ddd; padding: .2em .5em; text-align: left; vertical-align: top; font-size: .92em; }
.desc { white-space: pre-wrap; margin: .4em 0; }
"""
_METHODS = ("get", "post", "put", "patch", "delete")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _type(schema: Mapping[str, Any] | None) -> str:
    """A schema in a few words: ``string``, ``integer``, ``array of Job``, ``JobDocument``, ``a | b``."""
    if not isinstance(schema, Mapping):
        return ""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(_type(s) for s in schema[key] if isinstance(s, Mapping))
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items')) or 'values'}"
    return str(schema.get("type", schema.get("title", "")))


def _parameters(op: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(p.get('name', ''))}</code></td><td>{_e(p.get('in', ''))}</td>"
        f"<td>{'yes' if p.get('required') else 'no'}</td><td>{_e(_type(p.get('schema')))}</td>"
        f"<td>{_e(p.get('description', ''))}</td></tr>"
        for p in op.get("parameters", []) if isinstance(p, Mapping))
    body = op.get("requestBody")
    if isinstance(body, Mapping):
        for content_type, content in (body.get("content") or {}).items():
            schema = content.get("schema") if isinstance(content, Mapping) else None
            rows += (f"<tr><td><i>body</i></td><td>{_e(content_type)}</td>"
                     f"<td>{'yes' if body.get('required') else 'no'}</td><td>{_e(_type(schema))}</td><td></td></tr>")
    if not rows:
        return ""
    return ("<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th><th>description</th></tr>"
            f"{rows}</table>")


def _responses(op: Mapping[str, Any]) -> str:
    items = []
    for code, response in (op.get("responses") or {}).items():
        if not isinstance(response, Mapping):
            continue
        schemas = [_type(c.get("schema")) for c in (response.get("content") or {}).values() if isinstance(c, Mapping)]
        shown = f" ({_e(', '.join(s for s in schemas if s))})" if any(schemas) else ""
        items.append(f"<code>{_e(code)}</code> {_e(response.get('description', ''))}{shown}")
    return f"<p>Responses: {'; '.join(items)}</p>" if items else ""


def openapi_html(spec: Mapping[str, Any]) -> str:
    """The page: every operation of ``spec`` grouped by tag (in the document's order), with its parameters,
    request body and responses."""
    info = spec.get("info") or {}
    groups: dict[str, list[str]] = {}
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            tag = (op.get("tags") or ["other"])[0]
            summary = op.get("summary") or op.get("operationId") or ""
            description = op.get("description") or ""
            groups.setdefault(str(tag), []).append(
                f"<div class='op' id='{_e(method)}-{_e(path)}'><span class='method {_e(method)}'>{_e(method)}</span>"
                f" <code>{_e(path)}</code> — {_e(summary)}"
                + (f"<div class='desc'>{_e(description.strip())}</div>" if description.strip() else "")
                + _parameters(op) + _responses(op) + "</div>")
    sections = "".join(f"<h2>{_e(tag)}</h2>{''.join(ops)}" for tag, ops in groups.items())
    title = _e(info.get("title", "API"))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title} — API</title>"
            f"<style>{_CSS}</style></head><body><h1>{title} <small>{_e(info.get('version', ''))}</small></h1>"
            f"<p>{_e(info.get('description', ''))}</p><p>The machine-readable description: "
            "<a href='/openapi.json'>/openapi.json</a>. An interactive page (Swagger UI, loaded from a CDN, so "
            "it needs internet access): <a href='/docs/swagger'>/docs/swagger</a>.</p>"
            f"{sections}</body></html>")
