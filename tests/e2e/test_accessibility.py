"""The dashboard for people who use a keyboard or a screen reader, in a real browser: focus is visible,
controls are seen, an error is tied to the control at fault and is read out first, a change is told in
words as well as colour, a chart of links is not an image, and a mistyped address is a page.

Contrasts are computed here (WCAG 2 relative luminance) from the colours the browser computed."""

from __future__ import annotations

import re

import httpx
import pytest

from sessionscope.web.filters import to_query as filters_query

from .conftest import Site, log_in

pytestmark = pytest.mark.browser

_RGB = re.compile(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)")


def rgb(css: str, under: tuple[float, float, float] = (255, 255, 255)) -> tuple[float, float, float]:
    """A computed CSS colour as RGB, a translucent one laid over `under`."""
    m = _RGB.match(css)
    assert m, css
    r, g, b = (float(m.group(k)) for k in (1, 2, 3))
    alpha = float(m.group(4)) if m.group(4) is not None else 1.0
    return tuple(alpha * c + (1 - alpha) * u for c, u in zip((r, g, b), under, strict=True))  # type: ignore[return-value]


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    def luminance(c: tuple[float, float, float]) -> float:
        lin = [(v / 255) / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def style(page, selector: str, *props: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector(
        selector, "(el, props) => Object.fromEntries(props.map(p => [p, getComputedStyle(el)[p]]))", list(props)
    )


def background(page, selector: str) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """The first opaque background at or above the element."""
    css = page.eval_on_selector(
        selector,
        """el => { for (let e = el; e; e = e.parentElement) {
                     const c = getComputedStyle(e).backgroundColor;
                     if (c && c !== 'transparent' && !c.startsWith('rgba(0, 0, 0, 0)')) return c; }
                   return 'rgb(255, 255, 255)'; }""",
    )
    return rgb(css)


def open_page(page, site: Site, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(site.base + path)
    if "/login" in page.url:
        log_in(page, site)


def test_focus_and_controls_are_seen(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """WCAG 1.4.11 / 2.4.7: a focused field, a focused checkbox and a focused top-bar link show a ring of
    3:1 or more against what is around them; a text box's border is 3:1 against its background."""
    open_page(page, site, f"/app/{site.a.appid}/analytics")
    for selector in ("#g1", "#cmp"):
        page.focus(selector)
        ring = style(page, selector, "outlineStyle", "outlineWidth", "outlineColor")
        assert ring["outlineStyle"] != "none" and float(ring["outlineWidth"].rstrip("px")) >= 2, (selector, ring)
        ratio = contrast(rgb(ring["outlineColor"]), background(page, selector))
        assert ratio >= 3, (selector, ring, ratio)
    border = style(page, "#g1", "borderTopColor")["borderTopColor"]
    assert contrast(rgb(border), background(page, "#g1")) >= 3, border

    page.keyboard.press("Tab")  # keyboard focus on a top-bar link: :focus-visible
    page.focus(".topbar .nav a")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    ring = style(page, ".topbar .nav a:focus-visible", "outlineColor", "outlineStyle")
    assert ring["outlineStyle"] != "none"
    assert contrast(rgb(ring["outlineColor"]), background(page, ".topbar")) >= 3, ring


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"attribute": "date_range", "operator": "after", "value": "yesterday"}, "f_val_0"),
        ({"attribute": "date_range", "operator": "between_dates", "value": {"lower": "2026-01-01", "upper": "soon"}},
         "f_val2_0"),
        ({"attribute": "device_country", "operator": "after", "value": "USA"}, "f_op_0"),
        ({"attribute": "no_such_thing", "operator": "equal", "value": "x"}, "f_attr_0"),
    ],
)
def test_a_filter_error_points_at_its_control_and_is_read_first(  # type: ignore[no-untyped-def]
    page, site: Site, condition: dict, field: str
) -> None:
    """The control at fault (not the row's first) is aria-invalid, described by the message and focused;
    the page's title starts with "Error"."""
    open_page(page, site, f"/app/{site.a.appid}/sessions/list/1?{filters_query([condition])}")
    assert page.title().startswith("Error: Sessions"), page.title()
    invalid = page.eval_on_selector_all("[aria-invalid=true]", "els => els.map(e => e.id)")
    assert invalid == [field]
    assert page.get_attribute(f"#{field}", "aria-describedby") == "form-error"
    message = page.inner_text("#form-error")
    assert message.startswith("These filters cannot be applied.") and "Filter 1" in message, message
    assert page.evaluate("document.activeElement.id") == field


@pytest.mark.parametrize(
    ("query", "control", "words"),
    [
        ("g1=user_custom_property", "g1p", "Group by: property name is required"),
        ("g1=device_platform&g2=device_platform", "g2", "Then by: already grouped by device_platform"),
    ],
)
def test_a_grouping_error_names_the_forms_control(  # type: ignore[no-untyped-def]
    page, site: Site, query: str, control: str, words: str
) -> None:
    open_page(page, site, f"/app/{site.a.appid}/analytics?{query}")
    message = page.inner_text("#form-error")
    assert words in message and "group_by[" not in message, message
    assert page.eval_on_selector_all("[aria-invalid=true]", "els => els.map(e => e.id)") == [control]
    assert page.evaluate("document.activeElement.id") == control


def test_changes_are_told_in_words_and_a_chart_of_links_is_a_group(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """With comparison on, each change says "better"/"worse"/"nothing to compare with" as text (its colour
    alone said it before), matching its colour; the day series' chart holds links, so it is a group whose
    tick labels are hidden from screen readers (the table below has the figures)."""
    open_page(page, site, f"/app/{site.a.appid}/analytics?g1=session_uploadedon_day&g2=device_platform&cmp=1")
    deltas = page.eval_on_selector_all(
        ".delta", "els => els.map(e => [e.className, e.querySelector('.sr-only')?.textContent || ''])"
    )
    assert deltas
    words = {"delta-good": "better than", "delta-bad": "worse than", "delta-none": "nothing to compare with"}
    seen = set()
    for classes, spoken in deltas:
        tone = next((t for t in words if t in classes.split()), None)
        assert spoken.endswith("the previous period"), (classes, spoken)
        assert words[tone] in spoken if tone else "as in" in spoken, (classes, spoken)
        seen.add(tone)
    assert {"delta-good", "delta-bad"} <= seen, seen
    chart = page.locator("svg[data-chart=line]").first
    assert chart.get_attribute("role") == "group" and chart.get_attribute("aria-label")
    assert chart.locator("a.point").count() > 0
    ticks = chart.locator("text.tick")
    assert ticks.count() > 0 and ticks.count() == chart.locator("text.tick[aria-hidden=true]").count()


def test_a_mistyped_address_is_a_page_for_a_browser_and_json_for_a_client(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    open_page(page, site, f"/app/{site.a.appid}/sesions")
    assert page.title().startswith("Not found")
    assert page.get_attribute("a.btn", "href") == f"/app/{site.a.appid}/sessions/list/1"
    page.goto(site.base + "/")
    assert page.url.endswith("/login")
    # an API client asking for a path that is not there still gets the error shape
    r = httpx.get(site.base + "/nope", headers={"accept": "application/json"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = httpx.get(site.base + "/v2/nope", headers={"accept": "text/html"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_titles_say_the_page_and_the_keyboard_skips_chart_points(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """A list's title says which page of how many (25 sessions a page; the count itself is checked against
    the oracle in test_dashboard); a chart's points are left out of the Tab order (146 stops on one page
    before), the table under it keeps every link."""
    open_page(page, site, f"/app/{site.a.appid}/sessions/list/2")
    shown = int(page.get_attribute("#session-count", "data-count"))
    pages = -(-shown // 25)
    assert pages > 2 and page.title() == f"Sessions, page 2 of {pages} · sessionscope", page.title()
    open_page(page, site, f"/app/{site.a.appid}/analytics?g1=session_uploadedon_day")
    points = page.locator("svg[data-chart=line] a.point")
    assert points.count() > 0 and points.count() == page.locator("svg[data-chart=line] a.point[tabindex='-1']").count()
    assert page.locator("table a").count() >= points.count()


def test_a_wrong_key_marks_the_key_field(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    page.goto(site.base + f"/app/{site.a.appid}/sessions/list/1")
    page.fill("#apikey", "sk_wrong")
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")
    assert page.get_attribute("#apikey", "aria-invalid") == "true"
    assert page.get_attribute("#apikey", "aria-describedby") == "login-error" and page.inner_text("#login-error")


def test_filter_controls_are_named_by_their_row_as_rows_come_and_go(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """Every row's controls were all "Attribute", "Operator", "Value": each is now "Filter N …", N following
    the rows as one is added or removed."""
    two = [{"attribute": "device_platform", "operator": "equal", "value": "ios"},
           {"attribute": "device_country", "operator": "equal", "value": "USA"}]
    open_page(page, site, f"/app/{site.a.appid}/sessions/list/1?{filters_query(two)}")

    def names() -> list[tuple[str, str]]:
        return [(page.get_by_label(f"Filter {k} attribute").input_value(), page.get_by_label(f"Remove filter {k}").get_attribute("data-action"))
                for k in range(1, page.locator("#filter-rows [data-row]").count() + 1)]

    assert names() == [("device_platform", "remove-filter"), ("device_country", "remove-filter")]
    assert page.get_by_label("Filter 2 operator").input_value() == "equal"
    assert page.get_by_label("Filter 2 value").input_value() == "USA"
    page.click('[data-action="add-filter"]')
    assert [a for a, _ in names()] == ["device_platform", "device_country", ""]
    page.get_by_label("Remove filter 1").click()
    assert [a for a, _ in names()] == ["device_country", ""]


def test_figure_tables_have_a_caption_and_row_headers(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """Each breakdown's table says what it holds and heads each row by its group; a chart's legend is a list
    of its lines, no longer the figure's caption (which named the chart "android ios (none)")."""
    open_page(page, site, f"/app/{site.a.appid}/analytics?g1=device_platform&g2=session_uploaded_week")
    tables = page.locator("table.data")
    assert tables.count() >= 2
    for k in range(tables.count()):
        table = tables.nth(k)
        caption = table.locator("caption").text_content().strip()
        assert caption.startswith("Sessions") and " by " in caption, caption
        rows = table.locator("tbody tr").count()
        assert rows > 0 and table.locator("tbody th[scope=row]").count() >= rows
    assert page.locator("figure figcaption").count() == 0
    assert page.locator(".legend[role=list] [role=listitem]").count() >= 2
