"""Benchmark: from an alert sent to the first platform API call, at rest and during a storm, beside Alertmanager.

In one run on one machine: `dutybot serve` (SQLite, the embedded default) paging a local fake Slack, then Debian's
`prometheus-alertmanager` with an equivalent route (one group per alertname, `group_wait` 0s, then 1s) sending to a
local webhook receiver. Each gets the same load:

- at rest: probe alerts one at a time, a second apart, each a new incident (a new group);
- during a storm: 10,000 alerts in 200 groups (batches of 100 from 4 clients) while 12 more probes go to a
  second service that pages someone else, so the figure is what a storm does to an unrelated page;
- and the number of chat messages (Dutybot) or webhook notifications (Alertmanager) the storm produced.

The latency runs from sending the probe's request to the platform seeing the first call that names it: Dutybot's
`chat.postMessage` of the DM card, Alertmanager's webhook POST.

    .venv/bin/python -m bench.delivery [--probes 30] [--storm 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.alert_to_page import ALERTMANAGER, free_port, percentile, wait_http  # noqa: E402
from tests.fakes._server import ThreadedServer  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.support import alertmanager_payload, base_config  # noqa: E402

STORM_KEY = "bench-storm-key-0123456789"
PROBE_KEY = "bench-probe-key-0123456789"
GROUPS = 200
BATCH = 100
STORM_CLIENTS = 4
PROBE_SPACING = 1.05  # seconds between probes
STORM_PROBES = 12  # probes while the storm is sent and paged (about 13 s)


class Receiver(ThreadedServer):
    """Alertmanager's webhook receiver: when each notification arrived and which alertnames it carried."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[tuple[float, set[str]]] = []

    def _setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/am", self._receive)

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.json()
        names = {str(item.get("labels", {}).get("alertname")) for item in body.get("alerts", [])}
        with self._cond:
            self.posts.append((time.monotonic(), names))
        return web.Response(status=200)


def _am_alert(name: str, service: str, instance: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"labels": {"alertname": name, "service": service, "instance": instance, "severity": "critical"},
            "annotations": {"summary": name}, "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat()}


def _dutybot_alert(name: str, instance: str) -> dict[str, Any]:
    return {"status": "firing", "fingerprint": f"{name}-{instance}", "startsAt": "2026-12-07T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "annotations": {"summary": name},
            "labels": {"alertname": name, "instance": instance, "severity": "critical", "cluster": "prod"}}


class Target:
    """One system under test: how to send a batch of alerts, and when a probe was first named downstream."""

    name: str

    async def send(self, client: httpx.AsyncClient, kind: str, names: list[tuple[str, str]]) -> None:
        raise NotImplementedError

    def first_named(self, name: str) -> float | None:
        raise NotImplementedError

    def storm_messages(self) -> int:
        raise NotImplementedError

    def timer_lag(self) -> tuple[float, float] | None:
        """Dutybot only: how late its escalation timers fired (mean, max seconds), from its database."""
        return None


class Dutybot(Target):
    def __init__(self, workdir: Path) -> None:
        self.name = "dutybot (SQLite)"
        self.slack = FakeSlack().start()
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        raw = base_config(slack_api_url=self.slack.api_url, public_url=self.base)
        service = raw["services"][0]
        raw["escalation_policies"] = [
            {"id": "storm", "steps": [{"after": "0m", "notify": [{"user": "alice"}], "via": ["dm", "sre-slack"]}]},
            {"id": "probe", "steps": [{"after": "0m", "notify": [{"user": "bob"}], "via": ["dm"]}]}]
        raw["services"] = [
            {**service, "id": kind, "name": kind, "escalation_policy": kind, "grouping": {"by": ["alertname"]},
             "integrations": [{"kind": "alertmanager", "key": key, "rate_limit": "off"}]}
            for kind, key in (("storm", STORM_KEY), ("probe", PROBE_KEY))]
        config = workdir / "dutybot.yaml"
        config.write_text(yaml.safe_dump(raw, allow_unicode=True))
        env = {"PATH": "/usr/bin:/bin", "DUTYBOT_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}"}
        self.database = workdir / "bench.db"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "-f", str(config), "--port", str(port)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=(workdir / "dutybot.log").open("wb"))
        wait_http(f"{self.base}/healthz")

    async def send(self, client: httpx.AsyncClient, kind: str, names: list[tuple[str, str]]) -> None:
        key = STORM_KEY if kind == "storm" else PROBE_KEY
        body = alertmanager_payload([_dutybot_alert(name, instance) for name, instance in names])
        (await client.post(f"{self.base}/hooks/alertmanager/{key}", json=body)).raise_for_status()

    def first_named(self, name: str) -> float | None:
        for call in self.slack.calls_to("chat.postMessage"):
            if f" {name} " in f" {call.params.get('text', '')} ":
                return call.at
        return None

    def storm_messages(self) -> int:
        return sum(1 for call in self.slack.calls_to("chat.postMessage") if "Probe" not in call.params["text"])

    def timer_lag(self) -> tuple[float, float] | None:
        with sqlite3.connect(self.database) as connection:
            mean, most = connection.execute(
                "SELECT avg(julianday(fired_at) - julianday(due_at)), max(julianday(fired_at) - julianday(due_at)) "
                "FROM timers WHERE fired_at IS NOT NULL").fetchone()
        return None if mean is None else (mean * 86400, most * 86400)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.slack.stop()


class Alertmanager(Target):
    def __init__(self, workdir: Path, group_wait: str) -> None:
        self.name = f"prometheus-alertmanager, group_wait {group_wait}"
        self.receiver = Receiver().start()
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        config = workdir / f"alertmanager-{group_wait}.yml"
        config.write_text(yaml.safe_dump({
            "route": {"receiver": "hook", "group_by": ["alertname", "service"], "group_wait": group_wait,
                      "group_interval": "5m", "repeat_interval": "4h"},
            "receivers": [{"name": "hook", "webhook_configs": [
                {"url": f"{self.receiver.base_url}/am", "send_resolved": False}]}]}))
        self.process = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={config}", f"--storage.path={workdir / f'am-{group_wait}'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(f"{self.base}/-/ready")

    async def send(self, client: httpx.AsyncClient, kind: str, names: list[tuple[str, str]]) -> None:
        body = [_am_alert(name, kind, instance) for name, instance in names]
        (await client.post(f"{self.base}/api/v2/alerts", json=body)).raise_for_status()

    def first_named(self, name: str) -> float | None:
        with self.receiver._cond:
            for at, names in self.receiver.posts:
                if name in names:
                    return at
        return None

    def storm_messages(self) -> int:
        with self.receiver._cond:
            return sum(1 for _, names in self.receiver.posts if not any(n.startswith("Probe") for n in names))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.receiver.stop()


async def probe(target: Target, client: httpx.AsyncClient, label: str, count: int,
                last: float = 0.0) -> tuple[list[float], list[float], float]:
    """Seconds from sending each probe to the first downstream call naming it, one probe at a time, each sent a
    second after the previous one was delivered: the probes page one person, and a DM conversation takes one
    message a second (docs/delivery.md), so closer probes would measure that limit instead of the system.
    `last` is when the probe before these was delivered (the spacing holds across calls); returned updated."""
    latencies, accepted = [], []
    for number in range(count):
        name = f"Probe{label}{number}"
        await asyncio.sleep(max(0.0, last + PROBE_SPACING - time.monotonic()))
        started = time.monotonic()
        await target.send(client, "probe", [(name, "p")])
        accepted.append(time.monotonic() - started)
        while (seen := target.first_named(name)) is None:
            if time.monotonic() - started > 30:
                raise TimeoutError(f"{target.name}: nothing named {name} within 30 s")
            await asyncio.sleep(0.001)
        latencies.append(seen - started)
        last = seen
    return latencies, accepted, last


async def storm(target: Target, alerts: int) -> float:
    batches = [[(f"Storm{n % GROUPS}", f"host-{n}") for n in range(start, min(alerts, start + BATCH))]
               for start in range(0, alerts, BATCH)]
    queue: asyncio.Queue[list[tuple[str, str]]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    started = time.monotonic()

    async def client_loop() -> None:
        async with httpx.AsyncClient(timeout=60.0, trust_env=False) as client:
            while not queue.empty():
                await target.send(client, "storm", queue.get_nowait())

    await asyncio.gather(*(client_loop() for _ in range(STORM_CLIENTS)))
    return time.monotonic() - started


async def measure(target: Target, probes: int, alerts: int) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
        *_, last = await probe(target, client, "Warm", 3)
        rest, rest_accepted, last = await probe(target, client, "Rest", probes, last)
        await asyncio.sleep(max(0.0, last + PROBE_SPACING - 0.2 - time.monotonic()))
        storm_task = asyncio.create_task(storm(target, alerts))
        await asyncio.sleep(0.2)  # the storm is under way
        during, during_accepted, _ = await probe(target, client, "Storm", STORM_PROBES, last)
        accepted_in = await storm_task
    quiet_since, count = time.monotonic(), -1
    while time.monotonic() - quiet_since < 3.0:  # the storm's pages (and digests) go out, then nothing more
        if target.storm_messages() != count:
            count, quiet_since = target.storm_messages(), time.monotonic()
        await asyncio.sleep(0.1)
    return {"rest": rest, "storm": during, "rest_accepted": rest_accepted, "storm_accepted": during_accepted,
            "accepted_in": accepted_in, "messages": count, "timer_lag": target.timer_lag()}


def _line(values: list[float]) -> str:
    ms = [value * 1000 for value in values]
    return f"p50 {statistics.median(ms):8.1f} ms   p99 {percentile(ms, 0.99):8.1f} ms"


async def main(probes: int, alerts: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="dutybot-bench-delivery-"))
    results: list[tuple[str, dict[str, Any]]] = []
    try:
        makers: list[Any] = [lambda: Dutybot(workdir)]
        if Path(ALERTMANAGER).exists():
            makers += [lambda: Alertmanager(workdir, "0s"), lambda: Alertmanager(workdir, "1s")]
        for make in makers:
            target = make()
            try:
                results.append((target.name, await measure(target, probes, alerts)))
            finally:
                target.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{probes} probes at rest, {STORM_PROBES} during the storm; storm of {alerts} alerts in {GROUPS} groups "
          f"(batches of {BATCH}, {STORM_CLIENTS} clients); latency = probe sent → first platform call naming it "
          "(2xx: → the probe's answer)")
    for name, result in results:
        print(f"{name:42} at rest      {_line(result['rest'])}   (2xx: {_line(result['rest_accepted'])})")
        print(f"{'':42} in a storm   {_line(result['storm'])}   (2xx: {_line(result['storm_accepted'])})")
        print(f"{'':42} the storm was accepted in {result['accepted_in']:.1f} s")
        print(f"{'':42} the storm produced {result['messages']} messages")
        if result["timer_lag"] is not None:
            mean, most = result["timer_lag"]
            print(f"{'':42} its escalation timers fired {mean * 1000:.0f} ms late on average, at most "
                  f"{most * 1000:.0f} ms")
    if not Path(ALERTMANAGER).exists():
        print("reference: prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)")
    print(json.dumps({name: {key: value for key, value in result.items() if key in ("accepted_in", "messages")}
                      for name, result in results}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--storm", type=int, default=10_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.probes, arguments.storm))
