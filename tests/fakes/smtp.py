"""A local SMTP server (aiosmtpd, in its own thread, on a free port) that keeps the mail Dutybot sends, checks the
login when one is set, and can be told to refuse the next recipients with a reply code."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Mail:
    sender: str
    to: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""  # type: ignore[no-any-return]


class _QuietController(Controller):
    """Each connection builds an SMTP session, which warns that AUTH without TLS is unsafe: on loopback it is
    what the test wants to see work, and a warning turned into an error would drop the connection."""

    def factory(self) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            warnings.filterwarnings("ignore", "Session.login_data is deprecated", DeprecationWarning)
            return super().factory()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeSMTP:
    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self._lock = threading.Lock()
        self._mail: list[Mail] = []
        self._refusals: list[str] = []  # replies to the next RCPT commands, like "550 5.1.1 no such user"
        self.logins: list[str] = []
        self._credentials = (username, password)
        auth: dict[str, Any] = {}
        if username is not None:
            auth = {"authenticator": self._authenticate, "auth_require_tls": False, "auth_required": True}
        self._port = _free_port()  # aiosmtpd's Controller checks it is up by connecting to its port: not 0
        self._controller = _QuietController(self, hostname="127.0.0.1", port=self._port, **auth)

    def __enter__(self) -> FakeSMTP:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def mail(self) -> list[Mail]:
        with self._lock:
            return list(self._mail)

    def refuse_next(self, reply: str, times: int = 1) -> None:
        with self._lock:
            self._refusals.extend([reply] * times)

    def _authenticate(self, server: Any, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()) == self._credentials
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        with self._lock:
            refusal = self._refusals.pop(0) if self._refusals else None
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        message = email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(),
                                           policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._mail.append(Mail(str(envelope.mail_from), tuple(envelope.rcpt_tos), message))
        return "250 Message accepted"
