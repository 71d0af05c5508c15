"""Benchmark: alert ingest throughput and latency, Dutybot (SQLite and PostgreSQL) beside Alertmanager.

In one run on one machine: `dutybot serve` on SQLite (the embedded default), `dutybot serve` on PostgreSQL (when
DUTYBOT_BENCH_POSTGRES_URL, else DUTYBOT_TEST_DATABASE_URL, names a server; a fresh database is made on it),
and Debian's `prometheus-alertmanager` as the reference, each sent the same alerts by the same concurrent
clients, in batches of 1 and of 100 alerts per request. Dutybot receives Alertmanager webhook bodies on its
`/hooks/alertmanager/<key>` (the rate limit lifted) and commits every alert before answering; Alertmanager
receives its own `/api/v2/alerts` bodies and keeps them in memory.

    .venv/bin/python -m bench.ingest [--alerts 4000] [--clients 8] [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.alert_to_page import ALERTMANAGER, free_port, percentile, start_alertmanager, wait_http  # noqa: E402
from tests.support import ALERTMANAGER_KEY, alertmanager_payload, base_config  # noqa: E402

GROUPS = 50  # alertnames: the alerts fold into this many incidents


def start_dutybot(workdir: Path, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    raw = base_config(public_url=base)
    raw["services"][0]["integrations"][0]["rate_limit"] = "off"  # the benchmark measures ingest, not the limit
    config = workdir / f"dutybot-{port}.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True))
    env = {**os.environ, "DUTYBOT_DATABASE_URL": database_url, "HTTPS_PROXY": "", "https_proxy": "",
           "HTTP_PROXY": "", "http_proxy": "", "DUTYBOT_LOCALE": "en"}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "-f", str(config), "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"{base}/healthz", timeout=60)
    return process, base


def postgres_database() -> tuple[str, Callable[[], None]] | None:
    """A fresh database on the configured PostgreSQL server, and how to drop it."""
    server = os.environ.get("DUTYBOT_BENCH_POSTGRES_URL") or os.environ.get("DUTYBOT_TEST_DATABASE_URL")
    if not server:
        return None
    import psycopg

    name = f"dutybot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return server.rsplit("/", 1)[0] + "/" + name, drop


def dutybot_bodies(alerts: int, batch: int, run: str) -> list[Any]:
    now = datetime.now(UTC).isoformat()
    bodies = []
    for first in range(0, alerts, batch):
        items = [{"status": "firing", "labels": {"alertname": f"Load{n % GROUPS}", "cluster": "prod",
                                                 "instance": f"i{n}", "severity": "warning"},
                  "annotations": {"summary": "bench"}, "startsAt": now, "endsAt": "0001-01-01T00:00:00Z",
                  "generatorURL": "http://prometheus.local/graph", "fingerprint": f"{run}-{n}"}
                 for n in range(first, min(first + batch, alerts))]
        bodies.append(alertmanager_payload(items))
    return bodies


def alertmanager_bodies(alerts: int, batch: int, run: str) -> list[Any]:
    now = datetime.now(UTC)
    bodies = []
    for first in range(0, alerts, batch):
        bodies.append([{"labels": {"alertname": f"Load{n % GROUPS}", "cluster": "prod", "instance": f"{run}-{n}",
                                   "severity": "warning"},
                        "annotations": {"summary": "bench"}, "startsAt": now.isoformat(),
                        "endsAt": (now + timedelta(hours=1)).isoformat(),
                        "generatorURL": "http://prometheus.local/graph"}
                       for n in range(first, min(first + batch, alerts))])
    return bodies


async def load(url: str, bodies: list[Any], clients: int) -> tuple[float, list[float]]:
    """Seconds for all bodies from `clients` concurrent connections, and each request's latency."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []

    async def client_loop() -> None:
        async with httpx.AsyncClient(timeout=60.0, trust_env=False) as client:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post(url, json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 300:
                    raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return time.perf_counter() - started, latencies


async def main(alerts: int, clients: int, repeat: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="dutybot-bench-ingest-"))
    targets: list[tuple[str, str, Callable[[int, int, str], list[Any]]]] = []
    processes: list[subprocess.Popen[bytes]] = []
    cleanups: list[Callable[[], None]] = []
    try:
        process, base = start_dutybot(workdir, f"sqlite:///{workdir / 'bench.db'}")
        processes.append(process)
        targets.append(("dutybot, SQLite", f"{base}/hooks/alertmanager/{ALERTMANAGER_KEY}", dutybot_bodies))
        postgres = postgres_database()
        if postgres is not None:
            url, drop = postgres
            cleanups.append(drop)
            process, base = start_dutybot(workdir, url)
            processes.append(process)
            targets.append(("dutybot, PostgreSQL", f"{base}/hooks/alertmanager/{ALERTMANAGER_KEY}", dutybot_bodies))
        reference = start_alertmanager(workdir)
        if reference is not None:
            processes.append(reference[0])
            targets.append(("prometheus-alertmanager (memory)", f"{reference[1]}/api/v2/alerts", alertmanager_bodies))
        print(f"{alerts} alerts per measurement, {clients} concurrent clients, best of {repeat}; "
              f"latency is per request")
        for batch in (1, 100):
            count = alerts if batch == 100 else max(alerts // 4, 1)  # one alert per request is slower to send
            for label, url, bodies_for in targets:
                best: tuple[float, list[float]] | None = None
                for attempt in range(repeat):
                    bodies = bodies_for(count, batch, f"b{batch}r{attempt}{uuid.uuid4().hex[:6]}")
                    measured = await load(url, bodies, clients)
                    if best is None or measured[0] < best[0]:
                        best = measured
                assert best is not None
                seconds, latencies = best
                milliseconds = [value * 1000 for value in latencies]
                print(f"batch {batch:>3}  {label:<34} {count / seconds:8.0f} alerts/s   "
                      f"p50 {statistics.median(milliseconds):7.1f} ms   p99 {percentile(milliseconds, 0.99):7.1f} ms"
                      f"   ({count} alerts in {len(latencies)} requests)")
        if reference is None:
            print(f"reference: {ALERTMANAGER} is not installed (apt-get install prometheus-alertmanager)")
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for cleanup in cleanups:
            cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.alerts, arguments.clients, arguments.repeat))
