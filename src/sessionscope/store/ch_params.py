"""Query parameters for ClickHouse, as the text the server parses them from.

ClickHouse binds a `{p1:Type}` placeholder by parsing the parameter's text in the *escaped* format of
that type (the TSV field format): a top-level String is taken as is except that backslash sequences are
unescaped (so `\\`, tab, newline, CR and NUL must be escaped, quotes need not be); an Array is written as
a literal whose strings are quoted (`['a','b\\'c']`); a DateTime as `YYYY-MM-DD HH:MM:SS`; a Bool as
`true`/`false`; a top-level NULL as `\\N`. chDB takes this text directly; the HTTP client sends the same
text as `param_<name>` (see `Text`). One serializer for both, so a value means the same on each.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

# Escaped (TSV) format, top level: what ClickHouse unescapes.
_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\b": "\\b", "\f": "\\f"})
# Quoted literal, inside arrays: the same, plus the quote.
_QUOTED = str.maketrans(
    {"\\": "\\\\", "'": "\\'", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\b": "\\b", "\f": "\\f"}
)


class Text:
    """A parameter already in ClickHouse's text form.

    clickhouse-connect formats a server-side parameter by its Python type (and would escape a str a
    second time); an object of another type is sent as `str(obj)`, unchanged.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Text({self.text!r})"


def _number(value: int | float) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return str(value)


def _time(value: datetime | date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("times are bound as naive UTC datetimes")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.strftime("%Y-%m-%d")


def _literal(value: Any) -> str:
    """A value inside a composite (array): a SQL-style literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return "'" + value.translate(_QUOTED) + "'"
    if isinstance(value, datetime | date):
        return "'" + _time(value) + "'"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_literal(v) for v in value) + "]"
    raise TypeError(f"cannot bind a {type(value).__name__} as a ClickHouse parameter")


def to_text(value: Any) -> str:
    """One parameter value -> the text ClickHouse parses for its placeholder's type."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPED)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, datetime | date):
        return _time(value)
    if isinstance(value, list | tuple):
        return _literal(value)
    raise TypeError(f"cannot bind a {type(value).__name__} as a ClickHouse parameter")


def serialize(params: dict[str, Any] | None) -> dict[str, str]:
    """{name: value} -> {name: text}, for chDB's `params=`."""
    return {name: to_text(value) for name, value in (params or {}).items()}
