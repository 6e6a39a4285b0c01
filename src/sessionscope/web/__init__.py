"""The dashboard (SPEC §7): login, the session list, one session with its replay, analytics.

Server-rendered pages (Jinja2 templates), one stylesheet and one small script served by the app itself:
no CDN, no build step. `router` is what the app includes.
"""

from fastapi import APIRouter

from . import auth, pages, render

router = APIRouter(include_in_schema=False)
router.include_router(render.router)
router.include_router(auth.router)
router.include_router(pages.router)

__all__ = ["router"]
