"""Where a person or a configured channel is reached, as neutral destinations."""

from __future__ import annotations

from datetime import datetime

from adapters.robots.config import ROBOT_PLATFORMS
from bot.directory import Directory
from core.model import Severity
from core.ports import Destination
from core.reach import EMAIL, Preferences, Reach, reach
from core.stages.mute import Weekly, parse_weekly


def person(directory: Directory, user_id: str) -> Destination | None:
    """A DM on the person's bound platform, or None when they have no reachable account."""
    user = directory.users.get(user_id)
    if user is not None and user.im.slack and directory.platforms.slack is not None:
        return Destination("slack", "dm", user.im.slack, label=user_id)
    return None


def channel(directory: Directory, channel_id: str) -> Destination | None:
    """A group chat (app platforms) or a webhook robot named in the config's `channels`."""
    spec = directory.channels.get(channel_id)
    if spec is None:
        return None
    if spec.platform == "slack" and spec.chat_id:
        return Destination("slack", "channel", spec.chat_id, label=channel_id)
    if spec.platform in ROBOT_PLATFORMS:
        return Destination(spec.platform, "robot", channel_id, label=channel_id)
    return None


def paged(directory: Directory, user_id: str, severity: Severity, via: tuple[str, ...],
          now: datetime) -> tuple[list[Destination], Reach]:
    """Where an escalation level pages a person: their preferences for the severity (core/reach.py) among the
    ways they can be reached, unless quiet hours hold a non-critical page."""
    user = directory.users.get(user_id)
    if user is None:
        return [], Reach(())
    bound = {}
    if user.im.slack and directory.platforms.slack is not None:
        bound["slack"] = Destination("slack", "dm", user.im.slack, label=user_id)
    if user.email and directory.platforms.email is not None:
        bound[EMAIL] = Destination("email", "dm", user.email, label=user_id)
    found = reach(_preferences(directory, user_id), severity, via, tuple(bound), now)
    return [bound[method] for method in found.methods], found


def _preferences(directory: Directory, user_id: str) -> Preferences:
    def build() -> Preferences:
        user = directory.users[user_id]
        quiet = None
        if user.quiet is not None:
            windows = parse_weekly([list(window) for window in user.quiet.weekly], f"users[{user_id}].quiet.weekly")
            quiet = Weekly(windows, user.quiet.timezone or directory.timezone)
        return Preferences(by_severity={severity: tuple(methods) for severity, methods in user.notify.items()},
                           quiet=quiet)

    return directory.rules(("preferences", user_id), build)
