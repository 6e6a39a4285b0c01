"""sessionscope: a self-hostable session store with a UXCam Data Access API v2 compatible HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .client import (
        ApiError,
        BadRequest,
        Client,
        Forbidden,
        MethodNotAllowed,
        NotFound,
        PayloadTooLarge,
        RateLimited,
        ServerError,
        ServiceUnavailable,
        Unauthorized,
    )

# the client and its errors: `from sessionscope import Client, BadRequest`
__all__ = [
    "ApiError",
    "BadRequest",
    "Client",
    "Forbidden",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "ServerError",
    "ServiceUnavailable",
    "Unauthorized",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # the client is imported on first use, so that the server and the CLI do not load it
    if name in __all__:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'sessionscope' has no attribute {name!r}")
