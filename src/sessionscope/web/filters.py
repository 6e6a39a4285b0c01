"""The dashboard's filters: dashboard-link query strings and the filter form, both to API filters and back.

Pure: no web framework, no store. A page URL carries its filters in the `dashboard_link` format
(`device_model={"o":"in","v":[...], "tb":"session"}`), so a link from `/v2/session/analytics`, a page
the dashboard renders and a URL someone bookmarked are the same thing. The filter form submits one
row per filter (`f_attr`, `f_op`, `f_prop`, `f_val`, `f_val2`, `f_extra`); the page then redirects to the
canonical link form of those filters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..catalog import OPERATORS, SESSIONS, Resource
from ..catalog.types import BUCKET, COUNT, EVENT
from ..dashboard_link import BUCKET_PARAM, parse_query
from ..errors import ApiError

FORM_FIELDS = ("f_attr", "f_op", "f_prop", "f_val", "f_val2", "f_extra")

# How the form names each operator.
OPERATOR_LABELS = {
    "equal": "is",
    "not_equal": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "in": "is any of",
    "not_in": "is none of",
    "greater": ">",
    "less": "<",
    "greater_or_equal": "≥",
    "less_or_equal": "≤",
    "has_any": "has any of",
    "not_has_any": "has none of",
    "on": "on",
    "not_on": "not on",
    "after": "after",
    "before": "before",
    "between_dates": "between",
}
# What the value box asks for, per operator value shape.
VALUE_HINTS = {
    "number": "a number",
    "scalar": "value",
    "string": "text",
    "string_list": 'values, comma-separated (iPhone12,3 is one; "quote, if needed")',
    "date": "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
    "date_range": "from: YYYY-MM-DD[THH:MM:SSZ]",
}


@dataclass(frozen=True)
class FilterRow:
    """One filter as the form shows it: every field as text."""

    attribute: str = ""
    operator: str = ""
    property_name: str = ""
    value: str = ""
    value2: str = ""  # the upper bound of between_dates
    extra: str = ""  # event_name's property condition, as JSON text (carried, not edited)

    @property
    def extra_words(self) -> str:
        """The property condition as the row reads it: `where price > 10` (its JSON when it is not one)."""
        try:
            cond = json.loads(self.extra) if self.extra else None
        except ValueError:
            cond = None
        if not isinstance(cond, dict) or not isinstance(cond.get("name"), str):
            return f"where {self.extra}" if self.extra else ""
        op = cond.get("operator")
        value = cond.get("value")
        shown = join_list(value) if isinstance(value, list) else _text(value)
        return f"where {cond['name']} {OPERATOR_LABELS.get(op, op) if isinstance(op, str) else op} {shown}"


def from_query(query: str) -> list[dict[str, Any]]:
    """A page's raw query string (a dashboard link's) -> API filters; a condition that cannot be read is a
    400 (ApiError) naming it. A session time bucket stays a `session_uploadedon` condition: `read_as`
    settles what it means on the page's resource."""
    return parse_query(query, strict=True, buckets_apart=True)


def read_as(active: Iterable[Mapping[str, Any]], resource: Resource) -> list[dict[str, Any]]:
    """The filters as `resource` reads them: a time bucket stays a condition where the resource has one (the
    sessions of users, whose totals are over the window), and elsewhere narrows the window, as a date_range."""
    if BUCKET_PARAM in resource.attributes:
        return [dict(f) for f in active]
    return [{**f, "attribute": "date_range"} if f.get("attribute") == BUCKET_PARAM else dict(f) for f in active]


def to_query(filters: Iterable[Mapping[str, Any]]) -> str:
    """API filters -> a query string in the dashboard-link format that `from_query` reads back exactly.

    The JSON is percent-encoded whole, so any value (`&`, `%`, `#`, quotes) survives the round trip."""
    parts = []
    for f in filters:
        cond: dict[str, Any] = {"o": f["operator"], "v": f.get("value")}
        if f.get("property_name") is not None:
            cond["property_name"] = f["property_name"]
        if isinstance(f.get("property"), dict):
            cond["p"] = f["property"]
        cond["tb"] = "event" if f["attribute"] in ("event_name", "event_custom_property") else "session"
        text = json.dumps(cond, separators=(",", ":"), ensure_ascii=False)
        parts.append(f"{quote(str(f['attribute']), safe='')}={quote(text, safe='')}")
    return "&".join(parts)


def is_form_submission(params: Mapping[str, Any]) -> bool:
    """The filter form was submitted (it carries `form=1`), rather than a page link followed."""
    return params.get("form") == "1"


def _column(form: Mapping[str, Sequence[str]], name: str, n: int) -> list[str]:
    values = list(form.get(name, ()))
    return values + [""] * (n - len(values))


def rows_from_form(form: Mapping[str, Sequence[str]]) -> list[FilterRow]:
    """The submitted form (name -> values in document order) -> its rows; rows without an attribute dropped."""
    n = len(form.get("f_attr", ()))
    columns = [_column(form, name, n) for name in FORM_FIELDS]
    # the selects' names are trimmed; what the user typed is kept as typed (a value may begin or end with a
    # space, and a row shown from a link must submit back the same filter)
    rows = []
    for i in range(n):
        cells = [c[i].strip() if name in _CHOSEN else c[i] for name, c in zip(FORM_FIELDS, columns, strict=True)]
        rows.append(FilterRow(*cells))
    return [r for r in rows if r.attribute]


_CHOSEN = ("f_attr", "f_op")
# one item of a list: a double-quoted value (a quote inside doubled), or plain text up to the next comma
_ITEM = re.compile(r'\s*(?:"((?:[^"]|"")*)"\s*|([^,]*))(,|\Z)')
# a device model id split at its comma: "...Phone12" (letters, then digits, right before the comma) + "3"
_MODEL_HEAD = re.compile(r"[A-Za-z][0-9]+\Z")
_MODEL_TAIL = re.compile(r"[0-9]+\s*")


def split_list(text: str) -> list[str]:
    """Comma-separated values, CSV-style: a value holding a comma or a quote, starting or ending with a
    space, or empty, is written in double quotes. Plain values are trimmed, and empty plain ones skipped
    ("a, b," is two values). A device model id's comma stays in it unquoted: letters and digits, a comma,
    digits (`iPhone12,3`, `iPad13,4`) is one value, while `iPhone12, 3` (a space after the comma) and
    `5,6` (no letters before) are two."""
    values: list[str] = []
    glued = False  # whether the last value may take a ",<digits>" that follows it
    pos = 0
    while True:
        m = _ITEM.match(text, pos)
        assert m is not None  # the plain alternative matches anything up to a comma or the end
        quoted, plain, sep = m.groups()
        if quoted is not None:
            values.append(quoted.replace('""', '"'))
            glued = False
        elif glued and not text[pos : pos + 1].isspace() and _MODEL_TAIL.fullmatch(plain):
            values[-1] += "," + plain.rstrip()
            glued = False
        elif plain.strip():
            values.append(plain.strip())
            glued = bool(_MODEL_HEAD.search(plain))
        if not sep:
            return values
        pos = m.end()


def join_list(values: Iterable[Any]) -> str:
    """The inverse of split_list."""
    out = []
    for v in values:
        t = _text(v)
        quoted = t == "" or "," in t or '"' in t or t != t.strip()
        out.append('"' + t.replace('"', '""') + '"' if quoted else t)
    return ", ".join(out)


def row_to_filter(row: FilterRow) -> dict[str, Any]:
    """One form row -> an API filter (the validator then judges it, as for any API request)."""
    op = OPERATORS.get(row.operator)
    shape = op.value if op is not None else "scalar"
    value: Any = row.value
    if shape == "string_list":
        value = split_list(row.value)
    elif shape == "date_range":
        value = {"lower": row.value, "upper": row.value2}
    f: dict[str, Any] = {"attribute": row.attribute, "operator": row.operator, "value": value}
    if row.property_name:
        f["property_name"] = row.property_name
    if row.extra:
        try:
            extra = json.loads(row.extra)
        except ValueError:
            extra = None
        if isinstance(extra, dict):
            f["property"] = extra
    return f


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def filter_to_row(f: Mapping[str, Any]) -> FilterRow:
    """An API filter -> the form row that shows it (and submits back the same filter). A value of an
    attribute with several spellings shows as its name (device_platform "2", as links write it: "ios")."""
    value = f.get("value")
    attr = SESSIONS.attribute(str(f.get("attribute")))
    if attr is not None and attr.aliases:
        named = lambda v: attr.aliases.get(str(v).lower(), v) if isinstance(v, str | int) else v  # noqa: E731
        value = [named(v) for v in value] if isinstance(value, list) else named(value)
    text, text2 = "", ""
    if isinstance(value, dict):
        text, text2 = _text(value.get("lower")), _text(value.get("upper"))
    elif isinstance(value, list):
        text = join_list(value)
    else:
        text = _text(value)
    prop = f.get("property")
    return FilterRow(
        attribute=str(f.get("attribute", "")),
        operator=str(f.get("operator", "")),
        property_name=_text(f.get("property_name")),
        value=text,
        value2=text2,
        extra=json.dumps(prop, separators=(",", ":")) if isinstance(prop, dict) else "",
    )


# Shorter names than the catalogue's descriptions, where those are long.
LABELS = {
    "date_range": "Upload time",
    "session_uploadedon": "Session upload time",
    "device_city": "City",
    "device_country": "Country",
    "event_name": "Event",
    "event_custom_property": "Event property",
    "user_custom_property": "User property",
    "session_screen_list": "Screens visited",
    "device_platform": "Platform",
    "session_uploadedon_day": "Upload day",
    "session_uploaded_week": "Upload week",
    "session_uploaded_month": "Upload month",
    "uxcamuserid": "User id",
    "user_name": "User alias",
}


def attribute_label(resource: Resource, name: str) -> str:
    """The name the dashboard shows for an attribute."""
    attr = resource.attribute(name)
    return LABELS.get(name, attr.description if attr is not None else name)


@dataclass(frozen=True)
class AttributeChoice:
    """An attribute as the filter form offers it."""

    name: str
    label: str
    type: str
    operators: tuple[str, ...]
    needs_property: bool


def attribute_choices(resource: Resource) -> list[AttributeChoice]:
    """Every filterable attribute of the catalogue: the upload time first, then by label."""
    choices = [
        AttributeChoice(
            a.name, attribute_label(resource, a.name), a.type, tuple(a.operators), a.needs_property_name
        )
        for a in resource.attributes.values()
        if a.type not in (COUNT, BUCKET) and a.operators
    ]
    return sorted(choices, key=lambda c: (c.name != "date_range", c.type == EVENT, c.label.lower()))


def catalog_json(resource: Resource) -> str:
    """The form's data for the page script: attribute -> operators, operator -> value shape."""
    return json.dumps(
        {
            "attributes": {
                c.name: {"operators": list(c.operators), "property": c.needs_property, "type": c.type}
                for c in attribute_choices(resource)
            },
            "operators": {
                name: {
                    "value": op.value,
                    "label": OPERATOR_LABELS.get(name, name),
                    "hint": VALUE_HINTS.get(op.value, ""),
                }
                for name, op in OPERATORS.items()
            },
        },
        separators=(",", ":"),
    ).replace("<", "\\u003c")  # safe inside a <script> element


# The part of a filter an API error path points at, as the form names it.
_PARTS = {
    "": "",
    ".attribute": "attribute",
    ".operator": "condition",
    ".property_name": "property name",
    ".value": "value",
    ".value.lower": "from",
    ".value.upper": "to",
    ".property": "event property condition",
}
# the analytics page's grouping fields: "Group by" / "Then by" and the property name beside each
_GROUP_PARTS = {"": "", ".attribute": "", ".property_name": "property name", ".max_group_number": "groups kept"}
_ERROR_PATH = re.compile(r"^\[(\d+)\](.*)$")
_EMPTY = (re.compile(r"^'' is not [^;]*"), re.compile(r"^(.*), got ''$"))


def form_message(error: ApiError, active: Sequence[Mapping[str, Any]], resource: Resource) -> str:
    """An API error about a filter or a grouping, in the form's words: `filters[0].value.lower: '' is not a
    date; use …` reads `Filter 1 (Upload time), from: the box is empty; use …`, `group_by[1]: already grouped
    by …` reads `Then by: already grouped by …`. Other errors are shown as they are."""
    m = _ERROR_PATH.match(error.path or "") if error.param in ("filters", "group_by") else None
    if m is None:
        return error.message
    i, prefix = int(m.group(1)), f"{error.param}{error.path}"
    parts = _PARTS if error.param == "filters" else _GROUP_PARTS
    if error.message.startswith(prefix) and m.group(2) in parts:
        part = parts[m.group(2)]
    elif error.message.startswith(f"{error.param}[{i}]: "):  # the message names the row alone
        prefix, part = f"{error.param}[{i}]", ""
    else:
        return error.message
    if error.param == "group_by":
        head = ("Group by", "Then by")[min(i, 1)]
    else:
        attr = active[i].get("attribute") if i < len(active) else None
        head = f"Filter {i + 1}" + (f" ({attribute_label(resource, attr)})" if isinstance(attr, str) and resource.attribute(attr) else "")
    rest = error.message[len(prefix) :]
    if rest.startswith(": "):
        detail = rest[2:]
        if (empty := _EMPTY[0].match(detail)) is not None:
            detail = "the box is empty" + detail[empty.end() :]
        elif (got := _EMPTY[1].match(detail)) is not None:
            detail = f"the box is empty; {got.group(1)}"
        return f"{head}, {part}: {detail}" if part else f"{head}: {detail}"
    return f"{head}: {part}{rest}" if part else f"{head}{rest}"
