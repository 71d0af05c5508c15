"""The schedule pages in a real browser: Debian's headless Chromium driven by Playwright, against `dutybot serve`.

Playwright's own browser download is never used: `executable_path` points at /usr/bin/chromium, started with
the flags this machine needs (no sandbox as root, no background networking on a closed network).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.procs import Dutybot, dutybot_serve, free_port
from tests.support import API_TOKEN, layered_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHANGHAI = ZoneInfo("Asia/Shanghai")
NAMES = {"alice": "Alice", "bob": "Bob", "carol": "Carol"}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install "
                                       "chromium); Playwright's own browser download is not used")

# every block as the page shows it: which shift, its texts and its classes
_BLOCKS_JS = """nodes => nodes.map(node => ({
    shift: Number(node.dataset.shift), start: node.dataset.start, end: node.dataset.end,
    users: node.dataset.users.split(' ').filter(Boolean), classes: [...node.classList],
    time: node.querySelector('.time').textContent, people: node.querySelector('.people').textContent,
    source: node.querySelector('.source').textContent}))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # imported here, not at module level: a skip while collecting would get past DUTYBOT_NO_SKIP
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package (test extra) is missing")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def _this_monday() -> date:
    today = datetime.now(SHANGHAI).date()
    return today - timedelta(days=today.weekday())


@pytest.fixture
def site(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Dutybot, date]]:
    """`dutybot serve` with two layers and an override from this Wednesday noon to Thursday noon; this Monday
    (taken once, so that a test running across midnight on Sunday still looks at the week it set up)."""
    monday = _this_monday()
    port = free_port()
    raw = layered_config(f"{monday + timedelta(days=2)}T12:00", f"{monday + timedelta(days=3)}T12:00",
                         public_url=f"http://127.0.0.1:{port}", locale=getattr(request, "param", "en"))
    with dutybot_serve(tmp_path, raw, port, API_TOKEN) as dutybot:
        yield dutybot, monday


def _page_url(dutybot: Dutybot, api_path: str, **params: str) -> str:
    answer = dutybot.api("GET", api_path)
    assert answer.status_code == 200, answer.text
    url = str(answer.json()["url"])
    assert url.startswith(f"{dutybot.url}/") and "token=f1." in url
    return url + "".join(f"&{key}={value}" for key, value in params.items())


def _api_shifts(dutybot: Dutybot, schedule: str, first: date, days: int) -> list[dict[str, Any]]:
    answer = dutybot.api("GET", f"/schedules/{schedule}/shifts",
                         params={"from": f"{first}T00:00", "to": f"{first + timedelta(days=days)}T00:00"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["shifts"])


def _days_touched(shift: dict[str, Any]) -> int:
    first = datetime.fromisoformat(shift["start"]).date()
    last = (datetime.fromisoformat(shift["end"]) - timedelta(microseconds=1)).date()
    return (last - first).days + 1


def _source(shift: dict[str, Any]) -> str:
    return "Override" if shift["source"] == "override" else f"Layer: {shift['source'].removeprefix('layer:')}"


def _check_blocks(page: Any, shifts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The blocks on the page are exactly the API's shifts, cut at each midnight, with the right texts."""
    blocks = page.locator(".shift").evaluate_all(_BLOCKS_JS)
    assert sorted({(block["start"], block["end"]) for block in blocks}) == sorted(
        (shift["start"], shift["end"]) for shift in shifts)
    assert len(blocks) == sum(map(_days_touched, shifts))
    for block in blocks:
        shift = shifts[block["shift"]]
        assert (block["start"], block["end"], block["users"]) == (shift["start"], shift["end"], shift["users"])
        assert block["people"] == ", ".join(NAMES[user] for user in shift["users"])
        assert block["source"] == _source(shift)
    return list(blocks)


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_schedule_calendar_views_and_highlight(site: tuple[Dutybot, date], page: Any, tmp_path: Path) -> None:
    served, monday = site
    response = page.goto(_page_url(served, "/schedules/sre/page-url", start=str(monday)))
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store" and response.headers["x-robots-tag"] == "noindex"
    assert page.locator("h1").inner_text() == "SRE: on-call calendar"
    assert page.locator(".week .column").count() == 7
    week = _check_blocks(page, _api_shifts(served, "sre", monday, 7))
    assert {block["source"] for block in week} == {"Layer: weekly", "Layer: office", "Override"}
    assert page.locator(".legend li").all_inner_texts() == ["Layer: weekly", "Layer: office", "Override"]

    # laid out by time: Wednesday's override starts at noon, halfway down the column
    wednesday = page.locator(".week .column").nth(2)
    override = wednesday.locator(".shift.src-override")
    assert override.locator(".time").inner_text() == "12:00–24:00"
    column_box, block_box = wednesday.bounding_box(), override.bounding_box()
    assert abs(block_box["y"] - column_box["y"] - column_box["height"] / 2) <= 2
    assert abs(block_box["y"] + block_box["height"] - column_box["y"] - column_box["height"]) <= 2

    screenshot = tmp_path / "week.png"
    page.screenshot(path=str(screenshot), full_page=True)
    width, height = _png_size(screenshot)
    assert width >= 1000 and height >= 900 and screenshot.stat().st_size > 20_000

    # two weeks, then the month, through the view links; the token stays in the address
    page.get_by_role("link", name="2 weeks", exact=True).click()
    assert _query(page.url)["view"] == ["2weeks"] and "token" in _query(page.url)
    assert page.locator(".week .column").count() == 14
    _check_blocks(page, _api_shifts(served, "sre", monday, 14))
    page.get_by_role("link", name="Month", exact=True).click()
    assert _query(page.url)["view"] == ["month"]
    cells = page.locator("table.month td.day")
    first = date.fromisoformat(cells.first.get_attribute("data-date"))
    assert first.weekday() == 0 and cells.count() in (28, 35, 42)
    _check_blocks(page, _api_shifts(served, "sre", first, cells.count()))

    # highlight my shifts: bob's blocks, and only those, stand out
    page.get_by_role("link", name="Week", exact=True).click()
    assert _query(page.url)["view"] == ["week"]
    page.goto(_page_url(served, "/schedules/sre/page-url", start=str(monday)))
    page.select_option("#highlight", "bob")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**highlight=bob**")
    assert _query(page.url)["view"] == ["week"] and "token" in _query(page.url)
    blocks = _check_blocks(page, _api_shifts(served, "sre", monday, 7))
    mine = [block for block in blocks if "shift--mine" in block["classes"]]
    assert mine and {(b["start"], b["end"]) for b in mine} == {(b["start"], b["end"]) for b in blocks
                                                                if "bob" in b["users"]}
    assert all("shift--dim" in block["classes"] for block in blocks if block not in mine)
    assert page.locator("#highlight").input_value() == "bob"
    assert page.locator(".shift--mine").first.evaluate("node => getComputedStyle(node).opacity") == "1"
    assert float(page.locator(".shift--dim").first.evaluate("node => getComputedStyle(node).opacity")) < 0.5

    # the next week keeps the highlight
    page.get_by_role("link", name="Next ›").click()
    assert _query(page.url)["start"] == [str(monday + timedelta(days=7))] and _query(page.url)["highlight"] == ["bob"]
    _check_blocks(page, _api_shifts(served, "sre", monday + timedelta(days=7), 7))


def test_personal_page_and_bad_tokens(site: tuple[Dutybot, date], page: Any) -> None:
    served, monday = site
    page.goto(_page_url(served, "/users/alice/page-url", days="4", start=str(monday)))
    assert page.locator("h1").inner_text() == "Alice: on-call shifts"
    days = page.locator("li.day")
    assert days.count() == 4
    assert days.evaluate_all("nodes => nodes.map(node => node.dataset.date)") == [
        str(monday + timedelta(days=n)) for n in range(4)]
    expected = set()
    for schedule in ("sre", "dba"):
        for shift in _api_shifts(served, schedule, monday, 4):
            if "alice" in shift["users"]:
                start = datetime.fromisoformat(shift["start"]).astimezone(SHANGHAI)
                end = datetime.fromisoformat(shift["end"]).astimezone(SHANGHAI) - timedelta(microseconds=1)
                expected |= {(schedule, str(start.date() + timedelta(days=n)))
                             for n in range((end.date() - start.date()).days + 1)
                             if monday <= start.date() + timedelta(days=n) < monday + timedelta(days=4)}
    shown = page.locator("li.duty").evaluate_all(
        "nodes => nodes.map(node => [node.dataset.schedule, node.closest('li.day').dataset.date])")
    assert {tuple(item) for item in shown} == expected
    for duty in page.locator("li.duty[data-schedule=dba]").all():
        assert duty.locator(".others").inner_text().startswith("Together with: ")
    feed = served.api("GET", "/users/alice/calendar-url").json()["url"]
    assert page.locator("a.feed").get_attribute("href") == feed
    assert served.http.get(feed).headers["content-type"].startswith("text/calendar")

    page.get_by_role("link", name="1 month").click()
    assert _query(page.url)["days"] == ["30"] and page.locator("li.day").count() == 30

    for url in (f"{served.url}/schedules/sre?token=nope", f"{served.url}/people/alice",
                _page_url(served, "/schedules/dba/page-url").replace("/dba?", "/sre?")):
        response = page.goto(url)
        assert response.status == 401
        assert page.locator("h1").inner_text() == "This link does not open this page"


@pytest.mark.parametrize("site", ["zh-CN"], indirect=True)
def test_chinese(site: tuple[Dutybot, date], page: Any, tmp_path: Path) -> None:
    served, monday = site
    page.goto(_page_url(served, "/schedules/sre/page-url", start=str(monday)))
    assert page.locator("h1").inner_text() == "SRE 值班日历"
    assert page.locator(".week .head").nth(1).inner_text().endswith("周一")
    assert page.locator(".legend li").all_inner_texts() == ["轮值层：weekly", "轮值层：office", "临时替班"]
    assert page.locator("label[for=highlight]").inner_text() == "突出显示我的班次"
    assert page.get_by_role("link", name="两周").count() == 1
    screenshot = tmp_path / "week-zh.png"
    page.screenshot(path=str(screenshot))
    assert _png_size(screenshot) == (1400, 900) and screenshot.stat().st_size > 20_000
    page.goto(_page_url(served, "/users/alice/page-url", days="30", start=str(monday)))
    assert page.locator("h1").inner_text() == "Alice 的值班"
    assert page.locator("a.feed").inner_text() == "在日历应用中订阅（iCalendar）"
    assert page.locator("li.day").count() == 30
    response = page.goto(f"{served.url}/people/alice?token=nope")
    assert response.status == 401 and page.locator("h1").inner_text() == "此链接无法打开该页面"
