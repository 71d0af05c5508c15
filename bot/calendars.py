"""Service calendars: which days are workdays. China's official holidays and adjusted working days come from
the `chinese-calendar` package; teams can add their own days in the config.

A calendar is a predicate `date -> bool` ("is this day in?"), which is what a layer's date mask takes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date
from functools import lru_cache

import chinese_calendar

log = logging.getLogger(__name__)

BUILTIN = ("cn-workdays", "cn-restdays", "workdays", "weekends")
DayPredicate = Callable[[date], bool]


@lru_cache(maxsize=4096)
def cn_workday(day: date) -> bool:
    """China's official workday rule, holidays and adjusted working days included.

    The package knows the years the State Council has published; outside them (for example next year,
    before its notice appears) a weekday counts as a workday, and that fallback is logged once per year.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_missing_year(day.year)
        return day.weekday() < 5


@lru_cache(maxsize=64)
def _warn_missing_year(year: int) -> None:
    log.warning("chinese-calendar has no holiday data for %s: weekdays count as workdays", year)


def cn_restday(day: date) -> bool:
    return not cn_workday(day)


def weekday(day: date) -> bool:
    return day.weekday() < 5


def weekend(day: date) -> bool:
    return day.weekday() >= 5


_BUILTIN: dict[str, DayPredicate] = {"cn-workdays": cn_workday, "cn-restdays": cn_restday, "workdays": weekday,
                                     "weekends": weekend}


def builtin(name: str) -> DayPredicate:
    """One of BUILTIN by name (the same function every time, so schedule caches keyed by it hit)."""
    return _BUILTIN[name]


def custom(base: str, add: Iterable[date], remove: Iterable[date]) -> DayPredicate:
    """A calendar on top of a built-in one, with days added to it and days taken out of it."""
    return _custom(base, frozenset(add), frozenset(remove))


@lru_cache(maxsize=256)
def _custom(base: str, added: frozenset[date], removed: frozenset[date]) -> DayPredicate:
    base_predicate = builtin(base)

    def predicate(day: date) -> bool:
        if day in removed:
            return False
        return day in added or base_predicate(day)

    return predicate
