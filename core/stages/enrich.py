"""Stage 1 of the alert pipeline, enrichment (docs/enrichment.md): steps that add, rewrite and delete labels.

`extract` (regex named groups from a field), `combine` (a template), `map` (a CSV mapping table), `delete`, and
`lookup` (a CMDB answer the application fetched beforehand, by `lookups_needed`, into `Context.lookups`). Each
step may carry an `if` rule (docs/conditions.md) and sees the labels the steps before it left.

A recovery passes unchanged: its labels, fingerprint and status are never touched, and it needs no lookups.
Enrichment never raises on an event; it writes values of at most MAX_LABEL_VALUE characters and never takes an
event above MAX_LABELS labels (labels the event came with are kept, new ones are added in the order the steps
set them until the cap). Pure: config data in, values out; `ConditionError` names the path of what is wrong.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, TypeAlias
from urllib.parse import quote

from core.conditions import FIELD_KEYS, LABEL_PREFIX, MAX_PATTERN_LENGTH, ConditionError, Rule, matches, parse_rule
from core.conditions import field_value as event_field
from core.grouping import parse_bounded_duration
from core.model import AlertEvent, AlertStatus
from core.stages import Context, Passage, Stage

MAX_LABELS = 100  # enrichment adds no label beyond this many (labels the event came with all stay)
MAX_LABEL_VALUE = 1000  # characters of a value enrichment writes; longer ones are cut
MAX_EXTRACT_INPUT = 10_000  # extract searches this many leading characters of its field
DEFAULT_TIMEOUT = timedelta(seconds=2)
MAX_TIMEOUT = timedelta(seconds=10)
DEFAULT_CACHE = timedelta(minutes=5)
MAX_CACHE = timedelta(days=1)
STEP_KINDS = ("extract", "combine", "map", "delete", "lookup")
_STEP_FIELDS = {
    "extract": ("from", "regex"), "combine": ("label", "template"), "map": ("table", "key", "set"),
    "lookup": ("name", "url", "timeout", "cache", "set"),
}
_PLACEHOLDERS = "placeholders are {title}, {description}, {source}, {severity} and {labels.<name>}"
_LOOKUP_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# the scheme and host of a lookup URL are written out, so that no label can send the request elsewhere
_URL_START = re.compile(r"https?://[^/?#\s{}]+[/?#]")


@dataclass(frozen=True)
class Field:
    """A placeholder of a template: a key like `title` or `labels.host`."""

    key: str


@dataclass(frozen=True)
class Template:
    """`{labels.app}-{labels.env}`: literal text and fields; a missing field renders as empty text."""

    text: str
    parts: tuple[str | Field, ...]

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(part.key[len(LABEL_PREFIX):] for part in self.parts
                         if isinstance(part, Field) and part.key.startswith(LABEL_PREFIX))

    def render(self, event: AlertEvent, labels: Mapping[str, str]) -> str:
        return "".join(part if isinstance(part, str) else _read(part.key, event, labels) or "" for part in self.parts)

    def render_url(self, event: AlertEvent, labels: Mapping[str, str]) -> str | None:
        """The URL with every field percent-encoded; None when a field is missing or empty (nothing to ask)."""
        rendered = []
        for part in self.parts:
            value = part if isinstance(part, str) else _read(part.key, event, labels)
            if not value:
                return None
            rendered.append(value if isinstance(part, str) else quote(value, safe=""))
        return "".join(rendered)


@dataclass(frozen=True)
class MappingTable:
    """A CSV table: rows by the text of their key column, each row column → value (strings, as written)."""

    key_column: str
    columns: tuple[str, ...]
    rows: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Extract:
    source: str  # title, description or labels.<name>
    pattern: re.Pattern[str]
    when: Rule = ()


@dataclass(frozen=True)
class Combine:
    label: str
    template: Template
    when: Rule = ()


@dataclass(frozen=True)
class MapLabels:
    table_id: str
    table: MappingTable
    key: Template
    columns: tuple[str, ...]
    when: Rule = ()


@dataclass(frozen=True)
class Delete:
    labels: tuple[str, ...]
    when: Rule = ()


@dataclass(frozen=True)
class Lookup:
    name: str
    url: Template
    timeout_seconds: float
    cache_seconds: float  # 0: the answers are not cached
    fields: tuple[str, ...]
    when: Rule = ()


Step: TypeAlias = Extract | Combine | MapLabels | Delete | Lookup


@dataclass(frozen=True)
class Enrichment:
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class LookupRequest:
    """One GET the application makes before the stage runs; its answer goes to `lookups[name][url]`."""

    name: str
    url: str
    timeout_seconds: float
    cache_seconds: float
    fields: tuple[str, ...] = ()  # the fields the step sets (all when empty): what is worth keeping in a cache


# --- applying -------------------------------------------------------------------------------------------------


def enrich_stage(enrichment: Enrichment) -> Stage:
    """The stage: the event's labels after every step, in order; a recovery passes unchanged."""

    def enrich(passage: Passage, context: Context) -> Passage:
        if passage.recovery or not enrichment.steps:
            return passage
        labels = enrich_labels(enrichment, passage.event, context.lookups)
        if labels == dict(passage.event.labels):
            return passage
        return passage.with_event(replace(passage.event, labels=labels))

    return enrich


def enrich_labels(enrichment: Enrichment, event: AlertEvent,
                  lookups: Mapping[str, Mapping[str, Mapping[str, str]]]) -> dict[str, str]:
    """The labels of `event` after the steps, with lookup answers from `lookups` (name → URL → fields)."""
    return _capped(event.labels, _walk(enrichment, event, lookups, None))


def lookups_needed(enrichment: Enrichment, event: AlertEvent) -> list[LookupRequest]:
    """The GETs the stage will look for, in step order; none for a recovery.

    It runs the steps as the stage will, with no lookup answers, so each URL sees the labels the steps before
    it set. The stage then renders the same URLs: `parse_enrichment` refuses a lookup whose URL or `if` may
    read a label that an earlier lookup sets, the one thing that is unknown before the answers are in."""
    if event.status is AlertStatus.RESOLVED or not enrichment.steps:
        return []
    requests: list[LookupRequest] = []
    _walk(enrichment, event, {}, requests)
    return requests


def _walk(enrichment: Enrichment, event: AlertEvent, lookups: Mapping[str, Mapping[str, Mapping[str, str]]],
          requests: list[LookupRequest] | None) -> dict[str, str]:
    labels = dict(event.labels)
    for step in enrichment.steps:
        if step.when and not matches(step.when, replace(event, labels=labels)):
            continue
        if isinstance(step, Lookup):
            url = step.url.render_url(event, labels)
            if url is None:
                continue
            if requests is not None:
                requests.append(LookupRequest(step.name, url, step.timeout_seconds, step.cache_seconds, step.fields))
            answer = lookups.get(step.name, {}).get(url)
            if answer is not None:
                _set_found(labels, step.fields, answer)
        elif isinstance(step, Extract):
            text = _read(step.source, event, labels)
            found = step.pattern.search(text[:MAX_EXTRACT_INPUT]) if text is not None else None
            for name, value in (found.groupdict() if found else {}).items():
                if value is not None:
                    labels[name] = value[:MAX_LABEL_VALUE]
        elif isinstance(step, Combine):
            labels[step.label] = step.template.render(event, labels)[:MAX_LABEL_VALUE]
        elif isinstance(step, MapLabels):
            row = step.table.rows.get(step.key.render(event, labels))
            if row is not None:
                _set_found(labels, step.columns, row)
        else:
            for name in step.labels:
                labels.pop(name, None)
    return labels


def _set_found(labels: dict[str, str], names: tuple[str, ...], found: Mapping[str, str]) -> None:
    """Table cells and lookup fields: an empty or missing value is unknown and sets nothing."""
    for name in names:
        value = found.get(name)
        if isinstance(value, str) and value:
            labels[name] = value[:MAX_LABEL_VALUE]


def _read(key: str, event: AlertEvent, labels: Mapping[str, str]) -> str | None:
    if key.startswith(LABEL_PREFIX):
        return labels.get(key[len(LABEL_PREFIX):])
    return event_field(key, event)


def _capped(original: Mapping[str, str], labels: dict[str, str]) -> dict[str, str]:
    """Every label the event came with that is still there, then new ones while there are fewer than MAX_LABELS."""
    room = MAX_LABELS - sum(1 for name in labels if name in original)
    capped: dict[str, str] = {}
    for name, value in labels.items():
        if name in original:
            capped[name] = value
        elif room > 0:
            capped[name] = value
            room -= 1
    return capped


# --- parsing --------------------------------------------------------------------------------------------------


def parse_enrichment(data: Any, path: str, tables: Mapping[str, MappingTable]) -> Enrichment:
    """The steps from config data: a list of `{<kind>: …, if?: <rule>}`; `tables` are the mapping tables by id."""
    if not isinstance(data, list):
        raise ConditionError(path, "must be a list of steps, like [{extract: {from: title, regex: …}}]; "
                                   "[] changes nothing")
    steps = tuple(_parse_step(item, f"{path}[{index}]", tables) for index, item in enumerate(data))
    _check_lookups(steps, path)
    return Enrichment(steps)


def _parse_step(data: Any, path: str, tables: Mapping[str, MappingTable]) -> Step:
    kinds = ", ".join(STEP_KINDS)
    if not isinstance(data, Mapping):
        raise ConditionError(path, f"must be a mapping with one of {kinds}, and optionally if")
    unknown = sorted(str(name) for name in data if name not in STEP_KINDS and name != "if")
    if unknown:
        raise ConditionError(f"{path}.{unknown[0]}", f"unknown field; a step has one of {kinds}, and optionally if")
    present = [kind for kind in STEP_KINDS if kind in data]
    if len(present) != 1:
        raise ConditionError(path, f"needs exactly one of {kinds}" + (f", not {' and '.join(present)}"
                                                                      if present else ""))
    kind = present[0]
    when = parse_rule(data["if"], f"{path}.if") if "if" in data else ()
    body_path = f"{path}.{kind}"
    if kind == "delete":
        return Delete(_parse_delete(data[kind], body_path), when)
    body = _body(data[kind], body_path, kind)
    if kind == "extract":
        return Extract(_parse_source(body.get("from"), f"{body_path}.from"),
                       _parse_regex(body.get("regex"), f"{body_path}.regex"), when)
    if kind == "combine":
        return Combine(_parse_label(body.get("label"), f"{body_path}.label"),
                       parse_template(body.get("template"), f"{body_path}.template"), when)
    if kind == "map":
        table_id, table = _parse_table_ref(body.get("table"), f"{body_path}.table", tables)
        columns = _parse_names(body.get("set"), f"{body_path}.set", "column")
        for index, column in enumerate(columns):
            if column not in table.columns:
                raise ConditionError(f"{body_path}.set[{index}]", f"table {table_id!r} has no column {column!r}; "
                                                                   f"its columns are {', '.join(table.columns)}")
        return MapLabels(table_id, table, parse_template(body.get("key"), f"{body_path}.key"), columns, when)
    return _parse_lookup(body, body_path, when)


def _body(data: Any, path: str, kind: str) -> Mapping[str, Any]:
    fields = _STEP_FIELDS[kind]
    if not isinstance(data, Mapping):
        raise ConditionError(path, f"must be a mapping with {', '.join(fields)}")
    unknown = sorted(str(name) for name in data if name not in fields)
    if unknown:
        raise ConditionError(f"{path}.{unknown[0]}", f"unknown field; {kind} has {', '.join(fields)}")
    return data


def _parse_source(data: Any, path: str) -> str:
    if data is None:
        raise ConditionError(path, "is required: title, description or labels.<name>")
    if data in ("title", "description"):
        return str(data)
    if isinstance(data, str) and data.startswith(LABEL_PREFIX) and len(data) > len(LABEL_PREFIX):
        return data
    raise ConditionError(path, f"unknown field {data!r}; extract reads title, description or labels.<name>")


def _parse_regex(data: Any, path: str) -> re.Pattern[str]:
    if not isinstance(data, str) or not data:
        raise ConditionError(path, "is required: a Python regex with named groups, like 'on (?P<host>[\\w.-]+)'")
    if len(data) > MAX_PATTERN_LENGTH:
        raise ConditionError(path, f"regex is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        pattern = re.compile(data)
    except (re.error, OverflowError, RecursionError) as error:
        raise ConditionError(path, f"bad regex {data!r}: {error}") from None
    if not pattern.groupindex:
        raise ConditionError(path, "has no named group; each named group (?P<name>…) sets the label of its name")
    return pattern


def _parse_label(data: Any, path: str) -> str:
    if not isinstance(data, str) or not data.strip():
        raise ConditionError(path, "must be a label name, like team")
    if data != data.strip():
        raise ConditionError(path, f"label name {data!r} has spaces around it")
    if data.startswith(LABEL_PREFIX):
        raise ConditionError(path, f"write the label name without 'labels.', like {data[len(LABEL_PREFIX):]!r}")
    return data


def _parse_names(data: Any, path: str, what: str) -> tuple[str, ...]:
    if not isinstance(data, list) or not data:
        raise ConditionError(path, f"must be a non-empty list of {what} names")
    return tuple(_parse_label(name, f"{path}[{index}]") for index, name in enumerate(data))


def _parse_delete(data: Any, path: str) -> tuple[str, ...]:
    if not isinstance(data, list) or not data:
        raise ConditionError(path, "must be a non-empty list of labels, like [labels.pod]")
    names = []
    for index, item in enumerate(data):
        if not isinstance(item, str) or not item.startswith(LABEL_PREFIX) or len(item) == len(LABEL_PREFIX):
            raise ConditionError(f"{path}[{index}]", "must be a label, like labels.pod")
        names.append(item[len(LABEL_PREFIX):])
    return tuple(names)


def _parse_table_ref(data: Any, path: str, tables: Mapping[str, MappingTable]) -> tuple[str, MappingTable]:
    if not isinstance(data, str) or data not in tables:
        known = ", ".join(sorted(tables)) or "none"
        raise ConditionError(path, f"unknown table {data!r}; the tables are: {known}")
    return data, tables[data]


def _parse_lookup(body: Mapping[str, Any], path: str, when: Rule) -> Lookup:
    name = body.get("name")
    if not isinstance(name, str) or not _LOOKUP_NAME.fullmatch(name):
        raise ConditionError(f"{path}.name", "must be 1 to 64 letters, digits, '_', '.' or '-', like cmdb")
    url = parse_template(body.get("url"), f"{path}.url")
    start = url.parts[0] if url.parts and isinstance(url.parts[0], str) else ""
    if not _URL_START.match(start if len(url.parts) > 1 else start + "/"):
        raise ConditionError(f"{path}.url", "must start with http:// or https:// and a host written out, "
                                            "like https://cmdb/api/hosts/{labels.host}")
    timeout = parse_bounded_duration(body.get("timeout", "2s"), f"{path}.timeout", timedelta(seconds=1), MAX_TIMEOUT)
    cache = body.get("cache", "5m")
    off = cache == "0" or (type(cache) is int and cache == 0)  # `cache: 0` in YAML is the number
    cache_length = timedelta(0) if off else parse_bounded_duration(cache, f"{path}.cache", timedelta(0), MAX_CACHE)
    fields = _parse_names(body.get("set"), f"{path}.set", "field")
    return Lookup(name, url, timeout.total_seconds(), cache_length.total_seconds(), fields, when)


def parse_template(data: Any, path: str) -> Template:
    """`{field}` placeholders and literal text; `{{` and `}}` are literal braces. Unknown placeholders are refused."""
    if not isinstance(data, str):
        raise ConditionError(path, f"must be a text (quote it); {_PLACEHOLDERS}")
    parts: list[str | Field] = []
    literal: list[str] = []
    index = 0
    while index < len(data):
        char = data[index]
        if char in "{}" and data[index + 1:index + 2] == char:
            literal.append(char)
            index += 2
        elif char == "}":
            raise ConditionError(path, f"a single '}}' at character {index + 1}; write '}}}}' for a brace")
        elif char == "{":
            end = data.find("}", index + 1)
            key = data[index + 1:end]
            if end == -1 or "{" in key:
                raise ConditionError(path, f"'{{' at character {index + 1} is not closed; write '{{{{' for a brace")
            if key not in FIELD_KEYS and not (key.startswith(LABEL_PREFIX) and len(key) > len(LABEL_PREFIX)):
                raise ConditionError(path, f"unknown placeholder {{{key}}}; {_PLACEHOLDERS}")
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Field(key))
            index = end + 1
        else:
            literal.append(char)
            index += 1
    if literal:
        parts.append("".join(literal))
    return Template(data, tuple(parts))


def _check_lookups(steps: tuple[Step, ...], path: str) -> None:
    """Lookup names are unique, and no lookup's URL or `if` may read a label an earlier lookup may set.

    `from_lookup` holds the labels whose value may depend on a lookup answer, with the lookup's path: a step
    that reads one may write differently, so what it writes joins them (a combine that reads none rewrites its
    label, and a delete that reads none removes its labels, for sure)."""
    from_lookup: dict[str, str] = {}
    names: dict[str, str] = {}
    for index, step in enumerate(steps):
        step_path = f"{path}[{index}]"
        reads = _reads(step) & from_lookup.keys()
        if isinstance(step, Lookup):
            if step.name in names:
                raise ConditionError(f"{step_path}.lookup.name", f"lookup {step.name!r} is also {names[step.name]}")
            names[step.name] = step_path
            if reads:
                label = sorted(reads)[0]
                raise ConditionError(f"{step_path}.lookup", f"its url or if reads labels.{label}, which the lookup at "
                                                            f"{from_lookup[label]} may set; lookups are all fetched "
                                                            "before enrichment runs: one cannot use another's answer")
            from_lookup.update(dict.fromkeys(step.fields, step_path))
        elif reads:
            origin = from_lookup[sorted(reads)[0]]
            from_lookup.update(dict.fromkeys(_writes(step), origin))
        elif isinstance(step, (Combine, Delete)):
            for label in _writes(step):
                from_lookup.pop(label, None)


def _reads(step: Step) -> set[str]:
    labels = {condition.key[len(LABEL_PREFIX):] for group in step.when for condition in group
              if condition.key.startswith(LABEL_PREFIX)}
    if isinstance(step, Extract) and step.source.startswith(LABEL_PREFIX):
        labels.add(step.source[len(LABEL_PREFIX):])
    if isinstance(step, Combine):
        labels |= step.template.labels
    if isinstance(step, MapLabels):
        labels |= step.key.labels
    if isinstance(step, Lookup):
        labels |= step.url.labels
    return labels


def _writes(step: Step) -> tuple[str, ...]:
    if isinstance(step, Extract):
        return tuple(step.pattern.groupindex)
    if isinstance(step, Combine):
        return (step.label,)
    if isinstance(step, MapLabels):
        return step.columns
    if isinstance(step, Delete):
        return step.labels
    return step.fields


def parse_csv_table(text: str, key_column: str, path: str) -> MappingTable:
    """A mapping table from CSV text with a header row; `key_column` names the column rows are found by.

    Spaces right after a comma are ignored, and a leading byte order mark. Blank lines are skipped. A row must
    have as many fields as the header; a key must be non-empty and appear once (a repeated key is an error
    naming both lines, since one of the two rows would be silently ignored)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), skipinitialspace=True, strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        if not header or not any(header):
            raise ConditionError(path, "needs a header row naming the columns, like ip,team,owner")
        for name in header:
            if not name or header.count(name) > 1:
                raise ConditionError(path, f"line 1: column names must be non-empty and distinct, got {header}")
        if key_column not in header:
            raise ConditionError(path, f"has no key column {key_column!r}; its columns are {', '.join(header)}")
        key_index = header.index(key_column)
        rows: dict[str, dict[str, str]] = {}
        lines: dict[str, int] = {}
        for row in reader:
            if not row:
                continue
            line = reader.line_num
            if len(row) != len(header):
                raise ConditionError(path, f"line {line}: has {len(row)} fields, the header {len(header)}")
            key = row[key_index]
            if not key:
                raise ConditionError(path, f"line {line}: the key column {key_column!r} is empty")
            if key in rows:
                raise ConditionError(path, f"line {line}: key {key!r} is also on line {lines[key]}")
            rows[key], lines[key] = dict(zip(header, row, strict=True)), line
    except csv.Error as error:
        raise ConditionError(path, f"line {reader.line_num}: {error}") from None
    return MappingTable(key_column, tuple(header), rows)
