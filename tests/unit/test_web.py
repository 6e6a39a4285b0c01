"""The dashboard's pure parts: URL and form filters round-trip exactly; chart geometry; number formats."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionscope.catalog import SESSIONS
from sessionscope.catalog.types import BUCKET, COUNT
from sessionscope.dashboard_link import parse_dashboard_link
from sessionscope.errors import ApiError
from sessionscope.query.validate import parse_filters
from sessionscope.web import charts, filters
from sessionscope.web import format as fmt

CAPTURES = json.loads((Path(__file__).parents[1] / "fixtures" / "uxcam-v2-captures.json").read_text())
REFERENCE_LINKS = [
    row["dashboard_link"]
    for c in CAPTURES
    if urlsplit(c["request_url"]).path.endswith("/session/analytics")
    for row in (c["body"].get("data") or [])
]

TRICKY = ["a&b=c", "100%", "#1", "1+1", 'say "hi"', "iPhone12,3", "ünïcødé ✓", " padded ", "", "a%20b"]


@pytest.mark.parametrize(
    "flt",
    [
        {"attribute": "device_model", "operator": "in", "value": TRICKY},
        {"attribute": "device_model", "operator": "equal", "value": "a&b#c%d+e"},
        {
            "attribute": "user_custom_property",
            "property_name": "age & group",
            "operator": "in",
            "value": ["60-69"],
        },
        {"attribute": "session_duration", "operator": "greater", "value": 10.5},
        {"attribute": "session_crashed", "operator": "equal", "value": True},
        {"attribute": "device_platform", "operator": "equal", "value": "1"},
        {
            "attribute": "date_range",
            "operator": "between_dates",
            "value": {"lower": "2023-01-01", "upper": "2023-01-31T10:00:00Z"},
        },
        {
            "attribute": "event_name",
            "operator": "in",
            "value": ["Add to cart"],
            "property": {"name": "price", "operator": "greater", "value": "10"},
        },
    ],
)
def test_query_round_trip(flt: dict) -> None:
    assert filters.from_query(filters.to_query([flt])) == [flt]


@given(st.lists(st.text(min_size=0, max_size=12), max_size=5))
def test_query_round_trip_any_strings(values: list[str]) -> None:
    flt = {"attribute": "device_model", "operator": "in", "value": values}
    assert filters.from_query(filters.to_query([flt, flt])) == [flt, flt]


@pytest.mark.parametrize("link", REFERENCE_LINKS[:40] or [pytest.param("", marks=pytest.mark.skip)])
def test_reference_links_survive_the_dashboards_own_urls(link: str) -> None:
    """A link the reference produced, re-encoded by the dashboard (pagination, form redirect), reads the same."""
    parsed = parse_dashboard_link(link)
    assert filters.from_query(filters.to_query(parsed)) == parsed


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=10),
        max_size=5,
    )
)
def test_list_values_round_trip_through_the_form(values: list[str]) -> None:
    """Any values, spaces around them and empty ones included: a row shown from a link submits it back."""
    row = filters.filter_to_row({"attribute": "device_model", "operator": "in", "value": values})
    assert filters.row_to_filter(row)["value"] == values


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=10),
    st.sampled_from(["contains", "equal", "in"]),
)
def test_applying_an_unedited_form_keeps_every_filter(value: str, op: str) -> None:
    """The form's fields as the browser submits them (the rows shown for the page's filters) give back the
    same filters: a value's own spaces and an empty value are not dropped."""
    flt = {"attribute": "device_model", "operator": op, "value": [value, " b "] if op == "in" else value}
    row = filters.filter_to_row(flt)
    form = {name: [getattr(row, field)] for name, field in zip(filters.FORM_FIELDS, row.__dataclass_fields__, strict=True)}
    assert [filters.row_to_filter(r) for r in filters.rows_from_form(form)] == [flt]


def test_typed_lists_are_trimmed_and_quotes_keep_what_they_hold() -> None:
    assert filters.split_list(' a ,b,, "c, d" , " e ","",x"y ') == ["a", "b", "c, d", " e ", "", 'x"y']
    assert filters.split_list("") == [] and filters.split_list(" , ") == []


def test_a_device_model_ids_comma_stays_in_it_unquoted() -> None:
    """Every iOS model id holds a comma: typed plainly into "is any of" it is one value, not two."""
    cases = {
        "iPhone12,3": ["iPhone12,3"],
        "iPhone12,3,iPad13,4": ["iPhone12,3", "iPad13,4"],
        "SM-A135F,iPhone12,3 , Pixel 7": ["SM-A135F", "iPhone12,3", "Pixel 7"],
        "iPhone12, 3": ["iPhone12", "3"],  # a space after the comma separates
        "5,6,7": ["5", "6", "7"],  # numbers alone are a list
        "iPhone12,3x": ["iPhone12", "3x"],
        '"iPhone12,3",iPad13,4': ["iPhone12,3", "iPad13,4"],
        "iPhone12,": ["iPhone12"],
    }
    for text, values in cases.items():
        assert filters.split_list(text) == values, text


def test_form_rows_to_filters() -> None:
    form = {
        "f_attr": ["device_model", "", "date_range", "user_custom_property", "event_name"],
        "f_op": ["in", "equal", "between_dates", "greater", "in"],
        "f_prop": ["", "", "", "orders", ""],
        "f_val": ['SM-A135F, "iPhone12,3"', "x", "2023-01-01", "5", "Purchase"],
        "f_val2": ["", "", "2023-01-31", "", ""],
        "f_extra": ["", "", "", "", '{"name":"price","operator":"greater","value":"10"}'],
    }
    got = [filters.row_to_filter(r) for r in filters.rows_from_form(form)]
    assert got == [
        {"attribute": "device_model", "operator": "in", "value": ["SM-A135F", "iPhone12,3"]},
        {
            "attribute": "date_range",
            "operator": "between_dates",
            "value": {"lower": "2023-01-01", "upper": "2023-01-31"},
        },
        {"attribute": "user_custom_property", "operator": "greater", "value": "5", "property_name": "orders"},
        {
            "attribute": "event_name",
            "operator": "in",
            "value": ["Purchase"],
            "property": {"name": "price", "operator": "greater", "value": "10"},
        },
    ]
    # a short column (a client that left fields out) is padded, not shifted
    assert filters.rows_from_form({"f_attr": ["device_model"], "f_op": ["contains"]}) == [
        filters.FilterRow("device_model", "contains")
    ]
    assert filters.is_form_submission({"form": "1"}) and not filters.is_form_submission({"f_attr": "x"})


def test_filter_rows_show_each_value_shape() -> None:
    assert (
        filters.filter_to_row({"attribute": "session_crashed", "operator": "equal", "value": False}).value
        == "false"
    )
    row = filters.filter_to_row(
        {"attribute": "date_range", "operator": "between_dates", "value": {"lower": "a", "upper": "b"}}
    )
    assert (row.value, row.value2) == ("a", "b")
    row = filters.filter_to_row(
        {"attribute": "event_name", "operator": "in", "value": ["x"], "property": {"name": "p"}}
    )
    assert json.loads(row.extra) == {"name": "p"}


def test_attribute_choices_follow_the_catalogue() -> None:
    choices = filters.attribute_choices(SESSIONS)
    assert choices[0].name == "date_range"
    names = {c.name for c in choices}
    for attr in SESSIONS.attributes.values():
        assert (attr.name in names) == (attr.type not in (COUNT, BUCKET) and bool(attr.operators))
    for c in choices:
        assert list(c.operators) == SESSIONS.attributes[c.name].operators
    data = json.loads(filters.catalog_json(SESSIONS))
    assert data["attributes"]["user_custom_property"]["property"] is True
    assert "<" not in filters.catalog_json(SESSIONS)


def test_bar_chart() -> None:
    rows = [
        {"k": "a", "m": 10, "m_pct_change": 5.0},
        {"k": "b", "m": 4},
        {"k": None, "m": 0},
        {"k": "c", "m": None},
    ]
    bars = charts.bar_chart(rows, lambda r: str(r["k"]), "m", fmt.metric, lambda r: f"/x?{r['k']}")
    assert [b.fraction for b in bars] == [1.0, 0.4, 0.0, 0.0]
    assert [b.text for b in bars] == ["10", "4", "0", "—"]
    assert bars[0].delta == 5.0 and bars[1].delta is None
    assert bars[1].href == "/x?b"
    assert charts.bar_chart([{"m": 0}], str, "m", fmt.metric, str)[0].fraction == 0.0


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0.0, 1.0]),
        (1, [0, 0.25, 0.5, 0.75, 1]),
        (7, [0, 2, 4, 6, 8]),
        (40, [0, 10, 20, 30, 40]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_nice_ticks(top: float, ticks: list[float]) -> None:
    assert charts.nice_ticks(top) == ticks


def test_line_chart_geometry() -> None:
    buckets = [f"2023-01-{d:02d}" for d in range(1, 21)]
    values = [(float(i), f"/l/{i}") for i in range(20)]
    values[5] = (None, "/l/5")  # a missing average leaves a gap
    c = charts.line_chart(buckets, [("s", values)], fmt.number)
    s = c.series[0]
    assert len(s.points) == 20 and len(s.drawn) == 19
    assert s.path.count("M") == 2  # the line restarts after the gap
    assert s.points[0].x == c.left and s.points[-1].x == c.right
    assert s.points[0].y == c.bottom and math.isclose(s.points[19].y, c.bottom - (c.bottom - c.top) * 19 / 20)
    assert len(c.x_labels) <= 8 and c.x_labels[0] == (c.left, "2023-01-01", "middle")
    # week labels: the one under the right end ends there instead of running past the drawing
    weeks = [f"Dec {d:02d} - Dec {d + 6:02d}" for d in (1, 8, 15)] + ["Dec 29 - Jan 04"]
    w = charts.line_chart(weeks, [("s", [(1, "/")] * 4)], fmt.number)
    assert [a for _, _, a in w.x_labels] == ["middle", "middle", "middle", "end"]
    assert all(x + (len(t) * charts.TICK_CHAR_WIDTH / 2 if a == "middle" else 0) <= w.width for x, t, a in w.x_labels)
    assert [t for _, t in c.y_ticks] == ["0", "5", "10", "15", "20"]
    single = charts.line_chart(["Jan"], [("s", [(3, "/")])], fmt.number)
    assert single.series[0].points[0].x == (single.left + single.right) / 2


def test_formats() -> None:
    assert fmt.number(1234567) == "1,234,567" and fmt.number(2.0) == "2" and fmt.number(3.14159) == "3.14"
    assert fmt.number(None) == "—"
    assert fmt.duration(42.25) == "42.2s" and fmt.duration(187) == "3m 07s" and fmt.duration(3725) == "1h 02m"
    assert fmt.offset(32.875) == "0:32.9" and fmt.offset(61) == "1:01.0"
    assert (
        fmt.pct(12.5) == "+12.5%" and fmt.pct(-3.0) == "−3%" and fmt.pct(None) == "—" and fmt.pct(0) == "±0%"
    )
    assert fmt.metric("avg_session_duration", 90) == "1m 30s"
    assert fmt.field("totalRamInKB", 10940000) == "10.4 GB"
    assert fmt.field("lifetime_value", 1978.03) == "1,978.03"
    assert fmt.field("uploadedServerTime", "2023-01-19T11:23:12Z") == "2023-01-19 11:23:12 UTC"
    assert fmt.field_label("isNotificationEnabled") == "Notifications"
    assert fmt.field_label("browserVersion") == "Browser version"
    assert fmt.field_label("some_custom_key") == "Some custom key"


def test_platform_codes_show_as_names() -> None:
    """Links write the platform as its code ("1", "2"); the form shows its name, and submits a filter that
    selects the same sessions (the validator reads both spellings as one value)."""
    from sessionscope.catalog import SESSIONS
    from sessionscope.query.validate import parse_list

    for flt, shown in [
        ({"attribute": "device_platform", "operator": "equal", "value": "2"}, "ios"),
        ({"attribute": "device_platform", "operator": "in", "value": ["1", 2]}, "android, ios"),
        ({"attribute": "device_platform", "operator": "not_equal", "value": "windows"}, "windows"),
    ]:
        row = filters.filter_to_row(flt)
        assert row.value == shown
        now = datetime(2024, 1, 1)
        if flt["value"] != "windows":
            before = parse_list(SESSIONS, {"filters": [flt]}, now).filters[0].value
            after = parse_list(SESSIONS, {"filters": [filters.row_to_filter(row)]}, now).filters[0].value
            assert before == after


def test_a_time_series_says_when_the_window_cuts_its_first_or_last_bucket() -> None:
    from datetime import datetime

    from sessionscope.query.spec import Window
    from sessionscope.web.pages import partial_buckets

    def w(lo: str, hi: str) -> Window:
        return Window(datetime.fromisoformat(lo), datetime.fromisoformat(hi))

    last_30_days = w("2026-10-30 04:12:00", "2026-11-29 04:12:00")
    assert partial_buckets(last_30_days, "day") == (
        "The window runs from 2026-10-30 04:12 to 2026-11-29 04:12 UTC: its first and last buckets hold only part of a day."
    )
    whole_days = w("2026-11-01 00:00:00", "2026-11-30 23:59:59")
    assert partial_buckets(whole_days, "day") is None and partial_buckets(whole_days, "month") is None
    # 2026-11-01 is a Sunday: as weeks (Monday to Sunday) the first is cut, the last (Mon 30 Nov -) too
    assert partial_buckets(whole_days, "week") == (
        "The window runs from 2026-11-01 00:00 to 2026-11-30 23:59 UTC: its first and last buckets hold only part of a week."
    )
    assert partial_buckets(w("2026-11-02 00:00:00", "2026-11-29 23:59:59"), "week") is None
    assert partial_buckets(w("2026-11-02 00:00:00", "2026-11-25 10:00:00"), "week").endswith(
        "its last bucket holds only part of a week."
    )
    assert partial_buckets(w("2026-12-01 00:00:00", "2026-12-31 23:59:59"), "month") is None
    assert partial_buckets(w("2026-12-05 00:00:00", "2026-12-31 23:59:59"), "month").endswith("its first bucket holds only part of a month.")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (filters.FilterRow("date_range", "between_dates", "", "", "2026-11-02"),
         'Filter 2 (Upload time), from: the box is empty; use "2023-01-19" or "2023-01-19T11:23:12Z" (UTC)'),
        (filters.FilterRow("device_platform", "equal", "", ""),
         "Filter 2 (Platform), value: the box is empty; allowed: '1', '2', 'android', 'ios'"),
        (filters.FilterRow("session_duration", "greater", "", ""),
         'Filter 2 (Session length in seconds), value: the box is empty; expected a number or a numeric string like "10"'),
        (filters.FilterRow("session_duration", "greater", "", "ten"),
         "Filter 2 (Session length in seconds), value: expected a number or a numeric string like \"10\", got 'ten'"),
        (filters.FilterRow("user_custom_property", "equal", "", "x"),
         "Filter 2 (User property): property name is required for user_custom_property: the custom property to test"),
    ],
)
def test_filter_errors_name_the_row_as_the_form_shows_it(row: filters.FilterRow, message: str) -> None:
    active = [{"attribute": "device_country", "operator": "equal", "value": "USA"}, filters.row_to_filter(row)]
    with pytest.raises(ApiError) as caught:
        parse_filters(SESSIONS, {"filters": json.dumps(active)}, datetime(2026, 11, 29))
    assert caught.value.message.startswith("filters[1]")  # the API's own words
    assert filters.form_message(caught.value, active, SESSIONS) == message
    other = ApiError(400, "page must be an integer from 1 to 10", param="page")
    assert filters.form_message(other, active, SESSIONS) == other.message
