"""Crash test: `dutybot serve` (the embedded default, SQLite) takes a steady stream of alerts and is killed with
SIGKILL at random moments, several times, and started again on the same database. Afterwards every alert that
was answered 2xx is stored, every page that was due arrived (the channel card, the on-call's DM, and the
escalation to the next level), and the pages sent more than once stay within the outbox's documented bound:
at most the one message in flight per kill (docs/delivery.md)."""

from __future__ import annotations

import logging
import random
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.procs import dutybot_serve, free_port, wait_until
from tests.fakes.slack import FakeSlack
from tests.support import ALERTMANAGER_KEY, API_TOKEN, alert, alertmanager_payload, base_config

KILLS = 4
BATCHES = 180  # of 5 alerts; a new incident every 12 batches (a couple of seconds): pages go on throughout
ALERTS_PER_BATCH = 5
SEED = 20261207


class Sender(threading.Thread):
    """Alertmanager's part: sends each batch until it is answered 2xx (a refused or dropped connection while
    Dutybot is down is tried again), and keeps what was accepted."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.accepted: set[str] = set()
        self.refused = 0  # tries that got no 2xx: the process was down or died mid-request
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(trust_env=False, timeout=5.0) as http:
                for batch in range(BATCHES):
                    fingerprints = [f"crash-{batch}-{n}" for n in range(ALERTS_PER_BATCH)]
                    body = alertmanager_payload([alert(f"Crash{batch // 12}", fingerprint=fingerprint)
                                                 for fingerprint in fingerprints])
                    while True:
                        try:
                            answer = http.post(f"{self.url}/hooks/alertmanager/{ALERTMANAGER_KEY}", json=body)
                        except httpx.TransportError:
                            answer = None
                        if answer is not None and answer.is_success:
                            self.accepted.update(fingerprints)
                            break
                        assert answer is None or answer.status_code >= 500, answer.text  # never a client error
                        self.refused += 1
                        time.sleep(0.2)
                    time.sleep(0.1)
        except BaseException as problem:  # noqa: BLE001 - reported by the test
            self.error = problem


def _mentions(message: dict[str, Any]) -> list[int]:
    """The incidents a posted message pages: a card's fallback reads "[Critical] #3 …", a digest lists several."""
    return sorted({int(number) for number in re.findall(r"#(\d+)\b", str(message.get("text")))})


def test_sigkill_at_random_moments_loses_nothing_and_repeats_within_the_bound(
        tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    raw = base_config(slack_api_url=fake_slack.api_url, public_url=url)
    raw["services"][0]["grouping"] = {"by": ["alertname"]}
    raw["escalation_policies"] = [{"id": "default", "steps": [
        {"after": "0m", "notify": [{"user": "alice"}], "via": ["dm", "sre-slack"]},
        {"after": "5s", "notify": [{"user": "bob"}], "via": ["dm"]}]}]
    chance = random.Random(SEED)
    sender = Sender(url)
    for kill in range(KILLS):
        with dutybot_serve(tmp_path, raw, port, API_TOKEN, timeout=60) as dutybot:
            if kill == 0:
                sender.start()
            time.sleep(chance.uniform(0.5, 3.0))  # somewhere inside ingest, a send or a timer…
            pages = len(fake_slack.calls_to("chat.postMessage"))
            # …then at the worst moment: a page has reached the platform, its answer has not reached Dutybot
            wait_until(lambda: len(fake_slack.calls_to("chat.postMessage")) > pages, 30,  # noqa: B023
                       "a page to be sent", interval=0.001)
            dutybot.proc.popen.send_signal(signal.SIGKILL)
            dutybot.proc.popen.wait(10)
    with dutybot_serve(tmp_path, raw, port, API_TOKEN, timeout=60) as dutybot:
        sender.join(120)
        assert not sender.is_alive() and sender.error is None, sender.error
        incidents = dutybot.incidents()
        assert len(incidents) == len({batch // 12 for batch in range(BATCHES)}), incidents

        def everyone_told() -> bool:
            for incident in incidents:
                timeline = dutybot.incident(incident["id"])["timeline"]
                if {entry["data"]["to"] for entry in timeline if entry["kind"] == "notified"} != {
                        "alice", "sre-slack", "bob"}:
                    return False
            return True

        # what the killed process left half-sent is taken back at the restart, not after its 60 s lease
        wait_until(everyone_told, 20, "every due page and escalation to arrive", interval=0.5)
        stored: set[str] = set()
        for offset in range(0, 2000, 500):
            page = dutybot.api("GET", "/alerts", params={"limit": 500, "offset": offset}).json()["alerts"]
            stored.update(item["key"] for item in page)
        time.sleep(2)  # a late second send would land by now

    assert sender.refused > 0  # the process really was down while alerts came in
    assert sender.accepted == {f"crash-{b}-{n}" for b in range(BATCHES) for n in range(ALERTS_PER_BATCH)}
    assert sender.accepted <= stored, sorted(sender.accepted - stored)[:10]  # every alert answered 2xx is stored
    paged: dict[str, set[int]] = {}
    repeated = 0  # messages that paged a chat again about an incident it had already been paged about
    for (channel, _), message in sorted(fake_slack.messages.items(), key=lambda item: float(item[0][1])):
        seen = paged.setdefault(channel, set())
        repeated += bool(seen & set(_mentions(message)))
        seen.update(_mentions(message))
    assert set(paged) == {"CSRE", "DUALICE", "DUBOB"}
    assert all(numbers == {item["id"] for item in incidents} for numbers in paged.values()), paged
    # the outbox's bound: the dispatcher sends one message at a time, so a kill repeats at most that one
    assert repeated <= KILLS, (repeated, fake_slack.messages)
    logging.getLogger(__name__).warning("%d kills, %d refused tries, %d alerts stored, %d sent twice", KILLS,
                                        sender.refused, len(stored), repeated)
