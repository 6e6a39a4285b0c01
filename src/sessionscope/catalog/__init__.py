"""The attribute registry: one table per resource, read by the validator, the planner and the docs."""

from .events import EVENTS
from .operators import OPERATORS, operators_for
from .sessions import SESSIONS
from .types import Attribute, Operator, Resource
from .users import SESSIONS_OF_USERS, USERS, sessions_for

RESOURCES = {"session": SESSIONS, "user": USERS, "event": EVENTS}

__all__ = [
    "EVENTS",
    "OPERATORS",
    "RESOURCES",
    "SESSIONS",
    "SESSIONS_OF_USERS",
    "USERS",
    "Attribute",
    "Operator",
    "Resource",
    "operators_for",
    "sessions_for",
]
