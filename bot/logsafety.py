"""Keep secrets out of logs: libraries log request URLs, and robot webhook URLs carry their keys."""

from __future__ import annotations

import logging
import re

# query strings (access_token=…, sign=…, key=…), Feishu custom bot paths (the token is the last segment) and
# Slack tokens; Dutybot's own paths with keys are not logged
_QUERY = re.compile(r"(https?://[^\s?\"']+)\?[^\s\"']*")
_HOOK_PATH = re.compile(r"(/open-apis/bot/v2/hook/)[^\s/?\"']+")
_SLACK_TOKEN = re.compile(r"xox[abposr]-[A-Za-z0-9-]+")
NOISY_LOGGERS = ("httpx", "httpcore", "slack_sdk", "slack_bolt", "aiohttp", "urllib3", "uvicorn.error")


class RedactSecrets(logging.Filter):
    """Rewrites a record's message with URL query strings and Slack tokens masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _SLACK_TOKEN.sub("xox*-***", _HOOK_PATH.sub(r"\1***", _QUERY.sub(r"\1?***", message)))
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install() -> None:
    """Attach the filter to the loggers of the HTTP libraries Dutybot uses (idempotent)."""
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
            logger.addFilter(RedactSecrets())
