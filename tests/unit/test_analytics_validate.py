"""Analytics validation: group_by, aggregation, comparison; every bad input is a 400 naming param and path."""

import re
from datetime import datetime

import orjson
import pytest

from sessionscope.catalog import SESSIONS
from sessionscope.errors import ApiError
from sessionscope.query.analytics import parse_analytics, plan_analytics, plan_previous, previous_window
from sessionscope.query.dialects import DUCKDB
from sessionscope.query.render_analytics import render_analytics
from sessionscope.query.spec import Window
from sessionscope.store.duckdb import DuckDBStore

NOW = datetime(2023, 1, 30, 10, 0, 0)
DEFAULT_KEYS = [
    "session_count",
    "session_unique_user_count",
    "session_new_users_count",
    "avg_session_gesture_count",
    "avg_session_rage_gesture_count",
    "avg_session_responsive_gesture_count",
    "avg_session_unresponsive_gesture_count",
    "avg_session_duration",
    "avg_session_unique_screen_count",
]


def parse(**params):
    raw = {k: (v if isinstance(v, str) else orjson.dumps(v).decode()) for k, v in params.items()}
    return parse_analytics(SESSIONS, raw, NOW)


def error(**params) -> ApiError:
    with pytest.raises(ApiError) as err:
        parse(**params)
    assert err.value.status == 400
    return err.value


def test_default_metrics_in_order():
    spec = parse()
    assert [m.key for m in spec.metrics] == DEFAULT_KEYS
    assert spec.order_by == "session_count"
    assert spec.group_by == () and not spec.comparison and spec.page == 1 and spec.page_size == 50


def test_aggregation_keys_and_primary_count_first():
    spec = parse(
        aggregation=[
            {"attribute": "session_duration", "operator": "max"},
            {"attribute": "session_duration", "operator": "p95"},
            {"attribute": "user_custom_property", "property_name": "orders", "operator": "sum"},
            {"attribute": "session_unique_user_count", "operator": ""},
            {"attribute": "session_crashed", "operator": "avg"},
            {"attribute": "user_rage_gesture_count", "operator": "sum"},
            {"attribute": "session_duration", "operator": "max"},  # a duplicate is reported once
        ]
    )
    assert [m.key for m in spec.metrics] == [
        "session_count",
        "max_session_duration",
        "p95_session_duration",
        "sum_user_custom_property_orders",
        "session_unique_user_count",
        "avg_session_crashed",
        "sum_user_rage_gesture_count",
    ]
    assert spec.order_by == "max_session_duration"  # rows are ordered by the first metric requested
    assert [m.quantile for m in spec.metrics][2] == 0.95


def test_explicit_session_count_is_not_repeated():
    spec = parse(
        aggregation=[
            {"attribute": "session_count", "operator": ""},
            {"attribute": "session_duration", "operator": "max"},
        ]
    )
    assert [m.key for m in spec.metrics] == ["session_count", "max_session_duration"]
    assert spec.order_by == "session_count"


def test_a_count_may_omit_the_operator():
    assert [m.key for m in parse(aggregation=[{"attribute": "session_new_users_count"}]).metrics] == [
        "session_count",
        "session_new_users_count",
    ]


@pytest.mark.parametrize(
    ("agg", "path", "fragment"),
    [
        ({"operator": "sum"}, "[0].attribute", "aggregatable attributes are: "),
        ({"attribute": "device_model", "operator": "max"}, "[0].attribute", "session_duration"),
        ({"attribute": "nope", "operator": "max"}, "[0].attribute", "unknown attribute 'nope'"),
        (
            {"attribute": "session_duration", "operator": "median"},
            "[0].operator",
            "sum, avg, min, max, p50, p90, p95, p99",
        ),
        ({"attribute": "session_duration"}, "[0].operator", "aggregation[0].operator is required; allowed for session_duration: sum"),
        ({"attribute": "session_duration", "operator": 3}, "[0].operator", "must be a string"),
        ({"attribute": "session_count", "operator": "sum"}, "[0].operator", '"operator": ""'),
        (
            {"attribute": "user_custom_property", "operator": "sum"},
            "[0].property_name",
            "property_name is required",
        ),
        (
            {"attribute": "user_custom_property", "property_name": ["plan"], "operator": "sum"},
            "[0].property_name",
            "aggregation[0].property_name must be a string (the custom property's name), got an array",
        ),
    ],
)
def test_bad_aggregation(agg, path, fragment):
    e = error(aggregation=[agg])
    assert (e.param, e.path) == ("aggregation", path)
    assert fragment in e.message


def test_aggregation_not_an_array():
    e = error(aggregation='{"attribute": "session_duration"}')
    assert e.param == "aggregation" and "JSON array" in e.message
    e = error(aggregation="[{oops")
    assert e.param == "aggregation" and "not valid JSON" in e.message


def test_group_by_levels():
    spec = parse(
        group_by=[
            {"attribute": "user_custom_property", "property_name": "age_group", "max_group_number": 5},
            {"attribute": "session_uploaded_week"},
        ]
    )
    a, b = spec.group_by
    assert (a.key, a.max_groups, a.bucket) == ("user_custom_property_age_group", 5, None)
    assert (b.key, b.max_groups, b.bucket) == ("session_uploaded_week", 50, "week")


def test_max_group_number_accepts_a_numeric_string():
    assert (
        parse(group_by=[{"attribute": "device_model", "max_group_number": "1000"}]).group_by[0].max_groups
        == 1000
    )
    for spelling in ("1_0", "\uff15", "5.0x"):
        with pytest.raises(ApiError) as err:
            parse(group_by=[{"attribute": "device_model", "max_group_number": spelling}])
        assert err.value.path == "[0].max_group_number", spelling


@pytest.mark.parametrize(
    ("groups", "path", "fragment"),
    [
        ([{"attribute": "session_duration"}], "[0].attribute", "groupable attributes are: "),
        ([{"attribute": "device_colour"}], "[0].attribute", "unknown attribute"),
        ([{"max_group_number": 3}], "[0].attribute", "is required"),
        (
            [{"attribute": "device_model"}, {"attribute": "event_name"}],
            "[1].attribute",
            "cannot group by 'event_name'",
        ),
        ([{"attribute": "user_custom_property"}], "[0].property_name", "property_name is required"),
        (
            [{"attribute": "user_custom_property", "property_name": True}],
            "[0].property_name",
            "group_by[0].property_name must be a string (the custom property's name), got a boolean",
        ),
        ([{"attribute": "device_model", "max_group_number": 0}], "[0].max_group_number", "from 1 to 1000"),
        ([{"attribute": "device_model", "max_group_number": 1001}], "[0].max_group_number", "from 1 to 1000"),
        (
            [{"attribute": "device_model", "max_group_number": "many"}],
            "[0].max_group_number",
            "from 1 to 1000",
        ),
        ([{"attribute": "device_model", "max_group_number": 2.5}], "[0].max_group_number", "from 1 to 1000"),
        ([{"attribute": "device_model", "max_group_number": True}], "[0].max_group_number", "(default 50), got true"),
        ([{"attribute": "device_model"}, {"attribute": "device_model"}], "[1].attribute", "already grouped"),
        (
            [{"attribute": "device_model"}, {"attribute": "app_version"}, {"attribute": "device_platform"}],
            "[2]",
            "at most 2",
        ),
    ],
)
def test_bad_group_by(groups, path, fragment):
    e = error(group_by=groups)
    assert (e.param, e.path) == ("group_by", path)
    assert fragment in e.message


def test_non_groupable_lists_the_groupable_attributes():
    message = error(group_by=[{"attribute": "session_duration"}]).message
    for name in (
        "device_model",
        "device_platform",
        "user_custom_property",
        "session_uploadedon_day",
        "session_crashed",
    ):
        assert name in message
    assert "session_duration," not in message


def test_filters_are_still_validated():
    e = error(filters=[{"attribute": "device_model", "operator": "greater", "value": 1}])
    assert (e.param, e.path) == ("filters", "[0].operator")


@pytest.mark.parametrize(
    ("raw", "on"),
    [
        ("1", True),
        ("true", True),
        ("True", True),
        (True, True),
        (1, True),
        ("0", False),
        ("false", False),
        (None, False),
    ],
)
def test_comparison_flag(raw, on):
    params = {} if raw is None else {"comparison": raw}
    assert parse_analytics(SESSIONS, params, NOW).comparison is on


def test_previous_window_has_the_same_length_just_before():
    w = Window(
        datetime(2023, 1, 1),
        datetime(2023, 1, 10, 23, 59, 59),
        ((datetime(2023, 1, 5), datetime(2023, 1, 5, 23, 59, 59)),),
    )
    p = previous_window(w)
    assert p.lo == datetime(2022, 12, 22) and p.hi == datetime(2022, 12, 31, 23, 59, 59)
    assert p.excluded == ((datetime(2022, 12, 26), datetime(2022, 12, 26, 23, 59, 59)),)


HOSTILE = "x'; DROP TABLE sessions; --"


def test_group_and_aggregation_values_are_bound():
    spec = parse(
        filters=[
            {"attribute": "device_model", "operator": "in", "value": [HOSTILE]},
            {
                "attribute": "event_name",
                "operator": "in",
                "value": ["x"],
                "property": {"name": HOSTILE, "operator": "equal", "value": "1"},
            },
        ],
        group_by=[
            {"attribute": "user_custom_property", "property_name": HOSTILE},
            {"attribute": "session_uploadedon_day"},
        ],
        aggregation=[{"attribute": "user_custom_property", "property_name": HOSTILE, "operator": "p99"}],
    )
    plan = plan_analytics("a" * 24, spec)
    for p in (plan, plan_previous(plan, ((HOSTILE, None), None))):
        sql, params = render_analytics(DUCKDB, p)
        assert HOSTILE not in sql and "DROP" not in sql
        assert_tenant_everywhere(sql, params, "a" * 24)
        assert DuckDBStore(":memory:").query(sql, params) == []  # runs: every placeholder bound, no rows
        flat = [x for v in params for x in (v if isinstance(v, list) else [v])]
        assert HOSTILE in flat


def test_every_query_is_confined_to_the_tenant_even_with_user_metrics():
    spec = parse(
        aggregation=[{"attribute": "user_session_duration", "operator": "avg"}],
        group_by=[{"attribute": "device_model"}],
    )
    sql, params = render_analytics(DUCKDB, plan_analytics("b" * 24, spec))
    assert_tenant_everywhere(sql, params, "b" * 24)
    assert "user_totals AS (SELECT user_key AS uid" in sql  # per user: by its integer key


def assert_tenant_everywhere(sql: str, params: list, app: str) -> None:
    """Every read of a table is confined to the app: its WHERE starts with app_id = <the tenant>."""
    reads = re.findall(r"FROM (sessions|events) WHERE app_id = \$(\d+)", sql)
    assert len(reads) == len(re.findall(r"FROM (sessions|events)\b", sql)) >= 1
    assert all(params[int(n) - 1] == app for _, n in reads)
