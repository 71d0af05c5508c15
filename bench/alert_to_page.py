"""Benchmark: how long from an Alertmanager webhook to the Slack page, and how fast ingest is.

Runs `dutybot serve` (SQLite, the embedded default) against a local fake Slack, and Debian's
`prometheus-alertmanager` as the reference for ingest throughput, in the same run on the same machine.

    .venv/bin/python -m bench.alert_to_page [--incidents 200] [--alerts 2000] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.support import ALERTMANAGER_KEY, alert, alertmanager_payload, base_config  # noqa: E402

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(url)


def start_dutybot(workdir: Path, slack: FakeSlack) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    raw = base_config(slack_api_url=slack.api_url, public_url=base)
    raw["services"][0]["integrations"][0]["rate_limit"] = "off"  # the benchmark measures ingest, not the limit
    raw["escalation_policies"][0]["steps"] = [{"after": "0m", "notify": [{"user": "alice"}], "via": ["dm"]}]
    config = workdir / "dutybot.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True))
    env = {**os.environ, "DUTYBOT_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "HTTPS_PROXY": "",
           "https_proxy": "", "HTTP_PROXY": "", "http_proxy": "", "DUTYBOT_LOCALE": "en"}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "-f", str(config), "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"{base}/healthz")
    return process, base


def start_alertmanager(workdir: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    if not Path(ALERTMANAGER).exists():
        return None
    port = free_port()
    config = workdir / "alertmanager.yml"
    config.write_text(yaml.safe_dump({"route": {"receiver": "null", "group_by": ["alertname", "cluster"]},
                                      "receivers": [{"name": "null"}]}))
    process = subprocess.Popen([ALERTMANAGER, f"--config.file={config}", f"--storage.path={workdir / 'am'}",
                                f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/-/ready")
    return process, base


async def page_latency(base: str, slack: FakeSlack, incidents: int) -> list[float]:
    """Seconds from sending a new alert (a new incident each) to the fake Slack seeing the DM post."""
    latencies = []
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as client:
        for number in range(incidents):
            before = len(slack.calls_to("chat.postMessage"))
            started = time.perf_counter()
            response = await client.post(f"/hooks/alertmanager/{ALERTMANAGER_KEY}",
                                         json=alertmanager_payload([alert(f"Lat{number}", fingerprint=f"l{number}")]))
            response.raise_for_status()
            while len(slack.calls_to("chat.postMessage")) == before:
                if time.perf_counter() - started > 10:
                    raise TimeoutError(f"no page for incident {number}")
                await asyncio.sleep(0.0005)
            latencies.append(time.perf_counter() - started)
    return latencies


async def click_latency(base: str, slack: FakeSlack, incidents: int) -> tuple[list[float], list[float]]:
    """Seconds from a signed Acknowledge click to Slack's 200, and to the fake Slack seeing chat.update."""
    from tests.support import SIGNING_SECRET, slack_action_form

    answered, updated = [], []
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as client:
        for incident_id in range(1, incidents + 1):
            before = len(slack.calls_to("chat.update"))
            body = slack_action_form("UALICE", "ack", incident_id, slack.response_url())
            headers = {**FakeSlack.sign(SIGNING_SECRET, body, int(time.time())),
                       "content-type": "application/x-www-form-urlencoded"}
            started = time.perf_counter()
            (await client.post("/slack/events", content=body, headers=headers)).raise_for_status()
            answered.append(time.perf_counter() - started)
            while len(slack.calls_to("chat.update")) == before:
                if time.perf_counter() - started > 10:
                    raise TimeoutError(f"no card update for incident {incident_id}")
                await asyncio.sleep(0.0005)
            updated.append(time.perf_counter() - started)
    return answered, updated


async def ingest_rate(url: str, bodies: list[object], clients: int) -> float:
    """Alerts accepted per second, `clients` concurrent connections, one alert per request."""
    queue: asyncio.Queue[object] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def client_loop() -> None:
        async with httpx.AsyncClient(timeout=30.0) as client:
            while not queue.empty():
                body = queue.get_nowait()
                (await client.post(url, json=body)).raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return len(bodies) / (time.perf_counter() - started)


def v2_alert(number: int) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    return [{"labels": {"alertname": f"Rate{number % 50}", "cluster": "prod", "instance": f"i{number}"},
             "annotations": {"summary": "bench"}, "startsAt": now.isoformat(),
             "endsAt": (now + timedelta(hours=1)).isoformat()}]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(incidents: int, alerts: int, clients: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="dutybot-bench-"))
    slack = FakeSlack().start()
    dutybot, base = start_dutybot(workdir, slack)
    reference = start_alertmanager(workdir)
    try:
        latencies = await page_latency(base, slack, incidents)
        answered, updated = await click_latency(base, slack, incidents)
        dutybot_bodies = [alertmanager_payload([alert(f"Rate{n % 50}", fingerprint=f"r{n}", instance=f"i{n}")])
                          for n in range(alerts)]
        dutybot_rate = await ingest_rate(f"{base}/hooks/alertmanager/{ALERTMANAGER_KEY}", dutybot_bodies, clients)
        reference_rate = None
        if reference is not None:
            reference_rate = await ingest_rate(f"{reference[1]}/api/v2/alerts", [v2_alert(n) for n in range(alerts)],
                                               clients)
    finally:
        for process in (dutybot, reference[0] if reference else None):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)
        slack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    for label, values in ((f"alert → Slack DM post, {incidents} incidents, one at a time", latencies),
                          ("Acknowledge click → HTTP 200 from /slack/events", answered),
                          ("Acknowledge click → chat.update of the card", updated)):
        milliseconds = [value * 1000 for value in values]
        print(f"{label} (ms): p50 {statistics.median(milliseconds):.1f}, "
              f"p95 {percentile(milliseconds, 0.95):.1f}, max {max(milliseconds):.1f}")
    print(f"ingest, {alerts} alerts, {clients} clients, one alert per request: dutybot {dutybot_rate:.0f} alerts/s")
    if reference_rate is not None:
        print(f"reference, same load: prometheus-alertmanager /api/v2/alerts {reference_rate:.0f} alerts/s")
    else:
        print("reference: prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.incidents, arguments.alerts, arguments.clients))
