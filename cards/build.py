"""Builders from core values to neutral cards and short texts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from cards.i18n import Translator
from cards.model import Button, Card, Field
from core.model import IncidentStatus, IncidentView

MAX_LABELS_SHOWN = 20
TIME_FORMAT = "%Y-%m-%d %H:%M:%S %Z"


def local_time(moment: datetime, timezone: str) -> str:
    """A time as people in the account's zone read it."""
    return moment.astimezone(ZoneInfo(timezone)).strftime(TIME_FORMAT)


def incident_card(view: IncidentView, t: Translator, timezone: str,
                  links: Mapping[str, str] | None = None) -> Card:
    """The incident card; with `links` (action → URL) buttons become one-click links for robots."""
    severity = t(f"severity.{view.severity.value}")
    fields: tuple[Field, ...] = (
        Field(t("card.field.severity"), severity),
        Field(t("card.field.service"), view.service_name),
        Field(t("card.field.alerts"), str(view.alert_count)),
        Field(t("card.field.started"), local_time(view.created_at, timezone)),
    )
    if view.on_call:
        fields += (Field(t("card.field.on_call"), ", ".join(view.on_call)),)
    labels = tuple(sorted(view.labels.items()))[:MAX_LABELS_SHOWN]
    title = f"#{view.number} {view.title}"
    return Card(
        incident_id=view.id,
        title=title,
        severity=view.severity,
        status=view.status,
        status_line=status_line(view, t, timezone),
        fields=fields,
        labels=labels,
        labels_heading=t("card.field.labels"),
        buttons=_buttons(view.status, t, links),
        fallback=t("card.fallback", severity=severity, title=title, status=t(f"status.{view.status.value}")),
    )


def status_line(view: IncidentView, t: Translator, timezone: str) -> str:
    """Who holds the incident and since when."""
    if view.status is IncidentStatus.RESOLVED and view.resolved_at is not None:
        return t("card.status.resolved", who=actor_name(view.resolved_by, t),
                 at=local_time(view.resolved_at, timezone))
    if view.status is IncidentStatus.ACKNOWLEDGED and view.acknowledged_at is not None:
        return t("card.status.acknowledged", who=actor_name(view.acknowledged_by, t),
                 at=local_time(view.acknowledged_at, timezone))
    return t("card.status.triggered")


def actor_name(actor: str | None, t: Translator) -> str:
    """A person's name as recorded; `link:<channel>` for one-click links, `source:<tool>` for a monitoring tool
    (PagerDuty-style acknowledge); nobody means the system."""
    if actor is None:
        return t("actor.system")
    if actor.startswith("link:"):
        return t("actor.link", channel=actor.removeprefix("link:"))
    if actor == "auto-resolve":
        return t("actor.auto_resolve")
    if actor.startswith("source:"):
        return t("actor.source", source=actor.removeprefix("source:"))
    return actor


def _buttons(status: IncidentStatus, t: Translator, links: Mapping[str, str] | None) -> tuple[Button, ...]:
    wanted: list[tuple[str, str]] = []
    if status is IncidentStatus.TRIGGERED:
        wanted.append(("ack", "primary"))
    if status is not IncidentStatus.RESOLVED:
        wanted.append(("resolve", "danger"))
    if links is None:
        wanted.append(("comment", "default"))
    return tuple(
        Button(action=action, label=t(f"button.{action}"), style=style,
               url=None if links is None else links.get(action))
        for action, style in wanted
        if links is None or action in links
    )
