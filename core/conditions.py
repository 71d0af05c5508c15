"""The condition language every alert pipeline stage shares (docs/conditions.md).

A rule is a list of groups: the groups are ORed, the conditions inside a group ANDed, and an empty rule
matches every alert. A condition names a field of the alert and a list of values; `IN` matches when the
field matches any value, `NOT IN` when it matches none. A field the alert does not have (a missing label, an
alert without a description) is absent: `IN` never matches it and `NOT IN` always does.

Pure: config data in, values out; `ConditionError` names the path of whatever cannot be read.
"""

from __future__ import annotations

import ipaddress
import json
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from core.model import AlertEvent, Severity

FIELD_KEYS = ("severity", "title", "description", "source")
LABEL_PREFIX = "labels."
MAX_PATTERN_LENGTH = 500  # regex and wildcard values: a long pattern is a slow one
NUMBER_OPERATORS: Mapping[str, Callable[[float, float], bool]] = {
    "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}
SEVERITIES = tuple(severity.value for severity in Severity)


class ConditionError(ValueError):
    """A rule in the config that cannot be read; `path` says where, like `routing.cases[2].if[0][1].in[3]`."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Exact:
    """The field equals `text`, character for character (case-sensitive)."""

    text: str

    def matches(self, value: str) -> bool:
        return value == self.text


@dataclass(frozen=True)
class Regex:
    """`/pattern/`: Python `re`, the whole field must match."""

    text: str
    pattern: re.Pattern[str]

    def matches(self, value: str) -> bool:
        return self.pattern.fullmatch(value) is not None


@dataclass(frozen=True)
class Wildcard:
    """`*` is any run of characters (none included), `?` exactly one; everything else is literal."""

    text: str
    pattern: re.Pattern[str]

    def matches(self, value: str) -> bool:
        return self.pattern.fullmatch(value) is not None


@dataclass(frozen=True)
class Cidr:
    """`cidr:10.0.0.0/8`: the field is an IP address (v4 or v6) inside the network."""

    text: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network

    def matches(self, value: str) -> bool:
        try:
            return ipaddress.ip_address(value) in self.network
        except ValueError:
            return False


@dataclass(frozen=True)
class Num:
    """`num:gt:90`: the field is a finite number and compares so with `threshold`."""

    text: str
    op: str
    threshold: float

    def matches(self, value: str) -> bool:
        try:
            number = float(value)
        except ValueError:
            return False
        return math.isfinite(number) and NUMBER_OPERATORS[self.op](number, self.threshold)


Matcher: TypeAlias = Exact | Regex | Wildcard | Cidr | Num


@dataclass(frozen=True)
class Condition:
    """`key IN values` (negate False) or `key NOT IN values` (negate True)."""

    key: str
    values: tuple[Matcher, ...]
    negate: bool


# groups ORed, conditions within a group ANDed; no groups at all matches every alert
Rule: TypeAlias = tuple[tuple[Condition, ...], ...]


def field_value(key: str, event: AlertEvent) -> str | None:
    """The text of the field `key` of `event`, or None when the alert does not have it.

    `description` is the `description` annotation only (no fallback to `summary`, which sources already use
    for the title)."""
    if key == "severity":
        return event.severity.value
    if key == "title":
        return event.title
    if key == "description":
        return event.annotations.get("description")
    if key == "source":
        return event.source
    if key.startswith(LABEL_PREFIX) and len(key) > len(LABEL_PREFIX):
        return event.labels.get(key[len(LABEL_PREFIX):])
    raise ValueError(f"unknown condition key {key!r}")


def condition_matches(condition: Condition, event: AlertEvent) -> bool:
    """IN: the field is present and matches a value; NOT IN: the field is absent or matches none."""
    value = field_value(condition.key, event)
    found = value is not None and any(matcher.matches(value) for matcher in condition.values)
    return found is not condition.negate


def matches(rule: Rule, event: AlertEvent) -> bool:
    """Whether `event` satisfies `rule`: some group whose conditions all hold, or a rule with no groups."""
    if not rule:
        return True
    return any(all(condition_matches(condition, event) for condition in group) for group in rule)


def describe(rule: Rule) -> str:
    """One readable line, like `severity IN [critical] AND labels.env NOT IN [dev] OR source IN [zabbix]`."""
    if not rule:
        return "any alert"
    return " OR ".join(" AND ".join(_describe_condition(condition) for condition in group) for group in rule)


def _describe_condition(condition: Condition) -> str:
    values = ", ".join(_quoted(matcher.text) for matcher in condition.values)
    return f"{condition.key} {'NOT IN' if condition.negate else 'IN'} [{values}]"


def _quoted(text: str) -> str:
    """Values as written; quoted when empty or when they hold a separator that would make the line ambiguous."""
    if text == "" or text != text.strip() or any(mark in text for mark in ',[]"'):
        return json.dumps(text, ensure_ascii=False)
    return text


def parse_rule(data: Any, path: str) -> Rule:
    """A rule from config data: a list of groups, each a list of `{key, in | not_in}` mappings."""
    if not isinstance(data, list):
        raise ConditionError(path, "must be a list of groups (each a list of conditions); [] matches every alert")
    groups = []
    for index, group in enumerate(data):
        groups.append(_parse_group(group, f"{path}[{index}]"))
    return tuple(groups)


def _parse_group(data: Any, path: str) -> tuple[Condition, ...]:
    if isinstance(data, Mapping):
        raise ConditionError(path, "must be a list of conditions, not a single condition: "
                                   "write the group as its own list item (`- - {key: …, in: […]}`)")
    if not isinstance(data, list):
        raise ConditionError(path, "must be a list of conditions")
    if not data:
        raise ConditionError(path, "an empty group is not allowed; to match every alert leave the rule empty ([])")
    return tuple(parse_condition(item, f"{path}[{index}]") for index, item in enumerate(data))


def parse_condition(data: Any, path: str) -> Condition:
    """One `{key: …, in: […]}` or `{key: …, not_in: […]}` mapping."""
    if not isinstance(data, Mapping):
        raise ConditionError(path, "must be a mapping like {key: severity, in: [critical]}")
    unknown = sorted(str(name) for name in data if name not in ("key", "in", "not_in"))
    if unknown:
        raise ConditionError(path, f"unknown field {unknown[0]!r}; a condition has key and in or not_in")
    key = _parse_key(data.get("key"), f"{path}.key")
    if ("in" in data) == ("not_in" in data):
        raise ConditionError(path, "needs exactly one of in or not_in")
    negate = "not_in" in data
    values_path = f"{path}.{'not_in' if negate else 'in'}"
    raw_values = data["not_in" if negate else "in"]
    if not isinstance(raw_values, list):
        raise ConditionError(values_path, "must be a list of values, like [critical]")
    if not raw_values:
        raise ConditionError(values_path, "must list at least one value")
    values = tuple(parse_value(key, raw, f"{values_path}[{index}]") for index, raw in enumerate(raw_values))
    return Condition(key=key, values=values, negate=negate)


def _parse_key(data: Any, path: str) -> str:
    known = f"keys are {', '.join(FIELD_KEYS)}, {LABEL_PREFIX}<name>"
    if data is None:
        raise ConditionError(path, f"is required; {known}")
    if not isinstance(data, str):
        raise ConditionError(path, f"must be a string; {known}")
    if data == LABEL_PREFIX:
        raise ConditionError(path, f"needs a label name after {LABEL_PREFIX!r}, like labels.env")
    if data not in FIELD_KEYS and not data.startswith(LABEL_PREFIX):
        raise ConditionError(path, f"unknown key {data!r}; {known}")
    return data


def parse_value(key: str, data: Any, path: str) -> Matcher:
    """One value of a condition on `key`: `/regex/`, `cidr:…`, `num:op:number`, a wildcard, or exact text.

    YAML numbers become their text (`90` → "90"); booleans are refused, since YAML reads `yes` and `on` as
    true and the text the author meant is lost."""
    if isinstance(data, bool) or not isinstance(data, (str, int, float)):
        raise ConditionError(path, "must be a string (quote it, like 'true')")
    text = data if isinstance(data, str) else str(data)
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        return _regex(text, path)
    if text.startswith("cidr:"):
        return _cidr(text, path)
    if text.startswith("num:"):
        return _num(text, path)
    if "*" in text or "?" in text:
        return _wildcard(text, path)
    if key == "severity" and text not in SEVERITIES:
        raise ConditionError(path, f"unknown severity {text!r}; severities are {', '.join(SEVERITIES)}")
    return Exact(text)


def _regex(text: str, path: str) -> Regex:
    source = text[1:-1]
    if len(source) > MAX_PATTERN_LENGTH:
        raise ConditionError(path, f"regex is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        pattern = re.compile(source)
    except (re.error, OverflowError, RecursionError) as error:
        raise ConditionError(path, f"bad regex {source!r}: {error}") from None
    return Regex(text, pattern)


def _wildcard(text: str, path: str) -> Wildcard:
    if len(text) > MAX_PATTERN_LENGTH:
        raise ConditionError(path, f"wildcard is longer than {MAX_PATTERN_LENGTH} characters")
    return Wildcard(text, wildcard_pattern(text))


def wildcard_pattern(text: str) -> re.Pattern[str]:
    """The regex for a wildcard, built so that it cannot backtrack badly.

    `a*b*c` as `a.*b.*c` takes time that grows with the length of the field to the power of the number of
    stars. Taking each middle piece at its first occurrence (an atomic group) is enough for a wildcard (a
    later occurrence can only leave less room for the rest), which keeps the work linear per piece."""
    pieces = ["".join("." if char == "?" else re.escape(char) for char in piece) for piece in text.split("*")]
    if len(pieces) == 1:
        return re.compile(pieces[0], re.DOTALL)
    first, *middle, last = pieces
    body = first + "".join(f"(?>.*?{piece})" for piece in middle if piece) + ".*" + last
    return re.compile(body, re.DOTALL)


def _cidr(text: str, path: str) -> Cidr:
    try:
        network = ipaddress.ip_network(text[len("cidr:"):].strip(), strict=False)
    except ValueError as error:
        raise ConditionError(path, f"bad network: {error}; write it like cidr:10.0.0.0/8") from None
    return Cidr(text, network)


def _num(text: str, path: str) -> Num:
    op, _, number = text[len("num:"):].partition(":")
    if op not in NUMBER_OPERATORS:
        raise ConditionError(path, f"unknown comparison {op!r}; comparisons are {', '.join(NUMBER_OPERATORS)}, "
                                   "like num:gt:90")
    try:
        threshold = float(number)
    except ValueError:
        raise ConditionError(path, f"{number!r} is not a number; write it like num:{op}:90") from None
    if not math.isfinite(threshold):
        raise ConditionError(path, f"{number!r} is not a finite number")
    return Num(text, op, threshold)
