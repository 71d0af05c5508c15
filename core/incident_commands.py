"""`/incident …` in chat: the words of a command into what it asks for (docs/incidents.md).

    ack 42 · unack 42 · wake 42 · reopen 42
    snooze 42 2h                      resolve 42 [what fixed it]      comment 42 <text>
    escalate 42 [level]               reassign 42 @bob @carol | reassign 42 schedule <id> [role]
                                      reassign 42 team <id>
    add 42 @bob                       title 42 <new title>            severity 42 critical|warning|info
    merge 43 44 into 42               new <service> [critical|warning|info] <title>

Numbers may be written `#42`. People are left as written (`<@U123|bob>`, `@bob`, a user id): the caller knows
the platform and the directory. Pure: text in, a `Command` or None (show the usage) out.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.model import Severity

SIMPLE = ("ack", "unack", "wake", "reopen")
VERBS = (*SIMPLE, "snooze", "resolve", "comment", "escalate", "reassign", "add", "title", "severity", "merge", "new")
MAX_NUMBER = 2**31 - 1


@dataclass(frozen=True)
class Command:
    verb: str
    number: int | None = None  # the incident (for merge: the target)
    people: tuple[str, ...] = ()  # reassign / add, as written
    text: str = ""  # comment, resolution, title
    level: int | None = None  # escalate
    duration: str | None = None  # snooze, checked by core.incident.snooze_length
    severity: Severity | None = None  # severity, new
    sources: tuple[int, ...] = ()  # merge
    schedule: str | None = None  # reassign to a schedule
    team: str | None = None  # reassign to a team
    role: str | None = None
    service: str | None = None  # new


def number(word: str) -> int | None:
    digits = word.removeprefix("#")
    if not digits.isascii() or not digits.isdigit():
        return None
    value = int(digits)
    return value if 0 < value <= MAX_NUMBER else None


def _severity(word: str) -> Severity | None:
    try:
        return Severity(word.lower())
    except ValueError:
        return None


def parse(text: str) -> Command | None:
    """What `text` (the words after `/incident`) asks for; None when it is not a command this knows."""
    words = text.split()
    if not words or words[0].lower() not in VERBS:
        return None
    verb, rest = words[0].lower(), words[1:]
    if verb == "new":
        return _new(rest)
    if verb == "merge":
        return _merge(rest)
    if not rest or (incident := number(rest[0])) is None:
        return None
    after = rest[1:]
    tail = text.split(None, 2)[2].strip() if len(words) > 2 else ""  # the free text, spacing kept
    if verb in SIMPLE:
        return Command(verb, incident) if not after else None
    if verb == "snooze":
        return Command(verb, incident, duration=after[0]) if len(after) == 1 else None
    if verb == "resolve":
        return Command(verb, incident, text=tail)
    if verb in ("comment", "title"):
        return Command(verb, incident, text=tail) if tail else None
    if verb == "escalate":
        if not after:
            return Command(verb, incident)
        level = number(after[0])
        return Command(verb, incident, level=level) if len(after) == 1 and level is not None else None
    if verb == "severity":
        severity = _severity(after[0]) if len(after) == 1 else None
        return Command(verb, incident, severity=severity) if severity is not None else None
    if verb == "reassign" and after[:1] == ["team"]:
        return Command(verb, incident, team=after[1]) if len(after) == 2 else None
    if verb == "reassign" and after[:1] == ["schedule"]:
        if len(after) not in (2, 3):
            return None
        return Command(verb, incident, schedule=after[1], role=after[2] if len(after) == 3 else None)
    return Command(verb, incident, people=tuple(after)) if after else None  # reassign, add


def _merge(rest: list[str]) -> Command | None:
    """`merge 43 44 into 42`."""
    if "into" not in rest:
        return None
    at = rest.index("into")
    sources = [number(word) for word in rest[:at]]
    target = rest[at + 1:]
    if not sources or None in sources or len(target) != 1 or (into := number(target[0])) is None:
        return None
    return Command("merge", into, sources=tuple(source for source in sources if source is not None))


def _new(rest: list[str]) -> Command | None:
    """`new <service> [severity] <title…>`; the severity defaults to warning."""
    if len(rest) < 2:
        return None
    service, words = rest[0], rest[1:]
    severity = _severity(words[0])
    if severity is not None:
        words = words[1:]
    if not words:
        return None
    return Command("new", service=service, severity=severity or Severity.WARNING, text=" ".join(words))
