"""Schedule pages over HTTP without a browser: status codes, tokens, headers and what the HTML says."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from core.schedule import final_shifts
from tests.html_scan import Node, parse
from tests.support import API_TOKEN, FakeClock, Harness, layered_config, start_harness

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)  # Wednesday 4 March, 13:06 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
NAMES = {"alice": "Alice", "bob": "Bob", "carol": "Carol"}


def _started(db_url: str, **account: Any) -> AsyncIterator[Harness]:
    raw = layered_config("2026-03-05T12:00", "2026-03-06T12:00", **account)
    return start_harness(db_url, raw, clock=FakeClock(NOW))


async def _page_path(harness: Harness, api_path: str) -> str:
    answer = await harness.api("GET", api_path)
    assert answer.status_code == 200, answer.text
    url = urlsplit(answer.json()["url"])
    assert f"{url.scheme}://{url.netloc}" == "http://127.0.0.1:8080"  # the config's public_url
    return f"{url.path}?{url.query}"


async def _get(harness: Harness, path: str, status: int = 200, **params: str) -> Node:
    response = await harness.client.get(path, params=params or None)  # an empty dict would drop the path's query
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-robots-tag"] == "noindex"
    assert response.headers["referrer-policy"] == "no-referrer"
    return parse(response.text)


def _blocks(page: Node) -> list[Node]:
    return page.find_all("div", "shift")


async def test_page_urls_are_handed_out_and_open_their_page(db_url: str) -> None:
    async for harness in _started(db_url):
        sre = await _page_path(harness, "/schedules/sre/page-url")
        alice = await _page_path(harness, "/users/alice/page-url")
        assert sre.startswith("/schedules/sre?token=f1.") and alice.startswith("/people/alice?token=f1.")
        assert await _page_path(harness, "/schedules/sre/page-url") == sre  # the same link every time
        assert "SRE: on-call calendar" in (await _get(harness, sre)).find("h1").text()
        assert (await _get(harness, alice)).find("h1").text() == "Alice: on-call shifts"
        assert (await harness.client.get("/api/v1/schedules/sre/page-url")).status_code == 401
        assert (await harness.api("GET", "/schedules/nope/page-url")).status_code == 404
        assert (await harness.api("GET", "/users/nobody/page-url")).status_code == 404


async def test_tokens_open_only_their_page(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async for harness in _started(db_url):
        sre = (await _page_path(harness, "/schedules/sre/page-url")).split("token=")[1]
        alice = (await _page_path(harness, "/users/alice/page-url")).split("token=")[1]
        feed = (await harness.api("GET", "/schedules/sre/calendar-url")).json()["url"].split("token=")[1]

        async def status(path: str, token: str | None, client: httpx.AsyncClient = harness.client) -> int:
            response = await client.get(path, params=None if token is None else {"token": token})
            assert response.headers["cache-control"] == "no-store"
            return response.status_code

        assert await status("/schedules/sre", sre) == 200
        assert await status("/people/alice", alice) == 200
        for token in (None, "", "nope", sre[:-1], sre + "A", sre.upper(), "x" * 5000):
            assert await status("/schedules/sre", token) == 401
        assert await status("/schedules/dba", sre) == 401
        assert await status("/people/alice", sre) == 401
        assert await status("/people/bob", alice) == 401
        assert await status("/schedules/sre", alice) == 401
        # a feed token is not a page token, nor the other way round
        assert await status("/schedules/sre", feed) == 401
        assert await status("/calendar/sre.ics", sre) == 401
        # an API token opens every page; unknown ones are 404, only once the token was accepted
        assert await status("/schedules/dba", API_TOKEN) == 200
        assert await status("/people/bob", API_TOKEN) == 200
        assert await status("/schedules/nope", API_TOKEN) == 404
        assert await status("/people/nobody", API_TOKEN) == 404
        assert await status("/schedules/nope", None) == 401
        assert await status("/people/nobody", "nope") == 401
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert sre not in logged and alice not in logged and API_TOKEN not in logged


async def test_error_pages_say_what_is_wrong(db_url: str) -> None:
    async for harness in _started(db_url):
        refused = await _get(harness, "/schedules/sre", 401, token="nope")
        assert refused.find("h1").text() == "This link does not open this page"
        assert "Ask the bot for a new link." in refused.text()
        assert "Schedule nope was not found." in (await _get(harness, "/schedules/nope", 404, token=API_TOKEN)).text()
        assert "User nobody was not found." in (await _get(harness, "/people/nobody", 404, token=API_TOKEN)).text()


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/schedules/sre", {"view": "year"}, "Unknown view year"),
    ("/schedules/sre", {"view": "WEEK"}, "Unknown view WEEK"),
    ("/schedules/sre", {"start": "2026-13-01"}, "2026-13-01 is not a date"),
    ("/schedules/sre", {"start": "20260302"}, "20260302 is not a date"),
    ("/schedules/sre", {"start": "2026-W10-1"}, "is not a date"),
    ("/schedules/sre", {"start": "1970-12-31"}, "1970-12-31 is not a date"),
    ("/schedules/sre", {"start": "2201-01-01"}, "2201-01-01 is not a date"),
    ("/schedules/sre", {"start": "1971-01-03"}, "1971-01-03 is not a date"),  # its week begins in 1970
    ("/schedules/sre", {"start": "２０２６-03-02"}, "is not a date"),
    ("/schedules/sre", {"highlight": "nobody"}, "Unknown person nobody."),
    ("/people/alice", {"days": "5"}, "Unknown number of days 5"),
    ("/people/alice", {"days": "14.0"}, "Unknown number of days 14.0"),
    ("/people/alice", {"days": "-1"}, "Unknown number of days -1"),
    ("/people/alice", {"start": "2026-02-30"}, "2026-02-30 is not a date"),
])
async def test_bad_parameters_are_400(db_url: str, path: str, params: dict[str, str], message: str) -> None:
    async for harness in _started(db_url):
        page = await _get(harness, path, 400, token=API_TOKEN, **params)
        assert page.find("h1").text() == "This address is not right"
        assert message in page.text()


async def test_week_view_shows_the_final_shifts_of_this_week(db_url: str) -> None:
    async for harness in _started(db_url):
        page = await _get(harness, "/schedules/sre", token=API_TOKEN)  # default: this week, from Monday
        assert page.find("span", "period").text() == "Mon 2 Mar 2026 – Sun 8 Mar 2026"
        columns = page.find_all("div", "column")
        assert [column.attrs["data-date"] for column in columns] == [f"2026-03-0{day}" for day in range(2, 9)]
        assert [column.attrs["data-date"] for column in columns if "today" in column.classes] == ["2026-03-04"]
        answer = await harness.api("GET", "/schedules/sre/shifts",
                                   params={"from": "2026-03-02T00:00", "to": "2026-03-09T00:00"})
        shifts = answer.json()["shifts"]
        blocks = _blocks(page)
        assert sorted({(block.attrs["data-start"], block.attrs["data-end"]) for block in blocks}) == sorted(
            (shift["start"], shift["end"]) for shift in shifts)
        assert len(blocks) == sum(_days_touched(shift["start"], shift["end"]) for shift in shifts) == 17
        for block in blocks:
            shift = shifts[int(block.attrs["data-shift"])]
            assert block.find("span", "people").text() == ", ".join(NAMES[user] for user in shift["users"])
            source = "Override" if shift["source"] == "override" else f"Layer: {shift['source'][6:]}"
            assert block.find("span", "source").text() == source
        # Thursday: carol's office hours until the override at 12:00, then bob until Friday noon
        thursday = columns[3].find_all("div", "shift")
        assert [tuple(b.find("span", part).text() for part in ("time", "people", "source")) for b in thursday] == [
            ("00:00–09:00", "Carol", "Layer: weekly"), ("09:00–12:00", "Carol", "Layer: office"),
            ("12:00–24:00", "Bob", "Override")]
        assert [b.attrs["style"] for b in thursday] == [
            "top: 0.0%; height: 37.5%", "top: 37.5%; height: 12.5%", "top: 50.0%; height: 50.0%"]
        assert "src-override" in thursday[2].classes and "src-1" in thursday[1].classes
        legend = [item.text() for item in page.find("ul", "legend").find_all("li")]
        assert legend == ["Layer: weekly", "Layer: office", "Override"]
        assert not page.find_all("div", "shift--mine") and not page.find_all("div", "shift--dim")


def _days_touched(start: str, end: str) -> int:
    first, last = datetime.fromisoformat(start), datetime.fromisoformat(end) - timedelta(microseconds=1)
    return (last.date() - first.date()).days + 1


def _query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


async def test_navigation_keeps_token_view_and_highlight(db_url: str) -> None:
    async for harness in _started(db_url):
        page = await _get(harness, "/schedules/sre", token=API_TOKEN, view="2weeks", start="2026-03-11",
                          highlight="bob")
        assert page.find("span", "period").text() == "Mon 9 Mar 2026 – Sun 22 Mar 2026"
        links = {link.attrs["class"]: link.attrs["href"] for link in page.find_all("a")}
        assert _query(links["previous"]) == {"token": [API_TOKEN], "view": ["2weeks"], "start": ["2026-02-23"],
                                             "highlight": ["bob"]}
        assert _query(links["next"])["start"] == ["2026-03-23"]
        assert _query(links["today"])["start"] == ["2026-03-02"]
        views = {link.text(): _query(link.attrs["href"]) for link in page.find_all("a", "view")}
        assert set(views) == {"Week", "Month"}  # 2 weeks is the current one, not a link
        assert views["Month"] == {"token": [API_TOKEN], "view": ["month"], "start": ["2026-03-09"],
                                  "highlight": ["bob"]}
        assert page.find("span", "current").text() == "2 weeks"
        form = page.find("form", "highlight")
        hidden = {node.attrs["name"]: node.attrs["value"] for node in form.find_all("input")}
        assert hidden == {"token": API_TOKEN, "view": "2weeks", "start": "2026-03-09"}
        options = [(node.attrs["value"], node.text(), "selected" in node.attrs) for node in form.find_all("option")]
        assert options == [("", "(nobody)", False), ("alice", "Alice", False), ("bob", "Bob", True),
                           ("carol", "Carol", False)]
        assert len(page.find_all("div", "column")) == 14


async def test_month_view_and_highlight(db_url: str) -> None:
    async for harness in _started(db_url):
        page = await _get(harness, "/schedules/sre", token=API_TOKEN, view="month", start="2026-03-20",
                          highlight="bob")
        assert page.find("span", "period").text() == "March 2026"
        cells = page.find_all("td", "day")
        assert len(cells) == 42 and cells[0].attrs["data-date"] == "2026-02-23"
        assert [cell.attrs["data-date"] for cell in cells if "outside" not in cell.classes][::30] == [
            "2026-03-01", "2026-03-31"]
        schedule = (await harness.container.directory()).schedule("sre")
        expected = final_shifts(schedule, datetime(2026, 2, 23, tzinfo=SHANGHAI), datetime(2026, 4, 6, tzinfo=SHANGHAI))
        blocks = _blocks(page)
        assert {int(block.attrs["data-shift"]) for block in blocks} == set(range(len(expected)))
        for block in blocks:
            mine = "bob" in expected[int(block.attrs["data-shift"])].users
            assert ("shift--mine" in block.classes) == mine and ("shift--dim" in block.classes) != mine
        assert any("shift--mine" in block.classes for block in blocks)
        links = {link.attrs["class"]: _query(link.attrs["href"]) for link in page.find_all("a")}
        assert links["previous"]["start"] == ["2026-02-01"] and links["next"]["start"] == ["2026-04-01"]


async def test_person_page_lists_days_with_schedules_and_coworkers(db_url: str) -> None:
    async for harness in _started(db_url):
        path = await _page_path(harness, "/users/alice/page-url")
        page = await _get(harness, "/people/alice", token=path.split("token=")[1])
        days = page.find_all("li", "day")
        assert [day.attrs["data-date"] for day in days] == [
            (date(2026, 3, 4) + timedelta(days=n)).isoformat() for n in range(14)]  # default: 14 days from today
        feed = (await harness.api("GET", "/users/alice/calendar-url")).json()["url"]
        assert page.find("a", "feed").attrs["href"] == feed
        page = await _get(harness, "/people/alice", token=API_TOKEN, days="4", start="2026-03-09")
        days = page.find_all("li", "day")
        assert [day.find("h2").text() for day in days] == [
            "Mon 9 Mar 2026", "Tue 10 Mar 2026", "Wed 11 Mar 2026", "Thu 12 Mar 2026"]
        monday = [(duty.find("span", "schedule").text(), duty.find("span", "time").text())
                  for duty in days[0].find_all("li", "duty")]
        assert ("SRE", "18:00–24:00") in monday
        dba = [duty for day in days for duty in day.find_all("li", "duty") if duty.attrs["data-schedule"] == "dba"]
        assert dba and all("Together with:" in duty.find("div", "others").text() for duty in dba)
        assert all("Your role:" in duty.find("div", "roles").text() for duty in dba)
        choices = {link.text(): _query(link.attrs["href"]) for link in page.find_all("a", "window")}
        assert set(choices) == {"1 day", "1 week", "2 weeks", "1 month"}
        assert choices["1 month"] == {"token": [API_TOKEN], "days": ["30"], "start": ["2026-03-09"]}
        links = {link.attrs["class"]: _query(link.attrs["href"]) for link in page.find_all("a")}
        assert links["previous"]["start"] == ["2026-03-05"] and links["next"]["start"] == ["2026-03-13"]
        month = await _get(harness, "/people/alice", token=API_TOKEN, days="30", start="2026-03-01")
        assert len(month.find_all("li", "day")) == 30


async def test_someone_never_on_call(db_url: str) -> None:
    raw = layered_config("2026-03-05T12:00", "2026-03-06T12:00")
    raw["users"].append({"id": "dave", "name": "Dave"})
    async for harness in start_harness(db_url, raw, clock=FakeClock(NOW)):
        page = await _get(harness, "/people/dave", token=API_TOKEN, days="1")
        assert page.find("p", "empty").text() == "No on-call shifts in this period."
        assert page.find("p", "off").text() == "Not on call"


async def test_localized_in_the_account_locale(db_url: str) -> None:
    async for harness in _started(db_url, locale="zh-CN"):
        page = await _get(harness, "/schedules/sre", token=API_TOKEN)
        assert page.find("h1").text() == "SRE 值班日历"
        assert page.find("span", "period").text() == "2026年3月2日 周一 至 2026年3月8日 周日"
        assert [node.text() for node in page.find_all("div", "head")][1] == "3月2日 周一"
        assert "轮值层：weekly" in [item.text() for item in page.find("ul", "legend").find_all("li")]
        assert page.find("label").text() == "突出显示我的班次"
        person = await _get(harness, "/people/alice", token=API_TOKEN, days="7")
        assert person.find("h1").text() == "Alice 的值班"
        assert person.find("a", "feed").text() == "在日历应用中订阅（iCalendar）"
        refused = await _get(harness, "/schedules/sre", 401)
        assert refused.find("h1").text() == "此链接无法打开该页面"
        bad = await _get(harness, "/people/alice", 400, token=API_TOKEN, days="3")
        assert "不支持的天数 3" in bad.text()


async def test_the_pages_take_any_time_zone_and_the_edges_of_the_range(db_url: str) -> None:
    async for harness in _started(db_url):
        for view, start in (("week", "1971-01-04"), ("2weeks", "1971-01-10"), ("month", "1971-01-01")):
            first = await _get(harness, "/schedules/dba", token=API_TOKEN, view=view, start=start)
            assert not [link for link in first.find_all("a") if link.attrs["class"] == "previous"]
            last = await _get(harness, "/schedules/dba", token=API_TOKEN, view=view, start="2200-12-31")
            assert not [link for link in last.find_all("a") if link.attrs["class"] == "next"]
        assert _blocks(await _get(harness, "/schedules/dba", token=API_TOKEN, start="2026-03-29"))  # Berlin DST


async def test_pages_are_in_the_schema_and_bad_tokens_never_500(harness: Harness) -> None:
    schema = (await harness.client.get("/openapi.json")).json()
    assert {"/schedules/{schedule_id}", "/people/{user_id}", "/api/v1/schedules/{schedule_id}/page-url",
            "/api/v1/users/{user_id}/page-url"} <= set(schema["paths"])
    weird: list[dict[str, str]] = [{"token": "\x00"}, {"token": "f1."}, {"token": "f1.%%%"}, {"token": "é" * 50},
                                   {"token": API_TOKEN, "start": ""}, {"token": API_TOKEN, "view": ""}]
    for params in weird:
        response = await harness.client.get("/schedules/sre", params=params)
        assert response.status_code in (200, 401), (params, response.status_code)
