"""The YAML config of SPEC §6: its shape (pydantic), cross-references, and errors named by path."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from adapters.email.config import EmailPlatform
from adapters.secrets import SecretSource
from adapters.slack.config import SlackPlatform
from bot.config_checks import cross_check
from core.duration import parse_duration
from core.escalation import MIN_REPEAT_EVERY
from core.model import Severity
from core.sources.email import MailSettings
from core.sources.email import Rule as MailRule
from core.webhooks import EVENT_NAMES

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
INTEGRATION_KEY_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"
WeekdayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ImIds(Strict):
    slack: str | None = None
    feishu: str | None = None
    dingtalk: str | None = None
    wecom: str | None = None
    telegram: int | str | None = None


SeverityName = Literal["critical", "warning", "info"]
NotifyMethod = Literal["slack", "feishu", "dingtalk", "wecom", "telegram", "email"]


class QuietConfig(Strict):
    """Hours in which pages of non-critical incidents do not reach the person (critical ones always do)."""

    weekly: list[tuple[str, str]] = Field(min_length=1, max_length=50)
    timezone: str | None = None  # default: the account's

    @field_validator("weekly")
    @classmethod
    def _weekly_points(cls, value: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for window in value:
            for point in window:
                if not re.fullmatch(WEEKLY_POINT_PATTERN, point):
                    raise ValueError(f"{point!r} is not a weekday and time like 'mon 22:00'")
        return value


class UserConfig(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    im: ImIds = Field(default_factory=ImIds)
    # per severity, how to page this person, in order (docs/escalation.md "Reaching people")
    notify: dict[SeverityName, list[NotifyMethod]] = Field(default_factory=dict)
    quiet: QuietConfig | None = None


class TeamConfig(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    members: list[str] = Field(default_factory=list)


class Rotation(Strict):
    every: int
    unit: Literal["hour", "day", "week", "month"] = "week"

    @field_validator("every")
    @classmethod
    def _range(cls, value: int) -> int:
        if not 1 <= value <= 30:
            raise ValueError(f"must be 1–30 (got {value})")
        return value


class HandoffConfig(Strict):
    weekday: WeekdayName
    time: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


Slot = str | list[str] | dict[str, str]
CLOCK_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
WEEKLY_POINT_PATTERN = r"^(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):[0-5]\d$"


class CalendarMask(Strict):
    calendar: str


class RestrictConfig(Strict):
    """Daily windows (`["22:00", "06:00"]` crosses midnight) or weekly windows (`["mon 09:00", "fri 18:00"]`)."""

    daily: list[tuple[str, str]] | None = Field(default=None, min_length=1)
    weekly: list[tuple[str, str]] | None = Field(default=None, min_length=1)

    @field_validator("daily")
    @classmethod
    def _clock_times(cls, value: list[tuple[str, str]] | None) -> list[tuple[str, str]] | None:
        for window in value or []:
            for point in window:
                if not re.fullmatch(CLOCK_PATTERN, point):
                    raise ValueError(f"{point!r} is not a time like 09:00")
        return value

    @field_validator("weekly")
    @classmethod
    def _weekly_points(cls, value: list[tuple[str, str]] | None) -> list[tuple[str, str]] | None:
        for window in value or []:
            for point in window:
                if not re.fullmatch(WEEKLY_POINT_PATTERN, point):
                    raise ValueError(f"{point!r} is not a weekday and time like 'mon 09:00'")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> RestrictConfig:
        if (self.daily is None) == (self.weekly is None):
            raise ValueError("give either daily or weekly windows")
        return self


class LayerConfig(Strict):
    name: str = Field(min_length=1, max_length=40)
    members: list[Slot] = Field(min_length=1)
    start: str
    end: str | None = None
    rotation: Rotation = Field(default_factory=lambda: Rotation(every=1, unit="week"))
    handoff: HandoffConfig | None = None
    date_mask: list[WeekdayName] | CalendarMask | None = None
    continuous: bool = False
    fair: bool = False
    restrict: RestrictConfig | None = None

    @field_validator("start", "end")
    @classmethod
    def _local_time(cls, value: str | None) -> str | None:
        if value is not None:
            parse_local(value)
        return value

    @field_validator("handoff")
    @classmethod
    def _handoff_needs_weeks(cls, value: HandoffConfig | None, info: ValidationInfo) -> HandoffConfig | None:
        rotation = info.data.get("rotation")
        if value is not None and rotation is not None and rotation.unit != "week":
            raise ValueError("only allowed where the rotation unit is week")
        return value

    @field_validator("continuous")
    @classmethod
    def _continuous_needs_mask(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("date_mask") is None:
            raise ValueError("continuous rotation needs a date_mask")
        return value

    @field_validator("restrict")
    @classmethod
    def _weekly_not_with_mask(cls, value: RestrictConfig | None, info: ValidationInfo) -> RestrictConfig | None:
        if value is not None and value.weekly is not None and info.data.get("date_mask") is not None:
            raise ValueError("weekly windows are not allowed together with a date_mask")
        return value


class OverrideConfig(Strict):
    start: str
    end: str
    user: str
    role: str | None = None

    @field_validator("start", "end")
    @classmethod
    def _local_time(cls, value: str) -> str:
        parse_local(value)
        return value


class NotifyConfig(Strict):
    advance_minutes: int | None = Field(default=None, ge=5, le=1440, multiple_of=5)
    daily_at: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    personal: bool = True
    channels: list[str] = Field(default_factory=list)


class ScheduleConfig(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=40)
    team: str | None = None
    description: str = Field(default="", max_length=500)
    timezone: str | None = None
    layers: list[LayerConfig] = Field(min_length=1)
    overrides: list[OverrideConfig] = Field(default_factory=list)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)


class CalendarConfig(Strict):
    """A service calendar: a built-in one with days added or taken out (`YYYY-MM-DD`)."""

    id: str = Field(pattern=ID_PATTERN)
    base: Literal["cn-workdays", "cn-restdays", "workdays", "weekends"] = "cn-workdays"
    add: list[date] = Field(default_factory=list)
    remove: list[date] = Field(default_factory=list)


class ChannelConfig(SecretSource):
    id: str = Field(pattern=ID_PATTERN)
    platform: Literal["slack", "dingtalk-robot", "feishu-robot", "wecom-robot"]
    chat_id: str | None = None
    webhook: str | None = None
    webhook_file: str | None = None
    secret: str | None = None
    secret_file: str | None = None
    locale: Literal["zh-CN", "en"] | None = None

    @model_validator(mode="after")
    def _address(self) -> ChannelConfig:
        if self.platform == "slack" and not self.chat_id:
            raise ValueError("a slack channel needs chat_id (the C… conversation id)")
        if self.platform != "slack" and not (self.webhook or self.webhook_file):
            raise ValueError(f"a {self.platform} channel needs webhook or webhook_file")
        if self.platform == "wecom-robot" and (self.secret or self.secret_file):
            raise ValueError("a wecom-robot has no sign secret: the key in its webhook URL is the secret")
        return self


class WebhookConfig(SecretSource):
    """An outbound webhook: incident events POSTed as signed JSON (docs/webhooks.md)."""

    id: str = Field(pattern=ID_PATTERN)
    url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    url_file: str | None = None  # a URL can carry a key: keep it out of the config file
    secret: str | None = Field(default=None, min_length=16)
    secret_file: str | None = None
    events: list[str] = Field(default_factory=lambda: list(EVENT_NAMES), min_length=1)
    services: list[str] | None = None  # None: every service

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str]) -> list[str]:
        unknown = [name for name in events if name not in EVENT_NAMES]
        if unknown:
            raise ValueError(f"unknown event {unknown[0]!r}; events are {', '.join(EVENT_NAMES)}")
        return events

    @model_validator(mode="after")
    def _sources(self) -> WebhookConfig:
        if not (self.url or self.url_file):
            raise ValueError("a webhook needs url or url_file")
        if not (self.secret or self.secret_file):
            raise ValueError("a webhook needs secret or secret_file (its deliveries are signed with it)")
        return self


class Platforms(Strict):
    slack: SlackPlatform | None = None
    email: EmailPlatform | None = None  # SMTP for paging by email


class ApiTokenConfig(SecretSource):
    name: str = Field(pattern=ID_PATTERN)
    user: str
    token: str | None = Field(default=None, min_length=16)
    token_file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ApiTokenConfig:
        if not (self.token or self.token_file):
            raise ValueError("needs token or token_file")
        return self


class ApiConfig(Strict):
    tokens: list[ApiTokenConfig] = Field(default_factory=list)


class TargetConfig(Strict):
    user: str | None = None
    team: str | None = None  # every member of the team
    schedule: str | None = None
    role: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TargetConfig:
        if sum(name is not None for name in (self.user, self.team, self.schedule)) != 1:
            raise ValueError("name exactly one of user, team or schedule")
        if self.role is not None and self.schedule is None:
            raise ValueError("role is only allowed with schedule")
        return self


class StepConfig(Strict):
    after: str = "0m"
    notify: list[TargetConfig] = Field(default_factory=list)
    via: list[str] = Field(default_factory=lambda: ["dm"])
    repeat_every: str | None = None  # page this level again this often (≥ 30s)…
    repeat_times: int = Field(default=0, ge=0, le=20)  # …this many more times, before the next level is due

    @field_validator("after")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("repeat_every")
    @classmethod
    def _repeat_every(cls, value: str | None) -> str | None:
        if value is not None and parse_duration(value) < MIN_REPEAT_EVERY:
            raise ValueError("must be at least 30s")
        return value

    @model_validator(mode="after")
    def _someone(self) -> StepConfig:
        if not self.notify and self.via == ["dm"]:
            raise ValueError("a step must notify someone or post to a channel")
        if (self.repeat_every is None) != (self.repeat_times == 0):
            raise ValueError("give repeat_every and repeat_times together")
        return self


class PolicyConfig(Strict):
    id: str = Field(pattern=ID_PATTERN)
    steps: list[StepConfig] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10)
    repeat_after: str | None = None
    delay: str | None = None  # before the first level; an incident resolved inside it pages nobody
    until: Literal["acknowledged", "resolved"] = "acknowledged"  # resolved: escalate after an ack too

    @field_validator("repeat_after", "delay")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


SourceKind = Literal["alertmanager", "grafana", "zabbix", "nightingale", "uptime-kuma", "pagerduty", "generic",
                     "email", "feishu-robot", "dingtalk-robot", "wecom-robot"]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)


class RateLimitConfig(Strict):
    """Requests accepted per integration; more are answered 429 with Retry-After (docs/sources.md)."""

    per_second: int = Field(default=100, ge=1, le=1_000_000)
    per_minute: int = Field(default=1000, ge=1, le=60_000_000)


class MailRuleConfig(Strict):
    """Rules mode of an email integration: a regex giving the alert key, one marking recovery."""

    key: str = Field(min_length=1, max_length=500)
    recovery: str | None = Field(default=None, min_length=1, max_length=500)
    severity: SeverityName | None = None


class IntegrationConfig(Strict):
    kind: SourceKind
    key: str = Field(pattern=INTEGRATION_KEY_PATTERN)
    # email integrations only (docs/sources.md): how mail becomes alerts
    mode: Literal["every", "subject", "rules"] | None = None
    severity: SeverityName | None = None
    rules: list[MailRuleConfig] | None = Field(default=None, max_length=50)
    rate_limit: RateLimitConfig | Literal["off"] = Field(default_factory=RateLimitConfig)
    # pipeline stages of the integration, read by core/stages (checked with their paths in config_checks)
    title: str | None = Field(default=None, max_length=500)  # a template over the fields, like enrichment's
    enrich: list[Any] = Field(default_factory=list)
    route: dict[str, Any] | None = None

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _off(cls, value: Any) -> Any:
        return "off" if value is False else value  # YAML reads a bare `off` as false

    @model_validator(mode="after")
    def _mail_fields(self) -> IntegrationConfig:
        mail_fields = [name for name in ("mode", "severity", "rules") if getattr(self, name) is not None]
        if self.kind != "email" and mail_fields:
            raise ValueError(f"{mail_fields[0]} is only for email integrations")
        if self.kind == "email":
            self.mail_settings()  # reads the rules as the listener will
        return self

    def mail_settings(self) -> MailSettings:
        """How this email integration reads mail; ValueError names what is wrong."""
        rules = []
        for index, rule in enumerate(self.rules or ()):
            try:
                severity = None if rule.severity is None else Severity(rule.severity)
                rules.append(MailRule(rule.key, rule.recovery, severity))
            except ValueError as problem:
                raise ValueError(f"rules[{index}]: {problem}") from None
        return MailSettings(mode=self.mode or "every", rules=tuple(rules),
                            severity=Severity(self.severity or "warning"))


class ServiceConfig(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str | None = None
    escalation_policy: str  # when no escalation rule picks another
    escalation_rules: list[Any] = Field(default_factory=list)  # core.escalation.parse_escalation_rules
    integrations: list[IntegrationConfig] = Field(default_factory=list)
    # pipeline stages of the service, read by core/stages (checked with their paths in config_checks)
    drop: list[Any] = Field(default_factory=list)
    silences: list[Any] = Field(default_factory=list)
    inhibit: list[Any] = Field(default_factory=list)
    grouping: dict[str, Any] | None = None
    storm_warnings: Any = None
    flapping: dict[str, Any] | None = None
    auto_resolve: dict[str, Any] | None = None


class EnrichmentTableConfig(Strict):
    """A CSV mapping table for enrichment `map` steps (docs/enrichment.md): inline, or a file read when used."""

    id: str = Field(pattern=ID_PATTERN)
    key: str = Field(min_length=1, max_length=128)
    csv: str | None = Field(default=None, max_length=5_000_000)
    csv_file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> EnrichmentTableConfig:
        if (self.csv is None) == (self.csv_file is None):
            raise ValueError("give either csv or csv_file")
        return self

    def read(self) -> str:
        """The table's CSV text; OSError when the file cannot be read."""
        if self.csv is not None:
            return self.csv
        assert self.csv_file is not None
        return Path(self.csv_file).read_text(encoding="utf-8-sig")


class EmailConfig(Strict):
    """Email ingest (docs/sources.md): mail to `<integration key>@<domain>`; any domain when none is set."""

    domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,253}$")


class Config(Strict):
    timezone: str = "Asia/Shanghai"
    locale: Literal["zh-CN", "en"] = "zh-CN"
    public_url: str = Field(default="http://127.0.0.1:8080", pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    users: list[UserConfig] = Field(default_factory=list)
    teams: list[TeamConfig] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    calendars: list[CalendarConfig] = Field(default_factory=list)
    schedules: list[ScheduleConfig] = Field(default_factory=list)
    channels: list[ChannelConfig] = Field(default_factory=list)
    platforms: Platforms = Field(default_factory=Platforms)
    api: ApiConfig = Field(default_factory=ApiConfig)
    escalation_policies: list[PolicyConfig] = Field(default_factory=list)
    services: list[ServiceConfig] = Field(default_factory=list)
    enrichment_tables: list[EnrichmentTableConfig] = Field(default_factory=list)
    email: EmailConfig = Field(default_factory=EmailConfig)
    webhooks: list[WebhookConfig] = Field(default_factory=list)


class ConfigError(Exception):
    """A config that cannot be used; `errors` are `path: message` lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_local(text: str) -> Any:
    """Read `2026-01-05T10:00` (local time); raises ValueError for anything else."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not an ISO 8601 time like 2026-01-05T10:00") from None


def load_config(path: str | Path) -> Config:
    """Read, validate and cross-check a config file; raise ConfigError listing every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror}"]) from None
    return parse_config(text)


def parse_config(text: str) -> Config:
    """Validate YAML text; every error names its path, like `schedules[0].layers[1].rotation.every`."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"{where}not valid YAML: {getattr(error, 'problem', error)}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(["(top level): must be a mapping of sections"])
    try:
        config = Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError([f"{error_path(item['loc'])}: {_message(item)}" for item in error.errors()]) from None
    problems = cross_check(config)
    if problems:
        raise ConfigError(problems)
    return config


_TYPE_TAGS = {"str", "int", "bool", "float", "list", "dict"}


def error_path(loc: tuple[Any, ...]) -> str:
    """('schedules', 0, 'layers') → schedules[0].layers; union branch names are dropped."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part) in _TYPE_TAGS or "[" in str(part) or "-" in str(part):
            continue  # pydantic names the union branch it tried; people do not need it
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _message(item: Any) -> str:
    message = str(item["msg"]).removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        return "unknown field"
    if item["type"] in ("greater_than_equal", "less_than_equal") and item.get("ctx"):
        return f"{message} (got {item.get('input')!r})"
    return message

