"""Coordination shared through Redis: replay keys (two web processes see a signed request once) and rate limits."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.coordination import (
    MemoryDeduper,
    MemoryLeader,
    MemoryRateLimiter,
    MemoryRollingLimiter,
    RedisDeduper,
    RedisLeader,
    RedisRateLimiter,
    RedisRollingLimiter,
)


@pytest.fixture
async def redis_pair() -> AsyncIterator[tuple[Any, Any, str]]:
    """Two clients of one Redis (two processes) and a tag unique to the test; keys naming the tag are deleted."""
    url = os.environ.get("DUTYBOT_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis: set DUTYBOT_TEST_REDIS_URL")
    from redis.asyncio import Redis

    first, second = Redis.from_url(url), Redis.from_url(url)
    tag = f"test-{uuid.uuid4().hex}"
    try:
        yield first, second, tag
    finally:
        names = [name async for name in first.scan_iter(match=f"*{tag}*")]
        if names:
            await first.delete(*names)
        await first.aclose()
        await second.aclose()


async def test_memory_deduper_remembers_until_expiry() -> None:
    deduper = MemoryDeduper()
    assert await deduper.first_seen("k", timedelta(seconds=60)) is True
    assert await deduper.first_seen("k", timedelta(seconds=60)) is False
    assert await deduper.first_seen("other", timedelta(seconds=60)) is True


@pytest.mark.redis
async def test_redis_deduper_is_shared_between_processes(redis_pair: tuple[Any, Any, str]) -> None:
    first, second, key = redis_pair
    web_a, web_b = RedisDeduper(first), RedisDeduper(second)
    assert await web_a.first_seen(key, timedelta(seconds=5)) is True
    assert await web_b.first_seen(key, timedelta(seconds=5)) is False
    assert 0 < await first.ttl("dutybot:seen:" + key) <= 5


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
async def test_redis_rate_limiter_is_shared_between_processes(redis_pair: tuple[Any, Any, str]) -> None:
    first, second, key = redis_pair
    await _limiter_walk(RedisRateLimiter(first), RedisRateLimiter(second), key)
    assert 0 < await first.ttl(f"dutybot:rate:{key}:60:{1_800_000_060 // 60}") <= 61


async def _rolling_walk(limiter: MemoryRollingLimiter | RedisRollingLimiter,
                        other: MemoryRollingLimiter | RedisRollingLimiter, key: str) -> None:
    """Two send limiters over one store: 2/s and 3/min counted over any second and any minute."""
    windows = ((1, 2), (60, 3))
    now = 1_800_000_000.25
    assert await limiter.admit(key, windows, now) is None
    assert await other.admit(key, windows, now) is None
    assert await limiter.admit(key, windows, now) == 1  # two in this second already
    assert await other.admit(key, windows, now + 0.5) == 0.5  # still inside the same rolling second
    assert await other.admit(key, windows, now + 1) is None  # the third of the minute
    assert await limiter.admit(key, windows, now + 2) == 58  # the minute frees up when the first two leave it
    assert await limiter.admit(key, windows, now + 59.75) == 0.25  # a new clock minute, not 60 s since then
    assert await limiter.admit(key, windows, now + 59.995) == 0.01  # 5 ms to go: a wait of 10 ms, not a second
    assert await limiter.admit(key, windows, now + 60) is None  # the first two left the window
    assert await limiter.admit(f"{key}-else", windows, now) is None  # other destinations have their own room


async def _no_burst_across_a_minute(limiter: MemoryRollingLimiter | RedisRollingLimiter, key: str) -> None:
    """19 a minute sent at the end of one clock minute leaves no room at the start of the next: what a
    DingTalk robot counts, where the 21st message in any minute blocks it for ten minutes."""
    windows = ((60, 19),)
    start = 1_800_000_050.0  # ten seconds before a whole minute
    sent = [start + index * 0.5 for index in range(19)]
    for at in sent:
        assert await limiter.admit(key, windows, at) is None
    assert await limiter.admit(key, windows, 1_800_000_061.0) == 49  # room again when the first leaves (t=110)
    assert await limiter.admit(key, windows, start + 60.0) is None


async def test_memory_rolling_limiter() -> None:
    limiter = MemoryRollingLimiter()
    await _rolling_walk(limiter, limiter, "k")
    await _no_burst_across_a_minute(MemoryRollingLimiter(), "robot")


@pytest.mark.redis
async def test_redis_rolling_limiter_is_shared_between_processes(redis_pair: tuple[Any, Any, str]) -> None:
    first, second, tag = redis_pair
    prefix = f"{tag}:"
    await _rolling_walk(RedisRollingLimiter(first, prefix), RedisRollingLimiter(second, prefix), "k")
    await _no_burst_across_a_minute(RedisRollingLimiter(first, prefix), "robot")
    assert 0 < await first.pttl(prefix + "robot") <= 61_000


async def test_one_process_always_leads() -> None:
    assert await MemoryLeader().lead(timedelta(seconds=1)) is True


@pytest.mark.redis
async def test_redis_leader_one_worker_at_a_time_and_a_dead_ones_lock_moves_on(
        redis_pair: tuple[Any, Any, str]) -> None:
    first, second, key = redis_pair
    worker_a, worker_b = RedisLeader(first, key), RedisLeader(second, key)
    short = timedelta(milliseconds=400)
    assert await worker_a.lead(short) is True
    assert await worker_b.lead(short) is False  # a held lock is left alone
    await asyncio.sleep(0.25)
    assert await worker_a.lead(short) is True  # the holder extends it on its next pass…
    await asyncio.sleep(0.25)
    assert await worker_b.lead(short) is False  # …so it has not run out 0.5 s after it was first taken
    await asyncio.sleep(0.5)  # worker_a stops checking in (it died)
    assert await worker_b.lead(short) is True  # its lock expired: the other worker takes over
    assert await worker_a.lead(short) is False

