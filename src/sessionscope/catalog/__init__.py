"""The attribute registry: one table per resource, read by the validator, the planner and the docs."""

from .operators import OPERATORS, operators_for
from .sessions import SESSIONS
from .types import Attribute, Operator, Resource

RESOURCES = {"session": SESSIONS}

__all__ = ["OPERATORS", "RESOURCES", "SESSIONS", "Attribute", "Operator", "Resource", "operators_for"]
