"""core/incident_commands.py: the words of `/incident …` into what they ask for."""

from __future__ import annotations

import pytest

from core.incident_commands import Command, parse
from core.model import Severity


@pytest.mark.parametrize(("text", "expected"), [
    ("ack 42", Command("ack", 42)),
    ("ACK #42", Command("ack", 42)),
    ("wake 7", Command("wake", 7)),
    ("snooze 42 2h", Command("snooze", 42, duration="2h")),
    ("resolve 42", Command("resolve", 42)),
    ("resolve 42 rolled back  the deploy", Command("resolve", 42, text="rolled back  the deploy")),
    ("comment 42 looking into it", Command("comment", 42, text="looking into it")),
    ("escalate 42", Command("escalate", 42)),
    ("escalate 42 2", Command("escalate", 42, level=2)),
    ("reassign 42 <@UBOB|bob> @carol", Command("reassign", 42, people=("<@UBOB|bob>", "@carol"))),
    ("reassign 42 schedule sre", Command("reassign", 42, schedule="sre")),
    ("reassign 42 team dba", Command("reassign", 42, team="dba")),
    ("reassign 42 schedule sre backup", Command("reassign", 42, schedule="sre", role="backup")),
    ("add 42 @bob", Command("add", 42, people=("@bob",))),
    ("title 42 Checkout slow in EU", Command("title", 42, text="Checkout slow in EU")),
    ("severity 42 Critical", Command("severity", 42, severity=Severity.CRITICAL)),
    ("merge 43 #44 into 42", Command("merge", 42, sources=(43, 44))),
    ("new payments critical Checkout down", Command("new", service="payments", severity=Severity.CRITICAL,
                                                    text="Checkout down")),
    ("new payments Checkout slow", Command("new", service="payments", severity=Severity.WARNING,
                                           text="Checkout slow")),
])
def test_commands(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text", [
    "", "help", "ack", "ack x", "ack 0", "ack 99999999999", "ack 42 now", "ack ４２", "snooze 42", "snooze 42 2h 3h",
    "comment 42", "title 42", "escalate 42 two", "escalate 42 0", "severity 42 fatal", "severity 42",
    "reassign 42", "reassign 42 schedule", "reassign 42 team",
    "reassign 42 team a b", "add 42", "merge 43 42", "merge into 42", "merge 43 into",
    "merge x into 42", "merge 43 into 42 44", "new payments", "new payments critical",
])
def test_what_is_not_a_command_gets_the_usage(text: str) -> None:
    assert parse(text) is None
