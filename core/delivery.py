"""How fast Dutybot may send to one destination, from each platform's documented limits (platforms.md §1).

A limit is one or more fixed windows `(seconds, at most this many messages)`, all of which must have room.
The figures stay a little under the documented ones where a platform punishes going over (a DingTalk robot that
sends a 21st message in a minute is blocked for ten minutes), so a storm never locks the team out of its own
channel. The dispatcher asks before every send; a destination over its limit waits (the row is put back, the
attempt not counted), and its waiting incident messages are folded into one digest (`fold_digest`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from core.ports import Destination

Window = tuple[int, int]  # (seconds, at most this many sends in each such fixed window)

# (platform, destination kind) → windows; the source of each figure is platforms.md §1 and the platform's docs
LIMITS: dict[tuple[str, str], tuple[Window, ...]] = {
    ("slack", "channel"): ((1, 1), (60, 50)),        # ~1 message/s per channel, bursts tolerated; chat.update Tier 3
    ("slack", "dm"): ((1, 1), (60, 50)),             # a DM is a channel too
    ("dingtalk-robot", "robot"): ((60, 19),),        # 20/min per robot; the 21st blocks the robot for 10 min
    ("wecom-robot", "robot"): ((60, 19),),           # 20/min per robot
    ("feishu-robot", "robot"): ((1, 5), (60, 95)),   # 5/s and 100/min per custom bot
    ("feishu", "channel"): ((1, 5),),                # 5 QPS per group, shared by every bot in it
    ("feishu", "dm"): ((1, 5),),                     # 5 QPS per user
    ("dingtalk", "channel"): ((60, 19),),
    ("dingtalk", "dm"): ((60, 19),),
    ("wecom", "dm"): ((60, 29),),                    # 30/min and 1000/h per member per app
    ("telegram", "channel"): ((60, 19),),            # 20/min per group
    ("telegram", "dm"): ((1, 1),),                   # 1/s per chat
    ("email", "dm"): ((60, 30),),                    # ours: a mailbox paged more than twice a second is a storm
}
DEFAULT_LIMIT: tuple[Window, ...] = ((1, 1), (60, 19))  # an unknown platform: the strictest documented figures

DIGEST_AFTER = 2  # a destination with more than this many messages waiting gets one digest instead
DIGEST_LISTED = 20  # incidents named in a digest; the rest are counted


def limit_for(destination: Destination) -> tuple[Window, ...]:
    return LIMITS.get((destination.platform, destination.kind), DEFAULT_LIMIT)


def limit_key(destination: Destination) -> str:
    """The counter of one destination. Robot addresses are config ids, but a chat id can be personal data and
    a key ends up in Redis: it is kept as a digest."""
    digest = hashlib.sha256(f"{destination.platform}\0{destination.kind}\0{destination.address}".encode())
    return "send:" + digest.hexdigest()[:24]


def fold_digest(waiting: Sequence[int]) -> tuple[tuple[int, ...], int]:
    """Of the incident ids waiting for one destination (oldest first), the ones a digest names and how many
    more it counts; nothing to fold (empty) when there are not more than DIGEST_AFTER."""
    if len(waiting) <= DIGEST_AFTER:
        return (), 0
    unique = tuple(dict.fromkeys(waiting))
    return unique[:DIGEST_LISTED], max(0, len(unique) - DIGEST_LISTED)
