"""The `dutybot` command line (SPEC §4)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
import uvicorn

from bot import migrate as migrations
from bot.apply import apply_config
from bot.bootstrap import Container, build_container, system_clock
from bot.config import Config, ConfigError, ScheduleConfig, load_config
from bot.db.database import Database
from bot.directory import Directory
from bot.mail import MailIngest
from bot.schedule_views import shifts_json, who_json
from bot.settings import Settings
from bot.web.app import create_app
from cards.i18n import DEFAULT_LOCALE, Translator
from core.schedule import Schedule, fairness, final_shifts, on_call
from core.sources.email import MailSettings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Dutybot: on-call and incidents in your chat.")
FileOption = Annotated[Path | None, typer.Option("-f", "--file", help="YAML config file")]


def main() -> None:
    app()


def _t(config: Config | None = None) -> Translator:
    settings = Settings()
    return Translator(settings.locale or (config.locale if config else DEFAULT_LOCALE))


def _echo(text: str) -> None:
    typer.echo(text)


def _load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as error:
        t = _t()
        typer.echo(t("cli.check_failed", count=len(error.errors)), err=True)
        for line in error.errors:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(2) from None


@app.command()
def check(file: Annotated[Path, typer.Option("-f", "--file", help="YAML config file")]) -> None:
    """Validate a config file; every error names its path in the file."""
    config = _load(file)
    _echo(_t(config)("cli.check_ok", path=str(file)))


@app.command()
def migrate() -> None:
    """Upgrade the configured database to the newest schema."""
    migrations.upgrade(Settings().database_url)
    _echo(_t()("cli.migrated"))


@app.command()
def apply(file: Annotated[Path, typer.Option("-f", "--file", help="YAML config file")],
          dry_run: Annotated[bool, typer.Option("--dry-run", help="print what would change")] = False) -> None:
    """Load a config into the database; running it twice changes nothing."""
    config = _load(file)
    t = _t(config)
    changes = asyncio.run(_apply(Settings(), config, dry_run))
    for change in changes:
        _echo(t("cli.apply_change", verb=t(f"cli.verb.{change.verb}"), kind=change.kind, id=change.id))
    _echo(t("cli.apply_nothing") if not changes else t("cli.dry_run") if dry_run else
          t("cli.applied", count=len(changes)))


async def _apply(settings: Settings, config: Config, dry_run: bool) -> list:
    db = Database(settings.database_url)
    try:
        return await apply_config(db, config, system_clock(), dry_run=dry_run)
    finally:
        await db.close()


@app.command()
def who(schedule: str, at: Annotated[str | None, typer.Option("--at", help="ISO 8601 time")] = None,
        file: FileOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Who is on call on SCHEDULE now (or --at); with -f computed from the file alone."""
    found = _find_schedule(schedule, file)
    moment = _moment(found, at) if at else system_clock()
    result = on_call(found.schedule, moment)
    answer = who_json(found.spec.id, moment, result, found.zone)
    if as_json:
        _echo(json.dumps(answer, ensure_ascii=False))
    else:
        _echo(found.t("cli.who", schedule=found.spec.name, at=answer["at"],
                      users=", ".join(answer["users"]) or found.t("oncall.nobody")))


@app.command()
def shifts(schedule: str, start: Annotated[str, typer.Option("--from", help="ISO 8601 time")],
           end: Annotated[str, typer.Option("--to", help="ISO 8601 time")], file: FileOption = None,
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The final schedule (all layers, masks, restrictions, overrides) between --from and --to."""
    found = _find_schedule(schedule, file)
    window = _window(found, start, end)
    answer = shifts_json(found.spec.id, found.schedule.timezone, final_shifts(found.schedule, *window))
    if as_json:
        _echo(json.dumps(answer, ensure_ascii=False))
        return
    for row in answer["shifts"]:
        _echo(found.t("cli.shift", start=row["start"], end=row["end"],
                      users=", ".join(row["users"]) or found.t("oncall.nobody"), source=row["source"]))


schedule_app = typer.Typer(help="Schedule reports.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


@schedule_app.command("fairness")
def fairness_report(schedule: str, start: Annotated[str, typer.Option("--from", help="ISO 8601 time")],
                    end: Annotated[str, typer.Option("--to", help="ISO 8601 time")], file: FileOption = None,
                    as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per person: on-call hours, weekend hours, night hours (23:00–08:00) and number of shifts."""
    found = _find_schedule(schedule, file)
    stats = fairness(final_shifts(found.schedule, *_window(found, start, end)), found.schedule.timezone)
    if as_json:
        _echo(json.dumps({person: vars(item) for person, item in sorted(stats.items())}, ensure_ascii=False))
        return
    _echo(found.t("cli.fairness.header"))
    for person, item in sorted(stats.items()):
        _echo(found.t("cli.fairness.row", user=person, hours=f"{item.on_call_hours:.1f}",
                      weekend=f"{item.weekend_hours:.1f}", night=f"{item.night_hours:.1f}", shifts=item.shifts))


@dataclass(frozen=True)
class _Found:
    spec: ScheduleConfig
    schedule: Schedule
    zone: ZoneInfo
    t: Translator


def _find_schedule(name: str, file: Path | None) -> _Found:
    """A schedule by id or name, from FILE alone (no database) or from the applied config."""
    directory = Directory.from_config(_load(file)) if file else asyncio.run(_stored_directory())
    t = Translator(Settings().locale or directory.locale)
    spec = directory.schedules.get(name) or next(
        (item for item in directory.schedules.values() if item.name == name), None)
    if spec is None:
        typer.echo(t("cli.no_schedule", schedule=name), err=True)
        raise typer.Exit(1)
    zone = ZoneInfo(spec.timezone or directory.timezone)
    return _Found(spec, directory.schedule(spec.id), zone, t)


def _moment(found: _Found, text: str) -> datetime:
    """An ISO 8601 time; one without an offset is read in the schedule's time zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        typer.echo(found.t("cli.bad_time", value=text), err=True)
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=found.zone)


def _window(found: _Found, start: str, end: str) -> tuple[datetime, datetime]:
    window = _moment(found, start), _moment(found, end)
    if window[1] <= window[0]:
        typer.echo(found.t("cli.bad_window", start=start, end=end), err=True)
        raise typer.Exit(2)
    return window


async def _stored_directory() -> Directory:
    from bot.directory import load_directory

    db = Database(Settings().database_url)
    try:
        async with db.transaction() as session:
            return await load_directory(session)
    finally:
        await db.close()


@app.command()
def serve(file: FileOption = None, host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port")] = 8080) -> None:
    """Web and worker in one process (the embedded default): migrate, apply FILE, serve."""
    settings = Settings()
    if file is not None:
        os.environ["DUTYBOT_CONFIG"] = str(file)
        settings = Settings()
    config = _load(Path(settings.config)) if settings.config else None
    migrations.upgrade(settings.database_url)
    if config is not None:
        asyncio.run(_apply(settings, config, dry_run=False))
    asyncio.run(_serve(settings, host, port, with_web=True, with_worker=True))


@app.command()
def web(host: Annotated[str, typer.Option("--host")] = "0.0.0.0",  # noqa: S104 - a server's job
        port: Annotated[int, typer.Option("--port")] = 8080) -> None:
    """Only the web half, for scale-out behind a load balancer."""
    asyncio.run(_serve(Settings(), host, port, with_web=True, with_worker=False))


@app.command()
def worker() -> None:
    """Only the worker half: escalation timers and the notification outbox."""
    asyncio.run(_serve(Settings(), "", 0, with_web=False, with_worker=True))


async def _serve(settings: Settings, host: str, port: int, with_web: bool, with_worker: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    container = await build_container(settings)
    stop = asyncio.Event()
    tasks = []
    mail = None
    if with_worker:
        tasks.append(asyncio.create_task(container.worker.run(stop)))
        mail = await _start_mail(container)
    try:
        if with_web:
            await _run_web(container, host, port, stop)
        else:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
    finally:
        stop.set()
        if mail is not None:
            await mail.stop()
        for task in tasks:
            await task
        await container.close()


async def _start_mail(container: Container) -> MailIngest | None:
    """The SMTP listener of email ingest, when the config has an email integration (docs/sources.md)."""
    directory = await container.directory()
    if not any(item.kind == "email" for service in directory.services.values() for item in service.integrations):
        return None

    async def settings_of(key: str) -> MailSettings | None:
        live = await container.directory()  # the config as applied now: an edited integration applies at once
        for service in live.services.values():
            for integration in service.integrations:
                if integration.key == key and integration.kind == "email":
                    return integration.mail_settings()
        return None

    mail = MailIngest(container, container.settings.smtp_host, container.settings.smtp_port,
                      directory.email.domain, settings_of)
    await mail.start()
    return mail


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after serving, which kills the process before the worker and the database
    are closed; here a signal only asks the server to exit, and `_serve` shuts everything down in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


async def _run_web(container: Container, host: str, port: int, stop: asyncio.Event) -> None:
    # access logs are off: paths carry integration keys and one-click tokens
    server = _Server(uvicorn.Config(create_app(container), host=host, port=port, access_log=False,
                                           log_level="info", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if server.started:
        bound = server.servers[0].sockets[0].getsockname()
        directory = await container.directory()
        t = Translator(container.settings.locale or directory.locale)
        _echo(t("cli.listening", url=f"http://{bound[0]}:{bound[1]}"))
        for service in directory.services.values():
            for integration in service.integrations:
                url = f"{directory.public_url}/hooks/{integration.kind}/{integration.key}"
                if integration.kind == "email":
                    url = f"{integration.key}@{directory.email.domain or '<any domain>'}"
                _echo(t("cli.integration", service=service.name or service.id, kind=integration.kind, url=url))
        sys.stdout.flush()
    await serving


if __name__ == "__main__":
    main()
