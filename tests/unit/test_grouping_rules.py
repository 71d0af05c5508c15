"""core/grouping.py, stage 7: grouping config, group keys by labels or cases, windows, strict mode and the cap.

The property tested for arrival order (docs/grouping.md#arrival-order): alerts that all arrive within one
window length of the first are partitioned by their group key whatever order they arrive in; with a cap, the
sizes of the incidents of each key do not depend on the order either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.conditions import ConditionError
from core.grouping import (
    GroupCase,
    Grouping,
    OpenIncident,
    Window,
    group_key,
    group_key_for,
    joins,
    parse_grouping,
)
from core.model import AlertEvent, AlertStatus, Severity

PATH = "services[0].grouping"
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def alert(fingerprint: str = "f1", severity: str = "critical", **labels: str) -> AlertEvent:
    return AlertEvent(source="alertmanager", fingerprint=fingerprint, status=AlertStatus.FIRING,
                      severity=Severity(severity), title="t", labels=labels, annotations={}, starts_at=T0)


def is_in(key: str, *values: str) -> list[list[dict[str, Any]]]:
    return [[{"key": key, "in": list(values)}]]


BY_NAME_CLUSTER = parse_grouping({"by": ["alertname", "cluster"]}, PATH)
STRICT = parse_grouping({"by": ["alertname", "cluster"], "strict": True}, PATH)
CASES = parse_grouping({
    "cases": [
        {"name": "db", "if": is_in("labels.team", "db"), "by": ["cluster"]},
        {"if": is_in("severity", "critical"), "by": ["alertname"]},        # unnamed: case-2
        {"name": "all-info", "if": is_in("severity", "info"), "by": []},
    ],
    "default_by": ["alertname"],
}, PATH)
CASES_NO_DEFAULT = parse_grouping({"cases": [{"if": is_in("labels.team", "db"), "by": ["cluster"]}]}, PATH)
CASES_STRICT = parse_grouping({"cases": [{"if": is_in("labels.team", "db"), "by": ["cluster"]}],
                               "default_by": ["alertname"], "strict": True}, PATH)
SAME_BY_TWO_CASES = parse_grouping({"cases": [
    {"name": "a", "if": is_in("labels.env", "prod"), "by": ["alertname"]},
    {"name": "b", "if": [], "by": ["alertname"]},
]}, PATH)
EVERYTHING = parse_grouping(None, PATH)


@pytest.mark.parametrize(("grouping", "first", "second", "together"), [
    # plain by: the values of the labels decide; missing counts as empty
    (BY_NAME_CLUSTER, alert("a", alertname="CPU", cluster="prod", host="1"),
     alert("b", alertname="CPU", cluster="prod", host="2"), True),
    (BY_NAME_CLUSTER, alert("a", alertname="CPU", cluster="prod"), alert("b", alertname="CPU", cluster="dev"), False),
    (BY_NAME_CLUSTER, alert("a", alertname="CPU"), alert("b", alertname="CPU", cluster=""), True),
    (BY_NAME_CLUSTER, alert("a", alertname="CPU"), alert("b", alertname="CPU"), True),
    # no grouping config: every alert of the service in one incident
    (EVERYTHING, alert("a", alertname="CPU"), alert("b", alertname="Disk", cluster="x"), True),
    # strict: a missing or empty value groups with nothing, not even an alert just like it
    (STRICT, alert("a", alertname="CPU", cluster="prod"), alert("b", alertname="CPU", cluster="prod"), True),
    (STRICT, alert("a", alertname="CPU"), alert("b", alertname="CPU"), False),
    (STRICT, alert("a", alertname="CPU", cluster=""), alert("b", alertname="CPU", cluster=""), False),
    (STRICT, alert("a", alertname="CPU"), alert("b", alertname="CPU", cluster="prod"), False),
    (STRICT, alert("a", alertname="CPU"), alert("a", alertname="CPU"), True),             # the same alert again
    # cases: the first matching case decides, by its own labels
    (CASES, alert("a", team="db", cluster="c1", alertname="CPU"),
     alert("b", team="db", cluster="c1", alertname="Disk"), True),
    (CASES, alert("a", team="db", cluster="c1"), alert("b", team="db", cluster="c2"), False),
    (CASES, alert("a", team="db", cluster="c1", alertname="CPU"),                          # db wins over case-2
     alert("b", team="web", cluster="c1", alertname="CPU"), False),
    (CASES, alert("a", team="web", alertname="CPU", cluster="1"),
     alert("b", team="app", alertname="CPU", cluster="2"), True),
    (CASES, alert("a", "info", alertname="CPU"), alert("b", "info", alertname="Disk"), True),
    # no case matched: default_by; a default group never meets a case group with the same values
    (CASES, alert("a", "warning", alertname="CPU"), alert("b", "warning", alertname="CPU", x="y"), True),
    (CASES, alert("a", "warning", alertname="CPU"), alert("b", "warning", alertname="Disk"), False),
    (CASES, alert("a", "warning", alertname="CPU"), alert("b", "critical", alertname="CPU"), False),
    # no case matched and no default_by: one incident per alert
    (CASES_NO_DEFAULT, alert("a", team="web", cluster="c1"), alert("b", team="web", cluster="c1"), False),
    (CASES_NO_DEFAULT, alert("a", team="db", cluster="c1"), alert("b", team="db", cluster="c1"), True),
    # strict applies to case and default labels alike
    (CASES_STRICT, alert("a", team="db"), alert("b", team="db"), False),
    (CASES_STRICT, alert("a", team="web"), alert("b", team="web"), False),
    (CASES_STRICT, alert("a", team="web", alertname="X"), alert("b", team="db", alertname="X"), False),
    # two cases with the same labels never share an incident
    (SAME_BY_TWO_CASES, alert("a", env="prod", alertname="X"), alert("b", env="dev", alertname="X"), False),
])
def test_which_alerts_share_a_key(grouping: Grouping, first: AlertEvent, second: AlertEvent, together: bool) -> None:
    assert (group_key_for(first, grouping) == group_key_for(second, grouping)) is together


def test_plain_keys_are_the_keys_open_incidents_already_hold() -> None:
    event = alert(alertname="CPU", cluster="prod")
    assert group_key_for(event, BY_NAME_CLUSTER) == group_key(event.labels, ("alertname", "cluster"))
    assert group_key_for(event, EVERYTHING) == group_key(event.labels, ()) == "[]"


def test_keys_of_different_forms_never_collide() -> None:
    # an alert whose fingerprint or values look like another form's key still gets a key of its own form
    keys = {
        group_key_for(alert("x", team="db", cluster='"case"'), CASES),
        group_key_for(alert("case", "warning", alertname="db"), CASES),
        group_key_for(alert("db", team="web"), CASES_NO_DEFAULT),
        group_key_for(alert("a", alertname="case", cluster="db"), BY_NAME_CLUSTER),
        group_key_for(alert("a", alertname="CPU"), STRICT),
    }
    assert len(keys) == 5


def test_case_keys_use_the_name_so_reordering_named_cases_keeps_them() -> None:
    first = {"name": "db", "if": is_in("labels.team", "db"), "by": ["cluster"]}
    second = {"name": "web", "if": is_in("labels.team", "web"), "by": ["cluster"]}
    event = alert(team="db", cluster="c1")
    assert group_key_for(event, parse_grouping({"cases": [first, second]}, PATH)) == \
        group_key_for(event, parse_grouping({"cases": [second, first]}, PATH))


def opened(at: datetime = T0, last: datetime | None = None, count: int = 1) -> OpenIncident:
    return OpenIncident(started_at=at, last_merge_at=last or at, alert_count=count)


TUMBLING = Grouping(window=Window("tumbling", 30 * MIN))
SLIDING = Grouping(window=Window("sliding", 10 * MIN))
CAP = Grouping(max_alerts=3)


@pytest.mark.parametrize(("grouping", "incident", "now", "expected"), [
    (Grouping(), opened(), T0 + timedelta(days=30), True),                          # no window: while open
    (TUMBLING, opened(), T0, True),
    (TUMBLING, opened(), T0 + 30 * MIN - timedelta(microseconds=1), True),
    (TUMBLING, opened(), T0 + 30 * MIN, False),                                       # the edge opens anew
    (TUMBLING, opened(last=T0 + 29 * MIN), T0 + 31 * MIN, False),                    # merges do not extend it
    (TUMBLING, opened(), T0 - MIN, True),                                             # a clock a bit behind
    (SLIDING, opened(), T0 + 10 * MIN - timedelta(microseconds=1), True),
    (SLIDING, opened(), T0 + 10 * MIN, False),
    (SLIDING, opened(last=T0 + 25 * MIN), T0 + 34 * MIN, True),                      # extended by the last merge
    (SLIDING, opened(last=T0 + 25 * MIN), T0 + 35 * MIN, False),
    (CAP, opened(count=2), T0, True),
    (CAP, opened(count=3), T0, False),                                                # full
    (CAP, opened(count=4), T0, False),                                                # over (the cap was lowered)
    (Grouping(max_alerts=1), opened(count=1), T0, False),                             # one alert per incident
    (Grouping(window=Window("tumbling", 30 * MIN), max_alerts=3), opened(count=3), T0 + MIN, False),
    (Grouping(window=Window("tumbling", 30 * MIN), max_alerts=3), opened(count=2), T0 + 30 * MIN, False),
])
def test_joins(grouping: Grouping, incident: OpenIncident, now: datetime, expected: bool) -> None:
    assert joins(incident, grouping, now) is expected


def test_joins_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError, match="negative"):
        joins(opened(count=-1), Grouping(), T0)


@pytest.mark.parametrize(("data", "expected"), [
    (None, Grouping()),
    ({}, Grouping()),
    ({"by": []}, Grouping()),
    ({"by": None}, Grouping()),
    ({"by": ["alertname", "cluster"]}, Grouping(by=("alertname", "cluster"))),
    ({"by": ["a", "b", "c", "d", "e"], "strict": True}, Grouping(by=("a", "b", "c", "d", "e"), strict=True)),
    ({"by": ["job"], "window": {"tumbling": "30m"}}, Grouping(by=("job",), window=Window("tumbling", 30 * MIN))),
    ({"window": {"sliding": "1m"}}, Grouping(window=Window("sliding", MIN))),
    ({"window": {"sliding": "7d"}}, Grouping(window=Window("sliding", timedelta(days=7)))),
    ({"max_alerts": 500}, Grouping(max_alerts=500)),
    ({"max_alerts": None, "window": None, "strict": False}, Grouping()),
    ({"cases": [{"if": [], "by": []}]}, Grouping(cases=(GroupCase(if_=(), by=(), name="case-1"),))),
    ({"cases": [{"name": "x", "if": [], "by": ["job"]}], "default_by": []},
     Grouping(cases=(GroupCase(if_=(), by=("job",), name="x"),), default_by=())),
    ({"cases": [{"if": [], "by": []}], "default_by": None},
     Grouping(cases=(GroupCase(if_=(), by=(), name="case-1"),), default_by=None)),
])
def test_parse_grouping(data: Any, expected: Grouping) -> None:
    assert parse_grouping(data, PATH) == expected


CASE = {"if": [], "by": ["job"]}


@pytest.mark.parametrize(("data", "path", "fragment"), [
    ([], PATH, "must be a mapping"),
    ({"group_by": ["job"]}, f"{PATH}.group_by", "unknown field"),
    ({"by": ["job"], "cases": [CASE]}, PATH, "both by and cases"),
    ({"by": ["job"], "default_by": ["job"]}, f"{PATH}.default_by", "only goes with cases"),
    ({"by": "alertname"}, f"{PATH}.by", "must be a list"),
    ({"by": ["a", "b", "c", "d", "e", "f"]}, f"{PATH}.by", "at most 5"),
    ({"by": ["job", ""]}, f"{PATH}.by[1]", "label name"),
    ({"by": ["job", 3]}, f"{PATH}.by[1]", "label name"),
    ({"by": [" job"]}, f"{PATH}.by[0]", "spaces"),
    ({"by": ["labels.env"]}, f"{PATH}.by[0]", "without 'labels.'"),
    ({"by": ["job", "job"]}, f"{PATH}.by[1]", "twice"),
    ({"cases": []}, f"{PATH}.cases", "non-empty list"),
    ({"cases": CASE}, f"{PATH}.cases", "non-empty list"),
    ({"cases": [CASE] * 51}, f"{PATH}.cases", "at most 50"),
    ({"cases": [CASE, "x"]}, f"{PATH}.cases[1]", "must be a mapping"),
    ({"cases": [{"if": [], "by": [], "group_by": []}]}, f"{PATH}.cases[0].group_by", "unknown field"),
    ({"cases": [{"by": []}]}, f"{PATH}.cases[0].if", "is required"),
    ({"cases": [{"if": []}]}, f"{PATH}.cases[0].by", "is required"),
    ({"cases": [{"if": [], "by": ["a"] * 2}]}, f"{PATH}.cases[0].by[1]", "twice"),
    ({"cases": [{"if": [[{"key": "sevrity", "in": ["x"]}]], "by": []}]}, f"{PATH}.cases[0].if[0][0].key",
     "unknown key"),
    ({"cases": [{"if": [], "by": [], "name": ""}]}, f"{PATH}.cases[0].name", "1 to 64"),
    ({"cases": [{"if": [], "by": [], "name": "x" * 65}]}, f"{PATH}.cases[0].name", "1 to 64"),
    ({"cases": [{"if": [], "by": [], "name": 7}]}, f"{PATH}.cases[0].name", "1 to 64"),
    ({"cases": [{**CASE, "name": "a"}, {**CASE, "name": "a"}]}, f"{PATH}.cases[1].name", "used twice"),
    ({"cases": [CASE, {**CASE, "name": "case-1"}]}, f"{PATH}.cases[1].name", "used twice"),
    ({"cases": [CASE], "default_by": "job"}, f"{PATH}.default_by", "must be a list"),
    ({"window": "30m"}, f"{PATH}.window", "tumbling: 30m"),
    ({"window": {}}, f"{PATH}.window", "tumbling: 30m"),
    ({"window": {"tumbling": "30m", "sliding": "5m"}}, f"{PATH}.window", "tumbling: 30m"),
    ({"window": {"hopping": "30m"}}, f"{PATH}.window.hopping", "unknown window"),
    ({"window": {"tumbling": 30}}, f"{PATH}.window.tumbling", "with a unit"),
    ({"window": {"tumbling": "half an hour"}}, f"{PATH}.window.tumbling", "not a duration"),
    ({"window": {"tumbling": "59s"}}, f"{PATH}.window.tumbling", "between 1m and 7d"),
    ({"window": {"sliding": "7d1s"}}, f"{PATH}.window.sliding", "between 1m and 7d"),
    ({"strict": "yes"}, f"{PATH}.strict", "true or false"),
    ({"max_alerts": 0}, f"{PATH}.max_alerts", "from 1 to 100000"),
    ({"max_alerts": 100_001}, f"{PATH}.max_alerts", "from 1 to 100000"),
    ({"max_alerts": True}, f"{PATH}.max_alerts", "whole number"),
    ({"max_alerts": "500"}, f"{PATH}.max_alerts", "whole number"),
])
def test_bad_grouping_names_its_path(data: Any, path: str, fragment: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_grouping(data, PATH)
    assert caught.value.path == path
    assert fragment in caught.value.message


# --- arrival order -------------------------------------------------------------------------------------------


@dataclass
class Model:
    """The application's grouping in miniature: one open incident per key, opened anew when joins() says no."""

    grouping: Grouping

    def __post_init__(self) -> None:
        self.open: dict[str, tuple[int, OpenIncident]] = {}
        self.incidents: list[list[str]] = []

    def arrive(self, event: AlertEvent, now: datetime) -> None:
        key = group_key_for(event, self.grouping)
        current = self.open.get(key)
        if current is not None and joins(current[1], self.grouping, now):
            number, incident = current
            self.open[key] = (number, OpenIncident(incident.started_at, now, incident.alert_count + 1))
            self.incidents[number].append(event.fingerprint)
            return
        self.open[key] = (len(self.incidents), OpenIncident(now, now, 1))
        self.incidents.append([event.fingerprint])

    def partition(self) -> set[frozenset[str]]:
        return {frozenset(members) for members in self.incidents}


def run(grouping: Grouping, arrivals: Sequence[tuple[AlertEvent, datetime]]) -> Model:
    model = Model(grouping)
    for event, now in sorted(arrivals, key=lambda pair: pair[1]):
        model.arrive(event, now)
    return model


VALUES = st.sampled_from([None, "", "a", "b"])
LABEL_SETS = st.fixed_dictionaries({name: VALUES for name in ("alertname", "cluster", "team")})
SEVERITIES = st.sampled_from(["critical", "warning", "info"])
WINDOW_LENGTH = 30 * MIN
GROUPINGS = st.builds(
    lambda form, strict, kind: Grouping(**form, strict=strict, window=kind and Window(kind, WINDOW_LENGTH)),
    st.sampled_from([
        {"by": ()},
        {"by": ("alertname",)},
        {"by": ("alertname", "cluster")},
        {"cases": CASES.cases, "default_by": CASES.default_by},
        {"cases": CASES_NO_DEFAULT.cases},
        {"cases": SAME_BY_TWO_CASES.cases, "default_by": ("team",)},
    ]),
    st.booleans(),
    st.sampled_from([None, "tumbling", "sliding"]),
)


@st.composite
def alerts(draw: st.DrawFn) -> list[AlertEvent]:
    label_sets = draw(st.lists(st.tuples(LABEL_SETS, SEVERITIES), min_size=1, max_size=12))
    return [alert(f"f{index}", severity, **{name: value for name, value in labels.items() if value is not None})
            for index, (labels, severity) in enumerate(label_sets)]


@st.composite
def times_within_one_window(draw: st.DrawFn, count: int) -> list[datetime]:
    """`count` arrival times, latest − earliest < the window length (ties allowed)."""
    offsets = draw(st.lists(st.integers(0, int(WINDOW_LENGTH.total_seconds()) - 1), min_size=count, max_size=count))
    return [T0 + timedelta(seconds=offset) for offset in offsets]


@settings(max_examples=300)
@given(GROUPINGS, alerts(), st.data())
def test_within_one_window_any_arrival_order_gives_the_partition_by_key(grouping: Grouping,
                                                                         events: list[AlertEvent],
                                                                         data: st.DataObject) -> None:
    times = data.draw(times_within_one_window(len(events)))
    order = data.draw(st.permutations(events))
    by_key: dict[str, set[str]] = {}
    for event in events:
        by_key.setdefault(group_key_for(event, grouping), set()).add(event.fingerprint)
    expected = {frozenset(members) for members in by_key.values()}
    assert run(grouping, list(zip(events, times, strict=True))).partition() == expected
    assert run(grouping, list(zip(order, times, strict=True))).partition() == expected


@settings(max_examples=300)
@given(GROUPINGS, alerts(), st.integers(1, 5), st.data())
def test_with_a_cap_the_incident_sizes_of_each_key_do_not_depend_on_the_order(
        grouping: Grouping, events: list[AlertEvent], cap: int, data: st.DataObject) -> None:
    capped = Grouping(by=grouping.by, cases=grouping.cases, default_by=grouping.default_by, window=grouping.window,
                      strict=grouping.strict, max_alerts=cap)
    times = data.draw(times_within_one_window(len(events)))
    order = data.draw(st.permutations(events))
    key_of = {event.fingerprint: group_key_for(event, capped) for event in events}

    def sizes(model: Model) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for members in model.incidents:
            keys = {key_of[fingerprint] for fingerprint in members}
            assert len(keys) == 1                                    # an incident never mixes keys
            found.setdefault(keys.pop(), []).append(len(members))
        return found

    counts: dict[str, int] = {}
    for key in key_of.values():
        counts[key] = counts.get(key, 0) + 1
    expected = {key: [cap] * (n // cap) + ([n % cap] if n % cap else []) for key, n in counts.items()}
    assert sizes(run(capped, list(zip(events, times, strict=True)))) == expected
    assert sizes(run(capped, list(zip(order, times, strict=True)))) == expected


def test_across_a_window_boundary_the_order_matters() -> None:
    # the window starts with whichever alert arrives first: the same three times, two orders, two partitions
    grouping = Grouping(by=("alertname",), window=Window("tumbling", WINDOW_LENGTH))
    a, b, c = (alert(name, alertname="CPU") for name in "abc")
    times = [T0, T0 + 29 * MIN, T0 + 31 * MIN]
    assert run(grouping, list(zip([a, b, c], times, strict=True))).partition() == \
        {frozenset("ab"), frozenset("c")}
    assert run(grouping, list(zip([c, b, a], times, strict=True))).partition() == \
        {frozenset("cb"), frozenset("a")}


def test_a_sliding_window_keeps_taking_alerts_that_come_close_enough() -> None:
    grouping = Grouping(window=Window("sliding", 10 * MIN))
    arrivals = [(alert(f"f{index}"), T0 + index * 9 * MIN) for index in range(10)]   # 81 minutes, gaps of 9
    assert len(run(grouping, arrivals).incidents) == 1
    arrivals.append((alert("late"), T0 + 91 * MIN))                                   # a gap of 10
    assert len(run(grouping, arrivals).incidents) == 2
