"""Reading stage settings from config data: objects with known keys, names, flags; errors name their path."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from core.conditions import ConditionError


def as_object(data: Any, path: str, allowed: Collection[str], required: Collection[str] = ()) -> Mapping[str, Any]:
    """`data` as an object with only `allowed` keys and every `required` one."""
    if not isinstance(data, Mapping):
        raise ConditionError(path, "must be an object")
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise ConditionError(f"{path}.{unknown[0]}", f"unknown field; expected one of {', '.join(sorted(allowed))}")
    for key in required:
        if key not in data:
            raise ConditionError(f"{path}.{key}", "is required")
    return data


def as_list(data: Any, path: str) -> list[Any]:
    if not isinstance(data, list):
        raise ConditionError(path, "must be a list")
    return data


def as_name(data: Any, path: str, max_length: int = 64) -> str:
    if not isinstance(data, str) or not data.strip():
        raise ConditionError(path, "must be a non-empty text")
    if len(data) > max_length:
        raise ConditionError(path, f"at most {max_length} characters")
    return data


def as_flag(data: Any, path: str) -> bool:
    if not isinstance(data, bool):
        raise ConditionError(path, "must be true or false")
    return data


def unique_names(names: list[str], path: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise ConditionError(f"{path}[{index}].name", f"{name!r} is used twice")
        seen.add(name)
