"""The command line: check names errors by path, apply is idempotent, who computes from file or database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from tests.support import base_config

runner = CliRunner()


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "dutybot.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUTYBOT_LOCALE", "en")


def test_check_accepts_the_example() -> None:
    result = runner.invoke(app, ["check", "-f", "examples/dutybot.yaml"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_check_names_every_error_by_path(tmp_path: Path) -> None:
    raw = base_config()
    raw["schedules"][0]["layers"][0]["rotation"]["every"] = 31
    raw["escalation_policies"][0]["steps"][1]["after"] = "soon"
    raw["services"][0]["colour"] = "red"
    result = runner.invoke(app, ["check", "-f", str(_write(tmp_path, raw))])
    assert result.exit_code == 2
    assert "schedules[0].layers[0].rotation.every: must be 1–30 (got 31)" in result.output
    assert "escalation_policies[0].steps[1].after: 'soon' is not a duration" in result.output
    assert "services[0].colour: unknown field" in result.output


def test_apply_is_idempotent_and_dry_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUTYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    path = _write(tmp_path, base_config())
    dry = runner.invoke(app, ["apply", "-f", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "create schedule sre" in dry.output and "dry run" in dry.output
    first = runner.invoke(app, ["apply", "-f", str(path)])
    assert first.exit_code == 0 and "create service payments" in first.output
    second = runner.invoke(app, ["apply", "-f", str(path)])
    assert second.exit_code == 0 and second.output.strip() == "Nothing to change."
    changed = base_config()
    changed["users"][0]["name"] = "Alice Wang"
    del changed["teams"]
    third = runner.invoke(app, ["apply", "-f", str(_write(tmp_path, changed))])
    assert "update user alice" in third.output and "delete team sre" in third.output
    assert "Applied 2 change(s)." in third.output


def test_who_from_file_and_from_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, base_config())
    # the layer starts Monday 2026-01-05 10:00 Shanghai: alice, then bob from 2026-01-12 10:00, then carol
    at_cases = {"2026-01-12T09:59": ["alice"], "2026-01-12T10:00": ["bob"], "2026-01-19T10:00+08:00": ["carol"],
                "2026-01-26T02:00:00Z": ["alice"]}
    for at, users in at_cases.items():
        result = runner.invoke(app, ["who", "sre", "--at", at, "-f", str(path), "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["users"] == users, at
    monkeypatch.setenv("DUTYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'who.db'}")
    runner.invoke(app, ["migrate"])
    runner.invoke(app, ["apply", "-f", str(path)])
    stored = runner.invoke(app, ["who", "SRE", "--at", "2026-01-12T10:00", "--json"])
    assert json.loads(stored.output) == {"schedule": "sre", "at": "2026-01-12T10:00:00+08:00", "users": ["bob"],
                                         "roles": {}}
    missing = runner.invoke(app, ["who", "nope"])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_shifts_and_fairness_from_a_file(tmp_path: Path) -> None:
    raw = base_config()
    raw["schedules"][0]["layers"] = [{"name": "daily", "members": ["alice", "bob"], "start": "2026-03-02T09:00",
                                      "rotation": {"every": 1, "unit": "day"}}]
    path = _write(tmp_path, raw)
    result = runner.invoke(app, ["shifts", "sre", "--from", "2026-03-02T09:00", "--to", "2026-03-05T09:00", "-f",
                                 str(path), "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["timezone"] == "Asia/Shanghai"
    assert [(s["start"], s["users"]) for s in answer["shifts"]] == [
        ("2026-03-02T09:00:00+08:00", ["alice"]), ("2026-03-03T09:00:00+08:00", ["bob"]),
        ("2026-03-04T09:00:00+08:00", ["alice"])]
    assert answer["shifts"][-1]["end"] == "2026-03-05T09:00:00+08:00"
    # two people alternating daily over 14 days: 7 shifts and 168 hours each
    report = runner.invoke(app, ["schedule", "fairness", "sre", "--from", "2026-03-02T09:00", "--to",
                                 "2026-03-16T09:00", "-f", str(path), "--json"])
    stats = json.loads(report.output)
    assert {person: (item["shifts"], item["on_call_hours"]) for person, item in stats.items()} == {
        "alice": (7, 168.0), "bob": (7, 168.0)}
    assert stats["alice"]["weekend_hours"] + stats["bob"]["weekend_hours"] == 96.0
    backwards = runner.invoke(app, ["shifts", "sre", "--from", "2026-03-05", "--to", "2026-03-02", "-f", str(path)])
    assert backwards.exit_code == 2 and "empty" in backwards.output
