"""core/grouping.py: alerts with the same values of the `by` labels share one incident."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.grouping import group_key

BY = ("alertname", "cluster")
CPU_PROD = {"alertname": "CPUHigh", "cluster": "prod", "instance": "db-1"}


@pytest.mark.parametrize(("labels", "same_incident"), [
    ({"alertname": "CPUHigh", "cluster": "prod", "instance": "db-2"}, True),    # other labels do not matter
    ({"cluster": "prod", "alertname": "CPUHigh"}, True),                        # nor their order
    ({"alertname": "CPUHigh", "cluster": "staging", "instance": "db-1"}, False),
    ({"alertname": "DiskFull", "cluster": "prod", "instance": "db-1"}, False),
    ({"alertname": "CPUHigh", "instance": "db-1"}, False),                      # missing is not "prod"
    ({"alertname": "cpuhigh", "cluster": "prod"}, False),                       # values are case-sensitive
])
def test_same_group(labels: dict[str, str], same_incident: bool) -> None:
    assert (group_key(labels, BY) == group_key(CPU_PROD, BY)) is same_incident


def test_missing_label_counts_as_empty() -> None:
    assert group_key({"alertname": "CPUHigh"}, BY) == group_key({"alertname": "CPUHigh", "cluster": ""}, BY)


def test_without_by_labels_every_alert_shares_one_incident() -> None:
    assert group_key(CPU_PROD, ()) == group_key({"alertname": "Other"}, ()) == group_key({}, [])


@pytest.mark.parametrize(("first", "second"), [
    ({"alertname": "a,b", "cluster": ""}, {"alertname": "a", "cluster": "b"}),
    ({"alertname": 'a"],["cluster","b'}, {"alertname": "a", "cluster": "b"}),
    ({"alertname": "a", "cluster": "b|c"}, {"alertname": "a|b", "cluster": "c"}),
])
def test_values_cannot_run_into_each_other(first: dict[str, str], second: dict[str, str]) -> None:
    assert group_key(first, BY) != group_key(second, BY)


def test_non_ascii_values() -> None:
    assert group_key({"alertname": "磁盘满", "cluster": "北京"}, BY) != group_key({"alertname": "磁盘满"}, BY)


NAMES = st.sampled_from(["alertname", "cluster", "job", "instance", "severity"])
LABELS = st.dictionaries(NAMES, st.text(max_size=8), max_size=5)


@given(LABELS, LABELS, st.lists(NAMES, max_size=4, unique=True))
def test_same_key_exactly_when_the_by_values_match(first: dict[str, str], second: dict[str, str],
                                                    by: list[str]) -> None:
    same_values = all(first.get(name, "") == second.get(name, "") for name in by)
    assert (group_key(first, by) == group_key(second, by)) is same_values
