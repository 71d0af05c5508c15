"""Stage 3, drop rules: a matching event leaves no trace but a counter. Recoveries are never dropped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.conditions import ConditionError, Rule, matches, parse_rule
from core.stages import Context, Passage, Stage
from core.stages._config import as_list, as_name, as_object, unique_names


@dataclass(frozen=True)
class DropRule:
    name: str
    rule: Rule


def parse_drops(data: Any, path: str) -> tuple[DropRule, ...]:
    """`drop: [{name, if: <rule>}]`; an empty `if` would drop every alert, so it is refused."""
    rules = []
    for index, item in enumerate(as_list(data, path)):
        here = f"{path}[{index}]"
        item = as_object(item, here, ("name", "if"), ("name", "if"))
        rule = parse_rule(item["if"], f"{here}.if")
        if not rule:
            raise ConditionError(f"{here}.if", "an empty rule would drop every alert; give at least one condition")
        rules.append(DropRule(as_name(item["name"], f"{here}.name"), rule))
    unique_names([rule.name for rule in rules], path)
    return tuple(rules)


def drop_stage(rules: tuple[DropRule, ...]) -> Stage:
    def drop(passage: Passage, context: Context) -> Passage:
        if passage.recovery:
            return passage
        for rule in rules:
            if matches(rule.rule, passage.event):
                return passage.dropped(f"drop:{rule.name}")
        return passage

    return drop
