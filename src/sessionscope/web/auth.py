"""Dashboard login: the app's data access key, exchanged for a signed cookie scoped to that app.

The cookie is HttpOnly, SameSite=Lax, `Path=/app/{appid}` (the browser sends it to that app's pages only)
and expires. It is signed with the server secret (signing.py) and carries a keyed fingerprint of the app's
current key hash, so rotating the key logs every dashboard out at once. The key travels only in the login
form's POST body: never in a URL, never in a log line.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from .. import apps, signing
from ..api.deps import SecretDep, SettingsDep, StoreDep
from ..settings import Settings
from ..store import Store
from .render import page

COOKIE = "sessionscope_dashboard"
PURPOSE = "dashboard"
LOGIN_SECONDS = 12 * 3600  # a working day; the key is needed again after that
MAX_FORM_BYTES = 16 * 1024

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Viewer:
    """Who is looking at an app's pages."""

    appid: str
    app_name: str


def app_home(appid: str) -> str:
    return f"/app/{appid}/sessions/list/1"


def _cookie_path(appid: str) -> str:
    return f"/app/{appid}"


def viewer(request: Request, appid: str) -> Viewer | None:
    """The viewer of app `appid` when the request carries a valid login cookie for exactly that app."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    payload = signing.verify(request.app.state.secret, PURPOSE, token, int(time.time()))
    if payload is None or payload.get("a") != appid:
        return None
    identity = apps.dashboard_identity(request.app.state.store, appid)
    if identity is None:
        return None
    name, key_hash = identity
    if not hmac.compare_digest(str(payload.get("k", "")), signing.key_fingerprint(request.app.state.secret, key_hash)):
        return None  # the key was rotated since this login
    request.state.appid = appid
    return Viewer(appid, name)


def login_redirect(request: Request) -> RedirectResponse:
    """To the login form, remembering the page asked for (its query string included); a login cookie that
    no longer holds (expired, or the key rotated) is said so there."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ended = "&ended=1" if request.cookies.get(COOKIE) else ""
    return RedirectResponse(f"/login?next={quote(target, safe='')}{ended}", status_code=303)


def safe_next(target: str, appid: str) -> str:
    """Where to go after logging in: the page asked for when it belongs to this app, else its home."""
    prefix = _cookie_path(appid) + "/"
    if target.startswith(prefix) and "\\" not in target and "\r" not in target and "\n" not in target:
        return target
    return app_home(appid)


def _appid_of(target: str) -> str:
    parts = target.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "app" else ""


@router.get("/")
def root(request: Request) -> Response:
    """A browser opening the server's address lands on the dashboard's login; any other client learns
    where the API is (the JSON 404 of every unknown path)."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/login", status_code=303)
    raise StarletteHTTPException(404)


NOTICES = {
    "ended": "Your login to this app has ended: it lasts 12 hours, and ends when the app's key is rotated.",
    "out": "You are logged out of this app.",
}


@router.get("/login")
def login_form(request: Request, next: str = "", appid: str = "", ended: str = "", out: str = "") -> Response:  # noqa: A002
    notice = NOTICES["ended"] if ended else NOTICES["out"] if out else None
    context = {"next": next, "appid": appid or _appid_of(next), "error": None, "notice": notice}
    return page(request, "login.html", context)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            break
    fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site(request: Request, settings: Settings) -> bool:
    """A form POST another site's page made the browser send (login CSRF: logging a visitor into the
    attacker's app). Browsers say where a POST comes from (`Origin`, `Sec-Fetch-Site`); a client that says
    nothing (a script, an old browser) is let through, as it cannot carry a visitor's cookies anyway."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    own = {_origin(str(request.base_url)), _origin(settings.public_url)}
    return origin.lower() not in own


def _refused(request: Request) -> Response:
    context = {"next": "", "appid": "", "error": "This form was sent from another site; log in from this page.",
               "notice": None}
    return page(request, "login.html", context, status_code=403)


@router.post("/login")
async def login(request: Request, store: StoreDep, settings: SettingsDep, secret: SecretDep) -> Response:
    if cross_site(request, settings):
        return _refused(request)
    form = await _form(request)
    appid = form.get("appid", "").strip().lower()
    key = form.get("apikey", "").strip()
    target = form.get("next", "")
    if not apps.authenticate(store, appid, key, "apikey"):
        context = {"next": target, "appid": appid, "error": "That app id and data access key do not match.", "notice": None}
        return page(request, "login.html", context, status_code=401)
    response = RedirectResponse(safe_next(target, appid), status_code=303)
    set_login_cookie(response, store, settings, secret, appid)
    return response


def set_login_cookie(response: Response, store: Store, settings: Settings, secret: bytes, appid: str) -> None:
    identity = apps.dashboard_identity(store, appid)
    assert identity is not None
    expires = int(time.time()) + LOGIN_SECONDS
    token = signing.sign(secret, PURPOSE, {"a": appid, "k": signing.key_fingerprint(secret, identity[1])}, expires)
    response.set_cookie(
        COOKIE,
        token,
        max_age=LOGIN_SECONDS,
        expires=LOGIN_SECONDS,
        path=_cookie_path(appid),
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://"),
    )


def _logout(appid: str, settings: Settings) -> Response:
    appid = appid.strip().lower()
    query = urlencode({"appid": appid, "out": 1} if apps.APPID_RE.match(appid) else {"out": 1})
    response = RedirectResponse(f"/login?{query}", status_code=303)
    if apps.APPID_RE.match(appid):
        response.delete_cookie(
            COOKIE,
            path=_cookie_path(appid),
            httponly=True,
            samesite="lax",
            secure=settings.public_url.startswith("https://"),
        )
    return response


@router.post("/logout")
async def logout(request: Request, settings: SettingsDep) -> Response:
    """Log out (the page's Log out button). POST only: a link or an image on another site cannot, nor
    another site's form."""
    if cross_site(request, settings):
        return _refused(request)
    form = await _form(request)
    return _logout(form.get("appid", ""), settings)
