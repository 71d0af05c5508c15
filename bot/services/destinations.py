"""Where a person or a configured channel is reached, as neutral destinations."""

from __future__ import annotations

from bot.directory import Directory
from core.ports import Destination


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
    if spec.platform == "dingtalk-robot":
        return Destination("dingtalk-robot", "robot", channel_id, label=channel_id)
    return None
