"""Benchmark: firing a storm's escalation timers, the worker's own cost (no platform, no ingest beside it).

A harness on SQLite (the embedded default) takes N new incidents (one alert each, grouped by alertname), then
the timers they armed are fired with `fire_due_timers` until none is due; the result is the time per timer.

    .venv/bin/python -m bench.timers [--incidents 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.services.escalation import CLAIM_BATCH, fire_due_timers  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.support import BOT_TOKEN, alert, base_config, sqlite_url, start_harness  # noqa: E402


async def once(incidents: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory(prefix="dutybot-bench-timers-") as workdir, \
            FakeSlack(bot_token=BOT_TOKEN) as slack:
        raw = base_config(slack_api_url=slack.api_url)
        raw["services"][0]["grouping"] = {"by": ["alertname"]}
        async with contextlib.aclosing(start_harness(sqlite_url(Path(workdir)), raw)) as harnesses:
            async for harness in harnesses:
                for start in range(0, incidents, 100):
                    await harness.post_alerts([alert(f"Storm{n}", fingerprint=f"storm-{n}")
                                               for n in range(start, min(incidents, start + 100))])
                directory = await harness.container.directory()
                started, fired = time.perf_counter(), 0
                while done := await fire_due_timers(harness.container.db, directory, harness.clock()):
                    fired += done
                return fired, time.perf_counter() - started
    raise AssertionError("the harness did not start")


async def main(incidents: int, repeat: int) -> None:
    runs = [await once(incidents) for _ in range(repeat)]
    fired, best = min(runs, key=lambda run: run[1])
    print(f"{fired} timers fired in {best * 1000:.0f} ms ({best / fired * 1000:.2f} ms each, best of {repeat}; "
          f"{CLAIM_BATCH} per transaction)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.incidents, arguments.repeat))
