"""Scale-out: two `dutybot web` and two `dutybot worker` processes on one PostgreSQL database and one Redis.
Alerts arrive through both web processes, both workers race for the same outbox rows and timers, and still each
page and each escalation step is sent exactly once, and every acknowledgement reaches every card."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.procs import Proc, client, dutybot_env, free_port, running, wait_for_url, wait_until
from tests.fakes.slack import FakeSlack
from tests.support import (
    ALERTMANAGER_KEY,
    API_TOKEN,
    alert,
    alertmanager_payload,
    base_config,
    drop_postgres,
    postgres_url,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

INCIDENTS = 6
ESCALATE_AFTER = "4s"


def _number(message: dict[str, Any]) -> int:
    """The incident a card is about: its fallback text reads "[Critical] #3 …"."""
    return int(next(word for word in str(message["text"]).split() if word.startswith("#")).lstrip("#"))


@pytest.fixture
def shared() -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database and an emptied Redis database."""
    redis_url = os.environ.get("DUTYBOT_TEST_REDIS_URL")
    database = postgres_url(migrated=False)
    if database is None or not redis_url:
        pytest.skip("scale-out: set DUTYBOT_TEST_DATABASE_URL and DUTYBOT_TEST_REDIS_URL")
    from redis import Redis

    with Redis.from_url(redis_url) as redis:
        redis.flushdb()  # rate-limit windows of earlier tests must not slow these sends down
    yield database, redis_url
    drop_postgres(database)


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_two_web_and_two_worker_processes_send_each_page_and_step_once(
        tmp_path: Path, fake_slack: FakeSlack, shared: tuple[str, str]) -> None:
    database, redis_url = shared
    ports = [free_port(), free_port()]
    raw = base_config(slack_api_url=fake_slack.api_url, public_url=f"http://127.0.0.1:{ports[0]}")
    raw["escalation_policies"] = [{"id": "default", "steps": [
        {"after": "0m", "notify": [{"user": "alice"}], "via": ["dm", "sre-slack"]},
        {"after": ESCALATE_AFTER, "notify": [{"user": "bob"}], "via": ["dm"]}]}]
    config = tmp_path / "dutybot.yaml"
    config.write_text(yaml.safe_dump(raw))
    env = {**dutybot_env(tmp_path / "unused.db"), "DUTYBOT_DATABASE_URL": database, "DUTYBOT_REDIS_URL": redis_url}
    _cli(env, "migrate")
    _cli(env, "apply", "-f", str(config))

    with ExitStack() as stack, client() as http:
        webs: list[Proc] = []
        for index, port in enumerate(ports):
            argv = [sys.executable, "-m", "bot.cli", "web", "--host", "127.0.0.1", "--port", str(port)]
            webs.append(stack.enter_context(running(f"web {index}", argv, tmp_path / f"web{index}.log", env)))
        for index in range(2):
            argv = [sys.executable, "-m", "bot.cli", "worker"]
            stack.enter_context(running(f"worker {index}", argv, tmp_path / f"worker{index}.log", env))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, proc in zip(urls, webs, strict=True):
            wait_for_url(f"{url}/healthz", 60, proc)
        auth = {"authorization": f"Bearer {API_TOKEN}"}

        # one incident a little more than a second apart, through either web process: each chat's limit
        # (1/s) has room, so every page goes as its own card and none is folded into a digest
        for number in range(INCIDENTS):
            body = alertmanager_payload([alert(f"Scale{number}", fingerprint=f"scale-{number}")])
            answer = http.post(f"{urls[number % 2]}/hooks/alertmanager/{ALERTMANAGER_KEY}", json=body)
            assert answer.status_code == 202, answer.text
            time.sleep(1.2)

        def cards() -> Counter[tuple[str, int]]:
            return Counter((channel, _number(message)) for (channel, _), message in fake_slack.messages.items())

        everyone = {(chat, number) for chat in ("CSRE", "DUALICE", "DUBOB") for number in range(1, INCIDENTS + 1)}
        wait_until(lambda: set(cards()) >= everyone, 60, "every page and every escalation to arrive")

        for number in range(1, INCIDENTS + 1):  # acknowledged through either web process
            answer = http.post(f"{urls[number % 2]}/api/v1/incidents/{number}/ack", headers=auth)
            assert answer.status_code == 200, answer.text

        def acknowledged_everywhere() -> bool:
            return all("Acknowledged by" in str(message.get("blocks")) for message in fake_slack.messages.values())

        wait_until(acknowledged_everywhere, 60, "every card to show the acknowledgement")
        time.sleep(3)  # a second send of anything would show up by now

        incidents = {}
        for number in range(1, INCIDENTS + 1):
            answer = http.get(f"{urls[number % 2]}/api/v1/incidents/{number}", headers=auth)
            assert answer.status_code == 200, answer.text
            incidents[number] = answer.json()

    sent = cards()
    assert set(sent) == everyone and set(sent.values()) == {1}, sent  # each page and each step exactly once
    for number, incident in incidents.items():
        assert incident["status"] == "acknowledged"
        timeline = incident["timeline"]
        assert sorted(entry["data"]["to"] for entry in timeline if entry["kind"] == "notified") == [
            "alice", "bob", "sre-slack"], (number, timeline)
        assert [entry["data"]["step"] for entry in timeline if entry["kind"] == "escalated"] == [1, 2], timeline


def test_a_killed_workers_pages_are_sent_by_the_other_within_its_heartbeat_not_its_lease(
        tmp_path: Path, fake_slack: FakeSlack, shared: tuple[str, str]) -> None:
    """A worker is killed while its chat.postMessage hangs; the other worker sends its pages as soon as the
    dead one's heartbeat is STALE_AFTER old (15 s), well inside the 60 s lease it would otherwise wait out."""
    from sqlalchemy import create_engine, text

    from bot.services.dispatch import HEARTBEAT, LEASE, STALE_AFTER
    from bot.settings import sync_database_url

    database, redis_url = shared
    port = free_port()
    raw = base_config(slack_api_url=fake_slack.api_url, public_url=f"http://127.0.0.1:{port}")
    config = tmp_path / "dutybot.yaml"
    config.write_text(yaml.safe_dump(raw))
    env = {**dutybot_env(tmp_path / "unused.db"), "DUTYBOT_DATABASE_URL": database, "DUTYBOT_REDIS_URL": redis_url}
    _cli(env, "migrate")
    _cli(env, "apply", "-f", str(config))
    engine = create_engine(sync_database_url(database))

    def holder_pid() -> int | None:
        """The pid of the worker holding the lease of a pending page, from its heartbeat row."""
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT w.pid FROM outbox o JOIN workers w ON w.identity = o.leased_by "
                "WHERE o.status = 'pending' AND o.kind = 'post' LIMIT 1")).scalar()

    try:
        with ExitStack() as stack, client() as http:
            argv = [sys.executable, "-m", "bot.cli", "web", "--host", "127.0.0.1", "--port", str(port)]
            web = stack.enter_context(running("web", argv, tmp_path / "web.log", env))
            workers = [stack.enter_context(running(f"worker {index}", [sys.executable, "-m", "bot.cli", "worker"],
                                                   tmp_path / f"worker{index}.log", env)) for index in range(2)]
            wait_for_url(f"http://127.0.0.1:{port}/healthz", 60, web)
            wait_until(lambda: _count(engine, "SELECT count(*) FROM workers") == 2, 30, "both workers to beat")

            fake_slack.hold_next("chat.postMessage", 300)  # the first page hangs: its worker is killed meanwhile
            body = alertmanager_payload([alert("Hangs", fingerprint="hang-1")])
            answer = http.post(f"http://127.0.0.1:{port}/hooks/alertmanager/{ALERTMANAGER_KEY}", json=body)
            assert answer.status_code == 202, answer.text
            wait_until(lambda: fake_slack.calls_to("chat.postMessage"), 30, "the first page to reach Slack")
            pid = wait_until(holder_pid, 10, "the lease holder")
            (victim,) = [proc for proc in workers if proc.popen.pid == pid]
            victim.popen.send_signal(signal.SIGKILL)
            victim.popen.wait(10)
            killed = time.monotonic()

            # both pages of step 1 (alice's DM and the SRE channel) come from the other worker
            wait_until(lambda: {call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")[1:]}
                       >= {"DUALICE", "CSRE"}, 60, "the other worker to send the dead one's pages")
            took = time.monotonic() - killed
            logging.getLogger(__name__).warning("the killed worker's pages were sent %.1f s after the kill", took)
            assert took < (STALE_AFTER + 3 * HEARTBEAT).total_seconds() < LEASE.total_seconds(), took
            incident = http.get(f"http://127.0.0.1:{port}/api/v1/incidents/1",
                                headers={"authorization": f"Bearer {API_TOKEN}"}).json()
            notified = sorted(entry["data"]["to"] for entry in incident["timeline"] if entry["kind"] == "notified")
            assert notified == ["alice", "sre-slack"], incident["timeline"]
            assert _count(engine, "SELECT count(*) FROM workers") == 1  # the dead one is forgotten
    finally:
        engine.dispose()


def _count(engine: Any, query: str) -> int:
    from sqlalchemy import text

    with engine.connect() as connection:
        return int(connection.execute(text(query)).scalar() or 0)
