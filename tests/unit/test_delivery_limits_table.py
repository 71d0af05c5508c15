"""core/delivery.py: the limits stay under what each platform documents, and digests fold what waits."""

from __future__ import annotations

import pytest

from core.delivery import DEFAULT_LIMIT, DIGEST_AFTER, DIGEST_LISTED, LIMITS, fold_digest, limit_for, limit_key
from core.ports import Destination

# what platforms.md §1 documents per destination: (seconds, messages)
DOCUMENTED = {
    ("dingtalk-robot", "robot"): [(60, 20)],
    ("wecom-robot", "robot"): [(60, 20)],
    ("feishu-robot", "robot"): [(1, 5), (60, 100)],
    ("telegram", "channel"): [(60, 20)],
}


@pytest.mark.parametrize("destination", sorted(DOCUMENTED))
def test_never_more_than_documented(destination: tuple[str, str]) -> None:
    ours = dict(LIMITS[destination])
    for seconds, documented in DOCUMENTED[destination]:
        assert ours[seconds] <= documented


def test_an_unknown_platform_gets_the_strictest_limit() -> None:
    assert limit_for(Destination("matrix", "channel", "!room")) == DEFAULT_LIMIT
    assert limit_for(Destination("slack", "channel", "C1")) == LIMITS[("slack", "channel")]


def test_keys_are_per_destination_and_name_no_address() -> None:
    one, other = Destination("slack", "dm", "UALICE", label="alice"), Destination("slack", "dm", "UBOB")
    assert limit_key(one) == limit_key(Destination("slack", "dm", "UALICE", label="another label"))
    assert limit_key(one) != limit_key(other) != limit_key(Destination("slack", "channel", "UBOB"))
    assert "UALICE" not in limit_key(one) and limit_key(one).startswith("send:")


@pytest.mark.parametrize(("waiting", "listed", "more"), [
    ([], (), 0),
    ([1] * DIGEST_AFTER, (), 0),                                       # a short queue: send the cards
    (list(range(1, DIGEST_AFTER + 2)), tuple(range(1, DIGEST_AFTER + 2)), 0),
    (list(range(1, 31)), tuple(range(1, DIGEST_LISTED + 1)), 30 - DIGEST_LISTED),
    ([5, 5, 6, 6, 7], (5, 6, 7), 0),                                   # an incident is named once
])
def test_fold_digest(waiting: list[int], listed: tuple[int, ...], more: int) -> None:
    assert fold_digest(waiting) == (listed, more)
