"""Email ingest: an SMTP listener (aiosmtpd) on the running event loop that takes mail to
`<integration key>@<domain>` and stores it as alerts, one mail → one event per recipient integration
(core/sources/email.py reads the mail).

The SMTP answers keep the ingest promise of the webhooks: 250 only after the alerts are committed.

- RCPT: 550 for an address that is not `<key>@<domain>` with the configured domain (any domain when none is
  configured) or whose key is not an integration of kind "email"; 451 when the database cannot be asked or the
  integration's rate limit is used up (counted per recipient, per mail), so the sender retries.
- DATA: 552 above 5 MB (also advertised with the SIZE extension, so most senders are refused at MAIL FROM); 554 for
  a mail that cannot be read (PayloadError); 451 when storing fails, so the sender retries; 250 after the commit.

A mail to two keys is stored for each; if the second fails after the first committed, the answer is 451 and the
retry updates the first's alert (same key) instead of opening another. Logs never carry a mail body or an
integration key: aiosmtpd's own logger ("mail.log") logs recipients and, at debug level, every DATA line, so its
records below WARNING are dropped and the arguments of the others hidden.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.bootstrap import Container
from bot.config import INTEGRATION_KEY_PATTERN
from bot.db.tables import Integration
from bot.pipeline import admit
from bot.services.ingest import Submission, ingest, ingest_group
from core.model import AlertEvent
from core.sources import Parsed, PayloadError
from core.sources.email import SOURCE, MailSettings, parse_mail

log = logging.getLogger(__name__)

KIND = "email"
MAX_MAIL_BYTES = 5 * 1024 * 1024  # as for webhook bodies (bot/web/hooks.py)
MAX_RECIPIENTS = 20
MAX_LINE_BYTES = 64 * 1024  # RFC 5321 says 1000; scripts that write HTML on one line are let through
IDLE_TIMEOUT_SECONDS = 300.0
STOP_GRACE_SECONDS = 10.0  # a mail being stored when the listener stops gets this long to commit
REDACTED = "***"

MailSettingsLookup = (Mapping[str, MailSettings]
                      | Callable[[str], MailSettings | None | Awaitable[MailSettings | None]])


class MailIngest:
    """The SMTP listener and its aiosmtpd handler (`handle_RCPT`, `handle_DATA`).

    `mail_settings` gives each integration key's MailSettings: a mapping, or a function of the key (it may be
    async, to read the live config); a key it does not know gets `MailSettings()` (mode "every")."""

    def __init__(self, container: Container, host: str = "127.0.0.1", port: int = 2525, domain: str | None = None,
                 mail_settings: MailSettingsLookup | None = None) -> None:
        self.container = container
        self.host, self.port = host, port
        self.domain = domain.strip().rstrip(".").lower() if domain and domain.strip() else None
        self.mail_settings: MailSettingsLookup = mail_settings if mail_settings is not None else {}
        self._server: asyncio.Server | None = None
        self._connections: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._storing = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self) -> int:
        """Listen on host:port (port 0: any free port); returns the bound port."""
        _quiet_aiosmtpd()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("mail ingest listening on %s:%d for %s", self.host, self.port,
                 f"@{self.domain}" if self.domain else "any domain")
        return self.port

    async def stop(self) -> None:
        """Stop listening, let mail being stored commit (a short grace), then close every connection."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        try:
            await asyncio.wait_for(self._idle.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            log.warning("mail ingest stopped while a mail was being stored; its sender will retry")
        handlers = []
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.close()
            task = getattr(connection, "_handler_coroutine", None)
            if task is not None:
                handlers.append(task)
        if handlers:
            await asyncio.wait(handlers, timeout=STOP_GRACE_SECONDS)
        await server.wait_closed()

    def _connection(self) -> SMTP:
        connection = _Smtp(self, data_size_limit=MAX_MAIL_BYTES, enable_SMTPUTF8=True, decode_data=False,
                           hostname=self.domain or "dutybot", ident="Dutybot", timeout=IDLE_TIMEOUT_SECONDS,
                           loop=asyncio.get_running_loop())
        self._connections.add(connection)
        return connection

    # aiosmtpd hooks

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        key = self._key_of(address)
        if key is None:
            return (f"550 5.7.1 this server takes mail only for <integration key>@{self.domain}" if self.domain
                    else "550 5.1.3 the address must be <integration key>@<domain>")
        if address in envelope.rcpt_tos:
            return "250 2.1.5 OK"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return f"452 4.5.3 at most {MAX_RECIPIENTS} recipients per mail"
        try:
            service_id = await self._service_of(key)
            if service_id is None:
                return "550 5.1.1 no email integration has this key"
            wait = await self._over_limit(service_id, key)
        except Exception as problem:  # noqa: BLE001 - the sender must retry, whatever broke
            log.warning("mail ingest: looking up a recipient failed (%s)", type(problem).__name__)
            return "451 4.3.0 temporary failure, try again later"
        if wait is not None:
            self.container.metrics.ingest_throttled.inc()
            return f"451 4.7.1 rate limit of this integration reached; retry after {wait} s"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if len(raw) > MAX_MAIL_BYTES:
            return f"552 5.3.4 mail larger than {MAX_MAIL_BYTES} bytes"
        self._storing += 1
        self._idle.clear()
        try:
            return await self._store(raw, envelope.rcpt_tos)
        finally:
            self._storing -= 1
            if not self._storing:
                self._idle.set()

    async def handle_exception(self, error: Exception) -> str:
        """An error inside aiosmtpd: logged by type only (its text may quote the mail), answered 451."""
        log.warning("mail ingest: SMTP session error (%s)", type(error).__name__)
        return "451 4.3.0 temporary failure, try again later"

    # storing

    async def _store(self, raw: bytes, recipients: Iterable[str]) -> str:
        try:
            targets: dict[str, str] = {}  # integration key → service id, in recipient order
            for address in recipients:
                key = self._key_of(address)
                service_id = await self._service_of(key) if key is not None else None
                if key is not None and service_id is not None:
                    targets.setdefault(key, service_id)
            if not targets:
                return "554 5.1.1 none of the recipients is an email integration any more"
            directory = await self.container.directory()
            settings = {key: await self._settings_for(key) for key in targets}
        except Exception as problem:  # noqa: BLE001
            log.warning("mail ingest: reading the config failed (%s)", type(problem).__name__)
            return "451 4.3.0 temporary failure, try again later"
        now = self.container.clock()
        read: dict[MailSettings, Parsed] = {}  # integrations that read mail alike share one reading
        for key in targets:
            if settings[key] in read:
                continue
            try:
                # a thread: a big or odd mail takes the email package up to a second or so (core/sources/email.py)
                read[settings[key]] = await asyncio.to_thread(parse_mail, raw, now, settings[key])
            except PayloadError as problem:
                log.info("mail ingest: refused an unreadable mail (%s)", problem.message)
                return _reply("554 5.6.0 " + problem.message)
        parsed = {key: read[settings[key]] for key in targets}
        created = resolved = alerts = 0
        started = time.perf_counter()
        for key, service_id in targets.items():
            events = [_redact(event, targets) for event in parsed[key].events]
            service = directory.services[service_id]
            integration = next((item for item in service.integrations if item.key == key), None)
            try:
                if integration is None:  # the config changed under this mail: store it as it came
                    result = await ingest(self.container.db, directory, service_id, events, now, source=SOURCE)
                else:  # the pipeline of every source: enrichment, routing, drop, silences, inhibit rules
                    passages = await admit(self.container.db, directory, service, integration, events, now,
                                           self.container.lookups)
                    submission = Submission(passages, now, source=SOURCE)
                    queue = self.container.ingest_queue
                    result = (await queue.submit(directory, submission) if queue is not None else
                              (await ingest_group(self.container.db, directory, [submission]))[0])
            except Exception as problem:  # noqa: BLE001 - never 250 for a mail that is not stored
                log.warning("mail ingest: storing a mail for service %s failed (%s); the sender will retry",
                            service_id, type(problem).__name__)
                if alerts:  # stored for an earlier recipient: its incidents must not wait for the retry
                    self.container.worker.wake()
                return "451 4.3.0 could not store the mail, try again later"
            alerts, created, resolved = alerts + result.alerts, created + len(result.created), \
                resolved + len(result.resolved)
        self.container.metrics.ingest_seconds.observe(time.perf_counter() - started)
        self.container.metrics.alerts_received.labels(SOURCE).inc(alerts)
        self.container.metrics.incidents_created.inc(created)
        self.container.worker.wake()
        log.info("mail ingest: stored a mail as %d alert event(s) for %s (%d incident(s) opened, %d resolved)",
                 alerts, ", ".join(sorted(set(targets.values()))), created, resolved)
        return f"250 2.0.0 stored: {alerts} alert event(s), {created} incident(s) opened, {resolved} resolved"

    def _key_of(self, address: str) -> str | None:
        """The integration key of `<key>@<domain>` when the domain is the configured one; None otherwise."""
        local, at, domain = address.strip().strip("<>").rpartition("@")
        if not at or not re.fullmatch(INTEGRATION_KEY_PATTERN, local):
            return None
        if self.domain is not None and domain.rstrip(".").lower() != self.domain:
            return None
        return local

    async def _service_of(self, key: str) -> str | None:
        """The service of the email integration with this key, if it and its service exist."""
        async with self.container.db.transaction() as session:
            integration = await session.get(Integration, key)
        if integration is None or integration.kind != KIND:
            return None
        directory = await self.container.directory()
        return integration.service_id if integration.service_id in directory.services else None

    async def _over_limit(self, service_id: str, key: str) -> int | None:
        """Seconds to wait when the integration used up its rate limit (the config's `rate_limit`), else None."""
        directory = await self.container.directory()
        found = directory.integration(key)
        return None if found is None else await self.container.rate_wait(found[1])

    async def _settings_for(self, key: str) -> MailSettings:
        lookup = self.mail_settings
        found: Any = lookup.get(key) if isinstance(lookup, Mapping) else lookup(key)
        if inspect.isawaitable(found):
            found = await found
        return found if isinstance(found, MailSettings) else MailSettings()


class _Smtp(SMTP):
    line_length_limit = MAX_LINE_BYTES


def _redact(event: AlertEvent, keys: Iterable[str]) -> AlertEvent:
    """The event with integration keys (credentials: the To header carries them) masked in its text."""
    def clean(text: str) -> str:
        for key in keys:
            text = text.replace(key, REDACTED)
        return text

    return replace(event, title=clean(event.title),
                   labels={name: clean(value) for name, value in event.labels.items()},
                   annotations={name: clean(value) for name, value in event.annotations.items()})


def _reply(text: str) -> str:
    """One SMTP reply line: no line breaks, printable ASCII, not too long."""
    line = " ".join(text.split()).encode("ascii", "backslashreplace").decode("ascii")
    return line[:500]


class _HideAiosmtpdDetails(logging.Filter):
    """aiosmtpd logs recipients (integration keys) at INFO and mail lines at DEBUG: drop those, and keep only the
    message template of its warnings and errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        if record.args:
            record.args = tuple("…" for _ in record.args) if isinstance(record.args, tuple) else ()
        return True


def _quiet_aiosmtpd() -> None:
    logger = logging.getLogger("mail.log")
    if not any(isinstance(existing, _HideAiosmtpdDetails) for existing in logger.filters):
        logger.addFilter(_HideAiosmtpdDetails())

