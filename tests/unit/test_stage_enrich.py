"""core/stages/enrich.py: stage 1 of the alert pipeline, enrichment (docs/enrichment.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.conditions import ConditionError
from core.model import AlertEvent, AlertStatus, Severity
from core.stages import Context, Passage
from core.stages.enrich import (
    MAX_LABEL_VALUE,
    MAX_LABELS,
    Lookup,
    LookupRequest,
    MappingTable,
    enrich_stage,
    lookups_needed,
    parse_csv_table,
    parse_enrichment,
)

PATH = "services[0].enrichment"
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
OWNERS = parse_csv_table("ip,team,owner\n10.0.0.1,db,alice\n10.0.0.2,web,\nweb/10.0.0.3,edge,carol\n", "ip",
                         "tables.owners")
TABLES = {"owners": OWNERS}
CMDB = "https://cmdb/api/hosts/"


def alert(title: str = "CPU high on db-1.example.com", description: str | None = None,
          status: AlertStatus = AlertStatus.FIRING, severity: str = "critical", **labels: str) -> AlertEvent:
    return AlertEvent(source="alertmanager", fingerprint="f1", status=status, severity=Severity(severity),
                      title=title, labels=labels,
                      annotations={} if description is None else {"description": description}, starts_at=NOW)


def labelled(labels: dict[str, str]) -> AlertEvent:
    return replace(alert(), labels=labels)


def enriched(steps: list[dict[str, Any]], event: AlertEvent,
             lookups: dict[str, dict[str, dict[str, str]]] | None = None) -> dict[str, str]:
    stage = enrich_stage(parse_enrichment(steps, PATH, TABLES))
    passage = stage(Passage(event=event, service_id="db"), Context(now=NOW, lookups=lookups or {}))
    return dict(passage.event.labels)


def extract(source: str, regex: str, **extra: Any) -> dict[str, Any]:
    return {"extract": {"from": source, "regex": regex}, **extra}


def combine(label: str, template: str, **extra: Any) -> dict[str, Any]:
    return {"combine": {"label": label, "template": template}, **extra}


def mapping(key: str, *columns: str, **extra: Any) -> dict[str, Any]:
    return {"map": {"table": "owners", "key": key, "set": list(columns)}, **extra}


def delete(*labels: str, **extra: Any) -> dict[str, Any]:
    return {"delete": list(labels), **extra}


def lookup(url: str, *fields: str, name: str = "cmdb", **extra: Any) -> dict[str, Any]:
    return {"lookup": {"name": name, "url": url, "set": list(fields)}, **extra}


HOST = r"on (?P<host>[\w.-]+)"
CRITICAL = [[{"key": "severity", "in": ["critical"]}]]
PROD = [[{"key": "labels.env", "in": ["prod"]}]]
ANSWER = {"cmdb": {CMDB + "db-1": {"rack": "r12", "owner.team": "db", "empty": ""}}}
MANY = {f"l{index:03}": "x" for index in range(99)}
TOO_MANY = {f"l{index:03}": "x" for index in range(120)}


@pytest.mark.parametrize(("steps", "event", "lookups", "expected"), [
    # extract: re.search; each named group that matched sets its label, an unmatched one sets nothing
    ([extract("title", HOST)], alert(), None, {"host": "db-1.example.com"}),
    ([extract("title", r"on (?P<host>[\w-]+)(?:\.(?P<domain>[\w.]+))?")], alert(title="CPU on db-1"), None,
     {"host": "db-1"}),
    ([extract("title", r"on (?P<host>[\w-]+)(?:\.(?P<domain>[\w.]+))?")], alert(), None,
     {"host": "db-1", "domain": "example.com"}),
    ([extract("title", r"disk (?P<mount>/\S+)")], alert(), None, {}),                      # no match
    ([extract("title", r"(?P<empty>x*)CPU")], alert(), None, {"empty": ""}),                # matched empty
    ([extract("description", HOST)], alert(), None, {}),                                    # absent field
    ([extract("description", HOST)], alert(description="seen on web-2"), None, {"host": "web-2"}),
    ([extract("labels.instance", r"(?P<host>[^:]+):(?P<port>\d+)")], alert(instance="db-1:9100"), None,
     {"instance": "db-1:9100", "host": "db-1", "port": "9100"}),
    ([extract("labels.instance", r"(?P<host>[^:]+)")], alert(), None, {}),                  # absent label
    ([extract("title", HOST)], alert(host="old"), None, {"host": "db-1.example.com"}),       # overwrites
    # combine: placeholders, a missing one is empty, {{ }} are braces
    ([combine("service", "{labels.app}-{labels.env}")], alert(app="api", env="prod"), None,
     {"app": "api", "env": "prod", "service": "api-prod"}),
    ([combine("service", "{labels.app}-{labels.env}")], alert(app="api"), None, {"app": "api", "service": "api-"}),
    ([combine("what", "{{{severity}}} {source}: {title}")], alert(title="t"), None,
     {"what": "{critical} alertmanager: t"}),
    ([combine("note", "{description}")], alert(), None, {"note": ""}),
    # map: the key is looked up, listed columns set; an empty cell or a missing key sets nothing
    ([mapping("{labels.ip}", "team", "owner")], alert(ip="10.0.0.1"), None,
     {"ip": "10.0.0.1", "team": "db", "owner": "alice"}),
    ([mapping("{labels.ip}", "team", "owner")], alert(ip="10.0.0.2", owner="bob"), None,
     {"ip": "10.0.0.2", "owner": "bob", "team": "web"}),
    ([mapping("{labels.ip}", "team")], alert(ip="10.9.9.9"), None, {"ip": "10.9.9.9"}),
    ([mapping("{labels.ip}", "team")], alert(), None, {}),                                  # key renders ""
    ([mapping("{labels.tier}/{labels.ip}", "team")], alert(tier="web", ip="10.0.0.3"), None,
     {"tier": "web", "ip": "10.0.0.3", "team": "edge"}),
    # delete: present or not
    ([delete("labels.pod", "labels.nope")], alert(pod="p-1", env="prod"), None, {"env": "prod"}),
    # lookup: fields from the answer for the rendered URL; an empty or missing field sets nothing
    ([lookup(CMDB + "{labels.host}", "rack", "owner.team", "empty", "missing")], alert(host="db-1"), ANSWER,
     {"host": "db-1", "rack": "r12", "owner.team": "db"}),
    ([lookup(CMDB + "{labels.host}", "rack")], alert(host="db-2"), ANSWER, {"host": "db-2"}),    # not fetched
    ([lookup(CMDB + "{labels.host}", "rack")], alert(host="db-1"), None, {"host": "db-1"}),      # failed
    ([lookup(CMDB + "{labels.host}", "rack")], alert(host="a b/c"), {"cmdb": {CMDB + "a%20b%2Fc": {"rack": "r1"}}},
     {"host": "a b/c", "rack": "r1"}),                                                    # the label is encoded
    ([lookup(CMDB + "{labels.host}", "rack", name="other")], alert(host="db-1"), ANSWER, {"host": "db-1"}),
    # if: a step applies only to matching alerts, and sees the labels earlier steps set
    ([combine("paged", "yes", **{"if": CRITICAL})], alert(), None, {"paged": "yes"}),
    ([combine("paged", "yes", **{"if": CRITICAL})], alert(severity="warning"), None, {}),
    ([combine("env", "prod"), delete("labels.debug", **{"if": PROD})], alert(debug="1"), None, {"env": "prod"}),
    ([delete("labels.debug", **{"if": PROD}), combine("env", "prod")], alert(debug="1"), None,
     {"debug": "1", "env": "prod"}),
    # order: each step sees the labels the steps before it left
    ([extract("title", HOST), combine("where", "host {labels.host}")], alert(), None,
     {"host": "db-1.example.com", "where": "host db-1.example.com"}),
    ([combine("where", "host {labels.host}"), extract("title", HOST)], alert(), None,
     {"where": "host ", "host": "db-1.example.com"}),
    ([extract("title", r"from (?P<ip>[\d.]+)"), mapping("{labels.ip}", "team")], alert(title="down from 10.0.0.1"),
     None, {"ip": "10.0.0.1", "team": "db"}),
    ([extract("title", r"on (?P<host>[\w-]+)"), lookup(CMDB + "{labels.host}", "rack")], alert(), ANSWER,
     {"host": "db-1", "rack": "r12"}),
    ([combine("gone", "x"), delete("labels.gone")], alert(), None, {}),
    ([delete("labels.app"), combine("service", "{labels.app}!")], alert(app="api"), None, {"service": "!"}),
    ([lookup(CMDB + "{labels.host}", "rack"), combine("where", "{labels.rack}")], alert(host="db-1"), ANSWER,
     {"host": "db-1", "rack": "r12", "where": "r12"}),
    # caps: values cut at MAX_LABEL_VALUE, no new label beyond MAX_LABELS, the event's own labels all stay
    ([combine("long", "{title}")], alert(title="x" * 5000), None, {"long": "x" * MAX_LABEL_VALUE}),
    ([combine("a", "1"), combine("b", "2")], labelled(MANY), None, {**MANY, "a": "1"}),
    ([combine("a", "1"), combine("l000", "y")], labelled(TOO_MANY), None, {**TOO_MANY, "l000": "y"}),
    ([delete("labels.l000"), combine("a", "1"), combine("b", "2")], labelled(MANY), None,
     {**{name: "x" for name in list(MANY)[1:]}, "a": "1", "b": "2"}),
    # no steps at all
    ([], alert(env="prod"), None, {"env": "prod"}),
])
def test_enrichment(steps: list[dict[str, Any]], event: AlertEvent,
                    lookups: dict[str, dict[str, dict[str, str]]] | None, expected: dict[str, str]) -> None:
    assert enriched(steps, event, lookups) == expected


EVERYTHING = [extract("title", HOST), combine("team", "ops"), mapping("{labels.ip}", "team"), delete("labels.ip"),
              lookup(CMDB + "{labels.host}", "rack")]


def test_a_recovery_passes_unchanged_and_needs_no_lookups() -> None:
    stage = enrich_stage(parse_enrichment(EVERYTHING, PATH, TABLES))
    recovery = Passage(event=alert(status=AlertStatus.RESOLVED, ip="10.0.0.1"), service_id="db")
    assert stage(recovery, Context(now=NOW, lookups=ANSWER)) is recovery
    enrichment = parse_enrichment(EVERYTHING, PATH, TABLES)
    assert lookups_needed(enrichment, recovery.event) == []
    assert lookups_needed(enrichment, alert(ip="10.0.0.1")) == [
        LookupRequest("cmdb", CMDB + "db-1.example.com", 2.0, 300.0, ("rack",))]


def test_an_unchanged_passage_is_the_same_object() -> None:
    passage = Passage(event=alert(), service_id="db")
    stage = enrich_stage(parse_enrichment([extract("title", r"disk (?P<mount>\S+)")], PATH, TABLES))
    assert stage(passage, Context(now=NOW)) is passage


def test_lookups_needed_in_step_order_with_the_labels_of_earlier_steps() -> None:
    steps = [
        lookup("https://cmdb/hosts/{labels.host}?key=k", "rack", name="hosts"),
        extract("title", r"on (?P<host>[\w-]+)"),
        {"lookup": {"name": "fresh", "url": "http://cmdb:8080/{labels.host}/{labels.env}", "timeout": "10s",
                    "cache": 0, "set": ["owner"]}},
        lookup("https://cmdb/apps/{labels.app}", "tier", name="apps"),                  # no app label: not asked
        lookup("https://cmdb/crit/{labels.host}", "tier", name="crit", **{"if": [[{"key": "severity",
                                                                                   "in": ["info"]}]]}),
        {"lookup": {"name": "fixed", "url": "https://cmdb/all", "cache": "0s", "timeout": "1s", "set": ["x"]}},
    ]
    enrichment = parse_enrichment(steps, PATH, TABLES)
    assert lookups_needed(enrichment, alert(host="h0", env="prod")) == [
        LookupRequest("hosts", "https://cmdb/hosts/h0?key=k", 2.0, 300.0, ("rack",)),
        LookupRequest("fresh", "http://cmdb:8080/db-1/prod", 10.0, 0.0, ("owner",)),
        LookupRequest("fixed", "https://cmdb/all", 1.0, 0.0, ("x",)),
    ]


def test_lookups_needed_matches_what_the_stage_reads() -> None:
    """Whatever the answers, the stage looks them up under the URLs lookups_needed gave."""
    steps = [extract("title", r"on (?P<host>[\w-]+)"), lookup(CMDB + "{labels.host}", "rack", "dc"),
             combine("site", "{labels.host}"), lookup("https://cmdb/sites/{labels.site}", "region", name="sites")]
    enrichment = parse_enrichment(steps, PATH, TABLES)
    event = alert()
    requests = lookups_needed(enrichment, event)
    answers = {request.name: {request.url: {"rack": "r1", "dc": "d1", "region": "eu"}} for request in requests}
    assert enriched(steps, event, answers) == {"host": "db-1", "rack": "r1", "dc": "d1", "site": "db-1",
                                               "region": "eu"}


def test_defaults_and_limits_of_a_lookup() -> None:
    enrichment = parse_enrichment([lookup(CMDB + "{labels.host}", "rack")], PATH, TABLES)
    (step,) = enrichment.steps
    assert isinstance(step, Lookup)
    assert (step.timeout_seconds, step.cache_seconds, step.fields) == (2.0, 300.0, ("rack",))


@pytest.mark.parametrize(("data", "path", "message"), [
    ({"extract": {}}, PATH, "must be a list of steps"),
    (["extract"], f"{PATH}[0]", "must be a mapping with one of"),
    ([{"rename": {}}], f"{PATH}[0].rename", "unknown field"),
    ([{**combine("a", "b"), **delete("labels.a")}], f"{PATH}[0]", "not combine and delete"),
    ([{"if": []}], f"{PATH}[0]", "needs exactly one of"),
    ([{"extract": {"regex": HOST}}], f"{PATH}[0].extract.from", "is required"),
    ([extract("severity", HOST)], f"{PATH}[0].extract.from", "unknown field 'severity'"),
    ([extract("labels.", HOST)], f"{PATH}[0].extract.from", "unknown field"),
    ([extract("title", r"on (\w+)")], f"{PATH}[0].extract.regex", "no named group"),
    ([extract("title", r"on (?P<host>\w+")], f"{PATH}[0].extract.regex", "bad regex"),
    ([extract("title", "(?P<a>x)" * 100)], f"{PATH}[0].extract.regex", "longer than"),
    ([{"extract": {"from": "title", "regex": HOST, "flags": "i"}}], f"{PATH}[0].extract.flags", "unknown field"),
    ([combine("a", "{labels.app}-{env}")], f"{PATH}[0].combine.template", "unknown placeholder {env}"),
    ([combine("a", "{labels.}")], f"{PATH}[0].combine.template", "unknown placeholder"),
    ([combine("a", "{title")], f"{PATH}[0].combine.template", "is not closed"),
    ([combine("a", "{ti{tle}")], f"{PATH}[0].combine.template", "is not closed"),
    ([combine("a", "title}")], f"{PATH}[0].combine.template", "a single '}'"),
    ([combine("labels.a", "x")], f"{PATH}[0].combine.label", "without 'labels.'"),
    ([combine(" a", "x")], f"{PATH}[0].combine.label", "spaces around it"),
    ([{"combine": {"label": "a", "template": 5}}], f"{PATH}[0].combine.template", "must be a text"),
    ([{"combine": {"label": "a"}}], f"{PATH}[0].combine.template", "must be a text"),
    ([{"map": {"table": "hosts", "key": "{labels.ip}", "set": ["team"]}}], f"{PATH}[0].map.table",
     "unknown table 'hosts'; the tables are: owners"),
    ([mapping("{labels.ip}", "team", "room")], f"{PATH}[0].map.set[1]", "no column 'room'"),
    ([mapping("{labels.ip}")], f"{PATH}[0].map.set", "non-empty list"),
    ([mapping("{ip}", "team")], f"{PATH}[0].map.key", "unknown placeholder"),
    ([delete("labels.a", "pod")], f"{PATH}[0].delete[1]", "must be a label"),
    ([delete()], f"{PATH}[0].delete", "non-empty list"),
    ([lookup(CMDB + "{labels.host}", "rack", name="cmdb v2")], f"{PATH}[0].lookup.name", "letters, digits"),
    ([lookup("cmdb/api/{labels.host}", "rack")], f"{PATH}[0].lookup.url", "must start with http"),
    ([lookup("https://{labels.host}/api", "rack")], f"{PATH}[0].lookup.url", "host written out"),
    ([lookup("https://cmdb{labels.domain}/api", "rack")], f"{PATH}[0].lookup.url", "host written out"),
    ([lookup("ftp://cmdb/{labels.host}", "rack")], f"{PATH}[0].lookup.url", "must start with http"),
    ([lookup(CMDB + "{labels.host}")], f"{PATH}[0].lookup.set", "non-empty list"),
    ([{"lookup": {"name": "c", "url": CMDB, "set": ["a"], "timeout": "11s"}}], f"{PATH}[0].lookup.timeout",
     "between 1s and 10s"),
    ([{"lookup": {"name": "c", "url": CMDB, "set": ["a"], "timeout": 2}}], f"{PATH}[0].lookup.timeout",
     "a duration with a unit"),
    ([{"lookup": {"name": "c", "url": CMDB, "set": ["a"], "timeout": "0s"}}], f"{PATH}[0].lookup.timeout",
     "between 1s and 10s"),
    ([{"lookup": {"name": "c", "url": CMDB, "set": ["a"], "cache": "soon"}}], f"{PATH}[0].lookup.cache",
     "not a duration"),
    ([{"lookup": {"name": "c", "url": CMDB, "set": ["a"], "cache": False}}], f"{PATH}[0].lookup.cache",
     "a duration with a unit"),
    ([{"lookup": {"name": "c", "url": CMDB, "set": ["a"], "cache": "2d"}}], f"{PATH}[0].lookup.cache",
     "between 0s and 1d"),
    ([{"lookup": {"name": "c", "url": CMDB, "set": ["a"], "retries": 3}}], f"{PATH}[0].lookup.retries",
     "unknown field"),
    ([lookup(CMDB + "{labels.host}", "rack"), lookup(CMDB + "x/{labels.host}", "dc")], f"{PATH}[1].lookup.name",
     f"also {PATH}[0]"),
    # a lookup cannot use another's answer: it is not known when the lookups are fetched
    ([lookup(CMDB + "{labels.host}", "rack"), lookup("https://cmdb/racks/{labels.rack}", "room", name="racks")],
     f"{PATH}[1].lookup", f"reads labels.rack, which the lookup at {PATH}[0] may set"),
    ([lookup(CMDB + "{labels.host}", "rack"), combine("where", "{labels.rack}"),
      lookup("https://cmdb/racks/{labels.where}", "room", name="racks")], f"{PATH}[2].lookup", "labels.where"),
    ([lookup(CMDB + "{labels.host}", "rack"), extract("labels.rack", r"(?P<row>\w)"),
      lookup("https://cmdb/rows/{labels.host}", "room", name="rows", **{"if": [[{"key": "labels.row",
                                                                                 "in": ["a"]}]]})],
     f"{PATH}[2].lookup", "labels.row"),
    ([lookup(CMDB + "{labels.host}", "rack"), combine("dc", "x", **{"if": [[{"key": "labels.rack", "in": ["r1"]}]]}),
      lookup("https://cmdb/dcs/{labels.dc}", "room", name="dcs")], f"{PATH}[2].lookup", "labels.dc"),
    ([{**combine("a", "b"), "if": [{"key": "severity", "in": ["critical"]}]}], f"{PATH}[0].if[0]",
     "not a single condition"),
])
def test_bad_config_names_its_path(data: Any, path: str, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_enrichment(data, PATH, TABLES)
    assert caught.value.path == path
    assert message in caught.value.message


def test_a_label_rewritten_without_the_lookup_answer_may_be_used_by_a_later_lookup() -> None:
    steps = [lookup(CMDB + "{labels.host}", "rack"), combine("rack", "{labels.dc}-rack"),
             delete("labels.owner"), lookup("https://cmdb/racks/{labels.rack}", "owner", name="racks")]
    assert len(parse_enrichment(steps, PATH, TABLES).steps) == 4


def test_a_csv_table() -> None:
    table = parse_csv_table('\ufeffip, team , owner\n\n10.0.0.1, db,"alice, bob"\n10.0.0.2,web,\n', "ip", "t")
    assert table == MappingTable("ip", ("ip", "team", "owner"), {
        "10.0.0.1": {"ip": "10.0.0.1", "team": "db", "owner": "alice, bob"},
        "10.0.0.2": {"ip": "10.0.0.2", "team": "web", "owner": ""},
    })


@pytest.mark.parametrize(("text", "message"), [
    ("", "needs a header row"),
    ("\n\n", "needs a header row"),
    ("host,team\nh1,db\n", "has no key column 'ip'; its columns are host, team"),
    ("ip,team,team\n", "distinct"),
    ("ip,,team\n", "non-empty"),
    ("ip,team\n10.0.0.1,db\n10.0.0.1,web\n", "line 3: key '10.0.0.1' is also on line 2"),
    ("ip,team\n10.0.0.1\n", "line 2: has 1 fields, the header 2"),
    ("ip,team\n10.0.0.1,db,x\n", "line 2: has 3 fields"),
    ("ip,team\n,db\n", "line 2: the key column 'ip' is empty"),
    ('ip,team\n10.0.0.1,"db\n', "line 2: unexpected end of data"),
])
def test_a_bad_csv_table_names_the_line(text: str, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_csv_table(text, "ip", "tables.owners")
    assert caught.value.path == "tables.owners"
    assert message in caught.value.message


TEXT = st.text(max_size=60)
LABELS = st.dictionaries(st.text(max_size=12), st.text(max_size=1500), max_size=130)
PROPERTY_STEPS = [
    extract("title", r"(?P<first>\w+)\s*(?P<second>\S*)"),
    extract("labels.instance", r"(?P<host>[^:]*):?(?P<port>\d*)"),
    combine("service", "{labels.app}-{labels.env}/{title}"),
    mapping("{labels.ip}", "team", "owner"),
    lookup(CMDB + "{labels.host}", "rack", "owner.team"),
    delete("labels.pod", **{"if": [[{"key": "labels.env", "not_in": ["prod", "/st.*/"]}]]}),
    combine("long", "{description}{description}", **{"if": [[{"key": "labels.ip", "in": ["cidr:10.0.0.0/8"]}]]}),
]
PROPERTY_ENRICHMENT = parse_enrichment(PROPERTY_STEPS, PATH, TABLES)


@given(labels=LABELS, title=TEXT, description=st.none() | st.text(max_size=800),
       answer=st.dictionaries(st.text(max_size=10), st.text(max_size=1200), max_size=5),
       status=st.sampled_from(AlertStatus))
def test_the_stage_never_raises_and_keeps_its_caps(labels: dict[str, str], title: str, description: str | None,
                                                   answer: dict[str, str], status: AlertStatus) -> None:
    event = AlertEvent(source="alertmanager", fingerprint="f1", status=status, severity=Severity.CRITICAL, title=title,
                       labels=labels, annotations={} if description is None else {"description": description},
                       starts_at=NOW)
    requests = lookups_needed(PROPERTY_ENRICHMENT, event)
    lookups = {request.name: {request.url: answer} for request in requests}
    passage = Passage(event=event, service_id="db")
    result = enrich_stage(PROPERTY_ENRICHMENT)(passage, Context(now=NOW, lookups=lookups)).event
    if status is AlertStatus.RESOLVED:
        assert result is event and requests == []
        return
    assert (result.fingerprint, result.status, result.title) == (event.fingerprint, event.status, event.title)
    assert len(result.labels) <= max(MAX_LABELS, len(labels))
    for name, value in result.labels.items():
        assert value == labels.get(name) or len(value) <= MAX_LABEL_VALUE
