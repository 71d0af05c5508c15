"""core/conditions.py: the condition language of the alert pipeline (docs/conditions.md)."""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.conditions import ConditionError, Wildcard, describe, matches, parse_rule, wildcard_pattern
from core.model import AlertEvent, AlertStatus, Severity

PATH = "routing.cases[2].if"


def alert(severity: str = "critical", title: str = "CPU high on db-1", source: str = "alertmanager",
          description: str | None = None, annotations: dict[str, str] | None = None, **labels: str) -> AlertEvent:
    notes = dict(annotations or {})
    if description is not None:
        notes["description"] = description
    return AlertEvent(source=source, fingerprint="f1", status=AlertStatus.FIRING, severity=Severity(severity),
                      title=title, labels=labels, annotations=notes,
                      starts_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC))


def is_in(key: str, *values: Any) -> dict[str, Any]:
    return {"key": key, "in": list(values)}


def not_in(key: str, *values: Any) -> dict[str, Any]:
    return {"key": key, "not_in": list(values)}


def one(condition: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """A rule of one group of one condition."""
    return [[condition]]


@pytest.mark.parametrize(("rule", "event", "expected"), [
    # exact: text equality, case-sensitive; severity as its value; YAML numbers become text
    (one(is_in("severity", "critical")), alert(), True),
    (one(is_in("severity", "warning", "info")), alert(), False),
    (one(not_in("severity", "info")), alert(), True),
    (one(not_in("severity", "info", "critical")), alert(), False),
    (one(is_in("title", "CPU high on db-1")), alert(), True),
    (one(is_in("title", "cpu high on db-1")), alert(), False),                       # case-sensitive
    (one(is_in("labels.env", "prod")), alert(env="prod"), True),
    (one(is_in("labels.env", "Prod")), alert(env="prod"), False),                     # case-sensitive
    (one(is_in("labels.code", 500)), alert(code="500"), True),                        # a YAML number
    (one(is_in("labels.env", "")), alert(env=""), True),                              # present and empty
    (one(is_in("labels.env", "dev", "/stag.*/", "prod")), alert(env="prod"), True),   # IN: any value
    # a missing field is absent: IN never matches it, NOT IN always does
    (one(is_in("labels.team", "db")), alert(), False),
    (one(not_in("labels.team", "db")), alert(), True),
    (one(is_in("labels.team", "*")), alert(), False),
    (one(is_in("labels.team", "*")), alert(team=""), True),                           # * matches the empty text
    (one(is_in("labels.team", "")), alert(), False),                                  # absent is not ""
    (one(not_in("labels.team", "/.+/")), alert(), True),                              # "missing or empty"
    (one(not_in("labels.team", "/.+/")), alert(team=""), True),
    (one(not_in("labels.team", "/.+/")), alert(team="db"), False),
    # regex: Python re, the whole field must match
    (one(is_in("labels.env", "/stag.*/")), alert(env="staging"), True),
    (one(is_in("labels.env", "/stag/")), alert(env="staging"), False),                # not a search
    (one(is_in("labels.env", "/.*stag.*/")), alert(env="prestaging"), True),
    (one(is_in("labels.env", "/prod|staging/")), alert(env="production"), False),     # the whole alternation
    (one(is_in("labels.env", "/PROD/")), alert(env="prod"), False),                   # case-sensitive
    (one(is_in("labels.env", "/(?i)PROD/")), alert(env="prod"), True),                # unless told
    (one(not_in("labels.env", "/stag.*/", "dev")), alert(env="dev"), False),
    (one(not_in("labels.env", "/stag.*/", "dev")), alert(env="prod"), True),
    (one(is_in("description", "/.*disk.*/")), alert(description="disk\nfull"), False),  # . stops at \n
    (one(is_in("description", "/(?s).*disk.*/")), alert(description="disk\nfull"), True),
    # wildcard: * any run, ? one character, everything else literal
    (one(is_in("labels.instance", "db-*")), alert(instance="db-1"), True),
    (one(is_in("labels.instance", "db-*")), alert(instance="db-"), True),
    (one(is_in("labels.instance", "db-?")), alert(instance="db-12"), False),
    (one(is_in("labels.instance", "db-??")), alert(instance="db-12"), True),
    (one(is_in("labels.instance", "*-1")), alert(instance="web-db-1"), True),
    (one(is_in("labels.instance", "a.b*")), alert(instance="axb"), False),            # . is literal
    (one(is_in("labels.instance", "a.b*")), alert(instance="a.bc"), True),
    (one(is_in("labels.instance", "[db]*(1)+")), alert(instance="[db]-(1)+"), True),   # so are [ ] ( ) +
    (one(is_in("labels.instance", "[db]*")), alert(instance="d"), False),
    (one(is_in("labels.instance", "DB-*")), alert(instance="db-1"), False),           # case-sensitive
    (one(is_in("description", "*disk full*")), alert(description="host a\nroot disk full"), True),
    (one(is_in("labels.x", "*a*a*b")), alert(x="a" * 5000), False),                   # and no slow backtracking
    # cidr: the field must be an IP address
    (one(is_in("labels.ip", "cidr:10.0.0.0/8")), alert(ip="10.1.2.3"), True),
    (one(is_in("labels.ip", "cidr:10.0.0.0/8")), alert(ip="192.168.1.1"), False),
    (one(is_in("labels.ip", "cidr:10.0.0.0/8")), alert(ip="10.0.0.1:9100"), False),   # host:port is no address
    (one(is_in("labels.ip", "cidr:10.0.0.0/8")), alert(ip="db-1"), False),
    (one(is_in("labels.ip", "cidr:10.1.2.3/8")), alert(ip="10.200.0.1"), True),       # host bits ignored
    (one(is_in("labels.ip", "cidr:10.0.0.5")), alert(ip="10.0.0.5"), True),           # a single address
    (one(is_in("labels.ip", "cidr:2001:db8::/32")), alert(ip="2001:db8::1"), True),
    (one(is_in("labels.ip", "cidr:2001:db8::/32")), alert(ip="2001:db9::1"), False),
    (one(is_in("labels.ip", "cidr:::/0")), alert(ip="10.0.0.1"), False),              # v4 is not in a v6 net
    (one(not_in("labels.ip", "cidr:10.0.0.0/8")), alert(ip="not-an-ip"), True),
    # num: the field as a finite number, compared with gt / ge / lt / le
    (one(is_in("labels.cpu", "num:gt:90")), alert(cpu="95"), True),
    (one(is_in("labels.cpu", "num:gt:90")), alert(cpu="90"), False),
    (one(is_in("labels.cpu", "num:ge:90")), alert(cpu="90"), True),
    (one(is_in("labels.cpu", "num:ge:90")), alert(cpu="89.99"), False),
    (one(is_in("labels.cpu", "num:lt:0.5")), alert(cpu="0.25"), True),
    (one(is_in("labels.cpu", "num:lt:0.5")), alert(cpu="0.5"), False),
    (one(is_in("labels.cpu", "num:le:-1")), alert(cpu="-1.0"), True),
    (one(is_in("labels.cpu", "num:gt:1e3")), alert(cpu="1001"), True),
    (one(is_in("labels.cpu", "num:gt:90")), alert(cpu="95%"), False),                 # not a number
    (one(is_in("labels.cpu", "num:gt:90")), alert(cpu="nan"), False),
    (one(is_in("labels.cpu", "num:gt:90")), alert(cpu="inf"), False),
    (one(is_in("labels.cpu", "num:lt:0")), alert(cpu="-inf"), False),
    (one(is_in("labels.cpu", "num:gt:90")), alert(), False),                          # absent
    (one(not_in("labels.cpu", "num:gt:90")), alert(cpu="high"), True),
    # source and description
    (one(is_in("source", "alertmanager")), alert(), True),
    (one(not_in("source", "alertmanager")), alert(), False),
    (one(is_in("source", "zabbix", "grafana")), alert(source="grafana"), True),
    (one(is_in("description", "*disk*")), alert(description="root disk full"), True),
    (one(is_in("description", "*")), alert(annotations={"summary": "disk"}), False),  # no fallback to summary
    (one(not_in("description", "*")), alert(), True),
    # conditions in a group are ANDed, groups are ORed, no groups match every alert
    ([[is_in("severity", "critical"), is_in("labels.env", "prod")]], alert(env="prod"), True),
    ([[is_in("severity", "critical"), is_in("labels.env", "prod")]], alert(env="staging"), False),
    ([[is_in("severity", "critical"), is_in("labels.env", "prod")]], alert("warning", env="prod"), False),
    ([[is_in("severity", "info")], [is_in("labels.env", "prod")]], alert(env="prod"), True),
    ([[is_in("severity", "info")], [is_in("labels.env", "prod")]], alert(env="dev"), False),
    ([[is_in("severity", "info"), is_in("labels.env", "dev")], [is_in("severity", "critical")]], alert(), True),
    ([], alert(), True),
])
def test_matches(rule: list[list[dict[str, Any]]], event: AlertEvent, expected: bool) -> None:
    assert matches(parse_rule(rule, PATH), event) is expected


@pytest.mark.parametrize(("data", "path", "fragment"), [
    ("severity", PATH, "must be a list of groups"),
    (None, PATH, "must be a list of groups"),
    ({"key": "severity", "in": ["critical"]}, PATH, "must be a list of groups"),
    ([{"key": "severity", "in": ["critical"]}], f"{PATH}[0]", "not a single condition"),
    (["severity"], f"{PATH}[0]", "must be a list of conditions"),
    ([[]], f"{PATH}[0]", "empty group"),
    ([["severity"]], f"{PATH}[0][0]", "must be a mapping"),
    ([[{"in": ["critical"]}]], f"{PATH}[0][0].key", "is required"),
    ([[is_in("sevrity", "critical")]], f"{PATH}[0][0].key", "unknown key 'sevrity'; keys are severity, title"),
    ([[is_in("label.env", "prod")]], f"{PATH}[0][0].key", "labels.<name>"),
    ([[is_in("labels.", "prod")]], f"{PATH}[0][0].key", "needs a label name"),
    ([[is_in(5, "prod")]], f"{PATH}[0][0].key", "must be a string"),
    ([[{"key": "severity", "in": ["critical"], "not_in": ["info"]}]], f"{PATH}[0][0]", "exactly one of in or not_in"),
    ([[{"key": "severity"}]], f"{PATH}[0][0]", "exactly one of in or not_in"),
    ([[{"key": "severity", "in": ["critical"], "op": "eq"}]], f"{PATH}[0][0]", "unknown field 'op'"),
    ([[{"key": "severity", "in": "critical"}]], f"{PATH}[0][0].in", "must be a list of values"),
    ([[{"key": "severity", "in": []}]], f"{PATH}[0][0].in", "at least one value"),
    ([[{"key": "severity", "not_in": []}]], f"{PATH}[0][0].not_in", "at least one value"),
    ([[is_in("severity", "crit")]], f"{PATH}[0][0].in[0]", "unknown severity 'crit'; severities are critical"),
    ([[is_in("labels.env", "/stag(/")]], f"{PATH}[0][0].in[0]", "bad regex 'stag(': missing )"),
    ([[is_in("labels.env", "/a{4294967296}/")]], f"{PATH}[0][0].in[0]", "bad regex"),
    ([[is_in("labels.env", "/" + "a" * 501 + "/")]], f"{PATH}[0][0].in[0]", "longer than 500"),
    ([[is_in("labels.env", "*" + "a" * 500)]], f"{PATH}[0][0].in[0]", "longer than 500"),
    ([[is_in("labels.ip", "cidr:10.0.0.0/33")]], f"{PATH}[0][0].in[0]", "bad network"),
    ([[is_in("labels.ip", "cidr:db-1")]], f"{PATH}[0][0].in[0]", "bad network"),
    ([[is_in("labels.cpu", "num:eq:90")]], f"{PATH}[0][0].in[0]", "unknown comparison 'eq'; comparisons are gt, ge"),
    ([[is_in("labels.cpu", "num:90")]], f"{PATH}[0][0].in[0]", "unknown comparison '90'"),
    ([[is_in("labels.cpu", "num:gt:ninety")]], f"{PATH}[0][0].in[0]", "'ninety' is not a number"),
    ([[is_in("labels.cpu", "num:gt:")]], f"{PATH}[0][0].in[0]", "'' is not a number"),
    ([[is_in("labels.cpu", "num:gt:nan")]], f"{PATH}[0][0].in[0]", "not a finite number"),
    ([[is_in("labels.paging", True)]], f"{PATH}[0][0].in[0]", "must be a string"),
    ([[is_in("labels.env", None)]], f"{PATH}[0][0].in[0]", "must be a string"),
    ([[is_in("labels.env", ["prod"])]], f"{PATH}[0][0].in[0]", "must be a string"),
    ([[is_in("severity", "critical")], [is_in("severity", "info"), is_in("labels.env", "prod", "x", "dev", "/(/")]],
     f"{PATH}[1][1].in[3]", "bad regex"),
])
def test_bad_rules_name_their_path(data: Any, path: str, fragment: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_rule(data, PATH)
    assert caught.value.path == path
    assert fragment in caught.value.message
    assert str(caught.value) == f"{path}: {caught.value.message}"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("data", "line"), [
    ([[is_in("severity", "critical"), not_in("labels.env", "/stag.*/", "dev")],
      [is_in("labels.ip", "cidr:10.0.0.0/8")]],
     "severity IN [critical] AND labels.env NOT IN [/stag.*/, dev] OR labels.ip IN [cidr:10.0.0.0/8]"),
    ([[is_in("labels.cpu", 90, "num:gt:95.5")]], "labels.cpu IN [90, num:gt:95.5]"),
    ([[is_in("title", "Disk full", "", "a,b", " x")]], 'title IN [Disk full, "", "a,b", " x"]'),
    ([], "any alert"),
])
def test_describe(data: Any, line: str) -> None:
    assert describe(parse_rule(data, PATH)) == line


def test_parsing_twice_gives_equal_rules() -> None:
    data = [[is_in("severity", "critical"), not_in("labels.env", "/stag.*/", "d?v", "cidr:10.0.0.0/8", "num:gt:1")]]
    assert parse_rule(data, PATH) == parse_rule(data, PATH)


@given(st.text(alphabet="ab.?*[]", max_size=8), st.text(alphabet="ab.\n[]", max_size=10))
def test_wildcards_match_as_fnmatch_does(pattern: str, value: str) -> None:
    # fnmatch reads [ ] as a character class; the language has none, so they are made literal for the reference
    reference = pattern.replace("[", "\0").replace("]", "[]]").replace("\0", "[[]")
    assert Wildcard(pattern, wildcard_pattern(pattern)).matches(value) is fnmatch.fnmatchcase(value, reference)


SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
                    max_leaves=20)
VALUES = st.sampled_from(["critical", "info", "crit", "/stag.*/", "/(/", "db-*", "a?c", "cidr:10.0.0.0/8",
                          "cidr:nope", "num:gt:90", "num:ne:1", "num:lt:x", "", "/"]) | SCALARS
KEYS = st.sampled_from(["severity", "title", "description", "source", "labels.env", "labels.", "sev"])
# mostly the right shape, so that values and keys are reached, and sometimes any mapping at all
CONDITIONS = st.builds(lambda key, field, values: {"key": key, field: values}, KEYS,
                       st.sampled_from(["in", "not_in"]), st.lists(VALUES, min_size=1, max_size=4)) | st.dictionaries(
    st.sampled_from(["key", "in", "not_in", "op"]), KEYS | st.lists(VALUES, max_size=4), max_size=3)
RULE_SHAPES = st.lists(st.lists(CONDITIONS | JSON, min_size=1, max_size=3), max_size=3)


@given(JSON | RULE_SHAPES)
def test_parse_rule_returns_a_rule_or_raises_condition_error(data: Any) -> None:
    try:
        rule = parse_rule(data, PATH)
    except ConditionError as error:
        assert error.path.startswith(PATH)
        return
    assert isinstance(describe(rule), str)
    assert isinstance(matches(rule, alert(env="staging")), bool)


EVERY_KIND = parse_rule([
    [is_in("severity", "critical", "/w.*/"), not_in("labels.env", "/stag.*/", "dev", "p?od*")],
    [is_in("labels.ip", "cidr:10.0.0.0/8", "cidr:2001:db8::/32"), is_in("description", "*disk*")],
    [is_in("labels.cpu", "num:gt:90", "num:le:-1"), not_in("title", "*x*"), is_in("source", "alertmanager")],
], PATH)
LABEL_NAMES = st.sampled_from(["env", "ip", "cpu"]) | st.text(max_size=6)


@given(st.dictionaries(LABEL_NAMES, st.text(max_size=20), max_size=5), st.none() | st.text(max_size=20),
       st.sampled_from(["critical", "warning", "info"]), st.text(max_size=20))
def test_matches_never_raises(labels: dict[str, str], description: str | None, severity: str, title: str) -> None:
    annotations = {} if description is None else {"description": description}
    event = AlertEvent(source="alertmanager", fingerprint="f", status=AlertStatus.FIRING, severity=Severity(severity),
                       title=title, labels=labels, annotations=annotations, starts_at=datetime(2026, 1, 5, tzinfo=UTC))
    assert isinstance(matches(EVERY_KIND, event), bool)
