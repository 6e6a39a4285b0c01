"""Templates, static assets and the headers every dashboard page carries."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.templating import Jinja2Templates

from . import format as fmt

HERE = Path(__file__).parent
STATIC = HERE / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
# The assets that exist, with a content hash for cache busting; nothing else under /static is served.
ASSETS = {
    p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in STATIC.iterdir() if p.suffix in _TYPES
}

# Pages show one app's data: never framed, never cached, no referrer leaving with a filter URL;
# scripts and styles come only from this server (no CDN, no inline script).
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=str(HERE / "templates"))
env = templates.env
env.filters.update(
    number=fmt.number,
    plural=fmt.plural,
    duration=fmt.duration,
    offset=fmt.offset,
    pct=fmt.pct,
    timestamp=fmt.timestamp,
    metric_label=fmt.metric_label,
    field_label=fmt.field_label,
)
env.globals["field"] = fmt.field
env.globals["as_sent"] = fmt.as_sent
env.globals["change_tone"] = fmt.change_tone
env.globals["fmt_metric"] = fmt.metric
env.globals["static"] = lambda name: f"/static/{name}?v={ASSETS[name]}"


def page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(PAGE_HEADERS)
    return response


def not_found(request: Request, appid: str | None, what: str, app_name: str | None = None) -> HTMLResponse:
    return page(request, "not_found.html", {"appid": appid, "app_name": app_name, "what": what}, 404)


router = APIRouter(include_in_schema=False)


@router.get("/favicon.ico")
def favicon() -> Response:
    return static_asset("favicon.svg")


@router.get("/static/{name}")
def static_asset(name: str) -> Response:
    if name not in ASSETS:
        return Response("Not found", status_code=404, media_type="text/plain")
    path = STATIC / name
    return FileResponse(
        path,
        media_type=_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
