"""Sending a page by email over SMTP (aiosmtplib), with errors sorted into retry or give up."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from adapters.email.config import EmailPlatform
from cards.email import EmailText
from core.ports import PermanentSendError, RetryableSendError


class EmailSender:
    def __init__(self, platform: EmailPlatform) -> None:
        self._platform = platform

    async def send(self, to: str, text: EmailText, message_id_key: str) -> None:
        """One mail to `to`. `message_id_key` names the page, so a resend after a crash carries the same
        Message-ID and mail clients that thread or deduplicate by it show it once."""
        platform = self._platform
        message = EmailMessage()
        message["From"] = platform.from_address
        message["To"] = to
        message["Subject"] = text.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(idstring=message_id_key, domain=platform.from_address.split("@")[1])
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to Dutybot
        message.set_content(text.body)
        try:
            await aiosmtplib.send(message, hostname=platform.host, port=platform.port,
                                  username=platform.username, password=platform.read_secret("password"),
                                  use_tls=platform.security == "tls", start_tls=platform.security == "starttls",
                                  timeout=platform.timeout_seconds)
        except aiosmtplib.SMTPRecipientsRefused as error:
            code = min((refused.code for refused in error.recipients), default=450)
            raise _by_code(code, "refused the recipient") from None
        except aiosmtplib.SMTPResponseException as error:
            raise _by_code(error.code, "answered") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise RetryableSendError(f"email: {type(error).__name__}") from None


def _by_code(code: int, what: str) -> PermanentSendError | RetryableSendError:
    """5xx is the server's final word (unknown mailbox, bad login); anything else may pass later."""
    if 500 <= code < 600:
        return PermanentSendError(f"email: the server {what} {code}")
    return RetryableSendError(f"email: the server {what} {code}")
