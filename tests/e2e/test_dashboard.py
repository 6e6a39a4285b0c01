"""The dashboard in a real browser (Debian's Chromium via Playwright): log in, follow analytics links,
edit filters, open a session and play its replay, read the charts. Every number is checked against the
API's answer or the independent list oracle (tests/api/list_oracle.py), never against the page itself."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from api.list_oracle import Oracle
from sessionscope.dashboard_link import parse_dashboard_link
from sessionscope.web.filters import to_query as filters_query

from .conftest import Site, log_in

pytestmark = pytest.mark.browser

PAGE_SIZE = 25


def analytics_rows(site: Site, group_by: list[dict], **params: str) -> list[dict]:
    r = site.client.get(
        "/v2/session/analytics",
        params={"group_by": json.dumps(group_by), "page_size": "500", **params},
        headers=site.a.read_headers,
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]


def shown_count(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.get_attribute("#session-count", "data-count"))


def listed_ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all("#sessions-table tbody tr", "rows => rows.map(r => r.dataset.sessionId)")


def expected_ids(site: Site, filters: list[dict]) -> list[str]:
    return Oracle(site.docs_a).matching(filters, site.now)


def shot(page, artifacts: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def test_login_from_a_dashboard_link_shows_that_rows_sessions(page, site: Site, artifacts: Path) -> None:
    rows = analytics_rows(site, [{"attribute": "device_model", "max_group_number": 5}])
    row = next(
        r for r in rows if r["device_model"] not in (None, "others") and r["session_count"] > PAGE_SIZE
    )
    link = row["dashboard_link"]

    page.goto(link)
    assert page.url.startswith(f"{site.base}/login?next=")
    assert page.input_value("#appid") == site.a.appid  # prefilled from the page asked for
    shot(page, artifacts, "01-login")
    log_in(page, site)

    # back on exactly the page the link named, its query string intact
    assert unquote(page.url) == unquote(link.replace(" ", "%20"))
    assert shown_count(page) == row["session_count"]
    filters = parse_dashboard_link(link)
    ids = expected_ids(site, filters)
    assert len(ids) == row["session_count"]
    assert listed_ids(page) == ids[:PAGE_SIZE]
    # the link's conditions are the editable filter rows
    assert page.input_value("#f_attr_0") == "device_model"
    assert page.input_value("#f_op_0") == "in"
    assert page.input_value("#f_val_0") in (row["device_model"], f'"{row["device_model"]}"')
    assert page.input_value("#f_attr_1") == "date_range" and page.input_value("#f_op_1") == "between_dates"
    shot(page, artifacts, "02-session-list-from-dashboard-link")

    # the last page holds the rest
    pages = -(-row["session_count"] // PAGE_SIZE)
    assert page.inner_text(".page-of") == f"Page 1 of {pages}"
    with page.expect_navigation():
        page.click("a[rel=next]")
    assert listed_ids(page) == ids[PAGE_SIZE : 2 * PAGE_SIZE]
    assert page.errors == []  # type: ignore[attr-defined]


def test_every_kind_of_group_link_counts_its_rows(page, site: Site) -> None:
    """Plain values, the missing-value group and "others", for a string attribute and for the platform."""
    page.goto(f"{site.base}/app/{site.a.appid}/sessions/list/1")
    log_in(page, site)
    rows = analytics_rows(site, [{"attribute": "device_platform", "max_group_number": 3}])  # with web's null
    rows += analytics_rows(site, [{"attribute": "device_platform", "max_group_number": 1}])[-1:]  # others
    rows += analytics_rows(site, [{"attribute": "device_model", "max_group_number": 3}])[-2:]
    rows += analytics_rows(site, [{"attribute": "session_uploaded_week"}])[-2:]
    kinds = {str(r.get("device_platform", r.get("device_model", "week"))) for r in rows}
    assert {"None", "others"} <= kinds
    for row in rows:
        page.goto(row["dashboard_link"])
        assert shown_count(page) == row["session_count"], row
        assert len(expected_ids(site, parse_dashboard_link(row["dashboard_link"]))) == row["session_count"]


def test_editing_filters_changes_the_count(page, site: Site, artifacts: Path) -> None:
    rows = analytics_rows(site, [{"attribute": "device_model", "max_group_number": 4}])
    first, second = [r for r in rows if r["device_model"] not in (None, "others")][:2]
    page.goto(first["dashboard_link"])
    log_in(page, site)
    window = [f for f in parse_dashboard_link(first["dashboard_link"]) if f["attribute"] == "date_range"]

    # widen the model filter to two models (CSV-style, so "iPhone12,3" stays one value)
    both = [first["device_model"], second["device_model"]]
    page.fill("#f_val_0", ", ".join(json.dumps(m) for m in both))
    with page.expect_navigation():
        page.click("#apply-filters")
    model_filter = {"attribute": "device_model", "operator": "in", "value": both}
    expected = expected_ids(site, [model_filter, *window])
    assert shown_count(page) == len(expected) == first["session_count"] + second["session_count"]
    assert listed_ids(page) == expected[:PAGE_SIZE]

    # add a filter: the operator list follows the attribute's type
    page.click("[data-action=add-filter]")
    new = page.locator("#filter-rows [data-row]").last
    new.locator("[data-role=attr]").select_option("session_duration")
    ops = new.locator("[data-role=op] option").evaluate_all("os => os.map(o => o.value)")
    assert ops == ["greater", "less", "greater_or_equal", "less_or_equal", "equal", "not_equal"]
    new.locator("[data-role=attr]").select_option("user_custom_property")
    assert new.locator("[data-role=prop]").is_visible()
    new.locator("[data-role=prop]").fill("plan")
    new.locator("[data-role=op]").select_option("not_equal")
    new.locator("[data-role=val]").fill("free")
    with page.expect_navigation():
        page.click("#apply-filters")
    plan_filter = {
        "attribute": "user_custom_property",
        "property_name": "plan",
        "operator": "not_equal",
        "value": "free",
    }
    expected = expected_ids(site, [model_filter, *window, plan_filter])
    assert 0 < len(expected) < first["session_count"] + second["session_count"]
    assert shown_count(page) == len(expected)
    assert listed_ids(page) == expected[:PAGE_SIZE]
    shot(page, artifacts, "03-session-list-edited-filters")

    # remove the model filter: the count is every plan != free session of the window
    page.locator("#filter-rows [data-row]").first.locator("[data-action=remove-filter]").click()
    with page.expect_navigation():
        page.click("#apply-filters")
    assert shown_count(page) == len(expected_ids(site, [*window, plan_filter]))
    assert page.errors == []  # type: ignore[attr-defined]


def test_session_page_plays_the_replay(page, site: Site, artifacts: Path) -> None:
    doc = next(d for d in site.docs_a if d["sessionId"] == site.video_session)
    page.goto(
        f"{site.base}/app/{site.a.appid}/sessions/list/1?session_id="
        + json.dumps({"o": "equal", "v": site.video_session})
    )
    log_in(page, site)
    assert shown_count(page) == 1
    with page.expect_navigation():
        page.click("#sessions-table a.row-link")
    assert f"/app/{site.a.appid}/sessions/list/1/{site.video_session}" in page.url

    page.wait_for_function("() => document.getElementById('replay').readyState >= 2", timeout=20_000)
    state = page.evaluate(
        "() => { const v = document.getElementById('replay'); return {w: v.videoWidth, h: v.videoHeight, d: v.duration, e: v.error} }"
    )
    assert state == {"w": 96, "h": 176, "d": 2, "e": None}
    # an event's time seeks the player
    seek = page.locator("[data-seek]").nth(1)
    target = min(float(seek.get_attribute("data-seek")), 2.0)
    seek.click()
    page.wait_for_function(
        f"() => Math.abs(document.getElementById('replay').currentTime - {target}) < 0.6 || !document.getElementById('replay').paused"
    )

    screens = page.eval_on_selector_all(
        "#screens li", "items => items.map(i => i.textContent.trim().replace(/^\\d+\\s+/, ''))"
    )
    assert screens == doc["screens"]
    events = page.eval_on_selector_all(
        "#events-table tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent.trim())"
    )
    assert events == [e["name"] for e in doc["events"]]
    custom = {
        k: v for k, v in doc["user"].items() if k not in ("alias", "uxcamuserid", "kUXCam_UserIdentity")
    }
    shown = page.eval_on_selector_all("#user-properties dt", "dts => dts.map(d => d.textContent.trim())")
    assert shown == list(custom)
    assert page.inner_text("#session-id") == site.video_session
    # a fresh player, paused at 1s; the viewport only (a full-page screenshot resizes the page, which
    # turns the player's loading indicator on)
    page.reload()
    page.wait_for_function("() => document.getElementById('replay').readyState >= 4")
    page.evaluate(
        """() => new Promise(done => {
            const v = document.getElementById('replay');
            v.pause();
            v.addEventListener('seeked', () => done(), {once: true});
            v.currentTime = 1;
        })"""
    )
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / "04-session-detail-with-replay.png"))
    assert page.errors == []  # type: ignore[attr-defined]


def test_session_without_video_says_so(page, site: Site, artifacts: Path) -> None:
    page.goto(f"{site.base}/app/{site.a.appid}/sessions/list/1/{site.plain_session}")
    log_in(page, site)
    assert page.locator("video").count() == 0
    assert "No video" in page.inner_text("#no-video")
    shot(page, artifacts, "05-session-detail-no-video")


def test_analytics_charts_have_a_bar_per_group_and_bars_open_their_sessions(
    page, site: Site, artifacts: Path
) -> None:
    # one fixed window for the page and the API answers it is checked against (the default window moves
    # with the clock)
    lower, upper = (site.now - timedelta(days=30)).strftime("%Y-%m-%d"), site.now.strftime("%Y-%m-%d")
    window = {
        "attribute": "date_range",
        "operator": "between_dates",
        "value": {"lower": lower, "upper": upper},
    }
    page.goto(f"{site.base}/app/{site.a.appid}/analytics?" + filters_query([window]))
    log_in(page, site)
    assert page.input_value("#f_val_0") == lower
    # choose the breakdown in the form; "Groups kept" shows only beside a grouping that is not a time series
    size = page.locator("[data-role=group-size]")
    assert size.is_hidden()
    page.select_option("#g2", "session_uploadedon_day")
    assert size.is_hidden()
    page.select_option("#g1", "device_model")
    assert size.is_visible()
    page.select_option("#n", "5")
    page.check("#cmp")
    with page.expect_navigation():
        page.click("#apply-filters")

    within = {"comparison": "1", "filters": json.dumps([window])}
    models = analytics_rows(site, [{"attribute": "device_model", "max_group_number": 5}], **within)
    days = analytics_rows(site, [{"attribute": "session_uploadedon_day", "max_group_number": 5}], **within)
    bars = page.locator("[data-grouping=device_model] [data-bar]")
    assert bars.count() == len(models) == 6  # the top five and "others"
    labels = bars.locator(".bar-label").all_inner_texts()
    assert labels == [("Others" if r["device_model"] == "others" else r["device_model"]) for r in models]
    hrefs = bars.evaluate_all("bars => bars.map(b => b.getAttribute('href'))")
    assert hrefs == [site.path(r["dashboard_link"]) for r in models]
    points = page.locator("[data-grouping=session_uploadedon_day] [data-point]")
    assert points.count() == len(days) == 31  # every day of the window, empty days included
    total = int(page.get_attribute("#total-count", "data-count"))
    assert total == sum(r["session_count"] for r in models) == sum(r["session_count"] for r in days)
    assert page.locator(".delta").count() > 0
    # two groupings: one line per model over the days
    assert page.locator("[data-grouping=combined] path.line").count() == 6
    assert page.locator("[data-role=group-size]").is_visible() and page.input_value("#n") == "5"
    shot(page, artifacts, "06-analytics")

    # every bar opens its sessions
    row = models[2]
    with page.expect_navigation():
        bars.nth(2).click()
    assert shown_count(page) == row["session_count"]
    page.goto(f"{site.base}/app/{site.a.appid}/analytics?g1=session_uploaded_week")  # a time series alone
    assert page.locator("[data-grouping=session_uploaded_week]").count() == 1
    assert page.locator("[data-role=group-size]").is_hidden()
    assert page.errors == []  # type: ignore[attr-defined]


def test_another_apps_pages_are_not_reachable(page, site: Site, artifacts: Path) -> None:
    page.goto(f"{site.base}/app/{site.a.appid}/sessions/list/1")
    log_in(page, site)
    b_session = site.docs_b[0]["sessionId"]
    page.goto(f"{site.base}/app/{site.b.appid}/sessions/list/1")
    assert "/login" in page.url and b_session not in page.content()
    response = page.goto(f"{site.base}/app/{site.a.appid}/sessions/list/1/{b_session}")
    assert response is not None and response.status == 404
    assert "no such session" in page.content()
    shot(page, artifacts, "07-other-apps-session-404")
    # log out: the pages need the key again
    page.goto(f"{site.base}/app/{site.a.appid}/analytics")
    with page.expect_navigation():
        page.click("text=Log out")
    assert "/login" in page.url
    page.goto(f"{site.base}/app/{site.a.appid}/sessions/list/1")
    assert "/login" in page.url


def test_pages_fit_a_phone(browser, site: Site, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(f"{site.base}/app/{site.a.appid}/sessions/list/1/{site.video_session}")
        log_in(page, site)
        for name, path in (
            ("08-phone-session-detail", f"/app/{site.a.appid}/sessions/list/1/{site.video_session}"),
            ("09-phone-session-list", f"/app/{site.a.appid}/sessions/list/1"),
            (
                "10-phone-analytics",
                f"/app/{site.a.appid}/analytics?g1=device_platform&g2=session_uploaded_week",
            ),
        ):
            page.goto(f"{site.base}{path}")
            # the page itself never scrolls sideways (wide tables scroll inside their card)
            assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), name
            # no chart label runs past its drawing (the last week's "Dec 26 - Jan 01" did)
            cut = page.evaluate(
                """() => [...document.querySelectorAll('svg text.tick')].filter(t => {
                    const b = t.getBBox(), w = t.ownerSVGElement.viewBox.baseVal.width;
                    return b.x < -0.5 || b.x + b.width > w + 0.5; }).map(t => t.textContent)"""
            )
            assert cut == [], (name, cut)
            # a chart's labels stay readable: the drawing scrolls in its card rather than shrink to fit
            smallest = page.evaluate(  # CSS px of a tick's font: its size in the drawing times the drawing's scale
                """() => Math.min(...[...document.querySelectorAll('svg text.tick')].map(t => {
                    const svg = t.ownerSVGElement;
                    return parseFloat(getComputedStyle(t).fontSize) * svg.getBoundingClientRect().width
                        / svg.viewBox.baseVal.width; }))"""
            )
            assert name != "10-phone-analytics" or smallest >= 9.5, smallest
            shot(page, artifacts, name)
    finally:
        context.close()


def test_event_links_and_user_links_land_on_their_lists(page, site: Site, artifacts: Path) -> None:
    r = site.client.get(
        "/v2/event/analytics",
        params={"group_by": json.dumps([{"attribute": "event_name", "max_group_number": 3}])},
        headers=site.a.read_headers,
    )
    assert r.status_code == 200, r.text
    rows = r.json()["data"]
    row = next(x for x in rows if x["event_name"] not in (None, "others"))
    page.goto(row["dashboard_link"])
    log_in(page, site)
    assert int(page.get_attribute("#event-count", "data-count")) == row["event_count"]
    # independently: that event's occurrences in the sessions of the link's window
    window = [f for f in parse_dashboard_link(row["dashboard_link"]) if f["attribute"] == "date_range"]
    oracle = Oracle(site.docs_a)
    expected = sum(
        1
        for sid in oracle.matching(window, site.now)
        for e in oracle.doc(sid).get("events") or []
        if e["name"] == row["event_name"]
    )
    assert row["event_count"] == expected
    names = page.eval_on_selector_all(
        "#events-list a.row-link", "links => links.map(a => a.textContent.trim())"
    )
    assert names and set(names) == {row["event_name"]}
    shot(page, artifacts, "11-events-from-event-analytics-link")
    events_page = page.url
    with page.expect_navigation():
        page.click("#events-list a.row-link >> nth=0")
    assert "/sessions/list/1/" in page.url and page.locator("#events-table").count() == 1
    # its way back is to that page of events, filters kept
    back = page.locator(".crumbs a")
    assert back.inner_text() == "← Events" and page.locator("nav [aria-current=page]").inner_text() == "Events"
    with page.expect_navigation():
        back.click()
    assert page.url == events_page

    # a user's `url` lists every session of that user
    user = site.client.get("/v2/user", params={"page_size": "1"}, headers=site.a.read_headers).json()["data"][
        0
    ]
    page.goto(user["url"])
    every = {
        "attribute": "date_range",
        "operator": "between_dates",
        "value": {"lower": "1900-01-01", "upper": "2999-12-31"},
    }
    mine = oracle.matching(
        [every, {"attribute": "uxcamuserid", "operator": "equal", "value": user["uxcamUserId"]}], site.now
    )
    assert shown_count(page) == len(mine) > 0
    assert listed_ids(page) == mine[:PAGE_SIZE]


def test_long_unbroken_values_do_not_widen_the_page(browser, site: Site, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    """Ids, names and property values with no place to break (a token, a URL) wrap inside their cell: the
    session page and the list never scroll sideways, on a phone or a desktop."""
    long = "x" * 240
    url = "https://example.com/" + "a" * 200
    doc = {
        "sessionId": "L" * 64,
        "user": {"uxcamuserid": "u" * 120, "name": long, "customProperties": {"k" * 90: url, "token": long}},
        "device": {"model": "M" * 150, "osVersion": "9" * 80},
        "location": {"city": "C" * 160, "country": "D" * 100},
        "screens": ["S" * 200, "Home"],
        "events": [{"name": "E" * 200, "screen": "S" * 200, "timeSec": 1, "properties": {"p" * 80: long}}],
        "property": {"uploadedServerTime": (site.now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")},
    }
    r = site.client.post("/v2/ingest/sessions", json=[doc], headers=site.b.ingest_headers)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    for width, height in ((390, 844), (1280, 900)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        try:
            page.goto(f"{site.base}/app/{site.b.appid}/sessions/list/1/{doc['sessionId']}")
            log_in(page, site, site.b)
            for path in (f"/sessions/list/1/{doc['sessionId']}", "/sessions/list/1"):
                page.goto(f"{site.base}/app/{site.b.appid}{path}")
                assert page.locator("main").count() == 1
                fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
                if not fits:
                    shot(page, artifacts, f"long-values-{width}")
                assert fits, (width, path)
        finally:
            context.close()


def test_an_event_property_condition_reads_in_words_and_leaves_with_its_attribute(page, site: Site) -> None:
    """A dashboard link can carry `event_name` with a property condition: the row says it in words, a button
    removes it, and choosing another attribute for the row drops it (it belongs to event_name alone)."""
    window = {"attribute": "date_range", "operator": "between_dates",
              "value": {"lower": (site.now - timedelta(days=29)).strftime("%Y-%m-%d"), "upper": site.now.strftime("%Y-%m-%d")}}
    cond = {"attribute": "event_name", "operator": "in", "value": ["Add to cart"],
            "property": {"name": "price", "operator": "greater", "value": 10}}
    page.goto(f"{site.base}/app/{site.a.appid}/sessions/list/1?{filters_query([window, cond])}")
    log_in(page, site)
    assert shown_count(page) == len(expected_ids(site, [window, cond])) > 0
    row = page.locator("#filter-rows [data-row]").nth(1)
    chip = row.locator("[data-role=extra-chip]")
    assert chip.inner_text().replace("×", "").strip() == "where price > 10"
    # another attribute: the condition goes with event_name, and the page applies without an error
    row.locator("[data-role=attr]").select_option("device_country")
    assert row.locator("[data-role=extra-chip]").count() == 0 and row.locator("[data-role=extra]").input_value() == ""
    row.locator("[data-role=op]").select_option("equal")
    row.locator("[data-role=val]").fill("USA")
    with page.expect_navigation():
        page.click("#apply-filters")
    country = {"attribute": "device_country", "operator": "equal", "value": "USA"}
    assert shown_count(page) == len(expected_ids(site, [window, country])) > 0
    # from the link again: the chip's button removes the condition alone, and keyboard focus stays in the row
    page.goto(f"{site.base}/app/{site.a.appid}/sessions/list/1?{filters_query([window, cond])}")
    page.locator("#filter-rows [data-row]").nth(1).locator("[data-action=remove-condition]").click()
    with page.expect_navigation():
        page.click("#apply-filters")
    plain = {k: v for k, v in cond.items() if k != "property"}
    assert shown_count(page) == len(expected_ids(site, [window, plain]))
    assert len(expected_ids(site, [window, plain])) > len(expected_ids(site, [window, cond]))
    assert page.errors == []  # type: ignore[attr-defined]
