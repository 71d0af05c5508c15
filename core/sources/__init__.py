"""Parsers from each monitoring tool's payload to neutral `AlertEvent`s. Pure: dict in, values out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.model import AlertEvent


class PayloadError(ValueError):
    """A payload that cannot be read; `path` says where in the body the problem is."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Parsed:
    """What one request body says: alert events, and alert keys whose incidents the tool acknowledged
    (PagerDuty's `acknowledge`). `reply` is the JSON body the tool expects back, with `status`, when it
    expects one; otherwise Dutybot answers 202 with its own summary."""

    events: tuple[AlertEvent, ...]
    acknowledged: tuple[str, ...] = ()
    reply: dict[str, Any] | None = None
    status: int = 202


# every source: (decoded JSON body, the time it was received) → Parsed, or PayloadError naming the path
Parser = Callable[[Any, datetime], Parsed]
