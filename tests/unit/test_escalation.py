"""core/escalation.py: which step fires when, over repeated passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.escalation import DEFAULT_REPEAT_AFTER, Firing, Policy, Step, Target, first_firing, next_firing

OPENED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
PRIMARY = Target(schedule="sre", role="primary")
BACKUP = Target(schedule="sre", role="backup")


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


def policy(*afters: float, repeat: int = 0, repeat_after: float | None = None) -> Policy:
    steps = tuple(Step(after=minutes(after), targets=(PRIMARY if index == 0 else BACKUP,))
                  for index, after in enumerate(afters))
    return Policy("p", steps, repeat=repeat, repeat_after=None if repeat_after is None else minutes(repeat_after))


def run(rule: Policy, late_by: timedelta = timedelta(0)) -> list[tuple[int, int, timedelta]]:
    """Fire every step as it comes due (plus `late_by`): (position, step, due − opened) until exhausted."""
    fired: list[tuple[int, int, timedelta]] = []
    firing = first_firing(rule, OPENED)
    while firing is not None:
        fired.append((firing.position, firing.step_index, firing.due_at - OPENED))
        assert len(fired) < 100, "the policy never ends"
        firing = next_firing(rule, firing, firing.due_at + late_by)
    return fired


def test_first_step_is_due_after_its_delay() -> None:
    assert first_firing(policy(0, 5), OPENED) == Firing(position=0, step_index=0, due_at=OPENED)
    assert first_firing(policy(2, 5), OPENED) == Firing(position=0, step_index=0, due_at=OPENED + minutes(2))


def test_a_policy_without_steps_pages_nobody() -> None:
    assert first_firing(Policy("empty", ()), OPENED) is None


@pytest.mark.parametrize(("rule", "expected"), [
    (policy(0, 5), [(0, 0, minutes(0)), (1, 1, minutes(5))]),
    (policy(0, 5, 10), [(0, 0, minutes(0)), (1, 1, minutes(5)), (2, 2, minutes(15))]),
    # repeat: more passes; the new pass waits as long as the last gap by default
    (policy(0, 5, repeat=2), [(0, 0, minutes(0)), (1, 1, minutes(5)), (2, 0, minutes(10)), (3, 1, minutes(15)),
                              (4, 0, minutes(20)), (5, 1, minutes(25))]),
    (policy(2, 10, repeat=1), [(0, 0, minutes(2)), (1, 1, minutes(12)), (2, 0, minutes(22)), (3, 1, minutes(32))]),
    # repeat_after sets the gap before each new pass
    (policy(0, 5, repeat=1, repeat_after=30), [(0, 0, minutes(0)), (1, 1, minutes(5)), (2, 0, minutes(35)),
                                               (3, 1, minutes(40))]),
    # one step: the pass repeats after its own delay, or after the default when that is zero
    (policy(0, repeat=2), [(0, 0, minutes(0)), (1, 0, DEFAULT_REPEAT_AFTER), (2, 0, 2 * DEFAULT_REPEAT_AFTER)]),
    (policy(3, repeat=1), [(0, 0, minutes(3)), (1, 0, minutes(6))]),
], ids=["two-steps", "three-steps", "repeat-2", "first-step-delayed", "repeat-after", "single-step-default",
        "single-step-delay"])
def test_positions_and_due_times(rule: Policy, expected: list[tuple[int, int, timedelta]]) -> None:
    assert run(rule) == expected


def test_default_repeat_after_is_five_minutes() -> None:
    assert DEFAULT_REPEAT_AFTER == minutes(5)


def test_next_step_counts_from_when_the_previous_one_actually_ran() -> None:
    # a worker that ran each step two minutes late: each delay is measured from that late start
    assert run(policy(0, 5, repeat=1), late_by=minutes(2)) == [
        (0, 0, minutes(0)), (1, 1, minutes(7)), (2, 0, minutes(14)), (3, 1, minutes(21))]


@pytest.mark.parametrize("repeat", [0, 1, 3])
def test_every_step_fires_once_per_pass(repeat: int) -> None:
    fired = run(policy(0, 5, 10, repeat=repeat))
    assert [step for _, step, _ in fired] == [0, 1, 2] * (repeat + 1)
    assert [position for position, _, _ in fired] == list(range(3 * (repeat + 1)))
