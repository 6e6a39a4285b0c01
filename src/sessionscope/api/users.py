"""/v2/user and /v2/user/analytics."""

from __future__ import annotations

from .. import service
from .resources import resource_router

router = resource_router("user", "users", service.list_users)
