"""core/webhooks.py: the signature a receiver checks, computed independently here, and the replay window."""

from __future__ import annotations

import hashlib
import hmac

from core.webhooks import EVENTS, event_of, signature, verify

SECRET = "webhook-signing-secret-0123456789"
BODY = b'{"event":"incident.triggered","event_id":"abc"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1800000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1_800_000_000, BODY) == f"v1={expected}"


def test_verify_accepts_a_fresh_delivery_and_refuses_changes_and_old_ones() -> None:
    header = signature(SECRET, 1_800_000_000, BODY)
    assert verify(SECRET, 1_800_000_000, BODY, header, now=1_800_000_100)
    assert not verify(SECRET, 1_800_000_000, BODY + b" ", header, now=1_800_000_100)    # body changed
    assert not verify(SECRET, 1_800_000_001, BODY, header, now=1_800_000_100)           # timestamp changed
    assert not verify("another-secret-0123456789", 1_800_000_000, BODY, header, now=1_800_000_100)
    assert not verify(SECRET, 1_800_000_000, BODY, header, now=1_800_000_301)           # a replay, too late


def test_which_timeline_entries_are_events() -> None:
    assert event_of("created") == "incident.triggered" and event_of("resolved") == "incident.resolved"
    for kind in ("alerts_merged", "notified", "notify_failed", "severity_raised", "grouping_closed"):
        assert event_of(kind) is None
    assert len(set(EVENTS.values())) == len(EVENTS)
