"""Several workers on PostgreSQL: a page leased by a worker that died is taken back by another as soon as the
dead one's heartbeat is STALE_AFTER old, not after the whole lease; a live worker's lease is left alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.db.tables import OutboxMessage, WorkerProcess
from bot.services.dispatch import STALE_AFTER, Dispatcher
from bot.services.escalation import fire_due_timers
from tests.fakes.slack import FakeSlack
from tests.support import Harness, alert, base_config, drop_postgres, postgres_url, start_harness

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg(fake_slack: FakeSlack) -> AsyncIterator[Harness]:
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL: set DUTYBOT_TEST_DATABASE_URL")
    try:
        async for running in start_harness(url, base_config(slack_api_url=fake_slack.api_url)):
            yield running
    finally:
        drop_postgres(url)


async def _other_worker_claims_the_pages(harness: Harness) -> Dispatcher:
    """A second dispatcher (another worker process) beats once and claims what is due, then sends nothing."""
    container = harness.container
    other = Dispatcher(container.db, None, container.dispatcher._robot, b"k" * 32)  # noqa: SLF001 - same senders
    await harness.post_alerts([alert()])
    await fire_due_timers(container.db, await container.directory(), harness.clock())
    await other.beat(harness.clock())
    claimed = await other._claim(harness.clock())  # noqa: SLF001 - the claim a killed worker made
    posts = [row for row in claimed if row.kind == "post"]
    assert posts, claimed
    return other


async def _leased(harness: Harness, identity: str) -> int:
    async with harness.container.db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending",
                                                                  OutboxMessage.leased_by == identity))).all()
    return len(rows)


async def test_a_dead_workers_pages_are_taken_back_once_its_heartbeat_is_stale(
        pg: Harness, fake_slack: FakeSlack) -> None:
    dead = await _other_worker_claims_the_pages(pg)
    mine = pg.container.dispatcher
    await mine.beat(pg.clock())
    assert await mine.recover(pg.clock()) == 0  # its heartbeat is fresh: it may be sending right now
    pg.clock.advance(seconds=STALE_AFTER.total_seconds() - 1)
    assert await mine.recover(pg.clock()) == 0
    await pg.work()
    assert fake_slack.calls_to("chat.postMessage") == []  # nothing is sent while the lease holder may be alive

    pg.clock.advance(seconds=2)  # the other worker has been silent for longer than STALE_AFTER: it is gone
    held = await _leased(pg, dead.identity)  # the two pages (incident events were settled meanwhile)
    assert held == 2
    await mine.beat(pg.clock())
    assert await mine.recover(pg.clock()) == held
    assert await _leased(pg, dead.identity) == 0
    await pg.work()
    assert sorted(call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")) == ["CSRE", "DUALICE"]
    async with pg.container.db.transaction() as session:  # the dead worker is forgotten, the live one kept
        workers = (await session.scalars(select(WorkerProcess.identity))).all()
    assert workers == [mine.identity]


async def test_a_live_worker_keeps_its_leases_for_as_long_as_it_beats(pg: Harness, fake_slack: FakeSlack) -> None:
    alive = await _other_worker_claims_the_pages(pg)
    mine = pg.container.dispatcher
    for _ in range(10):  # 30 s of a slow send, beating every 3 s beside it
        pg.clock.advance(seconds=3)
        await alive.beat(pg.clock())
        await mine.beat(pg.clock())
        assert await mine.recover(pg.clock()) == 0
    assert await _leased(pg, alive.identity) > 0
    await alive.retire()  # a clean stop: no heartbeat expected, so its leases come back at once
    assert await mine.recover(pg.clock()) > 0
    await pg.work()
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
