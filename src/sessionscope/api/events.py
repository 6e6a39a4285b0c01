"""/v2/event and /v2/event/analytics."""

from __future__ import annotations

from .. import service
from .resources import resource_router

router = resource_router("event", "events", service.list_events)
