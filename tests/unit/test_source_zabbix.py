"""core/sources/zabbix.py: the body Dutybot's Zabbix webhook media type posts → neutral alert events."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import Parsed, PayloadError
from core.sources.zabbix import parse

# Zabbix has no fixed webhook body; the fields are the macros of the stock webhook media types (zabbix/zabbix
# templates/media/*, e.g. media_pagerduty.yaml and media_opsgenie.yaml: {EVENT.ID}, {EVENT.VALUE},
# {EVENT.NSEVERITY}, {EVENT.TAGS}, {$ZABBIX.URL}, tr_events.php links) as listed in the Zabbix manual's
# "Supported macros" appendix (manual/appendix/macros/supported_by_location), with their default problem and
# recovery message templates; the body shape is the one docs/sources.md documents for Dutybot's media type.
FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"
PROBLEM = json.loads((FIXTURES / "zabbix_problem.json").read_text(encoding="utf-8"))
RECOVERY = json.loads((FIXTURES / "zabbix_recovery.json").read_text(encoding="utf-8"))
RECEIVED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

CPU_TITLE = "High CPU utilization (over 90% for 5m)"
CPU_LABELS = {"class": "os", "component": "cpu", "scope": "performance", "target": "linux", "host": "db-1",
              "host_ip": "10.0.0.11", "trigger_id": "17402"}
CPU_DESCRIPTION = "CPU utilization is too high. The system might be slow to respond."


def test_golden_problem() -> None:
    assert parse(copy.deepcopy(PROBLEM), RECEIVED) == Parsed(events=(
        AlertEvent(
            source="zabbix", fingerprint="zabbix:2451", status=AlertStatus.FIRING, severity=Severity.CRITICAL,
            title=CPU_TITLE, labels=CPU_LABELS,
            annotations={
                "event_opdata": "Current utilization: 95.2 %",
                "description": CPU_DESCRIPTION,
                "message": "Problem started at 09:58:04 on 2026.12.01\nProblem name: " + CPU_TITLE + "\nHost: db-1\n"
                           "Severity: High\nOperational data: Current utilization: 95.2 %\nOriginal problem ID: 2451",
                "severity": "High",
                "problem_started": "2026.12.01 09:58:04",
            },
            starts_at=datetime(2026, 12, 1, 1, 58, 4, tzinfo=UTC),  # 09:58:04 in Asia/Shanghai
            ends_at=None,
            links=("https://zabbix.example.com/tr_events.php?triggerid=17402&eventid=2451",),
        ),
    ))


def test_golden_recovery_resolves_the_problem_key() -> None:
    # no `timezone`: the local times stay text and the receive time stands in; {$ZABBIX.URL} was not set
    assert parse(copy.deepcopy(RECOVERY), RECEIVED) == Parsed(events=(
        AlertEvent(
            source="zabbix", fingerprint="zabbix:2451", status=AlertStatus.RESOLVED, severity=Severity.CRITICAL,
            title=CPU_TITLE, labels=CPU_LABELS,
            annotations={
                "event_recovery_id": "2467",
                "description": CPU_DESCRIPTION,
                "message": "Problem has been resolved at 10:21:37 on 2026.12.01\nProblem name: " + CPU_TITLE + "\n"
                           "Problem duration: 23m 33s\nHost: db-1\nSeverity: High\nOriginal problem ID: 2451",
                "severity": "High",
                "problem_started": "2026.12.01 09:58:04",
                "recovered": "2026.12.01 10:21:37",
            },
            starts_at=RECEIVED, ends_at=RECEIVED, links=(),
        ),
    ))


def event(**fields: Any) -> AlertEvent:
    body = {"event_id": "7", "event_value": "1", "event_name": "Disk full"} | fields
    (only,) = parse({name: value for name, value in body.items() if value is not None}, RECEIVED).events
    return only


def test_recovery_with_timezone_has_its_own_end() -> None:
    recovered = event(event_value="0", timezone="Europe/Berlin", event_date="2026.12.01", event_time="09:58:04",
                      event_recovery_date="2026.12.01", event_recovery_time="10:21:37")
    assert (recovered.starts_at, recovered.ends_at) == (datetime(2026, 12, 1, 8, 58, 4, tzinfo=UTC),
                                                        datetime(2026, 12, 1, 9, 21, 37, tzinfo=UTC))


@pytest.mark.parametrize(("local", "instant"), [
    ("2026.03.29 01:30:00", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),    # CET
    ("2026.03.29 02:30:00", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),     # never happens: the moment of the jump
    ("2026.10.25 02:30:00", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),   # happens twice: the first one (CEST)
    ("2026.07.01 12:00:00", datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),     # CEST
])
def test_local_times_across_daylight_saving(local: str, instant: datetime) -> None:
    date, time = local.split()
    assert event(timezone="Europe/Berlin", event_date=date, event_time=time).starts_at == instant


def test_without_both_date_and_time_the_receive_time_stands_in() -> None:
    assert event(timezone="UTC", event_date="2026.12.01").starts_at == RECEIVED


@pytest.mark.parametrize(("fields", "severity"), [
    ({"event_nseverity": "5"}, Severity.CRITICAL), ({"event_nseverity": "4"}, Severity.CRITICAL),
    ({"event_nseverity": "3"}, Severity.WARNING), ({"event_nseverity": "2"}, Severity.WARNING),
    ({"event_nseverity": "1"}, Severity.INFO), ({"event_nseverity": 0}, Severity.INFO),
    ({"event_severity": "Disaster"}, Severity.CRITICAL), ({"event_severity": "High"}, Severity.CRITICAL),
    ({"event_severity": "Average"}, Severity.WARNING), ({"event_severity": "Warning"}, Severity.WARNING),
    ({"event_severity": "Information"}, Severity.INFO), ({"event_severity": "Not classified"}, Severity.INFO),
    ({"event_severity": "Sev-1 (renamed)"}, Severity.WARNING), ({}, Severity.WARNING),
    ({"event_nseverity": "1", "event_severity": "Disaster (renamed)"}, Severity.INFO),  # the number wins
    ({"event_nseverity": "{EVENT.NSEVERITY}", "event_severity": "Disaster"}, Severity.CRITICAL),
])
def test_severity_mapping(fields: dict[str, Any], severity: Severity) -> None:
    assert event(**fields).severity is severity


@pytest.mark.parametrize(("value", "status"), [
    ("1", AlertStatus.FIRING), (1, AlertStatus.FIRING), ("0", AlertStatus.RESOLVED), (0, AlertStatus.RESOLVED),
])
def test_event_value(value: Any, status: AlertStatus) -> None:
    assert event(event_value=value).status is status


def test_numbers_are_read_as_their_digits() -> None:
    found = event(event_id=2451, trigger_id=17402, zabbix_url="https://zabbix.example.com")
    assert found.fingerprint == "zabbix:2451"
    assert found.labels == {"trigger_id": "17402"}
    assert found.links == ("https://zabbix.example.com/tr_events.php?triggerid=17402&eventid=2451",)


def test_title_falls_back_to_the_subject_and_a_recovery_to_the_key() -> None:
    assert event(event_name=None, subject="Problem: Disk full").title == "Problem: Disk full"
    assert event(event_name="{EVENT.NAME}", event_value="0").title == "zabbix:7"


@pytest.mark.parametrize(("tags", "labels"), [
    ("scope:availability, scope:performance, service:mysql", {"scope": "availability,performance",
                                                              "service": "mysql"}),
    ("env:prod,url:https://shop.example.com:8443/", {"env": "prod", "url": "https://shop.example.com:8443/"}),
    ("maintenance, team:", {"maintenance": "", "team": ""}),
    ('[{"tag":"service","value":"mysql"},{"tag":"env","value":"prod"}]', {"service": "mysql", "env": "prod"}),
    ([{"tag": "service", "value": "mysql"}, {"tag": "service", "value": "mysql"}, {"tag": "dr"}],
     {"service": "mysql", "dr": ""}),
    ([{"tag": "host", "value": "from-a-tag"}], {}),  # the fixed labels win
    ("", {}), ("{EVENT.TAGS}", {}), ([], {}),
])
def test_tags_become_labels(tags: Any, labels: dict[str, str]) -> None:
    assert event(event_tags=tags, host_name="db-1").labels == labels | {"host": "db-1"}


@pytest.mark.parametrize("blank", ["{HOST.IP}", "{$ZABBIX.URL}", '{$HTTP.TLS.VERIFY:"Dutybot"}', "*UNKNOWN*", "  "])
def test_unexpanded_macros_count_as_absent(blank: str) -> None:
    found = event(host_ip=blank, zabbix_url=blank, trigger_id="17402", trigger_description=blank, event_opdata=blank)
    assert (found.labels, found.annotations, found.links) == ({"trigger_id": "17402"}, {}, ())


def test_unknown_fields_become_annotations() -> None:
    body = {"event_id": "7", "event_value": "1", "event_name": "Disk full", "event_opdata": "95 %", "event_source": 0,
            "extra": {"b": [1, 2], "a": None}, "flag": True, "nothing": None, "blank": " "}
    (found,) = parse(body, RECEIVED).events
    assert found.annotations == {"event_opdata": "95 %", "event_source": "0", "extra": '{"a":null,"b":[1,2]}',
                                 "flag": "true"}


def test_link_needs_an_http_url_and_a_trigger() -> None:
    assert event(zabbix_url="https://zabbix.example.com").links == ()
    assert event(trigger_id="1").links == ()
    assert event(zabbix_url="zabbix.example.com", trigger_id="1").links == ()
    assert event(zabbix_url="javascript:alert(1)//", trigger_id="1").links == ()
    assert event(zabbix_url="https://zabbix.example.com/zabbix/", trigger_id="1").links == (
        "https://zabbix.example.com/zabbix/tr_events.php?triggerid=1&eventid=7",)


def update(**fields: Any) -> Parsed:
    return parse({"event_id": "7", "event_value": "1", "event_update_status": "1"} | fields, RECEIVED)


@pytest.mark.parametrize(("fields", "acknowledged"), [
    ({"event_update_action": "acknowledged"}, ("zabbix:7",)),
    ({"event_update_action": "acknowledged, commented", "event_ack_status": "No"}, ("zabbix:7",)),
    ({"event_update_action": "unacknowledged"}, ()),
    ({"event_update_action": "commented", "event_ack_status": "Yes"}, ()),  # acknowledged before, not now
    ({"event_update_action": "changed severity from Warning to High"}, ()),
    ({"event_ack_status": "Yes"}, ("zabbix:7",)),
    ({"event_ack_status": "No"}, ()),
    ({"event_value": "0", "event_update_action": "acknowledged"}, ()),  # an update of a resolved problem
])
def test_problem_updates_only_acknowledge(fields: dict[str, Any], acknowledged: tuple[str, ...]) -> None:
    assert update(**fields) == Parsed(events=(), acknowledged=acknowledged)


def base(**fields: Any) -> dict[str, Any]:
    return {"event_id": "7", "event_value": "1", "event_name": "Disk full"} | fields


@pytest.mark.parametrize(("payload", "path"), [
    ([], ""), ("problem", ""), (None, ""),
    ({}, "event_id"),
    (base(event_id=None), "event_id"),
    (base(event_id="{EVENT.ID}"), "event_id"),
    (base(event_id="abc"), "event_id"),
    (base(event_id=-1), "event_id"),
    (base(event_id=10**30), "event_id"),
    (base(event_id=True), "event_id"),
    (base(event_id=7.0), "event_id"),
    (base(event_id="\ud800"), "event_id"),
    (base(event_value=None), "event_value"),
    (base(event_value="2"), "event_value"),
    (base(event_value=False), "event_value"),
    (base(event_update_status="yes"), "event_update_status"),
    (base(event_name=None), "event_name"),
    (base(event_name="{EVENT.NAME}"), "event_name"),
    (base(event_name=["Disk full"]), "event_name"),
    (base(event_name="Disk\x00full"), "event_name"),
    (base(event_nseverity="6"), "event_nseverity"),
    (base(event_nseverity="High"), "event_nseverity"),
    (base(event_severity=["High"]), "event_severity"),
    (base(timezone="Mars/Olympus_Mons"), "timezone"),
    (base(timezone="../../etc/passwd"), "timezone"),
    (base(timezone="America"), "timezone"),
    (base(timezone=8), "timezone"),
    (base(timezone="UTC", event_date="2026-12-01", event_time="09:58:04"), "event_date"),
    (base(timezone="UTC", event_date="2026.12.01", event_time="9:58"), "event_time"),
    (base(timezone="UTC", event_date="2026.02.30", event_time="09:58:04"), "event_date"),
    (base(timezone="UTC", event_date="2026.12.01", event_time="25:00:00"), "event_time"),
    (base(event_value="0", timezone="UTC", event_recovery_date="yesterday", event_recovery_time="09:58:04"),
     "event_recovery_date"),
    (base(host_name={"name": "db-1"}), "host_name"),
    (base(trigger_id="17402; DROP"), "trigger_id"),
    (base(event_tags={"service": "mysql"}), "event_tags"),
    (base(event_tags=["service:mysql"]), "event_tags[0]"),
    (base(event_tags=[{"tag": "a", "value": "1"}, {"value": "x"}]), "event_tags[1].tag"),
    (base(event_tags=[{"tag": "a", "value": 1}]), "event_tags[0].value"),
    (base(event_tags=[{"tag": "a", "value": "\udc00"}]), "event_tags[0].value"),
    (base(event_tags="[not json"), "event_tags"),
    (base(event_tags='[{"tag": 5}]'), "event_tags[0].tag"),
    (base(opdata="\ud83d"), "opdata"),
    (base(nested={"x": "\ud800"}), "nested"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_malformed_payload_names_the_path(payload: Any, path: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse(payload, RECEIVED)
    assert raised.value.path == path


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(exclude_categories=())),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a value of the right shape, sometimes any JSON value."""
    return st.integers(0, 4).flatmap(lambda draw: JSON if draw == 0 else good)
DIGITS = st.integers(min_value=0, max_value=10**6).map(str)
FIELDS = st.fixed_dictionaries({
    "event_id": mostly(DIGITS), "event_value": mostly(st.sampled_from(["0", "1", 0, 1, "2"])),
    "event_name": mostly(st.text(max_size=8)),
}, optional={
    "subject": st.text(max_size=8),
    "event_nseverity": st.sampled_from(["0", "5", "9", "{EVENT.NSEVERITY}"]) | JSON,
    "event_severity": st.sampled_from(["High", "Average", ""]) | JSON,
    "event_update_status": mostly(st.sampled_from(["0", "1"])),
    "event_update_action": st.sampled_from(["acknowledged", "commented"]) | JSON,
    "event_ack_status": st.sampled_from(["Yes", "No"]) | JSON,
    "event_date": st.sampled_from(["2026.12.01", "0000.00.00", "9999.12.31", "2026.13.40"]) | JSON,
    "event_time": st.sampled_from(["09:58:04", "23:59:59", "24:00:00"]) | JSON,
    "event_recovery_date": st.sampled_from(["2026.12.01", "{EVENT.RECOVERY.DATE}"]) | JSON,
    "event_recovery_time": st.sampled_from(["10:21:37"]) | JSON,
    "timezone": st.sampled_from(["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Nope/Zone", "zone.tab"]) | JSON,
    "host_name": JSON, "host_ip": JSON, "trigger_id": DIGITS | JSON, "trigger_description": JSON,
    "event_tags": st.lists(st.fixed_dictionaries({"tag": st.text(max_size=4)}, optional={"value": JSON}),
                           max_size=3) | st.text(max_size=12) | JSON,
    "zabbix_url": st.sampled_from(["https://zabbix.example.com/"]) | JSON, "message": JSON,
}).flatmap(lambda known: st.dictionaries(st.text(max_size=8), JSON, max_size=3).map(lambda extra: extra | known))


def parses_or_payload_error(payload: Any) -> None:
    try:
        parsed = parse(payload, RECEIVED)
    except PayloadError:
        return
    for found in parsed.events:
        assert found.starts_at.tzinfo is not None
        json.dumps([found.title, found.fingerprint, dict(found.labels), dict(found.annotations), found.links],
                   ensure_ascii=False).encode("utf-8")


@given(JSON)
def test_arbitrary_json_raises_nothing_but_payload_error(payload: Any) -> None:
    parses_or_payload_error(payload)


@given(FIELDS)
def test_arbitrary_fields_raise_nothing_but_payload_error(payload: dict[str, Any]) -> None:
    parses_or_payload_error(payload)
