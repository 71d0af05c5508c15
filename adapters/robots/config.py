"""Robot channels: webhook (+ sign secret), and each robot's documented limits as named constants."""

from __future__ import annotations

from dataclasses import dataclass

DINGTALK_PER_MINUTE = 20  # more blocks the robot for 10 minutes
DINGTALK_MAX_BODY_BYTES = 20_000
DINGTALK_MAX_BUTTONS = 5
DINGTALK_OK = 0
DINGTALK_RATE_LIMITED = 130101
DINGTALK_RETRYABLE = {DINGTALK_RATE_LIMITED, -1}  # -1: "system busy"


@dataclass(frozen=True)
class RobotTarget:
    """A robot resolved for one send: its webhook URL (a secret) and optional sign secret."""

    platform: str
    webhook: str
    secret: str | None = None

    def __repr__(self) -> str:  # the webhook carries the access token
        return f"RobotTarget(platform={self.platform!r}, webhook=***)"
