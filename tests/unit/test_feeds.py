"""core/feeds.py: calendar feed tokens open exactly the feed they were signed for, and nothing tampered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.feeds import (
    InvalidFeedToken,
    issue_feed_token,
    page_subject,
    read_feed_token,
    schedule_subject,
    user_subject,
)
from core.links import InvalidLink, issue_link, read_link

KEY = b"k" * 32
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SRE = schedule_subject("sre")


def test_round_trip_and_stable() -> None:
    token = issue_feed_token(KEY, SRE)
    read_feed_token(KEY, token, SRE)
    assert issue_feed_token(KEY, SRE) == token  # no expiry, no nonce: the subscription URL stays the same


def test_subjects() -> None:
    assert schedule_subject("sre") == "schedule:sre"
    assert user_subject("alice") == "user:alice"
    assert page_subject(schedule_subject("sre")) == "page:schedule:sre"
    assert page_subject(user_subject("alice")) == "page:user:alice"


def test_a_page_token_is_not_a_feed_token() -> None:
    page = page_subject(SRE)
    with pytest.raises(InvalidFeedToken):
        read_feed_token(KEY, issue_feed_token(KEY, page), SRE)
    with pytest.raises(InvalidFeedToken):
        read_feed_token(KEY, issue_feed_token(KEY, SRE), page)


def test_token_is_url_safe() -> None:
    assert set(issue_feed_token(KEY, "schedule:钉钉 群/1?x=&")) <= set(ALPHABET + ".")


@pytest.mark.parametrize("other", [schedule_subject("sre2"), schedule_subject("SRE"), user_subject("sre"),
                                   "schedule:sre ", "", "user:alice"])
def test_bound_to_its_subject(other: str) -> None:
    with pytest.raises(InvalidFeedToken):
        read_feed_token(KEY, issue_feed_token(KEY, SRE), other)


def test_another_key_does_not_open_it() -> None:
    with pytest.raises(InvalidFeedToken):
        read_feed_token(b"x" * 32, issue_feed_token(KEY, SRE), SRE)


@pytest.mark.parametrize("mangle", [
    lambda token: "",
    lambda token: token + "A",
    lambda token: token[:-1],
    lambda token: token + "=",
    lambda token: token.replace(".", ""),
    lambda token: "f2" + token[2:],
    lambda token: token.split(".", 1)[1],
    lambda token: token[:5] + "*" + token[5:],
    lambda token: token + " ",
    lambda token: token[:-1] + "é",
    lambda token: token.upper(),
])
def test_malformed_is_invalid(mangle: Callable[[str], str]) -> None:
    with pytest.raises(InvalidFeedToken):
        read_feed_token(KEY, mangle(issue_feed_token(KEY, SRE)), SRE)


@given(index=st.integers(min_value=0), replacement=st.sampled_from(ALPHABET + "."))
def test_any_changed_character_is_invalid(index: int, replacement: str) -> None:
    token = issue_feed_token(KEY, SRE)
    index %= len(token)
    if token[index] == replacement:
        return
    tampered = token[:index] + replacement + token[index + 1:]
    with pytest.raises(InvalidFeedToken):
        read_feed_token(KEY, tampered, SRE)


@given(subject=st.text(max_size=80), token=st.text(max_size=80))
def test_never_raises_anything_else(subject: str, token: str) -> None:
    try:
        read_feed_token(KEY, token, subject)
    except InvalidFeedToken:
        pass


def test_feed_tokens_and_one_click_links_do_not_stand_in_for_each_other() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(InvalidLink):
        read_link(KEY, issue_feed_token(KEY, SRE), now)
    with pytest.raises(InvalidFeedToken):
        read_feed_token(KEY, issue_link(KEY, "ack", 1, now), SRE)
