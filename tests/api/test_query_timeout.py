"""The server's time limit for reads (SESSIONSCOPE_QUERY_TIMEOUT_SECONDS) as its users meet it.

The server here has a limit no read can meet (a microsecond), so every read request is stopped: the API
answers 503 `query_timeout` naming the limit, the dashboard a 503 page saying so, and the client raises
it at once instead of sending the request again. Ingestion and exports are never stopped, and nothing
sent is lost: the export returns every ingested session. (That the engines stop a running query at the
limit is tests/unit/test_query_time_limit.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sessionscope.client import Client, ServiceUnavailable
from support.engines import store_url
from support.server import one_app

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
READS = ["/v2/session", "/v2/session/analytics", "/v2/user", "/v2/user/analytics", "/v2/event", "/v2/event/analytics"]
IDS = [f"t-{i}" for i in range(3)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, engine: str):  # type: ignore[no-untyped-def]
    data_dir = tmp_path_factory.mktemp(f"timeout-{engine}")
    limit = {"SESSIONSCOPE_QUERY_TIMEOUT_SECONDS": "0.000001"}
    with one_app(data_dir, store_url(engine, data_dir), "timeout", extra_env=limit) as (srv, client, app):
        docs = [
            {"sessionId": sid, "user": {"uxcamuserid": f"u{i}"},
             "property": {"uploadedServerTime": (NOW - timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")},
             "events": [{"name": "Buy", "timeSec": 1.0}]}
            for i, sid in enumerate(IDS)
        ]
        r = client.post("/v2/ingest/sessions", json=docs, headers=app.ingest_headers)
        assert r.status_code == 200 and r.json()["accepted"] == len(IDS), r.text
        yield srv, client, app


@pytest.mark.parametrize("path", READS)
def test_every_read_past_the_limit_is_a_503_naming_it(server, path: str) -> None:  # type: ignore[no-untyped-def]
    _, client, app = server
    for r in (client.get(path, headers=app.read_headers), client.post(path, json={"page_size": 5}, headers=app.read_headers)):
        assert r.status_code == 503, r.text
        error = r.json()["error"]
        assert (error["status"], error["code"]) == (503, "query_timeout")
        assert "limit of 1e-06 s" in error["message"] and "Narrow the date range or the filters" in error["message"]
        assert "retry-after" not in r.headers  # the same request would run as long again


def test_ingestion_and_exports_are_never_stopped(server) -> None:  # type: ignore[no-untyped-def]
    _, client, app = server
    more = {"sessionId": "t-late", "user": {"uxcamuserid": "u9"},
            "property": {"uploadedServerTime": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    r = client.post("/v2/ingest/sessions", json=[more], headers=app.ingest_headers)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    all_time = [{"attribute": "date_range", "operator": "between_dates", "value": {"lower": "2000-01-01", "upper": "2099-12-31"}}]
    r = client.get("/v2/session/export", params={"format": "ndjson", "filters": json.dumps(all_time)}, headers=app.read_headers)
    assert r.status_code == 200, r.text
    assert sorted(json.loads(line)["sessionId"] for line in r.text.splitlines()) == sorted([*IDS, "t-late"])
    r = client.get("/v2/event/export", params={"format": "ndjson", "filters": json.dumps(all_time)}, headers=app.read_headers)
    assert r.status_code == 200 and len(r.text.splitlines()) == len(IDS), r.text


def test_the_client_raises_it_without_sending_again(server) -> None:  # type: ignore[no-untyped-def]
    srv, _, app = server
    slept: list[float] = []
    with Client(srv.base_url, app.appid, app.apikey, sleep=slept.append) as c:
        with pytest.raises(ServiceUnavailable) as caught:
            c.analytics("session", group_by=[{"attribute": "device_platform"}]).to_list()
        assert caught.value.code == "query_timeout" and "limit of 1e-06 s" in str(caught.value)
        assert (c.retries, slept) == (0, [])


def test_the_dashboard_says_the_page_took_too_long(server) -> None:  # type: ignore[no-untyped-def]
    srv, _, app = server
    with srv.client() as browser:
        r = browser.post("/login", data={"appid": app.appid, "apikey": app.apikey, "next": ""})
        assert r.status_code == 303
        for page, title in [(f"/app/{app.appid}/sessions/list/1", "This page took too long."),
                            (f"/app/{app.appid}/events/list/1", "This page took too long."),
                            (f"/app/{app.appid}/analytics?g1=device_model", "This breakdown cannot be computed.")]:
            r = browser.get(page)
            assert r.status_code == 503, (page, r.status_code)
            assert r.headers["content-type"].startswith("text/html"), (page, r.text)
            assert title in r.text and "limit of 1e-06 s" in r.text, page
