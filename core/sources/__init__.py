"""Parsers from each monitoring tool's payload to neutral `AlertEvent`s. Pure: dict in, values out."""

from __future__ import annotations


class PayloadError(ValueError):
    """A payload that cannot be read; `path` says where in the body the problem is."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message
