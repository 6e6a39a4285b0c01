"""Errors (SPEC §10): one shape everywhere, the right status and parameter, user values arrive as data, no 500."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from sessionscope.catalog import OPERATORS, SESSIONS

ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}
ERROR_KEYS = {"status", "code", "message", "param", "path", "request_id"}
CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}
STRING_OPS = ["equal", "not_equal", "contains", "not_contains", "in", "not_in"]
NUMBER_OPS = ["greater", "less", "greater_or_equal", "less_or_equal", "equal", "not_equal"]
INJECTIONS = [
    "'; DROP TABLE sessions; --",
    "x' OR '1'='1",
    '") OR 1=1 --',
    "1); DELETE FROM sessions WHERE (1=1",
    "%' OR app_id LIKE '%",
    "$1 OR true",
    "? OR 1=1",
    "\\'; SELECT * FROM apps; --",
]


_CLIENTS: dict[str, httpx.Client] = {}


def own(loaded) -> httpx.Client:  # type: ignore[no-untyped-def]
    """This module's own connection to the shared server: its 500s must not disturb other modules' client."""
    url = loaded.server.base_url
    if url not in _CLIENTS:
        _CLIENTS[url] = httpx.Client(base_url=url, timeout=60)
    return _CLIENTS[url]


@pytest.fixture(scope="module", autouse=True)
def _close_clients():  # type: ignore[no-untyped-def]
    yield
    for client in _CLIENTS.values():
        client.close()
    _CLIENTS.clear()


def assert_error(
    r: httpx.Response, status: int, *, param: str | None = None, path: str | None = None
) -> dict:
    """The one error shape: {"success": false, "error": {"status", "code", "message", "param"?, "path"?}}."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"success", "error"}, body
    assert body["success"] is False
    err = body["error"]
    assert {"status", "code", "message"} <= set(err) <= ERROR_KEYS, err
    assert err["status"] == status
    assert err["code"] == CODES.get(status, err["code"])
    assert isinstance(err["message"], str) and len(err["message"]) > 10
    for leak in (
        "Traceback",
        "duckdb",
        'File "/',
        "app_id = ",
        "Binder Error",
        "Parser Error",
        "Conversion Error",
    ):
        assert leak not in r.text, r.text
    if param is not None:
        assert err.get("param") == param, err
    if path is not None:
        assert err.get("path") == path, err
    return err


def get(loaded, path: str = "/v2/session", **params: object) -> httpx.Response:  # type: ignore[no-untyped-def]
    q = {k: (json.dumps(v) if isinstance(v, list | dict) else v) for k, v in params.items()}
    return own(loaded).get(path, params=q, headers=loaded.a.read_headers)


def count_all(loaded, creds) -> int:  # type: ignore[no-untyped-def]
    total, page = 0, 1
    while True:
        r = own(loaded).get(
            "/v2/session",
            params={"page": page, "page_size": 500, "filters": json.dumps([ALL_TIME])},
            headers=creds.read_headers,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        total += len(body["data"])
        if body["pagination"]["next"] is None:
            return total
        page += 1


# --- routing errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/v2",
        "/v2/sessions",
        "/v2/session/nope",
        "/v2/ingest/nope",
        "/v2/ingest/sessions/abc/audio",
        "/v3/session",
        "/v2/video",
    ],
)
def test_unknown_path_is_404(loaded, path: str) -> None:  # type: ignore[no-untyped-def]
    for r in (own(loaded).get(path, headers=loaded.a.read_headers), own(loaded).get(path)):
        assert_error(r, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/v2/session"),
        ("PUT", "/v2/session"),
        ("PATCH", "/v2/session"),
        ("DELETE", "/v2/session/analytics"),
        ("GET", "/v2/ingest/sessions"),
        ("PUT", "/v2/ingest/sessions"),
        ("GET", "/v2/ingest/sessions/s-1/video"),
        ("POST", "/v2/ingest/sessions/s-1/video"),
        ("POST", "/v2/video/some-token"),
        ("DELETE", "/v2/video/some-token"),
        ("POST", "/healthz"),
    ],
)
def test_wrong_method_is_405(loaded, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    r = own(loaded).request(method, path, headers={**loaded.a.read_headers, **loaded.a.ingest_headers})
    if "analytics" in path and r.status_code == 404:
        pytest.xfail("/v2/session/analytics is not implemented yet")
    err = assert_error(r, 405)
    allowed = [m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()]
    assert allowed and method not in allowed, "a 405 names the allowed methods (Allow header)"
    assert err["message"].endswith("allowed: " + ", ".join(allowed)), err["message"]
    # every method it names is taken there, and it names them all (both of a read's: GET and POST)
    for other in allowed:
        assert own(loaded).request(other, path, headers=loaded.a.read_headers).status_code != 405, other
    if path in ("/v2/session", "/v2/session/analytics"):
        assert {"GET", "POST"} <= set(allowed)


# --- parameter errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "[{",
        "{}",
        '{"attribute": "device_model"}',
        "[1]",
        '["device_model"]',
        "[[]]",
        '"text"',
        "[{]",
        "not json at all",
        '[{"attribute": "device_model",}]',
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_filters_json_names_filters(loaded, value: str, method: str) -> None:  # type: ignore[no-untyped-def]
    if method == "GET":
        r = get(loaded, filters=value)
    else:
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            decoded = value  # a string where the array should be
        r = own(loaded).post("/v2/session", json={"filters": decoded}, headers=loaded.a.read_headers)
    assert_error(r, 400, param="filters")


@pytest.mark.parametrize("name", ["group_by", "aggregation"])
@pytest.mark.parametrize("value", ["[{", "{}", "[1]", '"x"'])
def test_bad_analytics_json_names_the_parameter(loaded, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    r = get(loaded, "/v2/session/analytics", **{name: value})
    if r.status_code == 404 and "Endpoints are under" in r.text:
        pytest.xfail("/v2/session/analytics is not implemented yet")
    assert_error(r, 400, param=name)


@pytest.mark.parametrize("name", ["page", "page_size"])
@pytest.mark.parametrize(
    "value",
    ["0", "-1", "abc", "1.5", " ", "99999999999999999999999", "1; DROP TABLE sessions", "1 OR 1=1", "'"],
)
def test_bad_page_is_400(loaded, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    assert_error(get(loaded, **{name: value}), 400, param=name)


@pytest.mark.parametrize(("path", "name"), [("/v2/session/analytics", "comparison"), ("/v2/user/analytics", "comparison"),
                                            ("/v2/event/analytics", "comparison"), ("/v2/session", "with_video")])
@pytest.mark.parametrize("value", ["maybe", "yes", "2", "-1", "1.0", "truee", "on"])
def test_a_flag_other_than_yes_or_no_is_400(loaded, path: str, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """`comparison=maybe` was read as no: an answer without the comparison the caller thought they asked for."""
    err = assert_error(get(loaded, path, **{name: value}), 400, param=name)
    assert err["message"] == f"{name} must be 1 or true (0 or false, or absent, for no), got {value!r}"


@pytest.mark.parametrize(("value", "compared"), [("1", True), ("true", True), ("TRUE", True), (" True ", True),
                                                 ("0", False), ("false", False), ("False", False), ("", False)])
def test_a_flag_takes_one_and_zero_true_and_false_in_any_case(loaded, value: str, compared: bool) -> None:  # type: ignore[no-untyped-def]
    r = get(loaded, "/v2/session/analytics", filters=[ALL_TIME], comparison=value)
    assert r.status_code == 200, r.text
    assert ("session_count_pct_change" in r.json()["data"][0]) is compared
    r = get(loaded, filters=[ALL_TIME], page_size=3, with_video=value)
    assert r.status_code == 200, r.text
    assert len(r.json()["data"]) == 3


@pytest.mark.parametrize("value", ["501", "100000"])
def test_page_size_over_500_is_400(loaded, value: str) -> None:  # type: ignore[no-untyped-def]
    err = assert_error(get(loaded, page_size=value), 400, param="page_size")
    assert "500" in err["message"]


def test_page_bounds_that_work(loaded) -> None:  # type: ignore[no-untyped-def]
    for params, n in (({"page_size": "1"}, 1), ({"page_size": "500"}, 500), ({"page": "1"}, 50)):
        r = get(loaded, filters=[ALL_TIME], **params)
        assert r.status_code == 200 and len(r.json()["data"]) == n
    r = get(loaded, filters=[ALL_TIME], page=1000, page_size=500)
    assert r.status_code == 200
    assert r.json() == {
        "success": True,
        "data": [],
        "pagination": {"current": 1000, "next": None, "total": 0},
    }


@pytest.mark.parametrize(
    ("attribute", "operator", "allowed"),
    [
        ("device_model", "greater", STRING_OPS),
        ("device_model", "like", STRING_OPS),
        ("session_duration", "contains", NUMBER_OPS),
        ("session_screen_list", "equal", ["has_any", "not_has_any"]),
        ("session_crashed", "in", ["equal", "not_equal"]),
        ("date_range", "equal", ["on", "not_on", "after", "before", "between_dates"]),
        ("device_platform", "contains", ["equal", "not_equal", "in", "not_in"]),
    ],
)
def test_bad_operator_names_the_path_and_lists_the_allowed(loaded, attribute, operator, allowed) -> None:  # type: ignore[no-untyped-def]
    filters = [
        ALL_TIME,
        {"attribute": "device_country", "operator": "equal", "value": "USA"},
        {"attribute": attribute, "operator": operator, "value": "1"},
    ]
    err = assert_error(get(loaded, filters=filters), 400, param="filters", path="[2].operator")
    for op in allowed:
        assert op in err["message"], (op, err["message"])
    assert operator in err["message"] and attribute in err["message"]


@pytest.mark.parametrize(
    ("flt", "path"),
    [
        ({"attribute": "no_such_attribute", "operator": "equal", "value": "x"}, "[1].attribute"),
        ({"operator": "equal", "value": "x"}, "[1].attribute"),
        ({"attribute": "device_model", "value": "x"}, "[1].operator"),
        ({"attribute": "device_model", "operator": "in", "value": "not-a-list"}, "[1].value"),
        ({"attribute": "device_model", "operator": "equal", "value": ["a", "b"]}, "[1].value"),
        ({"attribute": "session_duration", "operator": "greater", "value": "abc"}, "[1].value"),
        ({"attribute": "session_duration", "operator": "greater", "value": [1]}, "[1].value"),
        ({"attribute": "session_crashed", "operator": "equal", "value": "maybe"}, "[1].value"),
        ({"attribute": "session_screen_list", "operator": "has_any", "value": "Home"}, "[1].value"),
        ({"attribute": "user_custom_property", "operator": "equal", "value": "x"}, "[1].property_name"),
        ({"attribute": "device_model", "operator": "equal", "value": "x",
          "property": {"name": "price", "operator": "greater", "value": 1}}, "[1].property"),
        ({"attribute": "date_range", "operator": "on", "value": "yesterday"}, "[1].value"),
        ({"attribute": "date_range", "operator": "on", "value": "2023-13-45"}, "[1].value"),
    ],
)
def test_bad_filter_names_the_field(loaded, flt: dict, path: str) -> None:  # type: ignore[no-untyped-def]
    err = assert_error(
        get(loaded, filters=[{"attribute": "device_country", "operator": "equal", "value": "USA"}, flt]),
        400,
        param="filters",
    )
    assert err.get("path", "").startswith(path), err


def test_bad_post_body(loaded) -> None:  # type: ignore[no-untyped-def]
    h = {**loaded.a.read_headers, "Content-Type": "application/json"}
    for body in (b"{not json", b"[1, 2]", b'"filters"', b"\xff\xfe"):
        assert_error(own(loaded).post("/v2/session", content=body, headers=h), 400, param="body")


def test_401_has_the_shape(loaded) -> None:  # type: ignore[no-untyped-def]
    r = own(loaded).get("/v2/session", params={"appid": loaded.a.appid, "apikey": "sk_wrong"})
    err = assert_error(r, 401)
    assert err["code"] == "unauthorized" and "param" not in err
    assert "sk_wrong" not in r.text and loaded.a.apikey not in r.text


# --- user values are data ----------------------------------------------------------------------------


def injection_requests() -> list[tuple[str, list[dict]]]:
    """One filter list per (attribute, operator) of the catalogue, every value an injection attempt."""
    cases = []
    n = 0
    for attr in SESSIONS.attributes.values():
        for op_name in attr.operators:
            kind = OPERATORS[op_name].value
            s = INJECTIONS[n % len(INJECTIONS)]
            n += 1
            value: object = {
                "string_list": [s, INJECTIONS[(n + 3) % len(INJECTIONS)]],
                "date_range": {"lower": s, "upper": s},
            }.get(kind, s)
            flt: dict = {"attribute": attr.name, "operator": op_name, "value": value}
            if attr.needs_property_name:
                flt["property_name"] = INJECTIONS[(n + 1) % len(INJECTIONS)]
            filters = [flt] if attr.name == "date_range" else [ALL_TIME, flt]
            cases.append((f"{attr.name}.{op_name}", filters))
    for s in INJECTIONS:  # the same strings as names, operators and event property conditions
        cases += [
            (f"attribute:{s}", [{"attribute": s, "operator": "equal", "value": "x"}]),
            (f"operator:{s}", [{"attribute": "device_model", "operator": s, "value": "x"}]),
            (
                f"event-property:{s}",
                [
                    ALL_TIME,
                    {
                        "attribute": "event_name",
                        "operator": "in",
                        "value": [s],
                        "property": {"name": s, "operator": "equal", "value": s},
                    },
                ],
            ),
            (
                f"custom-property-name:{s}",
                [
                    ALL_TIME,
                    {
                        "attribute": "user_custom_property",
                        "property_name": s,
                        "operator": "equal",
                        "value": "free",
                    },
                ],
            ),
            (
                f"session_id-equal:{s}",
                [ALL_TIME, {"attribute": "session_id", "operator": "equal", "value": s}],
            ),
        ]
    return cases


def test_injection_strings_arrive_as_data(loaded) -> None:  # type: ignore[no-untyped-def]
    before = (count_all(loaded, loaded.a), count_all(loaded, loaded.b))
    assert before == (len(loaded.docs_a), len(loaded.docs_b))
    problems = []
    cases = injection_requests()
    assert len(cases) > 200
    for name, filters in cases:
        last = filters[-1]
        r = get(loaded, filters=filters, page_size=5)
        if r.status_code == 400:
            assert_error(r, 400, param="filters")
            continue
        if r.status_code != 200:
            problems.append((name, r.status_code, r.text[:200]))
            continue
        op = OPERATORS.get(last.get("operator"))
        positive = op is not None and not op.negative and last["attribute"] != "date_range"
        if positive and r.json()["data"]:
            problems.append(
                (name, "rows matched an injection string", [x["sessionId"] for x in r.json()["data"]])
            )
    for s in INJECTIONS:  # and in the other parameters
        for params in ({"page": s}, {"page_size": s}):
            r = get(loaded, **params)
            if r.status_code != 400:
                problems.append((str(params), r.status_code, r.text[:200]))
        r = own(loaded).get("/v2/session", params={"appid": s, "apikey": s})
        if r.status_code != 401:
            problems.append(("credentials", r.status_code, r.text[:200]))
        r = own(loaded).get("/v2/session", headers={"appid": loaded.a.appid, "apikey": loaded.a.apikey + s})
        if r.status_code != 401:
            problems.append(("key suffix", r.status_code, r.text[:200]))
    assert not problems, problems
    assert (count_all(loaded, loaded.a), count_all(loaded, loaded.b)) == before


def test_injection_in_analytics_parameters(loaded) -> None:  # type: ignore[no-untyped-def]
    probe = get(loaded, "/v2/session/analytics")
    if probe.status_code == 404:
        pytest.xfail("/v2/session/analytics is not implemented yet")

    def metrics(r: httpx.Response) -> list[dict]:
        return [{k: v for k, v in row.items() if k != "dashboard_link"} for row in r.json()["data"]]

    total = metrics(probe)
    for s in INJECTIONS:
        for params in (
            {"group_by": [{"attribute": s}]},
            {"group_by": [{"attribute": "user_custom_property", "property_name": s}]},
            {"group_by": [{"attribute": "device_model", "max_group_number": s}]},
            {"aggregation": [{"attribute": s, "operator": "sum"}]},
            {"aggregation": [{"attribute": "session_duration", "operator": s}]},
            {"aggregation": [{"attribute": "user_custom_property", "property_name": s, "operator": "sum"}]},
            {"filters": [{"attribute": "device_model", "operator": "equal", "value": s}]},
        ):
            r = get(loaded, "/v2/session/analytics", **params)
            assert r.status_code in (200, 400), (params, r.status_code, r.text[:300])
            if r.status_code == 400:
                assert_error(r, 400)
    # the same answers afterwards (averages may differ in the last bits: parallel float summation)
    after = metrics(get(loaded, "/v2/session/analytics"))
    assert len(after) == len(total)
    for new, old in zip(after, total, strict=True):
        assert new.keys() == old.keys()
        for k in old:
            if isinstance(old[k], float) and isinstance(new[k], float):
                assert math.isclose(new[k], old[k], rel_tol=1e-12), (k, old[k], new[k])
            else:
                assert new[k] == old[k], (k, old[k], new[k])


@pytest.mark.parametrize("needle", ["%", "_", "\\", "'", '"', "*", "[", "(", "Pixel%", "i_hone"])
def test_contains_is_a_plain_substring_test(loaded, needle: str) -> None:  # type: ignore[no-untyped-def]
    """LIKE wildcards and quotes in a `contains` value are matched literally."""
    filters = [ALL_TIME, {"attribute": "device_model", "operator": "contains", "value": needle}]
    r = get(loaded, filters=filters, page_size=500)
    assert r.status_code == 200, r.text
    got = {x["sessionId"] for x in r.json()["data"]}
    want = {d["sessionId"] for d in loaded.docs_a if needle in (d.get("device", {}).get("model") or "")}
    assert got == want


WEIRD_FILTERS = [
    [{"attribute": None, "operator": "equal", "value": "x"}],
    [{"attribute": "device_model", "operator": None, "value": "x"}],
    [{"attribute": "device_model", "operator": "equal"}],
    [{"attribute": "device_model", "operator": "equal", "value": None}],
    [{"attribute": "device_model", "operator": "equal", "value": {"a": 1}}],
    [{"attribute": "device_model", "operator": "equal", "value": "\u0000"}],
    [{"attribute": "device_model", "operator": "in", "value": []}],
    [{"attribute": "device_model", "operator": "in", "value": [None, 1, {"a": 1}]}],
    [{"attribute": "device_model", "operator": "equal", "value": "x" * 100_00}],
    [{"attribute": "session_duration", "operator": "greater", "value": "1e309"}],
    [{"attribute": "session_duration", "operator": "greater", "value": "NaN"}],
    [{"attribute": "session_duration", "operator": "greater", "value": 10**30}],
    [{"attribute": "session_duration", "operator": "greater", "value": True}],
    [{"attribute": "session_gesture_count", "operator": "equal", "value": 1.5}],
    [{"attribute": "session_gesture_count", "operator": "less", "value": -(10**20)}],
    [{"attribute": "date_range", "operator": "on", "value": "0001-01-01"}],
    [{"attribute": "date_range", "operator": "on", "value": "10000-01-01"}],
    [
        {
            "attribute": "date_range",
            "operator": "between_dates",
            "value": {"lower": "0001-01-01T00:00:00Z", "upper": "9999-12-31T00:00:00Z"},
        }
    ],
    [
        {
            "attribute": "date_range",
            "operator": "between_dates",
            "value": {"lower": "2023-02-01", "upper": "2023-01-01"},
        }
    ],
    [{"attribute": "date_range", "operator": "between_dates", "value": {"lower": "2023-01-01"}}],
    [{"attribute": "date_range", "operator": "between_dates", "value": ["2023-01-01", "2023-02-01"]}],
    [{"attribute": "date_range", "operator": "on", "value": "2023-01-19T25:61:00Z"}],
    [{"attribute": "date_range", "operator": "on", "value": "2023-01-19T10:00:00+14:00"}],
    [{"attribute": "event_name", "operator": "in", "value": ["x"], "property": "price"}],
    [
        {
            "attribute": "event_name",
            "operator": "in",
            "value": ["x"],
            "property": {"name": "price", "operator": "bad", "value": 1},
        }
    ],
    [
        {
            "attribute": "event_name",
            "operator": "in",
            "value": ["x"],
            "property": {"name": "price", "operator": "greater", "value": "abc"},
        }
    ],
    [{"attribute": "user_custom_property", "property_name": "", "operator": "equal", "value": "x"}],
    [{"attribute": "user_custom_property", "property_name": ["plan"], "operator": "equal", "value": "x"}],
    [
        {
            "attribute": "user_custom_property",
            "property_name": "orders",
            "operator": "greater",
            "value": "many",
        }
    ],
    [{"attribute": "device_model", "operator": "equal", "value": "x", "extra": {"nested": [1, 2, 3]}}],
    [{"attribute": "device_platform", "operator": "equal", "value": 3}],
    [{"attribute": "device_platform", "operator": "equal", "value": "windows"}],
    [{"attribute": "session_crashed", "operator": "equal", "value": 2}],
    [{"attribute": "device_model", "operator": "equal", "value": "x"}] * 200,
]


OVERFLOW_FILTERS = [
    [{"attribute": "date_range", "operator": "on", "value": "9999-12-31"}],
    [{"attribute": "date_range", "operator": "not_on", "value": "9999-12-31"}],
    [{"attribute": "date_range", "operator": "after", "value": "9999-12-31T23:59:59Z"}],
    [{"attribute": "date_range", "operator": "before", "value": "0001-01-01T00:00:00Z"}],
    [
        {
            "attribute": "date_range",
            "operator": "between_dates",
            "value": {"lower": "2023-01-01", "upper": "9999-12-31"},
        }
    ],
]
ODD_FILTERS = [pytest.param(f, id=f"odd-{i}") for i, f in enumerate(WEIRD_FILTERS)] + [
    pytest.param(f, id=f"calendar-end-{i}") for i, f in enumerate(OVERFLOW_FILTERS)
]


@pytest.mark.parametrize("filters", ODD_FILTERS)
def test_odd_filters_never_500(loaded, filters: list) -> None:  # type: ignore[no-untyped-def]
    # a connection of its own: after a 500 the server drops the keep-alive connection (see test below)
    with httpx.Client(base_url=loaded.server.base_url, timeout=60, headers=loaded.a.read_headers) as client:
        responses = [
            client.get("/v2/session", params={"filters": json.dumps(filters)}),
            client.post("/v2/session", json={"filters": filters}),
        ]
    for r in responses:
        assert r.status_code in (200, 400), (r.status_code, r.text[:300])
        if r.status_code == 400:
            assert_error(r, 400, param="filters")
        else:
            assert r.json()["success"] is True


def test_comparison_at_the_start_of_the_calendar_never_500(loaded) -> None:  # type: ignore[no-untyped-def]
    flt = [
        {
            "attribute": "date_range",
            "operator": "between_dates",
            "value": {"lower": "0001-01-01", "upper": "2023-01-01"},
        }
    ]
    with httpx.Client(base_url=loaded.server.base_url, timeout=60, headers=loaded.a.read_headers) as client:
        r = client.get("/v2/session/analytics", params={"filters": json.dumps(flt), "comparison": "1"})
    assert r.status_code in (200, 400), (r.status_code, r.text[:300])


def test_null_filters_mean_no_filters(loaded) -> None:  # type: ignore[no-untyped-def]
    """`filters=null` (query string) and `{"filters": null}` (body) both mean "no filters"."""
    headers = loaded.a.read_headers
    plain = own(loaded).get("/v2/session", params={"page_size": 30}, headers=headers).json()
    via_get = get(loaded, filters="null", page_size="30").json()
    via_post = own(loaded).post("/v2/session", json={"filters": None, "page_size": 30}, headers=headers).json()
    ids = [d["sessionId"] for d in plain["data"]]
    assert len(ids) == 30
    assert [d["sessionId"] for d in via_get["data"]] == ids == [d["sessionId"] for d in via_post["data"]]
