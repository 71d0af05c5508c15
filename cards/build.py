"""Builders from core values to neutral cards and short texts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from cards.i18n import Translator
from cards.model import Button, Card, Field, Menu, Option
from core.incident import SNOOZE_PRESETS
from core.links import silence_action
from core.model import IncidentStatus, IncidentView
from core.stages.mute import QUICK_PRESETS

MAX_LABELS_SHOWN = 20
MAX_LABELS_LINE = 1000
MAX_ESCALATE_LEVELS = 20  # a policy longer than this offers its first 20 levels on the card
SILENCE_ACTION = "silence"
SNOOZE_ACTION = "snooze"  # a menu of SNOOZE_PRESETS on app cards
PEOPLE_REASSIGN, PEOPLE_ADD = "reassign", "responders"  # buttons that open a people picker on app cards
EDIT_ACTION, MERGE_ACTION = "edit", "merge"  # buttons that open a form on app cards: edit the incident, merge it
ESCALATE_ACTION = "escalate"  # a menu of the incident's levels on app cards: page that level now
LINK_SILENCE_PRESET = "1h"  # a robot card cannot hold a menu: it offers this one quick silence as a link
TIME_FORMAT = "%Y-%m-%d %H:%M:%S %Z"


def local_time(moment: datetime, timezone: str) -> str:
    """A time as people in the account's zone read it."""
    return moment.astimezone(ZoneInfo(timezone)).strftime(TIME_FORMAT)


def incident_card(view: IncidentView, t: Translator, timezone: str,
                  links: Mapping[str, str] | None = None) -> Card:
    """The incident card; with `links` (action → URL) buttons become one-click links for robots.

    An open incident with labels can be quick-silenced: app platforms get a menu of every preset, robots one
    link, `silence:1h`, when `links` holds it."""
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
        buttons=_buttons(view, t, links) + _silence_link(view, t, links),
        fallback=t("card.fallback", severity=severity, title=title, status=t(f"status.{view.status.value}")),
        menus=_snooze_menu(view, t) + _escalate_menu(view, t) + _silence_menu(view, t) if links is None else (),
    )


def silence_offered(view: IncidentView) -> bool:
    """An open incident with labels: a quick silence of an incident without labels would hold every alert of
    its service, and one of a resolved incident is no longer what the card is for."""
    return view.status is not IncidentStatus.RESOLVED and bool(view.labels)


def labels_line(labels: Mapping[str, str]) -> str:
    """Labels on one line, sorted, `alertname=DiskFull, host=db-1`, clipped for answers and pages."""
    text = ", ".join(f"{name}={value}" for name, value in sorted(labels.items()))
    return text if len(text) <= MAX_LABELS_LINE else text[: MAX_LABELS_LINE - 1] + "…"


def silence_duration(preset: str, t: Translator) -> str:
    """A quick silence preset as people read it: `1h` → "1 hour"."""
    return t(f"silence.preset.{preset}")


def status_line(view: IncidentView, t: Translator, timezone: str) -> str:
    """Who holds the incident and since when."""
    if view.status is IncidentStatus.RESOLVED and view.resolved_at is not None:
        return t("card.status.resolved", who=actor_name(view.resolved_by, t),
                 at=local_time(view.resolved_at, timezone))
    if view.status is IncidentStatus.ACKNOWLEDGED and view.snoozed_until is not None:
        return t("card.status.snoozed", who=actor_name(view.acknowledged_by, t),
                 until=local_time(view.snoozed_until, timezone))
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
    if actor == "snooze":
        return t("actor.snooze")
    if actor.startswith("source:"):
        return t("actor.source", source=actor.removeprefix("source:"))
    return actor


def _buttons(view: IncidentView, t: Translator, links: Mapping[str, str] | None) -> tuple[Button, ...]:
    """What can be done to the incident as it is now. Robots (`links`) get one-click links for acknowledge and
    resolve only; app platforms also give an acknowledged incident back, wake a snoozed one, reopen a resolved
    one, comment, reassign an open one or add responders to it (both open a people picker), edit any (a post-
    mortem fixes the title) and merge an open one into another (both open a form)."""
    status = view.status
    wanted: list[tuple[str, str]] = []
    if status is IncidentStatus.TRIGGERED:
        wanted.append(("ack", "primary"))
    if status is not IncidentStatus.RESOLVED:
        wanted.append(("resolve", "danger"))
    if links is None:
        if status is IncidentStatus.ACKNOWLEDGED:
            wanted.append(("wake", "default") if view.snoozed_until is not None else ("unack", "default"))
        if status is IncidentStatus.RESOLVED:
            wanted.append(("reopen", "default"))
        wanted.append(("comment", "default"))
        if status is not IncidentStatus.RESOLVED:
            wanted += [(PEOPLE_REASSIGN, "default"), (PEOPLE_ADD, "default")]
        wanted.append((EDIT_ACTION, "default"))
        if status is not IncidentStatus.RESOLVED:
            wanted.append((MERGE_ACTION, "default"))
    return tuple(
        Button(action=action, label=t(f"button.{action}"), style=style,
               url=None if links is None else links.get(action))
        for action, style in wanted
        if links is None or action in links
    )


def _snooze_menu(view: IncidentView, t: Translator) -> tuple[Menu, ...]:
    """Snooze an open incident for one of the presets (a new choice replaces the wake time)."""
    if view.status is IncidentStatus.RESOLVED:
        return ()
    options = tuple(Option(value=preset, label=t(f"snooze.preset.{preset}")) for preset in SNOOZE_PRESETS)
    return (Menu(action=SNOOZE_ACTION, placeholder=t("card.snooze.placeholder"), options=options),)


def _escalate_menu(view: IncidentView, t: Translator) -> tuple[Menu, ...]:
    """Page a level of the incident's policy now (escalate, or go back to level 1); the levels after it follow
    with their usual gaps. Offered while the incident is open."""
    if view.status is IncidentStatus.RESOLVED or view.levels < 1:
        return ()
    options = tuple(Option(value=str(level), label=t("card.escalate.level", level=level))
                    for level in range(1, min(view.levels, MAX_ESCALATE_LEVELS) + 1))
    return (Menu(action=ESCALATE_ACTION, placeholder=t("card.escalate.placeholder"), options=options),)


def _silence_menu(view: IncidentView, t: Translator) -> tuple[Menu, ...]:
    if not silence_offered(view):
        return ()
    options = tuple(Option(value=preset, label=silence_duration(preset, t)) for preset in QUICK_PRESETS)
    return (Menu(action=SILENCE_ACTION, placeholder=t("card.silence.placeholder"), options=options),)


def _silence_link(view: IncidentView, t: Translator, links: Mapping[str, str] | None) -> tuple[Button, ...]:
    action = silence_action(LINK_SILENCE_PRESET)
    url = links.get(action) if links is not None else None
    if url is None or not silence_offered(view):
        return ()
    return (Button(action=action, label=t("button.silence", duration=silence_duration(LINK_SILENCE_PRESET, t)),
                   url=url),)
