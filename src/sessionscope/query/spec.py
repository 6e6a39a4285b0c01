"""The parsed, validated request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..catalog import Attribute, Operator, Resource


@dataclass(frozen=True)
class Filter:
    """One validated filter; `value` is already normalised to the attribute's type."""

    index: int
    attribute: Attribute
    operator: Operator
    value: Any
    property_name: str | None = None
    # event_name's optional property condition ("had such an event whose property matches")
    event_property: Filter | None = None
    # the filter as the user sent it, for dashboard links
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def user_had_none(self) -> bool:
        """A user's "had none" of an event (catalog: `Attribute.of_user`): tested over every session of the
        user in the window, not the session the other filters test."""
        return self.attribute.of_user and self.operator.negative


@dataclass(frozen=True)
class Window:
    """Inclusive upload-time bounds, to the second, minus whole excluded days."""

    lo: datetime
    hi: datetime
    excluded: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class ListSpec:
    resource: Resource
    window: Window
    filters: tuple[Filter, ...]
    page: int
    page_size: int
    now: datetime
