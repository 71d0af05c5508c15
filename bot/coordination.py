"""Coordination between processes: replay keys for callbacks and request counts for rate limits, in memory
(one process) or shared through Redis (several)."""

from __future__ import annotations

import math
import time
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
    async def admit(self, key: str, windows: Sequence[Window], now: float) -> int | None: ...


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
