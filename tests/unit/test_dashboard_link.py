"""dashboard_link: the reference's format, and a parser whose output the filter validator accepts."""

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import orjson
import pytest

from sessionscope.analytics import label
from sessionscope.catalog import SESSIONS
from sessionscope.dashboard_link import LinkGroup, build_dashboard_link, parse_dashboard_link, parse_query
from sessionscope.query.analytics import parse_analytics
from sessionscope.query.spec import Window
from sessionscope.query.validate import parse_filters

CAPTURES = json.loads((Path(__file__).parents[1] / "fixtures" / "uxcam-v2-captures.json").read_text())
SESSION_ANALYTICS = [c for c in CAPTURES if urlsplit(c["request_url"]).path.endswith("/session/analytics")]
APPID = "60f6c0b8b97ba419120b82eb"
PUBLIC = "https://app.uxcam.com"
NOW = datetime(2023, 2, 2, 6, 0, 0)


def _params(link: str) -> list[str]:
    return link.split("?", 1)[1].split("&")


def _window(link: str) -> Window:
    for f in parse_dashboard_link(link):
        if (
            f["attribute"] == "date_range"
            and f["operator"] == "between_dates"
            and f["value"]["lower"].endswith("Z")
        ):
            lo, hi = (datetime.fromisoformat(f["value"][k][:-1]) for k in ("lower", "upper"))
            return Window(lo, hi)
    raise AssertionError(f"no window in {link}")


def _reference_cases():
    for c in SESSION_ANALYTICS:
        for i, row in enumerate(c["body"].get("data") or []):
            yield pytest.param(c, row, id=f"{c['name']}-{i}")


@pytest.mark.parametrize(("capture", "row"), list(_reference_cases()))
def test_links_match_the_reference_format(capture, row):
    """Rebuild every reference row's link from its request: the same parameters, character for character
    (documented exceptions: day buckets use the range form; one window the reference printed as bare dates)."""
    params = dict(parse_qsl(urlsplit(capture["request_url"]).query))
    spec = parse_analytics(SESSIONS, params, NOW)
    if '"lower": "2022-12-20"' in row["dashboard_link"]:
        pytest.skip("the reference printed this window as bare dates; ours are always to the second")
    ref = []
    for p in _params(row["dashboard_link"]):
        name, _, value = p.partition("=")
        if name == "session_uploadedon_day":  # (dev) a day is linked like every time bucket: a range
            day = json.loads(value)["v"][0]
            p = f'session_uploadedon={{"o":"between","v":["{day}","{day}"], "tb": "session"}}'
        ref.append(p.replace("Add%20to%20cart", "Add to cart"))  # the one filter value it percent-encoded
    by_name = {p.split("=", 1)[0]: p for p in ref}
    groups = []
    for g in spec.group_by:
        value = row[g.key]
        if g.bucket:
            value = datetime.fromisoformat(json.loads(by_name["session_uploadedon"].split("=", 1)[1])["v"][0])
            assert label(g, value, False) == row[g.key]
        groups.append(LinkGroup(g.attribute, g.property_name, value))
    ours = build_dashboard_link(PUBLIC, APPID, _window(row["dashboard_link"]), spec.filters, groups)
    assert ours.split("?", 1)[0] == row["dashboard_link"].split("?", 1)[0]
    assert Counter(_params(ours)) == Counter(ref)


def test_the_seed_example_byte_for_byte():
    seed = (
        'https://app.uxcam.com/app/60f6c0b8b97ba419120b82eb/sessions/list/1?device_model={"o":"in","v":["SM-C7100"], "tb": "session"}'
        '&date_range={"o": "between_dates", "v": {"lower": "2022-12-17T10:25:08Z", "upper": "2023-01-16T10:25:08Z"}, "tb": "session"}'
        '&device_country={"o":"equal","v":"USA", "tb": "session"}'
    )
    spec = parse_analytics(
        SESSIONS, {"filters": '[{"attribute": "device_country","operator": "equal", "value":"USA"}]'}, NOW
    )
    group = LinkGroup(SESSIONS.attributes["device_model"], None, "SM-C7100")
    window = Window(datetime(2022, 12, 17, 10, 25, 8), datetime(2023, 1, 16, 10, 25, 8))
    assert build_dashboard_link(PUBLIC, APPID, window, spec.filters, [group]) == seed


@pytest.mark.parametrize("capture", SESSION_ANALYTICS, ids=[c["name"] for c in SESSION_ANALYTICS])
def test_every_reference_link_parses_into_valid_filters(capture):
    for row in capture["body"].get("data") or []:
        filters = parse_dashboard_link(row["dashboard_link"])
        assert filters and all(set(f) >= {"attribute", "operator", "value"} for f in filters)
        window, parsed = parse_filters(SESSIONS, {"filters": orjson.dumps(filters).decode()}, NOW)
        assert len(parsed) == len(filters)
        assert window.lo <= window.hi


def test_reference_special_forms():
    link = SESSION_ANALYTICS[0]["body"]["data"][0]["dashboard_link"]
    assert parse_dashboard_link(link) == [
        {
            "attribute": "date_range",
            "operator": "between_dates",
            "value": {"lower": "2022-12-27T05:00:08Z", "upper": "2023-01-26T05:00:08Z"},
        }
    ]
    q = (
        'x?event_name={"o":"in","v":["Add%20to%20cart"],"p":{"name":"price","operator":"greater","value":10}, "tb": "event"}'
        '&session_uploadedon={"o":"between","v":["2022-12-26","2023-01-01"], "tb": "session"}'
        '&session_uploadedon_day={"o":"in","v":["2023-01-05"], "tb": "session"}'
        '&user_custom_property={"o":"in","property_name":"age_group","v":["60-69"], "tb": "session"}'
        "&page=3&junk={"
    )
    assert parse_dashboard_link(q) == [
        {
            "attribute": "event_name",
            "operator": "in",
            "value": ["Add to cart"],
            "property": {"name": "price", "operator": "greater", "value": 10},
        },
        {
            "attribute": "date_range",
            "operator": "between_dates",
            "value": {"lower": "2022-12-26", "upper": "2023-01-01"},
        },
        {"attribute": "date_range", "operator": "on", "value": "2023-01-05"},
        {
            "attribute": "user_custom_property",
            "operator": "in",
            "value": ["60-69"],
            "property_name": "age_group",
        },
    ]


NASTY = ["a&b=c", "100% #1 + more", 'quote " and \\ backslash', "Müller → 日本", "?x=1&y=2", "  spaced  ", ""]
A = SESSIONS.attributes


def _build(groups, filters=()):
    raw = orjson.dumps(list(filters)).decode()
    spec = parse_analytics(SESSIONS, {"filters": raw}, NOW)
    window = Window(datetime(2023, 1, 1), datetime(2023, 1, 31, 23, 59, 59))
    return build_dashboard_link("http://h:8000/", "a" * 24, window, spec.filters, groups)


@pytest.mark.parametrize("value", NASTY)
def test_any_text_survives_the_round_trip(value):
    link = _build(
        [
            LinkGroup(A["device_model"], None, value),
            LinkGroup(A["user_custom_property"], "plan & tier", value),
        ],
        [{"attribute": "device_country", "operator": "not_in", "value": [value, "x"]}],
    )
    assert link.startswith("http://h:8000/app/" + "a" * 24 + "/sessions/list/1?")
    query = link.split("?", 1)[1]
    assert query.count("&") == len(_params(link)) - 1 == 3
    expected = [
        {"attribute": "device_model", "operator": "in", "value": [value]},
        {
            "attribute": "user_custom_property",
            "operator": "in",
            "value": [value],
            "property_name": "plan & tier",
        },
        {
            "attribute": "date_range",
            "operator": "between_dates",
            "value": {"lower": "2023-01-01T00:00:00Z", "upper": "2023-01-31T23:59:59Z"},
        },
        {"attribute": "device_country", "operator": "not_in", "value": [value, "x"]},
    ]
    assert parse_dashboard_link(link) == expected
    # the page it opens reads its query string as the request carries it: all after the first "?"
    assert parse_query(query) == parse_dashboard_link(query) == expected
    # a browser percent-encodes the rest; the parser reads that too
    encoded = link.split("?", 1)[0] + "?" + quote(query, safe="&=%")
    assert parse_dashboard_link(encoded) == expected
    assert unquote(encoded) != encoded


def test_missing_others_and_special_attributes():
    platform, crashed, model, prop = (
        A["device_platform"],
        A["session_crashed"],
        A["device_model"],
        A["user_custom_property"],
    )
    cases = [
        (LinkGroup(platform, None, "ios"), [("device_platform", "equal", "2")]),
        (LinkGroup(platform, None, None), [("device_platform", "not_in", ["1", "2"])]),
        (LinkGroup(platform, None, None, True, ("android",)), [("device_platform", "not_in", ["1"])]),
        (LinkGroup(platform, None, None, True, (None, "android")), [("device_platform", "in", ["2"])]),
        (LinkGroup(crashed, None, True), [("session_crashed", "equal", True)]),
        (
            LinkGroup(crashed, None, None),
            [("session_crashed", "not_equal", True), ("session_crashed", "not_equal", False)],
        ),
        (LinkGroup(crashed, None, None, True, (False,)), [("session_crashed", "not_equal", False)]),
        (LinkGroup(crashed, None, None, True, (None, False)), [("session_crashed", "equal", True)]),
        (LinkGroup(model, None, None), [("device_model", "not_contains", "")]),
        (LinkGroup(model, None, None, True, ("a", "b")), [("device_model", "not_in", ["a", "b"])]),
        (
            LinkGroup(model, None, None, True, ("a", None)),
            [("device_model", "not_in", ["a"]), ("device_model", "contains", "")],
        ),
        (LinkGroup(prop, "age", None), [("user_custom_property", "not_contains", "")]),
        (
            LinkGroup(A["session_uploaded_month"], None, datetime(2024, 2, 1)),
            [("date_range", "between_dates", {"lower": "2024-02-01", "upper": "2024-02-29"})],
        ),
        (
            LinkGroup(A["session_uploaded_week"], None, datetime(2022, 12, 26)),
            [("date_range", "between_dates", {"lower": "2022-12-26", "upper": "2023-01-01"})],
        ),
        (
            LinkGroup(A["session_uploadedon_day"], None, datetime(2023, 1, 5)),
            [("date_range", "between_dates", {"lower": "2023-01-05", "upper": "2023-01-05"})],
        ),
    ]
    for group, expected in cases:
        parsed = parse_dashboard_link(_build([group]))[:-1]  # the last one is the window
        assert [(f["attribute"], f["operator"], f["value"]) for f in parsed] == expected, group
        parse_filters(SESSIONS, {"filters": orjson.dumps(parsed).decode()}, NOW)  # the validator accepts them
    week = _build([LinkGroup(A["session_uploaded_week"], None, datetime(2022, 12, 26))])
    assert (
        '?session_uploadedon={"o":"between","v":["2022-12-26","2023-01-01"], "tb": "session"}&date_range='
        in week
    )


def test_filters_are_echoed_as_sent_with_event_tables():
    link = _build(
        [],
        [
            {"attribute": "session_rage_gesture_count", "operator": "greater_or_equal", "value": 5},
            {
                "attribute": "event_name",
                "operator": "in",
                "value": ["Add to cart"],
                "property": {"name": "price", "operator": "greater", "value": "10"},
            },
            {"attribute": "date_range", "operator": "not_on", "value": "2023-01-10"},
        ],
    )
    assert _params(link)[1:] == [
        'session_rage_gesture_count={"o":"greater_or_equal","v":5, "tb": "session"}',
        'event_name={"o":"in","v":["Add to cart"],"p":{"name":"price","operator":"greater","value":10}, "tb": "event"}',
        'date_range={"o":"not_on","v":"2023-01-10", "tb": "session"}',
    ]
