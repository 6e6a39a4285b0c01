"""The dashboard over plain HTTP: login and its cookie, what is reachable without it, tenancy, video links."""

from __future__ import annotations

import html
import json
import re
import time
from datetime import datetime, timedelta
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest

from api.users_events_oracle import UsersOracle, window_bounds
from sessionscope import signing
from sessionscope.dashboard_link import parse_dashboard_link
from sessionscope.web.filters import to_query as filters_query

from .conftest import SECRET, Site

COOKIE = "sessionscope_dashboard"


def login(site: Site, creds=None, next_: str = "") -> httpx.Response:  # type: ignore[no-untyped-def]
    creds = creds or site.a
    return httpx.post(
        f"{site.base}/login",
        data={"appid": creds.appid, "apikey": creds.apikey, "next": next_},
        follow_redirects=False,
        timeout=30,
    )


def cookie_of(response: httpx.Response) -> str:
    header = response.headers["set-cookie"]
    return header.split(";", 1)[0].split("=", 1)[1]


def get(site: Site, path: str, token: str | None = None) -> httpx.Response:
    headers = {"Cookie": f"{COOKIE}={token}"} if token else {}
    return httpx.get(f"{site.base}{path}", headers=headers, follow_redirects=False, timeout=30)


def model_link(site: Site) -> tuple[str, dict]:
    r = site.client.get(
        "/v2/session/analytics",
        params={"group_by": json.dumps([{"attribute": "device_model", "max_group_number": 3}])},
        headers=site.a.read_headers,
    )
    row = r.json()["data"][0]
    return site.path(row["dashboard_link"]), row


def test_no_dashboard_page_without_login(site: Site) -> None:
    link, _ = model_link(site)
    pages = [
        f"/app/{site.a.appid}/sessions/list/1",
        f"/app/{site.a.appid}/sessions/list/3",
        link,
        f"/app/{site.a.appid}/sessions/list/1/{site.video_session}",
        f"/app/{site.a.appid}/analytics",
        f"/app/{site.a.appid}/analytics?g1=device_model",
        f"/app/{site.b.appid}/sessions/list/1",
        "/app/000000000000000000000000/sessions/list/1",
    ]
    for path in pages:
        r = get(site, path)
        assert r.status_code == 303, path
        location = r.headers["location"]
        assert location.startswith("/login?next="), location
        # the requested page, query string included, is remembered exactly
        assert unquote(location.split("=", 1)[1]) == httpx.URL(f"{site.base}{path}").raw_path.decode()
        assert site.video_session not in r.text
    # tampered, expired and wrong-purpose cookies are no login either
    good = cookie_of(login(site))
    body, mac = good.split(".")
    expired = signing.sign(SECRET, "dashboard", json.loads(signing._unb64(body))["d"], int(time.time()) - 1)
    wrong_purpose = signing.sign(
        SECRET, "video", json.loads(signing._unb64(body))["d"], int(time.time()) + 600
    )
    for token in (body + "." + mac[:-2] + "xx", body, "garbage", expired, wrong_purpose):
        r = get(site, f"/app/{site.a.appid}/sessions/list/1", token)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), token
    assert get(site, f"/app/{site.a.appid}/sessions/list/1", good).status_code == 200


def test_the_login_page_says_why_and_logout_takes_a_post(site: Site) -> None:
    page = f"/app/{site.a.appid}/sessions/list/1"
    good = cookie_of(login(site))
    body, _ = good.split(".")
    expired = signing.sign(SECRET, "dashboard", json.loads(signing._unb64(body))["d"], int(time.time()) - 1)
    r = get(site, page, expired)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next={quote(page, safe='')}&ended=1"
    shown = get(site, r.headers["location"])
    assert "Your login to this app has ended: it lasts 12 hours, and ends when the app&#39;s key is rotated." in shown.text
    assert "Your login to this app has ended" not in get(site, f"/login?next={quote(page, safe='')}").text
    # a link or an image on another site cannot log anyone out: GET is refused and leaves the cookie alone
    r = get(site, f"/logout?appid={site.a.appid}", good)
    assert r.status_code == 405 and "set-cookie" not in r.headers
    assert get(site, page, good).status_code == 200
    r = httpx.post(f"{site.base}/logout", data={"appid": site.a.appid}, headers={"Cookie": f"{COOKIE}={good}"},
                   follow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["location"] == f"/login?appid={site.a.appid}&out=1"
    assert r.headers["set-cookie"].startswith(f'{COOKIE}=""') and f"Path=/app/{site.a.appid}" in r.headers["set-cookie"]
    assert "You are logged out of this app." in get(site, r.headers["location"]).text


def test_login_sets_a_scoped_http_only_cookie(site: Site) -> None:
    target = f"/app/{site.a.appid}/sessions/list/2?device_model=" + quote('{"o":"in","v":["x"]}', safe="")
    r = login(site, next_=target)
    assert r.status_code == 303
    assert r.headers["location"] == target
    header = r.headers["set-cookie"]
    attrs = {a.strip().split("=", 1)[0].lower(): a.strip() for a in header.split(";")[1:]}
    assert attrs["path"] == f"Path=/app/{site.a.appid}"
    assert "httponly" in attrs
    assert attrs["samesite"].lower() == "samesite=lax"
    assert attrs["max-age"] == "Max-Age=43200"
    assert "expires" in attrs
    token = cookie_of(r)
    assert site.a.apikey not in header and site.a.apikey not in r.headers["location"]
    payload = signing.verify(SECRET, "dashboard", token, int(time.time()))
    assert payload is not None and payload["a"] == site.a.appid
    assert site.a.apikey not in json.dumps(payload)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/app",
        "/login",
        "/app/{b}/sessions/list/1",
        "/app/{a}x/",
        "javascript:alert(1)",
        "",
    ],
)
def test_login_only_returns_to_the_same_apps_pages(site: Site, target: str) -> None:
    r = login(site, next_=target.format(a=site.a.appid, b=site.b.appid))
    assert r.status_code == 303
    assert r.headers["location"] == f"/app/{site.a.appid}/sessions/list/1"


def test_wrong_credentials_are_refused(site: Site) -> None:
    for appid, key in (
        (site.a.appid, "sk_wrong"),
        (site.a.appid, site.b.apikey),  # another app's key
        (site.a.appid, site.a.ingest_key),  # the ingest key cannot read
        (site.b.appid, site.a.apikey),
        ("not-an-app", site.a.apikey),
        ("", ""),
    ):
        r = httpx.post(
            f"{site.base}/login", data={"appid": appid, "apikey": key}, follow_redirects=False, timeout=30
        )
        assert r.status_code == 401
        assert "set-cookie" not in r.headers
        assert "do not match" in r.text
        assert key not in r.text or key == ""


def test_the_key_never_reaches_a_url_or_the_log(site: Site) -> None:
    login(site, next_=f"/app/{site.a.appid}/analytics")
    r = httpx.get(f"{site.base}/login?next=/app/{site.a.appid}/analytics", timeout=30)
    assert 'method="post"' in r.text and 'type="password"' in r.text
    log = site.server.log_path.read_text()  # type: ignore[union-attr]
    assert site.a.apikey not in log and site.b.apikey not in log


def test_another_apps_pages_show_no_data(site: Site) -> None:
    token = cookie_of(login(site))
    b_session = site.docs_b[0]["sessionId"]
    # B's pages with A's cookie: back to the login form
    for path in (
        f"/app/{site.b.appid}/sessions/list/1",
        f"/app/{site.b.appid}/sessions/list/1/{b_session}",
        f"/app/{site.b.appid}/analytics",
    ):
        r = get(site, path, token)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        assert b_session not in r.text
    # B's session under A's pages: not found, whatever the id
    for sid in (b_session, "no-such-session", "x' OR '1'='1"):
        r = get(site, f"/app/{site.a.appid}/sessions/list/1/{quote(sid)}", token)
        assert r.status_code == 404, sid
        assert "no such session" in r.text
    r = get(site, f"/app/{site.a.appid}/sessions/list/1/{site.video_session}", token)
    assert r.status_code == 200 and site.video_session in r.text


def test_video_link_on_the_page_plays_and_tampered_or_expired_is_403(site: Site) -> None:
    token = cookie_of(login(site))
    html = get(site, f"/app/{site.a.appid}/sessions/list/1/{site.video_session}", token).text
    src = re.search(r'<video[^>]+src="([^"]+)"', html)
    assert src is not None
    path = src.group(1)
    assert path.startswith("/v2/video/")
    r = httpx.get(f"{site.base}{path}", headers={"Range": "bytes=0-99"}, timeout=30)
    assert r.status_code == 206 and r.headers["content-type"] == "video/mp4" and r.content[4:8] == b"ftyp"
    signed = path.rsplit("/", 1)[1]
    body, mac = signed.split(".")
    for bad in (body + "." + mac[::-1], body[:-3] + "AAA." + mac, body, "a.b"):
        assert httpx.get(f"{site.base}/v2/video/{bad}", timeout=30).status_code == 403
    expired = signing.sign(
        SECRET, "video", {"a": site.a.appid, "s": site.video_session}, int(time.time()) - 1
    )
    assert httpx.get(f"{site.base}/v2/video/{expired}", timeout=30).status_code == 403
    # a session without a video says so
    html = get(site, f"/app/{site.a.appid}/sessions/list/1/{site.plain_session}", token).text
    assert "<video" not in html and "No video" in html


def test_list_with_video_links_through_the_api(site: Site) -> None:
    r = site.client.get(
        "/v2/session",
        params={
            "with_video": "true",
            "filters": json.dumps(
                [
                    {
                        "attribute": "session_id",
                        "operator": "in",
                        "value": [site.video_session, site.plain_session],
                    }
                ]
            ),
        },
        headers=site.a.read_headers,
    )
    rows = {d["sessionId"]: d for d in r.json()["data"]}
    assert rows[site.plain_session]["video"] == "No video available for this session"
    video = httpx.get(rows[site.video_session]["video"], timeout=30)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    assert (
        rows[site.video_session]["url"]
        == f"{site.base}/app/{site.a.appid}/sessions/list/1/{site.video_session}"
    )


def test_filter_form_redirects_to_the_link_format(site: Site) -> None:
    token = cookie_of(login(site))
    value = quote('SM-A135F, "iPhone12,3" ,moto g54 5G', safe="")
    query = f"form=1&f_attr=device_model&f_op=in&f_prop=&f_val={value}&f_val2=&f_extra="
    r = get(site, f"/app/{site.a.appid}/sessions/list/4?{query}", token)
    assert r.status_code == 303
    location = r.headers["location"]
    assert urlsplit(location).path == f"/app/{site.a.appid}/sessions/list/1"
    # values are comma-separated, CSV-style: a quoted value keeps its comma
    assert parse_dashboard_link(location) == [
        {"attribute": "device_model", "operator": "in", "value": ["SM-A135F", "iPhone12,3", "moto g54 5G"]}
    ]
    assert get(site, location, token).status_code == 200


def test_invalid_filter_is_explained_on_the_page(site: Site) -> None:
    token = cookie_of(login(site))
    query = "form=1&f_attr=device_model&f_op=greater&f_prop=&f_val=3&f_val2=&f_extra="
    location = get(site, f"/app/{site.a.appid}/sessions/list/1?{query}", token).headers["location"]
    r = get(site, location, token)
    assert r.status_code == 400
    assert "cannot be applied" in r.text and "greater" in r.text
    assert 'aria-invalid="true"' in r.text
    # the message names the row as the form shows it, not the API's path
    assert "Filter 1 (Device model), condition: &#39;greater&#39; does not apply" in r.text, r.text
    assert "filters[0]" not in r.text
    # an empty box says so, on the row's own words (the second row: the window's "to")
    query = ("form=1&f_attr=device_platform&f_op=equal&f_prop=&f_val=ios&f_val2=&f_extra="
             "&f_attr=date_range&f_op=between_dates&f_prop=&f_val=2026-11-01&f_val2=&f_extra=")
    location = get(site, f"/app/{site.a.appid}/sessions/list/1?{query}", token).headers["location"]
    r = get(site, location, token)
    assert r.status_code == 400 and "Filter 2 (Upload time), to: the box is empty; use" in r.text, r.text


def test_static_assets_are_served_by_the_app(site: Site) -> None:
    css = httpx.get(f"{site.base}/static/app.css", timeout=30)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = httpx.get(f"{site.base}/static/app.js", timeout=30)
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    for bad in ("/static/missing.css", "/static/..%2Fauth.py", "/static/%2e%2e%2fpages.py"):
        assert httpx.get(f"{site.base}{bad}", timeout=30).status_code == 404
    # pages load nothing from elsewhere
    html = httpx.get(f"{site.base}/login", timeout=30).text
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_rotating_the_key_ends_dashboard_logins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from support.server import Server, cli

    server = Server(data_dir=tmp_path, store_url=f"duckdb:///{tmp_path / 'sessions.duckdb'}")
    creds = server.create_app("rotating")
    page = f"/app/{creds.appid}/sessions/list/1"
    try:
        server.start()
        r = httpx.post(
            f"{server.base_url}/login",
            data={"appid": creds.appid, "apikey": creds.apikey},
            follow_redirects=False,
            timeout=30,
        )
        token = cookie_of(r)
        cookie = {"Cookie": f"{COOKIE}={token}"}
        assert httpx.get(f"{server.base_url}{page}", headers=cookie, timeout=30).status_code == 200
        server.stop()  # the embedded store has one writer: rotate with the server stopped
        cli(server.env, "apps", "rotate-key", creds.appid)
        server.start()
        r = httpx.get(f"{server.base_url}{page}", headers=cookie, follow_redirects=False, timeout=30)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    finally:
        server.stop()


def test_a_users_url_opens_that_users_sessions_whatever_its_id(site: Site) -> None:
    """A user id is any text: its `url` (GET /v2/user) percent-encodes it, '/' and '?' included, and the
    dashboard reads it back to list that user's sessions (app B, a session older than the default window)."""
    odd = "odd/user id?#%&é"
    doc = {"sessionId": "odd-user-session", "user": {"uxcamuserid": odd},
           "property": {"uploadedServerTime": (site.now - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")}}
    r = site.client.post("/v2/ingest/sessions", json=[doc], headers=site.b.ingest_headers)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    every = {"attribute": "date_range", "operator": "between_dates", "value": {"lower": "1900-01-01", "upper": "2999-12-31"}}
    mine = {"attribute": "uxcamuserid", "operator": "equal", "value": odd}
    r = site.client.get("/v2/user", params={"filters": json.dumps([every, mine])}, headers=site.b.read_headers)
    (user,) = r.json()["data"]
    assert user["url"] == f"{site.base}/app/{site.b.appid}/users/list/1/{quote(odd, safe='')}"
    token = cookie_of(login(site, site.b))
    r = get(site, site.path(user["url"]), token)
    assert r.status_code == 303
    sessions = get(site, r.headers["location"], token)
    assert sessions.status_code == 200 and "odd-user-session" in sessions.text
    # the list the redirect opens is that user's: its filter names the whole id
    assert json.loads(unquote(urlsplit(r.headers["location"]).query.split("uxcamuserid=", 1)[1].split("&")[0]))["v"] == odd


@pytest.mark.parametrize(
    ("user_filters", "group_by"),
    [
        ([{"attribute": "user_session_count", "operator": "greater", "value": 1}], []),
        (
            [{"attribute": "user_session_duration", "operator": "greater", "value": 600},
             {"attribute": "device_platform", "operator": "equal", "value": "ios"}],
            [{"attribute": "device_country", "max_group_number": 2}],
        ),
        ([{"attribute": "user_first_seen_on", "operator": "after", "value": "2000-01-01"}], []),
        # a user's "had none" (no purchase in any of its sessions in the window), read so by the link too
        ([{"attribute": "event_name", "operator": "not_in", "value": ["Purchase"]}],
         [{"attribute": "device_country", "max_group_number": 2}]),
        ([{"attribute": "event_custom_property", "operator": "not_equal", "property_name": "category", "value": "apparel"},
          {"attribute": "device_platform", "operator": "equal", "value": "android"}], []),
        ([{"attribute": "event_name", "operator": "not_equal", "value": "Add to cart",
           "property": {"name": "price", "operator": "greater", "value": "10"}}], []),
    ],
)
def test_a_user_analytics_link_lists_the_sessions_of_its_users(site: Site, user_filters, group_by) -> None:
    """The reference links a user analytics row to the session list with the request's user conditions
    (`user_session_count`, `user_first_seen_on`...): the list shows the sessions of the window that pass
    the session conditions and whose user passes the user ones, and counts them."""
    params = {"filters": json.dumps(user_filters)}
    if group_by:
        params["group_by"] = json.dumps(group_by)
    r = site.client.get("/v2/user/analytics", params=params, headers=site.a.read_headers)
    assert r.status_code == 200, r.text
    token = cookie_of(login(site))
    oracle = UsersOracle(site.docs_a)
    checked = 0
    for row in r.json()["data"]:
        link = row["dashboard_link"]
        assert site.path(link).startswith(f"/app/{site.a.appid}/sessions/list/1?")
        filters = parse_dashboard_link(link)
        named = {f"user_{f['attribute']}" if f["operator"].startswith("not_") else f["attribute"] for f in user_filters}
        assert named <= {f["attribute"] for f in filters}, filters
        matching, _ = oracle.matching(filters, window_bounds(filters, site.now))
        assert len({s.user for s in matching}) == row["user_count"], row  # the oracle reads the link as the API does
        page = get(site, site.path(link), token)
        assert page.status_code == 200, page.text[:500]
        shown = int(re.search(r'id="session-count" data-count="(\d+)"', page.text).group(1))
        assert shown == len(matching) > 0, row
        newest = sorted(matching, key=lambda s: s.sid)
        newest.sort(key=lambda s: s.uploaded, reverse=True)
        listed = re.findall(rf"/app/{site.a.appid}/sessions/list/1/([^?\"/]+)", page.text)
        assert list(dict.fromkeys(listed)) == [s.sid for s in newest[:25]]
        checked += 1
    assert checked >= 1


def fixed_window(site: Site) -> dict:
    """The last 30 days as of the fixture's time, written out: a default window ends at each request's time,
    minutes after the fixture's in a full run, and the oracle would count other sessions at its start."""
    return {"attribute": "date_range", "operator": "between_dates",
            "value": {"lower": f"{site.now - timedelta(days=30):%Y-%m-%dT%H:%M:%SZ}", "upper": f"{site.now:%Y-%m-%dT%H:%M:%SZ}"}}


@pytest.mark.parametrize("extra", ["search?q=a&b=c", "?", "x?y=1#top"])
def test_a_filter_value_with_a_question_mark_keeps_every_filter_on_the_page(site: Site, extra: str) -> None:
    """A referrer or a UTM-bearing URL holds a `?`; links keep filter values as sent, so the page's query
    string holds one too. The page read only what followed it: every filter dropped, all sessions shown."""
    model = site.docs_a[0]["device"]["model"]
    filters = [fixed_window(site), {"attribute": "device_model", "operator": "in", "value": [model, extra]},
               {"attribute": "user_custom_property", "property_name": "q?x", "operator": "not_equal", "value": extra}]
    r = site.client.get("/v2/session/analytics", params={"filters": json.dumps(filters)}, headers=site.a.read_headers)
    assert r.status_code == 200, r.text
    row = r.json()["data"][0]
    matching, _ = UsersOracle(site.docs_a).matching(filters, window_bounds(filters, site.now))
    assert row["session_count"] == len(matching) > 0
    link = row["dashboard_link"]
    assert "?" in link.split("?", 1)[1]
    page = get(site, site.path(link), cookie_of(login(site)))
    assert page.status_code == 200, page.text[:500]
    assert f'data-count="{row["session_count"]}"' in page.text
    assert html.escape(extra, quote=True) in page.text  # the form shows the value


@pytest.mark.parametrize("bucket", ["session_uploaded_week", "session_uploadedon_day"])
def test_a_user_analytics_time_bucket_link_keeps_the_users_totals_over_the_window(site: Site, bucket: str) -> None:
    """A user analytics row of a week counts the users with more than 2 sessions in the request's window who
    have a session that week. Its link lists those sessions: the bucket picks the sessions, the users' totals
    stay over the window (the bucket read as the window made it "more than 2 sessions in that week")."""
    user_filter = {"attribute": "user_session_count", "operator": "greater", "value": 2}
    window = fixed_window(site)
    params = {"filters": json.dumps([window, user_filter]), "group_by": json.dumps([{"attribute": bucket}])}
    r = site.client.get("/v2/user/analytics", params=params, headers=site.a.read_headers)
    assert r.status_code == 200, r.text
    oracle = UsersOracle(site.docs_a)
    in_window = window_bounds([window], site.now)
    passing = {s.user for s in oracle.matching([user_filter], in_window)[0]}  # over the whole window
    token = cookie_of(login(site))
    checked = 0
    for row in r.json()["data"]:
        if not row["user_count"]:
            continue
        days = [f for f in parse_dashboard_link(row["dashboard_link"]) if f["attribute"] == "date_range"][0]["value"]
        lo = datetime.fromisoformat(days["lower"])
        hi = datetime.fromisoformat(days["upper"]) + timedelta(days=1) - timedelta(seconds=1)
        sessions = [s for s in oracle.sessions if in_window(s.uploaded) and lo <= s.uploaded <= hi and s.user in passing]
        assert len({s.user for s in sessions}) == row["user_count"], row  # the row, independently
        page = get(site, site.path(row["dashboard_link"]), token)
        assert page.status_code == 200, page.text[:500]
        assert f'data-count="{len(sessions)}"' in page.text, (row, len(sessions))
        checked += 1
        if checked == 4:
            break
    assert checked == 4


def test_a_link_cut_short_is_explained_not_shown_unfiltered(site: Site) -> None:
    """A link that lost its end on the way (a chat client cutting a long URL, say) names the condition it
    cannot read, on the list and on the analytics page, instead of showing every session."""
    link, row = model_link(site)
    model = row["device_model"]
    cut = link[: link.index("device_model=") + len('device_model={"o":"in","v":["') + 2]
    token = cookie_of(login(site))
    for path in (cut, cut.replace("/sessions/list/1?", "/analytics?")):
        r = get(site, path, token)
        assert r.status_code == 400, path
        assert "cannot be read" in r.text and "device_model=" in r.text
        assert 'data-count="0"' in r.text or "session-count" not in r.text
    whole = get(site, link, token)  # the whole link still reads
    assert whole.status_code == 200 and f'data-count="{row["session_count"]}"' in whole.text, model


def test_the_servers_address_opens_the_login_in_a_browser(site: Site) -> None:
    r = httpx.get(f"{site.base}/", headers={"Accept": "text/html,application/xhtml+xml"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert get(site, "/login").status_code == 200
    # a script asking for the root gets the API's JSON 404, which says where the endpoints are
    r = httpx.get(f"{site.base}/", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found" and "/v2" in r.json()["error"]["message"]


def test_page_labels_count_in_words(site: Site) -> None:
    """One session reads "1 session", "1 user"; a page past the last one says so and links to the last."""
    token = cookie_of(login(site))
    one = next(d for d in site.docs_a if d["sessionId"] == site.plain_session)
    query = filters_query([
        {"attribute": "date_range", "operator": "between_dates", "value": {"lower": "1900-01-01", "upper": "2999-12-31"}},
        {"attribute": "session_id", "operator": "equal", "value": one["sessionId"]},
    ])
    text = re.sub(r"\s+", " ", get(site, f"/app/{site.a.appid}/sessions/list/1?{query}", token).text)
    assert 'data-count="1"' in text
    assert '>1</span><span class="stat-label">user</span>' in text and "1 users" not in text
    text = re.sub(r"\s+", " ", get(site, f"/app/{site.a.appid}/sessions/list/9999", token).text)
    last = -(-int(re.search(r'data-count="(\d+)"', text).group(1)) // 25)  # the default window's pages
    assert 1 < last < 9999
    assert f"Page 9,999, past the last ({last:,})" in text and "Page 9,999 of" not in text
    assert f'rel="prev" href="/app/{site.a.appid}/sessions/list/{last}">← Last page' in text


def test_a_sessions_events_show_in_time_order(site: Site) -> None:
    events = [{"name": "third", "timeSec": 30}, {"name": "first", "timeSec": 1.5}, {"name": "untimed"},
              {"name": "second", "timeSec": 10}, {"name": "also-second", "timeSec": 10}]
    doc = {"sessionId": "events-out-of-order", "events": events, "user": {"uxcamuserid": "timeline-user"},
           "property": {"uploadedServerTime": (site.now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}}
    r = site.client.post("/v2/ingest/sessions", json=[doc], headers=site.b.ingest_headers)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    token = cookie_of(login(site, site.b))
    page = get(site, f"/app/{site.b.appid}/sessions/list/1/events-out-of-order", token)
    assert page.status_code == 200
    table = page.text.split('id="events-table"', 1)[1].split("</table>", 1)[0]
    shown = re.findall(r"<td data-label=\"Event\"><strong>([^<]+)</strong></td>", table)
    assert shown == ["untimed", "first", "second", "also-second", "third"]  # no timeSec: the start


def test_custom_properties_show_as_sent(site: Site) -> None:
    """An id sent as a number is not given thousands separators, nor a price rounded: custom properties
    (the user's and the events') read as the app sent them."""
    doc = {"sessionId": "as-sent", "property": {"hasVideo": True},
           "user": {"uxcamuserid": "as-sent-user", "account_id": 1234567, "ltv": 1978.125,
                                            "beta": True, "tags": ["a", "b"]},
           "events": [{"name": "Buy", "timeSec": 1.0, "properties": {"price": 1067.3, "sku": 900001}}]}
    r = site.client.post("/v2/ingest/sessions", json=[doc], headers=site.b.ingest_headers)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    token = cookie_of(login(site, site.b))
    page = get(site, f"/app/{site.b.appid}/sessions/list/1/as-sent", token)
    assert page.status_code == 200
    props = re.search(r'<dl class="kv" id="user-properties">(.*?)</dl>', page.text, re.S).group(1)
    shown = dict(re.findall(r"<dt><code>([^<]+)</code></dt><dd>([^<]*)</dd>", props))
    assert shown == {"account_id": "1234567", "ltv": "1978.125", "beta": "true", "tags": "[&#34;a&#34;, &#34;b&#34;]"}, shown
    chips = dict(re.findall(r'<span class="chip-key">([^<]+)</span> ([^<]*)</span>', page.text))
    assert chips == {"price": "1067.3", "sku": "900001"}, chips
    # the SDK said it recorded video, and no file came: the replay card says both, not just "no video"
    assert "The app recorded this session with video, but no replay file was uploaded for it." in page.text


def test_a_day_series_of_the_default_window_notes_its_cut_buckets(site: Site) -> None:
    token = cookie_of(login(site))
    page = get(site, f"/app/{site.a.appid}/analytics?g1=session_uploadedon_day", token)
    assert page.status_code == 200
    note = re.search(r"<p class=\"fine\" data-partial>([^<]+)</p>", page.text)
    assert note and note.group(1).endswith("its first and last buckets hold only part of a day."), note
    # a window of whole days has none
    whole = filters_query([{"attribute": "date_range", "operator": "between_dates",
                            "value": {"lower": (site.now - timedelta(days=5)).strftime("%Y-%m-%d"),
                                      "upper": (site.now - timedelta(days=1)).strftime("%Y-%m-%d")}}])
    page = get(site, f"/app/{site.a.appid}/analytics?g1=session_uploadedon_day&{whole}", token)
    assert page.status_code == 200 and "data-partial" not in page.text


def test_a_comparison_names_its_previous_period_and_colours_by_good_news(site: Site) -> None:
    token = cookie_of(login(site))
    lower, upper = (site.now - timedelta(days=10)).strftime("%Y-%m-%d"), (site.now - timedelta(days=1)).strftime("%Y-%m-%d")
    window = filters_query([{"attribute": "date_range", "operator": "between_dates", "value": {"lower": lower, "upper": upper}}])
    page = get(site, f"/app/{site.a.appid}/analytics?cmp=1&{window}", token)
    assert page.status_code == 200
    before_lo = (site.now - timedelta(days=20)).strftime("%Y-%m-%d")
    before_hi = (site.now - timedelta(days=11)).strftime("%Y-%m-%d")
    assert f"of the same length: {before_lo} 00:00 to {before_hi} 23:59 UTC." in page.text
    # each change's colour is its good-news reading: read the API's own changes, then the page's classes
    totals = site.client.get("/v2/session/analytics", headers=site.a.read_headers, params={
        "filters": json.dumps([{"attribute": "date_range", "operator": "between_dates", "value": {"lower": lower, "upper": upper}}]),
        "comparison": "1"}).json()["data"][0]
    stats = re.findall(r'<span class="stat-label">([^<]+)</span>.*?<span class="delta ([^"]*)">', page.text, re.S)
    assert len(stats) >= 5
    from sessionscope.web import format as fmt_mod
    by_label = {fmt_mod.metric_label(k): k for k in totals if not k.endswith("_pct_change") and k != "dashboard_link"}
    for label, css in stats:
        key = by_label[label]
        change = totals[f"{key}_pct_change"]
        lower_is_better = "rage_gesture" in key or "unresponsive_gesture" in key
        want = "delta-none" if change is None else "" if change == 0 else (
            "delta-good" if (change < 0) == lower_is_better else "delta-bad")
        assert css == want, (label, change, css)


def test_a_page_number_out_of_range_is_not_blamed_on_the_filters(site: Site) -> None:
    token = cookie_of(login(site))
    r = get(site, f"/app/{site.a.appid}/sessions/list/99999999999999999999", token)
    assert r.status_code == 400 and "<strong>This page cannot be shown.</strong>" in r.text, r.text[:500]
    assert "cannot be applied" not in r.text and "page must be an integer from 1 to" in r.text


def test_a_bars_title_counts_the_sessions_it_opens_whatever_the_chart_measures(site: Site) -> None:
    token = cookie_of(login(site))
    page = get(site, f"/app/{site.a.appid}/analytics?g1=device_platform&metric=session_unique_user_count", token)
    assert page.status_code == 200
    rows = site.client.get("/v2/session/analytics", headers=site.a.read_headers,
                           params={"group_by": json.dumps([{"attribute": "device_platform"}])}).json()["data"]
    titles = re.findall(r'data-bar title="Open the ([0-9,]+) (\w+) sessions"', page.text)
    assert titles and {label: int(n.replace(",", "")) for n, label in titles} == {
        r["device_platform"]: r["session_count"] for r in rows if r["device_platform"] is not None}
    assert all(r["session_unique_user_count"] != r["session_count"] for r in rows)  # the chart's figures differ


def test_event_rows_name_their_user_as_the_session_list_does(site: Site) -> None:
    """An event's userProperty has no alias (the reference's shape); its row still names the user by the
    alias the session list shows: the one sent, or the one derived for a user sent without (SPEC)."""
    token = cookie_of(login(site))
    text = get(site, f"/app/{site.a.appid}/events/list/1", token).text
    row = r'href="/app/[^/]+/sessions/list/1/([^"?]+)[^"]*">[^<]*</a>\s*<div class="sub">Session #(\d+) of (.*?)</div>'
    rows = re.findall(row, text)
    by_sid = {d["sessionId"]: d for d in site.docs_a}
    assert len(rows) == 25  # a page
    assert [who for _, _, who in rows] == [html.escape(by_sid[sid]["user"]["alias"]) for sid, _, _ in rows]

    doc = {"sessionId": "nameless-user-events", "events": [{"name": "nameless-check", "timeSec": 1}],
           "user": {"uxcamuserid": "nameless-user-0123456789"},
           "property": {"uploadedServerTime": (site.now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}}
    r = site.client.post("/v2/ingest/sessions", json=[doc], headers=site.b.ingest_headers)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    by_user = [{"attribute": "uxcamuserid", "operator": "equal", "value": "nameless-user-0123456789"}]
    listed = site.client.get("/v2/session", params={"filters": json.dumps(by_user)}, headers=site.b.read_headers).json()
    alias = listed["data"][0]["user"]["alias"]
    assert alias
    query = filters_query([{"attribute": "event_name", "operator": "equal", "value": "nameless-check"}])
    text = get(site, f"/app/{site.b.appid}/events/list/1?{query}", cookie_of(login(site, site.b))).text
    assert re.findall(row, text) == [("nameless-user-events", "1", html.escape(alias))]


@pytest.mark.parametrize("came_from", ["https://evil.example/app/{a}/events/list/1", "/app/{b}/events/list/1",
                                       "/app/{a}/events/list/x", "/app/{a}/events/list/1 onclick=x"])
def test_a_session_pages_way_back_goes_only_to_this_apps_events(site: Site, came_from: str) -> None:
    token = cookie_of(login(site))
    base = f"/app/{site.a.appid}/sessions/list/1/{site.plain_session}"
    good = f"/app/{site.a.appid}/events/list/2?event_name=x"
    text = get(site, f"{base}?from={quote(good, safe='')}", token).text
    assert f'<a href="{html.escape(good)}">← Events</a>' in text
    bad = came_from.format(a=site.a.appid, b=site.b.appid)
    text = get(site, f"{base}?from={quote(bad, safe='')}", token).text
    assert "← Events" not in text and f'<a href="/app/{site.a.appid}/sessions/list/1">← Sessions</a>' in text


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}])
def test_login_and_logout_forms_from_another_site_are_refused(site: Site, headers: dict) -> None:
    """Login CSRF: another site's page posting the attacker's app id and key would log the visitor into it."""
    form = {"appid": site.b.appid, "apikey": site.b.apikey, "next": ""}
    r = httpx.post(f"{site.base}/login", data=form, headers=headers, follow_redirects=False, timeout=30)
    assert r.status_code == 403 and "set-cookie" not in r.headers and "sent from another site" in r.text
    r = httpx.post(f"{site.base}/logout", data={"appid": site.a.appid}, headers=headers, follow_redirects=False,
                   timeout=30)
    assert r.status_code == 403 and "set-cookie" not in r.headers
    own = {"Origin": site.base, "Sec-Fetch-Site": "same-origin"}  # the page's own form, as a browser sends it
    r = httpx.post(f"{site.base}/login", data=form, headers=own, follow_redirects=False, timeout=30)
    assert r.status_code == 303 and COOKIE in r.headers["set-cookie"]
