"""How a paged person is reached: their notification preferences per severity and their quiet hours
(docs/escalation.md, "Reaching people").

A person's `notify` lists, per severity, the ways to page them in their order (`slack`, `email`, …; the chat
platforms are DMs). Without a list for the severity the escalation level decides: a DM on their bound chat
platform, plus email when the level says `via: [email]`. Quiet hours hold pages of non-critical incidents: a
critical incident always gets through.

Pure: the person's settings, the incident's severity, the level's `via` and the moment in; the methods out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.model import Severity
from core.stages.mute import Calendars, Weekly

EMAIL = "email"
CHAT_METHODS = ("slack", "feishu", "dingtalk", "wecom", "telegram")
METHODS = (*CHAT_METHODS, EMAIL)


@dataclass(frozen=True)
class Preferences:
    by_severity: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # severity → methods, in order
    quiet: Weekly | None = None  # windows in which non-critical pages wait for the next level or nobody


@dataclass(frozen=True)
class Reach:
    methods: tuple[str, ...]  # in the person's order; empty: not paged
    quiet: bool = False  # held by quiet hours (said on the timeline)


def reach(prefs: Preferences, severity: Severity, via: Sequence[str], bound: Sequence[str], now: datetime,
          calendars: Calendars | None = None) -> Reach:
    """The ways to page a person for an incident of `severity` by a level whose `via` is given, among the
    methods they can be reached on (`bound`: chat platforms with an account, `email` with an address).

    A method the person asked for but cannot be reached on is left out; the caller says so on the timeline
    when nothing is left. A level that pages nobody personally (only channels in `via`) reaches no one."""
    if "dm" not in via and EMAIL not in via:
        return Reach(())
    if severity is not Severity.CRITICAL and prefs.quiet is not None and prefs.quiet.active(now, calendars or {}):
        return Reach((), quiet=True)
    wanted = prefs.by_severity.get(severity.value)
    if wanted is None:
        chat = [method for method in bound if method in CHAT_METHODS][:1] if "dm" in via else []
        wanted = (*chat, *([EMAIL] if EMAIL in via else []))
    return Reach(tuple(method for method in dict.fromkeys(wanted) if method in bound))
