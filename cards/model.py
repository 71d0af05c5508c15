"""The neutral card every platform renderer starts from."""

from __future__ import annotations

from dataclasses import dataclass

from core.model import IncidentStatus, Severity


@dataclass(frozen=True)
class Button:
    """A card button: `action` for app platforms that call back, `url` for robots (one-click links)."""

    action: str
    label: str
    style: str = "default"  # default | primary | danger
    url: str | None = None


@dataclass(frozen=True)
class Option:
    value: str  # what the platform sends back when it is chosen, e.g. the preset "1h"
    label: str


@dataclass(frozen=True)
class Menu:
    """A card control that offers a choice (Slack: a select menu); choosing an option is the `action`.

    Only app platforms that call back can show one; robot cards get link buttons instead."""

    action: str  # silence
    placeholder: str  # what the closed menu says, "Silence…"
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Card:
    incident_id: int
    title: str  # "#12 CPU high on db-1"
    severity: Severity
    status: IncidentStatus
    status_line: str  # "Acknowledged by 王丽 at 2026-12-01 10:00"
    fields: tuple[Field, ...]
    labels: tuple[tuple[str, str], ...]
    labels_heading: str
    buttons: tuple[Button, ...]
    fallback: str  # one line for notifications and clients that cannot show cards
    menus: tuple[Menu, ...] = ()
