"""Filter operators as data: the validator, the docs and the SQL renderers all read this table."""

from __future__ import annotations

from .types import BOOL, DATETIME, EVENT, FLOAT, INTEGER, JSON, LIST, STRING, Operator

_NUM = frozenset({INTEGER, FLOAT, JSON})
_STR = frozenset({STRING, JSON})
_EQ = frozenset({EVENT})  # event_name: had / had no such event

OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in [
        Operator("greater", _NUM, "number", False, "greater than the value"),
        Operator("less", _NUM, "number", False, "less than the value"),
        Operator("greater_or_equal", _NUM, "number", False, "greater than or equal to the value"),
        Operator("less_or_equal", _NUM, "number", False, "less than or equal to the value"),
        Operator("equal", _NUM | _STR | _EQ | {BOOL}, "scalar", False, "equal to the value"),
        Operator("not_equal", _NUM | _STR | _EQ | {BOOL}, "scalar", True, "not equal to the value (or missing)"),
        Operator("contains", _STR, "string", False, "contains the value as a case-sensitive substring"),
        Operator("not_contains", _STR, "string", True, "does not contain the value (or is missing)"),
        Operator("in", _STR | _EQ, "string_list", False, "one of the values"),
        Operator("not_in", _STR | _EQ, "string_list", True, "none of the values (or missing)"),
        Operator("has_any", frozenset({LIST}), "string_list", False, "the list holds any of the values"),
        Operator("not_has_any", frozenset({LIST}), "string_list", True, "the list holds none of the values"),
        Operator("on", frozenset({DATETIME}), "date", False, "on that day"),
        Operator("not_on", frozenset({DATETIME}), "date", True, "not on that day"),
        Operator("after", frozenset({DATETIME}), "date", False, "after that time"),
        Operator("before", frozenset({DATETIME}), "date", False, "before that time"),
        Operator("between_dates", frozenset({DATETIME}), "date_range", False, "between lower and upper"),
    ]
}


def operators_for(attr_type: str, only: tuple[str, ...] | None = None) -> list[str]:
    """Operator names allowed for an attribute type (optionally narrowed per attribute), in table order."""
    return [op.name for op in OPERATORS.values() if attr_type in op.types and (only is None or op.name in only)]
