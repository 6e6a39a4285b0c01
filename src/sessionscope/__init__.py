"""sessionscope: a self-hostable session store with a UXCam Data Access API v2 compatible HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .client import ApiError, Client

__all__ = ["ApiError", "Client", "__version__"]


def __getattr__(name: str) -> Any:
    # the client is imported on first use, so that the server and the CLI do not load it
    if name in ("Client", "ApiError"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'sessionscope' has no attribute {name!r}")
