"""Robot channels: webhook (+ sign secret), and each robot's documented limits as named constants."""

from __future__ import annotations

from dataclasses import dataclass

DINGTALK_PER_MINUTE = 20  # more blocks the robot for 10 minutes
DINGTALK_MAX_BODY_BYTES = 20_000
DINGTALK_MAX_BUTTONS = 5
DINGTALK_OK = 0
DINGTALK_RATE_LIMITED = 130101
DINGTALK_RETRYABLE = {DINGTALK_RATE_LIMITED, -1}  # -1: "system busy"

# Feishu custom bot (platforms.md §2.3): answers {"code": N, "msg": …}, older ones {"StatusCode": N, …}
FEISHU_MAX_BODY_BYTES = 20_000
FEISHU_MAX_BUTTONS = 5  # ours: the link buttons of a robot card (acknowledge, resolve, silence)
FEISHU_OK = 0
FEISHU_RATE_LIMITED = 11232  # 5/s and 100/min per bot per tenant
FEISHU_RETRYABLE = {FEISHU_RATE_LIMITED, 2200}  # 2200: internal error
FEISHU_RETRY_SECONDS = 10.0  # the 5/s window is over by then, and a minute's share of 100 is back

# WeCom group robot (platforms.md §4.3): answers {"errcode": N, "errmsg": …}; no signing, the key is the secret
WECOM_MARKDOWN_MAX_BYTES = 4096
WECOM_TEXT_MAX_BYTES = 2048
WECOM_OK = 0
WECOM_RATE_LIMITED = 45009  # "api freq out of limit": 20/min per robot
WECOM_RETRYABLE = {WECOM_RATE_LIMITED, -1}  # -1: "system busy"

ROBOT_PLATFORMS = ("dingtalk-robot", "feishu-robot", "wecom-robot")  # channels that are webhook robots


@dataclass(frozen=True)
class RobotTarget:
    """A robot resolved for one send: its webhook URL (a secret) and optional sign secret."""

    platform: str
    webhook: str
    secret: str | None = None

    def __repr__(self) -> str:  # the webhook carries the access token
        return f"RobotTarget(platform={self.platform!r}, webhook=***)"
