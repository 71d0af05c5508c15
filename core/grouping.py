"""Which incident an alert belongs to."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence


def group_key(labels: Mapping[str, str], by: Sequence[str]) -> str:
    """A stable key from the values of the `by` labels; missing labels count as empty.

    With no `by` labels every alert of the service shares one open incident, as Alertmanager does
    for a route without `group_by`.
    """
    return json.dumps([[name, labels.get(name, "")] for name in by], ensure_ascii=False, separators=(",", ":"))
