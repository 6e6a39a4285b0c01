"""Every resource goes through the one compiler, and the compiler confines every table it reads to the tenant.

For each resource (session, user, event) and each kind of query (a list page, an export, analytics with
groups, per-user metrics and comparison, the export's events lookup), every `FROM sessions` / `FROM events`
in the SQL must be followed by `WHERE app_id = <placeholder>` bound to the request's app id, on every
dialect. A query that reads a table without the tenant filter fails this test.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from sessionscope.catalog import RESOURCES
from sessionscope.query.analytics import parse_analytics, plan_analytics, plan_previous
from sessionscope.query.dialects import DUCKDB
from sessionscope.query.plan import plan_export, plan_list
from sessionscope.query.render import render_list, render_session_events
from sessionscope.query.render_analytics import render_analytics
from sessionscope.query.validate import parse_list

try:
    from sessionscope.query.dialects.clickhouse import CLICKHOUSE

    DIALECTS = [DUCKDB, CLICKHOUSE]
except ImportError:  # pragma: no cover - before the ClickHouse dialect lands
    DIALECTS = [DUCKDB]

APP = "aaaaaaaaaaaaaaaaaaaaaaaa"
NOW = datetime(2023, 1, 20, 12, 0, 0)
TABLE = re.compile(r"\bFROM (sessions|events)\b")
TENANT = re.compile(r"\bFROM (sessions|events) WHERE app_id = (\$\d+|\{p\d+:String\})")

FILTERS = {
    "session": '[{"attribute":"event_name","operator":"in","value":["Buy"],"property":{"name":"price","operator":"greater","value":"1"}},'
    '{"attribute":"event_custom_property","operator":"not_equal","property_name":"x","value":"y"},'
    '{"attribute":"date_range","operator":"not_on","value":"2023-01-10"}]',
    "user": '[{"attribute":"user_session_count","operator":"greater","value":3},'
    '{"attribute":"user_first_seen_on","operator":"after","value":"2023-01-01"},'
    '{"attribute":"event_name","operator":"not_in","value":["Buy"]}]',
    "event": '[{"attribute":"event_name","operator":"equal","value":"Buy"},'
    '{"attribute":"event_custom_property","operator":"greater","property_name":"price","value":1}]',
}
GROUP_BY = {
    "session": '[{"attribute":"device_model","max_group_number":3},{"attribute":"session_uploadedon_day"}]',
    "user": '[{"attribute":"device_model","max_group_number":3},{"attribute":"session_uploaded_week"}]',
    "event": '[{"attribute":"event_name","max_group_number":3},{"attribute":"event_uploaded_month"}]',
}
AGGREGATION = '[{"attribute":"user_rage_gesture_count","operator":"sum"}]'


def _value(params, placeholder: str):
    if placeholder.startswith("$"):
        return params[int(placeholder[1:]) - 1]
    return params[placeholder[1:].split(":", 1)[0]]


def assert_tenant_everywhere(sql: str, params) -> None:
    tables = TABLE.findall(sql)
    guarded = TENANT.findall(sql)
    assert tables, sql
    assert len(guarded) == len(tables), f"a table is read without the tenant filter:\n{sql}"
    for _, placeholder in guarded:
        assert _value(params, placeholder) == APP
    assert APP not in sql, "the tenant is bound, never pasted"


def _queries(dialect, resource_name: str):
    resource = RESOURCES[resource_name]
    spec = parse_list(resource, {"filters": FILTERS[resource_name], "page": 2}, NOW)
    yield render_list(dialect, plan_list(APP, spec, ("uxcamuserid", "session_id")))
    yield render_list(dialect, plan_export(APP, spec, ("uxcamuserid",)))
    params = {"filters": FILTERS[resource_name], "group_by": GROUP_BY[resource_name], "comparison": "1"}
    aspec = parse_analytics(resource, params, NOW)
    plan = plan_analytics(APP, aspec)
    yield render_analytics(dialect, plan)
    yield render_analytics(dialect, plan_previous(plan, (("a", "b"), None)))
    with_user_metrics = parse_analytics(resource, {**params, "aggregation": AGGREGATION}, NOW)
    yield render_analytics(dialect, plan_analytics(APP, with_user_metrics))


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("resource", ["session", "user", "event"])
def test_every_table_every_query_reads_is_confined_to_the_tenant(dialect, resource: str) -> None:
    for sql, params in _queries(dialect, resource):
        assert_tenant_everywhere(sql, params)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_the_exports_events_lookup_is_confined_to_the_tenant(dialect) -> None:
    sql, params = render_session_events(dialect, APP, ["s1", "s2"], NOW, NOW)
    assert_tenant_everywhere(sql, params)


def test_a_resource_is_a_catalogue_and_a_relation() -> None:
    # the compiler knows resources only through these fields: no per-resource code path
    for name, resource in RESOURCES.items():
        assert resource.name == name
        assert resource.relation in ("sessions", "events", "users")
        assert resource.attributes["date_range"].is_window
    assert RESOURCES["user"].per_user and not RESOURCES["event"].per_user
    assert not RESOURCES["user"].attributes["user_first_seen_on"].is_window


def test_user_first_seen_on_is_a_condition_not_the_window() -> None:
    spec = parse_list(RESOURCES["user"], {"filters": '[{"attribute":"user_first_seen_on","operator":"not_on","value":"2023-01-05"}]'}, NOW)
    # the window stays the default 30 days; the filter excludes one day of first sessions, nothing else
    assert (spec.window.lo, spec.window.hi) == (datetime(2022, 12, 21, 12, 0, 0), NOW)
    (f,) = spec.filters
    assert f.value.excluded == ((datetime(2023, 1, 5), datetime(2023, 1, 5, 23, 59, 59)),)
    before = parse_list(RESOURCES["user"], {"filters": '[{"attribute":"user_first_seen_on","operator":"before","value":"2023-01-05"}]'}, NOW)
    assert before.filters[0].value.lo.year == 1900 and before.filters[0].value.hi == datetime(2023, 1, 4, 23, 59, 59)
