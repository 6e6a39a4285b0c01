"""The rows of the catalogue: attributes, operators and the value shapes they take."""

from __future__ import annotations

from dataclasses import dataclass, field

# Attribute types, as the reference names them.
INTEGER = "Integer"
FLOAT = "Float"
STRING = "String"
BOOL = "Bool String"
LIST = "List"
DATETIME = "DateTime"
BUCKET = "DateTime String"
JSON = "JSON"
EVENT = "Event"
COUNT = "Count"

NUMERIC = frozenset({INTEGER, FLOAT})


@dataclass(frozen=True)
class Attribute:
    """One attribute a request may name in filters, group_by or aggregation."""

    name: str
    type: str
    description: str
    column: str | None = None  # column (or map column, for JSON) of the resource's base table
    groupable: bool = False
    aggregatable: bool = False
    # String attributes whose values users write in several spellings (device_platform: 1/"1"/"android").
    aliases: dict[str, str] = field(default_factory=dict)
    # For Event attributes: the events table column the condition applies to.
    event_column: str | None = None
    # For bucket attributes: the unit (day, week, month).
    bucket: str | None = None
    # Narrows the operators of the type (device_platform takes only equality tests).
    only_operators: tuple[str, ...] | None = None

    @property
    def operators(self) -> list[str]:
        from .operators import operators_for

        return operators_for(self.type, self.only_operators)

    @property
    def needs_property_name(self) -> bool:
        return self.type == JSON


@dataclass(frozen=True)
class Operator:
    """A filter operator: the attribute types it applies to and the value it takes."""

    name: str
    types: frozenset[str]
    value: str  # number | string | string_list | bool | date | date_range
    negative: bool
    description: str


@dataclass(frozen=True)
class Resource:
    """A queryable resource: its base table and its attribute catalogue."""

    name: str
    table: str
    time_column: str
    attributes: dict[str, Attribute]

    def attribute(self, name: str) -> Attribute | None:
        return self.attributes.get(name)
