"""The worker: fires due escalation timers and drains the outbox, woken early when work arrives."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.coordination import Leader, MemoryLeader
from bot.db.database import Database
from bot.directory import Directory
from bot.services.dispatch import HEARTBEAT, Dispatcher
from bot.services.escalation import fire_due_timers, next_due
from bot.services.reminders import send_due_reminders
from bot.services.silences import delete_ended

# reminders are due at whole minutes (advance_minutes is a multiple of 5, daily_at is HH:MM); a check every
# 15 s sends them within 15 s of their time without recomputing schedules on every pass
REMINDER_CHECK_SECONDS = 15.0
# the periodic jobs' leader holds its lock this long past its last check: a dead leader's jobs move to another
# worker within a minute, far inside a reminder's 5-minute granularity
LEADER_TTL = timedelta(seconds=60)

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, db: Database, dispatcher: Dispatcher, directory: Callable[[], Awaitable[Directory]],
                 clock: Callable[[], datetime], poll_seconds: float = 0.5, leader: Leader | None = None) -> None:
        self._db = db
        self._dispatcher = dispatcher
        self._directory = directory
        self._now = clock
        self._poll = poll_seconds
        self._wake = asyncio.Event()  # for the timers' loop
        self._send = asyncio.Event()  # for the sends' loop
        self._next_reminder_check = 0.0
        self._leader = leader or MemoryLeader()

    def wake(self) -> None:
        """Work was just committed (an alert, an ack): look now instead of at the next poll."""
        self._wake.set()
        self._send.set()

    async def tick(self) -> int:
        """One pass: fire due timers, queue due shift reminders, send what is due. Returns how much was done."""
        return await self._fire() + await self._dispatch()

    async def _fire(self) -> int:
        """Fire due timers and queue due shift reminders; what they queue is sent by the sends' loop."""
        directory = await self._directory()
        done = await fire_due_timers(self._db, directory, self._now())
        if time.monotonic() >= self._next_reminder_check:
            self._next_reminder_check = time.monotonic() + REMINDER_CHECK_SECONDS
            if await self._leader.lead(LEADER_TTL):  # with several workers, one does the periodic jobs
                done += await send_due_reminders(self._db, directory, self._now())
                async with self._db.transaction() as session:
                    await delete_ended(session, self._now())  # ended quick silences disappear by themselves
        if done:
            self._send.set()
        return done

    async def _dispatch(self) -> int:
        return await self._dispatcher.run_once(await self._directory(), self._now())

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set; a failing pass is logged and retried, never fatal."""
        several = not self._db.is_sqlite  # PostgreSQL: other workers may hold leases, alive or not
        if several:
            await self._beat()
        await self._recover()
        heartbeat = asyncio.create_task(self._heartbeat(stop)) if several else None
        # timers and sends in loops of their own: a send that hangs until its timeout, or a pass through a
        # storm's backlog, never holds up an escalation that is due (docs/delivery.md)
        loops = [asyncio.create_task(self._loop(stop, self._fire, self._wake, self._sleep_seconds)),
                 asyncio.create_task(self._loop(stop, self._dispatch, self._send, self._poll_seconds))]
        try:
            await asyncio.gather(*loops)
        finally:
            for task in loops:
                task.cancel()
            if heartbeat is not None:
                heartbeat.cancel()
                try:
                    await self._dispatcher.retire()
                except Exception:  # noqa: BLE001 - the others take its leases back when it stays silent
                    log.exception("could not unregister this worker")

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Beside the sends, so that a slow send never makes a live worker look dead: say this worker is alive,
        and take back what a dead one left leased."""
        while not stop.is_set():
            await asyncio.sleep(HEARTBEAT.total_seconds())
            await self._beat()
            await self._recover()

    async def _beat(self) -> None:
        try:
            await self._dispatcher.beat(self._now())
        except Exception:  # noqa: BLE001 - a database hiccup; the next beat comes in HEARTBEAT
            log.exception("worker heartbeat failed")

    async def _recover(self) -> None:
        try:
            if taken := await self._dispatcher.recover(self._now()):
                log.warning("%d notifications left half-sent by a stopped process are sent again now", taken)
                self.wake()
        except Exception:  # noqa: BLE001 - they still come back when their lease ends
            log.exception("could not take back unfinished notifications")

    async def _loop(self, stop: asyncio.Event, work: Callable[[], Awaitable[int]], woken: asyncio.Event,
                    sleep: Callable[[], Awaitable[float]]) -> None:
        """Run `work` until it finds nothing to do, then wait for `woken` or `sleep()` seconds; a failing pass
        is logged and retried, never fatal."""
        while not stop.is_set():
            woken.clear()
            try:
                if await work():
                    continue
                timeout = await sleep()
            except Exception:  # noqa: BLE001 - the worker must outlive a bad pass (DB restart, bug)
                log.exception("worker pass failed")
                timeout = self._poll * 4
            try:
                await asyncio.wait_for(woken.wait(), timeout=timeout)
            except TimeoutError:
                pass

    async def _poll_seconds(self) -> float:
        return self._poll

    async def _sleep_seconds(self) -> float:
        due = await next_due(self._db)
        if due is None:
            return self._poll
        return max(0.0, min(self._poll, (due - self._now()).total_seconds()))
