"""Coordination between processes: replay keys for callbacks, in memory or shared through Redis."""

from __future__ import annotations

import time
from datetime import timedelta

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
