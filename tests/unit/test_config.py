"""bot/config.py `parse_config`: the example is valid, and every broken config gets errors that name their path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import ConfigError, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dutybot.yaml"
BASE: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
Edit = Callable[[dict[str, Any]], None]


def node(config: dict[str, Any], path: str) -> Any:
    """`schedules.0.layers.0` → that part of the config."""
    for part in path.split(".") if path else []:
        config = config[int(part)] if part.isdigit() else config[part]
    return config


def update(path: str, **fields: Any) -> Edit:
    return lambda config: node(config, path).update(fields)


def append(path: str, item: Any) -> Edit:
    return lambda config: node(config, path).append(copy.deepcopy(item))


def errors_of(*edits: Edit) -> list[str]:
    config = copy.deepcopy(BASE)
    for edit in edits:
        edit(config)
    with pytest.raises(ConfigError) as raised:
        parse_config(yaml.safe_dump(config, allow_unicode=True))
    return raised.value.errors


def test_the_example_is_valid() -> None:
    config = parse_config(EXAMPLE.read_text(encoding="utf-8"))
    assert [schedule.id for schedule in config.schedules] == ["sre"]
    assert config.schedules[0].layers[0].rotation.unit == "week"
    assert [step.after for step in config.escalation_policies[0].steps] == ["0m", "5m"]
    assert config.services[0].escalation_policy == "default"


def test_an_empty_file_is_an_empty_config() -> None:
    assert parse_config("").schedules == []


SECOND_LAYER = {"name": "Nights", "members": ["bob"], "start": "2026-01-05T20:00"}
ROBOT = {"id": "ding-robot", "platform": "dingtalk-robot", "webhook": "https://oapi.dingtalk.com/robot/send?x"}


@pytest.mark.parametrize(("edit", "expected"), [
    # the example has two layers; the appended one is the third
    (append("schedules.0.layers", {**SECOND_LAYER, "rotation": {"every": 31, "unit": "week"}}),
     ["schedules[0].layers[2].rotation.every: must be 1–30 (got 31)"]),
    (update("schedules.0.layers.0.rotation", every=0), ["schedules[0].layers[0].rotation.every: must be 1–30 (got 0)"]),
    (update("schedules.0.layers.0.rotation", unit="fortnight"),
     ["schedules[0].layers[0].rotation.unit: Input should be 'hour', 'day', 'week' or 'month'"]),
    (update("", colour="red"), ["colour: unknown field"]),
    (update("schedules.0", colour="red"), ["schedules[0].colour: unknown field"]),
    (update("escalation_policies.0.steps.1", wait="5m"), ["escalation_policies[0].steps[1].wait: unknown field"]),
    (update("escalation_policies.0.steps.1", after="5x"),
     ["escalation_policies[0].steps[1].after: '5x' is not a duration; write e.g. 30s, 5m, 1h or 1h30m"]),
    (update("escalation_policies.0.steps.1", after="99999999999999999999d"),
     ["escalation_policies[0].steps[1].after: '99999999999999999999d' is too long a duration"]),
    (update("escalation_policies.0", repeat_after="soon"),
     ["escalation_policies[0].repeat_after: 'soon' is not a duration; write e.g. 30s, 5m, 1h or 1h30m"]),
    (update("escalation_policies.0.steps.0.notify.0", schedule="nope"),
     ["escalation_policies[0].steps[0].notify[0].schedule: no schedule 'nope'"]),
    (update("escalation_policies.0.steps.1.notify.0", user="zoe"),
     ["escalation_policies[0].steps[1].notify[0].user: no user 'zoe'"]),
    (update("escalation_policies.0.steps.0.notify.0", role="tertiary"),
     ["escalation_policies[0].steps[0].notify[0].role: no role 'tertiary' in roles"]),
    (update("services.0", escalation_policy="nope"), ["services[0].escalation_policy: no escalation policy 'nope'"]),
    (update("escalation_policies.0.steps.0", via=["dm", "sre-group"]),
     ["escalation_policies[0].steps[0].via[1]: no channel 'sre-group' (use dm, email or a channel id)"]),
    (update("schedules.0", team="ops"), ["schedules[0].team: no team 'ops'"]),
    (update("schedules.0.layers.0", members=["alice", "zoe"]), ["schedules[0].layers[0].members[1]: no user 'zoe'"]),
    (update("schedules.0.notify", channels=["sre-group"]), ["schedules[0].notify.channels[0]: no channel 'sre-group'"]),
    (append("users", {"id": "alice", "name": "Another Alice"}), ["users[3].id: 'alice' is used twice"]),
    (append("escalation_policies", {"id": "default", "steps": [{"notify": [{"user": "bob"}]}]}),
     ["escalation_policies[1].id: 'default' is used twice"]),
    (append("schedules", {**BASE["schedules"][0], "id": "sre2"}), ["schedules[1].name: '运维值班' is used twice"]),
    (update("schedules.0.layers.0.rotation", unit="day"),
     ["schedules[0].layers[0].handoff: only allowed where the rotation unit is week"]),
    (update("schedules.0.layers.0", handoff={"weekday": "monday", "time": "10:00"}),
     ["schedules[0].layers[0].handoff.weekday: Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'"]),
    (update("schedules.0.layers.0", start="next monday"),
     ["schedules[0].layers[0].start: 'next monday' is not an ISO 8601 time like 2026-01-05T10:00"]),
    (update("schedules.0.layers.0", end="2026-01-01T00:00"), ["schedules[0].layers[0].end: must be after start"]),
    (update("", timezone="Mars/Olympus"), ["timezone: unknown time zone 'Mars/Olympus'"]),
    (update("schedules.0", timezone="Asia/Shangai"), ["schedules[0].timezone: unknown time zone 'Asia/Shangai'"]),
    (update("schedules.0", timezone="../../etc/passwd"),
     ["schedules[0].timezone: unknown time zone '../../etc/passwd'"]),
    (update("", locale="fr"), ["locale: Input should be 'zh-CN' or 'en'"]),
    (update("schedules.0.layers.0", members=[]), ["schedules[0].layers[0].members: List should have at least 1 item "
                                                  "after validation, not 0"]),
    (update("services.0.integrations.0", key="short"),
     ["services[0].integrations[0].key: String should match pattern '^[A-Za-z0-9_-]{16,128}$'"]),
    (update("", channels=[{"id": "ding-robot", "platform": "dingtalk-robot"}]),
     ["channels[0]: a dingtalk-robot channel needs webhook or webhook_file"]),
    (update("", channels=[{"id": "ops-feishu", "platform": "feishu-robot", "secret": "s"}]),
     ["channels[0]: a feishu-robot channel needs webhook or webhook_file"]),
    (update("", channels=[{"id": "ops-wecom", "platform": "wecom-robot", "secret": "s",
                           "webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}]),
     ["channels[0]: a wecom-robot has no sign secret: the key in its webhook URL is the secret"]),
    # the schedules issue's list of configs that `dutybot check` must refuse
    (update("schedules.0", name="x" * 41), ["schedules[0].name: String should have at most 40 characters"]),
    (update("schedules.0", overrides=[{"start": "2026-12-02T00:00", "end": "2026-12-01T00:00", "user": "alice"}]),
     ["schedules[0].overrides[0].end: must be after start"]),
    (update("schedules.0.layers.0", date_mask=["mon"], restrict={"weekly": [["mon 09:00", "fri 18:00"]]}),
     ["schedules[0].layers[0].restrict: weekly windows are not allowed together with a date_mask"]),
    (update("schedules.0.layers.0", continuous=True), ["schedules[0].layers[0].continuous: continuous rotation "
                                                       "needs a date_mask"]),
    (update("schedules.0.layers.0", members=["alice", "mallory"]),
     ["schedules[0].layers[0].members[1]: no user 'mallory'"]),
    (update("schedules.0.layers.0", restrict={"daily": [["09:00", "25:00"]]}),
     ["schedules[0].layers[0].restrict.daily: '25:00' is not a time like 09:00"]),
], ids=lambda value: None if callable(value) else value[0].split(":")[0])
def test_broken_config_gets_the_exact_error(edit: Edit, expected: list[str]) -> None:
    assert errors_of(edit) == expected


def test_shape_errors_are_all_reported_at_once() -> None:
    assert errors_of(
        update("schedules.0.layers.0.rotation", every=31),
        update("escalation_policies.0.steps.1", after="5x"),
        update("", colour="red"),
    ) == [
        "schedules[0].layers[0].rotation.every: must be 1–30 (got 31)",
        "escalation_policies[0].steps[1].after: '5x' is not a duration; write e.g. 30s, 5m, 1h or 1h30m",
        "colour: unknown field",
    ]


def test_reference_errors_are_all_reported_at_once() -> None:
    assert errors_of(
        update("services.0", escalation_policy="nope"),
        update("escalation_policies.0.steps.0", via=["sre-group"]),
        update("escalation_policies.0.steps.0.notify.0", schedule="ops"),
        append("users", {"id": "bob", "name": "Bob again"}),
        update("", timezone="Nowhere/Town"),
    ) == [
        "users[3].id: 'bob' is used twice",
        "timezone: unknown time zone 'Nowhere/Town'",
        "escalation_policies[0].steps[0].notify[0].schedule: no schedule 'ops'",
        "escalation_policies[0].steps[0].via[0]: no channel 'sre-group' (use dm, email or a channel id)",
        "services[0].escalation_policy: no escalation policy 'nope'",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("timezone: Asia/Shanghai\nusers: [alice, bob\nteams: []\n",
     "line 3, column 6: not valid YAML: expected ',' or ']', but got ':'"),
    ("timezone: Asia/Shanghai\n  locale: en\n",
     "line 2, column 9: not valid YAML: mapping values are not allowed here"),
    ("name: 'unterminated\n", "line 2, column 1: not valid YAML: found unexpected end of stream"),
    ("users:\n\t- id: alice\n", "line 2, column 1: not valid YAML: found character '\\t' that cannot start any token"),
])
def test_invalid_yaml_names_line_and_column(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    assert raised.value.errors == [expected]


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    assert raised.value.errors == ["(top level): must be a mapping of sections"]


@pytest.mark.parametrize(("name", "reason"), [("missing", "No such file or directory"), ("", "Is a directory")])
def test_unreadable_secret_file(tmp_path: Path, name: str, reason: str) -> None:
    path = tmp_path / name
    robot = {**ROBOT, "secret_file": str(path)}
    assert errors_of(update("", channels=[robot])) == [f"channels[0].secret_file: cannot read {path}: {reason}"]


def test_readable_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "ding-sign"
    secret.write_text("SECdemo\n", encoding="utf-8")
    config = copy.deepcopy(BASE)
    config["channels"] = [{**ROBOT, "secret_file": str(secret)}]
    assert parse_config(yaml.safe_dump(config, allow_unicode=True)).channels[0].id == "ding-robot"


def test_unreadable_api_token_file(tmp_path: Path) -> None:
    path = tmp_path / "nope"
    edit = update("api.tokens.0", token=None, token_file=str(path))
    assert errors_of(edit) == [f"api.tokens[0].token_file: cannot read {path}: No such file or directory"]
