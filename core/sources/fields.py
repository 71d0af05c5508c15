"""Reading the fields every source shares: text, label maps, times, alert keys, severities.

Each helper either returns a clean value or raises `PayloadError` naming the path of the offending field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.model import Severity
from core.sources import PayloadError

MAX_KEY_LENGTH = 128  # alert keys (fingerprints) are stored in a column of this width
MAX_TITLE_LENGTH = 500

# severity words as monitoring tools and teams write them → Dutybot severity (docs/sources.md)
SEVERITY_WORDS = {
    "critical": Severity.CRITICAL, "crit": Severity.CRITICAL, "page": Severity.CRITICAL,
    "error": Severity.CRITICAL, "emergency": Severity.CRITICAL, "p1": Severity.CRITICAL, "high": Severity.CRITICAL,
    "disaster": Severity.CRITICAL, "fatal": Severity.CRITICAL,
    "warning": Severity.WARNING, "warn": Severity.WARNING, "p2": Severity.WARNING, "medium": Severity.WARNING,
    "average": Severity.WARNING,
    "info": Severity.INFO, "informational": Severity.INFO, "information": Severity.INFO, "none": Severity.INFO,
    "low": Severity.INFO, "p3": Severity.INFO, "ok": Severity.INFO, "not classified": Severity.INFO,
}


def severity_word(word: str, default: Severity = Severity.WARNING) -> Severity:
    """A severity word (any case, surrounding spaces ignored) as a Dutybot severity; unknown words → `default`."""
    return SEVERITY_WORDS.get(word.strip().lower(), default)


def check_text(text: str, path: str) -> str:
    """`text` if a database and chat platforms can hold it. JSON's \\ud800 escapes decode to lone surrogates,
    and \\u0000 to NUL: no database (PostgreSQL text) or chat platform accepts either."""
    if not text.isascii():  # ASCII holds no surrogate: the common case needs no encoding
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise PayloadError(path, "must be valid UTF-8 text") from None
    if "\x00" in text:
        raise PayloadError(path, "must not contain NUL characters")
    return text


def optional_text(container: Mapping[str, Any], name: str, path: str) -> str | None:
    """The string field `name` of `container`, or None when absent or null."""
    value = container.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(_join(path, name), "must be a string")
    return check_text(value, _join(path, name))


def required_text(container: Mapping[str, Any], name: str, path: str) -> str:
    """The non-empty string field `name` of `container`."""
    value = optional_text(container, name, path)
    if value is None or not value.strip():
        raise PayloadError(_join(path, name), "is required")
    return value


def string_map(value: Any, path: str) -> dict[str, str]:
    """An object of strings (labels, annotations), every key and value checked."""
    if not isinstance(value, Mapping):
        raise PayloadError(path, "must be an object of strings")
    items = list(value.items())
    if all(type(key) is str and type(item) is str for key, item in items):
        together = "".join(value) + "".join(value.values())  # one check of all the text in the common case
        if together.isascii() and "\x00" not in together:
            return dict(value)
    for key, item in items:
        check_text(key, path)
        if not isinstance(item, str):
            raise PayloadError(f"{path}.{key}", "must be a string")
        check_text(item, f"{path}.{key}")
    return dict(value)


def loose_map(value: Any, path: str) -> dict[str, str]:
    """An object whose scalar values become strings (numbers, booleans); nested values become JSON text.

    For tools whose payloads carry tags or extra fields of any type: unknown fields are kept, never refused."""
    if not isinstance(value, Mapping):
        raise PayloadError(path, "must be an object")
    kept: dict[str, str] = {}
    for key, item in value.items():
        check_text(str(key), path)
        kept[str(key)] = check_text(scalar_text(item), _join(path, str(key)))
    return kept


def scalar_text(value: Any) -> str:
    """A JSON value as label text: strings as they are, null as "", anything else as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def rfc3339(value: Any, path: str) -> datetime | None:
    """An RFC 3339 time (Go's nanoseconds allowed); None for absent, empty or Go's zero time."""
    if value is None or value == "" or (isinstance(value, str) and value.startswith("0001-01-01")):
        return None
    if not isinstance(value, str):
        raise PayloadError(path, "must be an RFC 3339 time")
    try:
        parsed = datetime.fromisoformat(value)  # Python 3.11 reads Z and Go's nanoseconds (cut to microseconds)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(_trim_fraction(value.strip().replace("Z", "+00:00")
                                                           .replace("z", "+00:00")))
        except ValueError:
            raise PayloadError(path, f"{value!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise PayloadError(path, "needs a time zone offset")
    try:
        parsed.astimezone(UTC)  # 9999-12-31T23:59:59-05:00 has no instant a database can hold
    except OverflowError:
        raise PayloadError(path, f"{value!r} is out of range for a time") from None
    return parsed


def epoch_seconds(value: Any, path: str) -> datetime | None:
    """A Unix time in seconds (int, float or digits) as an aware UTC datetime; None for absent or 0."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise PayloadError(path, f"{value!r} is not a Unix time") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PayloadError(path, "must be a Unix time in seconds")
    try:
        if value > 10**11:  # milliseconds, as some tools send
            value = value / 1000
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(path, "is out of range for a time") from None


def alert_key(raw: str) -> str:
    """A source's alert identity as a stored key: as given when it fits, else a hash of it."""
    if 0 < len(raw) <= MAX_KEY_LENGTH and raw.isprintable():
        return raw
    return "sha256:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """An alert key derived from a label set, for payloads that carry none."""
    canonical = json.dumps(sorted(labels.items()), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def is_http_url(url: str) -> bool:
    """An http(s) URL with something after the scheme (chat cards and pages show no other kind of link)."""
    return url.lower().startswith(("http://", "https://")) and url.split("//", 1)[1] != ""


def utf8_prefix(text: str, limit: int) -> str:
    """The longest start of `text` whose UTF-8 takes at most `limit` bytes: cut on a character, never inside."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def title_text(text: str) -> str:
    """A title on one line and at most MAX_TITLE_LENGTH characters."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_TITLE_LENGTH else line[:MAX_TITLE_LENGTH - 1] + "…"


def _trim_fraction(text: str) -> str:
    """At most six digits of a second's fraction (for the forms the first reading refused)."""
    if "." not in text:
        return text
    head, rest = text.split(".", 1)
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
