"""Replay protection shared through Redis: two web processes see the same signed request once."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest

from bot.coordination import MemoryDeduper, RedisDeduper


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
