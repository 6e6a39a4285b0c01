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
    # For DateTime attributes: True when it is a condition on its column (user_first_seen_on), not the
    # query window (date_range).
    condition: bool = False
    # The "tb" a dashboard link gives this attribute's filters, when not the resource's own.
    link_table: str | None = None
    # For a condition on a session's events, in a catalogue of users: its negative operators mean the user
    # had no such event in any of its sessions in the window (SPEC §4: "had none"), not a session without.
    of_user: bool = False
    # For JSON attributes: property names stored in columns of their own rather than in the map
    # (user_custom_property "alias" is the user's alias, shown among the user's properties).
    property_columns: dict[str, str] = field(default_factory=dict)

    @property
    def operators(self) -> list[str]:
        from .operators import operators_for

        return operators_for(self.type, self.only_operators)

    @property
    def needs_property_name(self) -> bool:
        return self.type == JSON

    @property
    def is_window(self) -> bool:
        """date_range: its filters set the query window instead of testing a column."""
        return self.type == DATETIME and not self.condition


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
    """A queryable resource: its attribute catalogue and its base relation.

    Every resource is queried through the same compiler: `relation` names the base relation the filters,
    groups and metrics read (query/relations.py builds it, tenant and window included), and the list
    order is `time_column` descending, then `order_key` ascending. A `per_user` resource lists one row
    per user (its latest matching row) instead of one per relation row.
    """

    name: str
    table: str
    time_column: str
    attributes: dict[str, Attribute]
    relation: str = "sessions"
    order_key: tuple[str, ...] = ("session_id",)
    per_user: bool = False
    # relation columns the count metrics read, carried through the analytics query
    carry: tuple[str, ...] = ("uxcamuserid", "user_key", "session_number")
    # dashboard links: the list page they open, the "tb" of their conditions, the time-bucket parameter
    link_path: str = "sessions"
    link_table: str = "session"
    bucket_param: str = "session_uploadedon"

    def attribute(self, name: str) -> Attribute | None:
        return self.attributes.get(name)
