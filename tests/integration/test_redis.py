"""Coordination shared through Redis: replay keys (two web processes see a signed request once) and rate limits."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest

from bot.coordination import MemoryDeduper, MemoryRateLimiter, RedisDeduper, RedisRateLimiter


async def test_memory_deduper_remembers_until_expiry() -> None:
    deduper = MemoryDeduper()
    assert await deduper.first_seen("k", timedelta(seconds=60)) is True
    assert await deduper.first_seen("k", timedelta(seconds=60)) is False
    assert await deduper.first_seen("other", timedelta(seconds=60)) is True


@pytest.mark.redis
async def test_redis_deduper_is_shared_between_processes() -> None:
    url = os.environ.get("DUTYBOT_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis: set DUTYBOT_TEST_REDIS_URL")
    from redis.asyncio import Redis

    first, second = Redis.from_url(url), Redis.from_url(url)
    key = f"test-{uuid.uuid4().hex}"
    try:
        web_a, web_b = RedisDeduper(first), RedisDeduper(second)
        assert await web_a.first_seen(key, timedelta(seconds=5)) is True
        assert await web_b.first_seen(key, timedelta(seconds=5)) is False
        assert 0 < await first.ttl("dutybot:seen:" + key) <= 5
    finally:
        await first.delete("dutybot:seen:" + key)
        await first.aclose()
        await second.aclose()


async def _limiter_walk(limiter: MemoryRateLimiter | RedisRateLimiter, other: MemoryRateLimiter | RedisRateLimiter,
                        key: str) -> None:
    """Two limiters over one store: 2/s and 3/min, shared; a refused request does not use up room."""
    windows = ((1, 2), (60, 3))
    now = 1_800_000_000.25  # a quarter second into a minute (1_800_000_000 is a whole minute)
    assert await limiter.admit(key, windows, now) is None
    assert await other.admit(key, windows, now) is None
    assert await limiter.admit(key, windows, now) == 1  # the second's window is full: retry in 1 s
    assert await other.admit(key, windows, now + 0.5) == 1
    assert await other.admit(key, windows, now + 1) is None  # the next second: the third of the minute
    assert await limiter.admit(key, windows, now + 2) == 58  # 2.25 s into the minute, which is full
    assert await limiter.admit(key, windows, now + 59.75) is None  # the next minute
    assert await limiter.admit(f"{key}-else", windows, now) is None  # other integrations have their own room


async def test_memory_rate_limiter() -> None:
    limiter = MemoryRateLimiter()
    await _limiter_walk(limiter, limiter, "k")


@pytest.mark.redis
async def test_redis_rate_limiter_is_shared_between_processes() -> None:
    url = os.environ.get("DUTYBOT_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis: set DUTYBOT_TEST_REDIS_URL")
    from redis.asyncio import Redis

    first, second = Redis.from_url(url), Redis.from_url(url)
    key = f"test-{uuid.uuid4().hex}"
    try:
        await _limiter_walk(RedisRateLimiter(first), RedisRateLimiter(second), key)
        assert 0 < await first.ttl(f"dutybot:rate:{key}:60:{1_800_000_060 // 60}") <= 61
    finally:
        names = [name async for name in first.scan_iter(match=f"dutybot:rate:{key}*")]
        if names:
            await first.delete(*names)
        await first.aclose()
        await second.aclose()
