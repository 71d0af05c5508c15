"""Coordination between processes: replay keys for callbacks and request counts for rate limits, in memory
(one process) or shared through Redis (several)."""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from redis.asyncio import Redis


class MemoryDeduper:
    """One process: remembers keys until they expire."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    async def first_seen(self, key: str, ttl: timedelta) -> bool:
        now = time.monotonic()
        if len(self._seen) > 10_000:
            self._seen = {k: expiry for k, expiry in self._seen.items() if expiry > now}
        if self._seen.get(key, 0.0) > now:
            return False
        self._seen[key] = now + ttl.total_seconds()
        return True


class RedisDeduper:
    """Several web processes: `SET NX EX` makes the first one win."""

    def __init__(self, redis: Redis, prefix: str = "dutybot:seen:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def first_seen(self, key: str, ttl: timedelta) -> bool:
        return bool(await self._redis.set(self._prefix + key, b"1", nx=True, ex=max(1, int(ttl.total_seconds()))))


# a rate limit: at most `limit` requests per fixed window of `seconds`
Window = tuple[int, int]


class RateLimiter(Protocol):
    """None when there is room now, else how long to wait: whole seconds for ingest (a Retry-After header),
    seconds to the next 10 ms for sends."""

    async def admit(self, key: str, windows: Sequence[Window], now: float) -> float | None: ...


def _retry_after(now: float, seconds: int) -> int:
    """Whole seconds until the fixed window holding `now` ends (at least 1)."""
    return max(1, math.ceil((math.floor(now / seconds) + 1) * seconds - now))


class MemoryRateLimiter:
    """One process: fixed-window counters per key."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int, int], int] = {}

    async def admit(self, key: str, windows: Sequence[Window], now: float) -> int | None:
        """Count one request for `key` at POSIX time `now`: None when every window has room, else the seconds to
        wait (Retry-After). A refused request is not counted."""
        slots = [(key, seconds, math.floor(now / seconds)) for seconds, _ in windows]
        for slot, (seconds, limit) in zip(slots, windows, strict=True):
            if self._counts.get(slot, 0) >= limit:
                return _retry_after(now, seconds)
        if len(self._counts) > 100_000:
            self._counts = {slot: count for slot, count in self._counts.items()
                            if slot[2] >= math.floor(now / slot[1])}
        for slot in slots:
            self._counts[slot] = self._counts.get(slot, 0) + 1
        return None


class RedisRateLimiter:
    """Several web processes: `INCR` on a key per window (expiring with it); a refused request is given back."""

    def __init__(self, redis: Redis, prefix: str = "dutybot:rate:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def admit(self, key: str, windows: Sequence[Window], now: float) -> int | None:
        names = [f"{self._prefix}{key}:{seconds}:{math.floor(now / seconds)}" for seconds, _ in windows]
        async with self._redis.pipeline(transaction=True) as pipe:
            for name, (seconds, _) in zip(names, windows, strict=True):
                pipe.incr(name)
                pipe.expire(name, seconds + 1)
            results = await pipe.execute()
        counts = results[0::2]
        over = [seconds for count, (seconds, limit) in zip(counts, windows, strict=True) if count > limit]
        if not over:
            return None
        async with self._redis.pipeline(transaction=True) as pipe:
            for name in names:
                pipe.decr(name)
            await pipe.execute()
        return max(_retry_after(now, seconds) for seconds in over)


def _rolling_wait(sent: Sequence[float], windows: Sequence[Window], now: float) -> float:
    """Seconds until every rolling window has room again for one more, given the send times still inside the
    longest window (oldest first); 0 when there is room now."""
    wait = 0.0
    for seconds, limit in windows:
        inside = [at for at in sent if at > now - seconds]
        if len(inside) >= limit:
            wait = max(wait, inside[len(inside) - limit] + seconds - now)
    return wait


def _send_wait(seconds: float) -> float:
    """A send's wait, up to the next 10 ms: a page that missed its window by a few milliseconds goes a few
    milliseconds later, not a whole second (what Retry-After's whole seconds would make it)."""
    return max(0.01, math.ceil(round(seconds, 6) * 100) / 100)


class MemoryRollingLimiter:
    """One process: rolling windows per key, for what Dutybot sends. A platform counts "20 a minute" over any
    60 seconds, so fixed windows would let 19 go at the end of one minute and 19 more at the start of the next —
    38 in a few seconds, and a DingTalk robot blocked for ten minutes."""

    def __init__(self) -> None:
        self._sent: dict[str, deque[float]] = {}

    async def admit(self, key: str, windows: Sequence[Window], now: float) -> float | None:
        """Count one send for `key` at POSIX time `now`: None when every window has room, else the seconds to
        wait (to the next 10 ms). A refused send is not counted."""
        longest = max(seconds for seconds, _ in windows)
        if len(self._sent) > 10_000:
            self._sent = {k: times for k, times in self._sent.items() if times and times[-1] > now - longest}
        sent = self._sent.setdefault(key, deque())
        while sent and sent[0] <= now - longest:
            sent.popleft()
        wait = _rolling_wait(sent, windows, now)
        if wait > 0:
            return _send_wait(wait)
        sent.append(now)
        return None


# one sorted set per key, scored by send time: drop what left the longest window, check each window, add
_ROLLING = """
local now = tonumber(ARGV[1])
local longest = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
local wait = 0
for i = 4, #ARGV, 2 do
  local seconds, limit = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  local from = '(' .. (now - seconds)
  local count = redis.call('ZCOUNT', KEYS[1], from, '+inf')
  if count >= limit then
    local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
    wait = math.max(wait, tonumber(oldest[2]) + seconds - now)
  end
end
if wait > 0 then
  return tostring(wait)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(longest * 1000) + 1000)
return false
"""


class RedisRollingLimiter:
    """Several worker processes: the same rolling windows in one Redis sorted set per key, checked and counted
    atomically by a script."""

    def __init__(self, redis: Redis, prefix: str = "dutybot:sent:") -> None:
        self._prefix = prefix
        self._script = redis.register_script(_ROLLING)

    async def admit(self, key: str, windows: Sequence[Window], now: float) -> float | None:
        longest = max(seconds for seconds, _ in windows)
        args: list[str] = [repr(now), str(longest), f"{now!r}:{uuid.uuid4().hex}"]
        for seconds, limit in windows:
            args += [str(seconds), str(limit)]
        wait = await self._script(keys=[self._prefix + key], args=args)
        if wait is None:
            return None
        return _send_wait(float(wait))


class Leader(Protocol):
    async def lead(self, ttl: timedelta) -> bool: ...


class MemoryLeader:
    """One process: it always leads."""

    async def lead(self, ttl: timedelta) -> bool:
        return True


# take the lock when it is free, or extend it when this process holds it; anything else leaves it alone
_LEAD = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""


class RedisLeader:
    """Several workers: one of them runs the periodic jobs (shift reminders, clearing ended silences). The lock
    is a key holding this process's id with a time to live; the holder extends it on every pass, and when the
    holder dies another worker takes it over once it expires. The jobs are idempotent (reminders are outbox rows
    with a unique key), so a pass run by two workers around a takeover does no harm: the lock saves work."""

    def __init__(self, redis: Redis, key: str = "dutybot:leader:periodic") -> None:
        self._key = key
        self._script = redis.register_script(_LEAD)
        self.identity = uuid.uuid4().hex

    async def lead(self, ttl: timedelta) -> bool:
        milliseconds = str(max(1, int(ttl.total_seconds() * 1000)))
        return bool(await self._script(keys=[self._key], args=[self.identity, milliseconds]))
