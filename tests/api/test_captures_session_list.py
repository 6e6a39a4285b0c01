"""Replay every `/v2/session` (list) request captured from the live UXCam API against a real server.

Each request is sent as real clients send it (the raw query string, unencoded JSON with spaces), with only
the base URL and credentials swapped. The answer must be 200 with the reference's shape, and the rows must
be exactly the ones the independent oracle (`list_oracle`) computes for that request's filters and page.

The store holds two generations of sessions: recent ones (inside the default 30-day window) and ones from
Dec 2022–Jan 2023, the period the captures were made in, so that their explicit dates select rows too.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from sessionscope.demo import generate_sessions
from support.data import recent_sessions
from support.engines import store_url
from support.server import Server, ingest

from .list_oracle import Oracle

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "uxcam-v2-captures.json"
BASES = ("{{API_BASE_URL}}", "https://api.uxcam.com/v2")

ROW_KEYS = {"sessionId", "video", "sessionNumber", "url", "property", "user", "device", "location"}


def _list_captures() -> list[dict]:
    entries = json.loads(CAPTURES.read_text())
    out = []
    for e in entries:
        url = e["request_url"]
        path = url.split("?", 1)[0]
        if any(path == f"{b}/session" for b in BASES):
            out.append(e)
    return out


LIST_CAPTURES = _list_captures()


def json_type(v) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def _reference_shape() -> dict[str, dict[str, set[str]]]:
    """For property/device/location: every key the reference's rows carry, and its non-null JSON types."""
    shape: dict[str, dict[str, set[str]]] = {"property": {}, "device": {}, "location": {}}
    for e in LIST_CAPTURES:
        rows = e["body"]["data"]
        if not isinstance(rows, list):
            continue
        for row in rows:
            for section, keys in shape.items():
                for k, v in row[section].items():
                    types = keys.setdefault(k, set())
                    if v is not None:
                        types.add(json_type(v))
    return shape


REFERENCE_SHAPE = _reference_shape()


def test_the_captures_are_the_ones_expected() -> None:
    # 17 list requests in the reference (none to /session/analytics), and a reference shape to compare with
    assert len(LIST_CAPTURES) == 17
    assert {"uploadedServerTime", "durationSec", "totalScreen"} <= set(REFERENCE_SHAPE["property"])
    assert {"platform", "model", "carrierName"} <= set(REFERENCE_SHAPE["device"])
    assert set(REFERENCE_SHAPE["location"]) == {"countryCode", "city", "longitude", "latitude"}


class Replay:
    def __init__(self, server: Server, creds, docs: list[dict]) -> None:
        self.server = server
        self.creds = creds
        self.oracle = Oracle(docs)
        self.client = httpx.Client(timeout=60)

    def url_for(self, capture: dict) -> str:
        url = capture["request_url"]
        for b in BASES:
            if url.startswith(b):
                url = f"{self.server.base_url}/v2" + url[len(b) :]
                break
        else:
            raise AssertionError(f"unexpected base in {url}")
        url = re.sub(r"([?&])appid=[^&]*", lambda m: f"{m.group(1)}appid={self.creds.appid}", url)
        url = re.sub(r"([?&])apikey=[^&]*", lambda m: f"{m.group(1)}apikey={self.creds.apikey}", url)
        return url


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory, engine: str):
    data_dir = tmp_path_factory.mktemp(f"captures-{engine}")
    server = Server(data_dir=data_dir, store_url=store_url(engine, data_dir))
    creds = server.create_app("captures")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    recent = list(recent_sessions(600, days=29, seed=33, now=now))
    then = list(generate_sessions(600, days=29, seed=44, now=datetime(2023, 1, 19, 18, 0, tzinfo=UTC)))
    docs = recent + then
    assert len({d["sessionId"] for d in docs}) == len(docs)
    server.start()
    r = Replay(server, creds, docs)
    try:
        for body in ingest(server.client(), creds, docs, batch=600):
            assert body["rejected"] == []
        yield r
    finally:
        r.client.close()
        server.stop()


def query_params(url: str) -> dict[str, str]:
    """The query of a captured URL, split as a server would (the JSON inside holds no '&')."""
    query = url.split("?", 1)[1]
    out = {}
    for part in query.split("&"):
        k, _, v = part.partition("=")
        out[k] = unquote(v)
    return out


def check_shape(row: dict, doc: dict) -> None:
    where = row.get("sessionId")
    assert set(row) == ROW_KEYS | ({"web"} if "web" in doc else set()), where
    assert isinstance(row["sessionId"], str) and isinstance(row["url"], str), where
    assert type(row["sessionNumber"]) is int, where
    for section, keys in REFERENCE_SHAPE.items():
        got = row[section]
        assert isinstance(got, dict), (where, section)
        missing = set(keys) - set(got)
        assert not missing, (where, section, missing)
        for k, types in keys.items():
            if got[k] is not None and types:
                assert json_type(got[k]) in types, (where, section, k, got[k], types)
    assert isinstance(row["user"].get("uxcamuserid"), str) and isinstance(row["user"].get("alias"), str), (
        where
    )


@pytest.mark.parametrize(
    "capture", LIST_CAPTURES, ids=[f"{i}-{e['name']}" for i, e in enumerate(LIST_CAPTURES)]
)
def test_capture_replays_with_the_reference_shape(replay: Replay, capture: dict) -> None:
    url = replay.url_for(capture)
    params = query_params(url)
    filters = json.loads(params["filters"]) if "filters" in params else []
    page = int(params.get("page", 1))
    page_size = int(params.get("page_size", 50))

    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    r = replay.client.get(url)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"success", "data", "pagination"}
    assert body["success"] is True
    assert isinstance(body["data"], list)
    assert set(body["pagination"]) == {"current", "next", "total"}

    # the rows are exactly the oracle's: the filter really filtered
    expected = replay.oracle.matching(filters, now)
    window = replay.oracle.matching([f for f in filters if f["attribute"] == "date_range"], now)
    assert expected, "the data should give every captured filter something to find"
    if any(f["attribute"] != "date_range" for f in filters):
        assert len(expected) < len(window), "the filter should exclude some sessions of the window"
    want_ids, want_pagination = Oracle.page(expected, page, page_size)
    assert [row["sessionId"] for row in body["data"]] == want_ids
    assert body["pagination"] == want_pagination

    for row in body["data"]:
        doc = replay.oracle.doc(row["sessionId"])
        check_shape(row, doc)
        assert row["sessionNumber"] == replay.oracle.session_number(row["sessionId"])
        assert row["video"] is None
        assert (
            row["url"]
            == f"{replay.server.base_url}/app/{replay.creds.appid}/sessions/list/1/{row['sessionId']}"
        )


def _reference_sessions() -> list[dict]:
    """Every distinct session row of the captured list answers, as the reference sent it."""
    rows: dict[str, dict] = {}
    for e in LIST_CAPTURES:
        data = e["body"]["data"]
        for row in data if isinstance(data, list) else ():
            rows.setdefault(row["sessionId"], row)
    return list(rows.values())


def test_the_references_own_sessions_ingest_as_they_are(tmp_path: Path) -> None:
    """A migration posts the reference's list rows as they are (SPEC §8.1: a document is the list shape):
    every one is accepted, latitude beyond ±90 included (the reference has latitude and longitude swapped
    in some), and reads back with the same fields."""
    sent = _reference_sessions()
    assert len(sent) > 150 and any(abs(r["location"]["latitude"] or 0) > 90 for r in sent)
    server = Server(data_dir=tmp_path, store_url=store_url("duckdb", tmp_path))
    creds = server.create_app("migrated")
    server.start()
    try:
        client = server.client()
        for body in ingest(client, creds, sent, batch=500):
            assert body["rejected"] == [], body["rejected"][:3]
        window = {"attribute": "date_range", "operator": "between_dates",
                  "value": {"lower": "2000-01-01", "upper": "2099-12-31"}}
        got: dict[str, dict] = {}
        page = 1
        while page:
            r = client.get("/v2/session", headers=creds.read_headers,
                           params={"filters": json.dumps([window]), "page": page, "page_size": 500})
            assert r.status_code == 200, r.text
            got.update((row["sessionId"], row) for row in r.json()["data"])
            page = r.json()["pagination"]["next"]
        client.close()
    finally:
        server.stop()
    assert set(got) == {r["sessionId"] for r in sent}
    for row in sent:
        back = got[row["sessionId"]]
        for section in ("property", "device", "location", "user"):  # (our rows add (ext) keys beside them)
            mine = {k: back[section].get(k) for k in row[section]}
            assert mine == row[section], (row["sessionId"], section, mine, row[section])
