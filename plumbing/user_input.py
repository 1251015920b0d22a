"""What people type, read one way wherever they type it: the CLI's options, the session list's
filter form, the heatmap explorer's query string, a heatmap's segment filters.

Every refusal is an `InputError`, worded one way: the field, what was given, and how to write it,
as in `since 'yesterday': give a date as YYYY-MM-DD`. The CLI shows that message as a bad
parameter, the web UI as the reason of its 400 answer.

Pure Python on top of the vocabulary: no browser, no OpenCV, nothing slow to import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date

from plumbing.vocabulary import DEFAULT_VIEWPORT, MAX_VIEWPORT_PX, SESSION_ID_RE, SESSION_ID_RULE

EXAMPLE_SIZE = f"{DEFAULT_VIEWPORT[0]}x{DEFAULT_VIEWPORT[1]}"
MAX_DIGITS = 6  # of a number of px: a 20-digit "width" is refused before it becomes an int
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PAIRS_SPLIT_RE = re.compile(r"[,\s]+")  # "variant=B, plan=pro" typed into one box


class InputError(ValueError):
    """Something typed that cannot be understood: `field 'given': how to write it`."""

    def __init__(self, field: str, given: str, how: str):
        super().__init__(f"{field} {given!r}: {how}")
        self.field, self.given, self.how = field, given, how


def property_text(value: object) -> str:
    """A session property's value as a filter writes it (`key=value`) and the store reads it:
    JSON's true, false and null, not Python's True, False and None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def parse_pair(text: str, field: str, *, value_required: bool = False) -> tuple[str, str]:
    """`key=value` -> (key, value), both trimmed; the value may be empty unless `value_required`."""
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or (value_required and not value):
        raise InputError(field, text, "give key=value, e.g. variant=B")
    return key, value


def parse_pairs(values: Iterable[str], field: str, *, value_required: bool = False) -> list[tuple[str, str]]:
    """Every `key=value` in `values`, each of which may hold several separated by commas or spaces."""
    return [parse_pair(pair, field, value_required=value_required)
            for value in values for pair in PAIRS_SPLIT_RE.split(value.strip()) if pair]


def _px(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= MAX_DIGITS else None


def parse_size(text: str, field: str, *, least: int = 0, most: int = MAX_VIEWPORT_PX) -> tuple[int, int]:
    """`WIDTHxHEIGHT` (e.g. 1280x800) -> (width, height), each from `least` to `most` px."""
    w, sep, h = text.strip().lower().partition("x")
    width, height = _px(w), _px(h)
    if not sep or width is None or height is None:
        raise InputError(field, text, f"give WIDTHxHEIGHT, e.g. {EXAMPLE_SIZE}")
    if not (least <= width <= most and least <= height <= most):
        raise InputError(field, text, f"give WIDTHxHEIGHT, each from {least} to {most} px")
    return width, height


def parse_width(text: str, field: str, *, names: Sequence[str] = ()) -> int:
    """A width (`1280`), or the width of `WIDTHxHEIGHT`. `names`: words the caller also takes
    (desktop, tablet...), said in the message."""
    w, sep, h = text.strip().lower().partition("x")
    width = _px(w)
    if width is None or (sep and _px(h) is None):
        also = f"one of {', '.join(names)}, " if names else ""
        raise InputError(field, text, f"give {also}a width or WIDTHxHEIGHT, e.g. {EXAMPLE_SIZE}")
    return width


def parse_day(text: str, field: str) -> str:
    """A day as YYYY-MM-DD (a real one: not 2026-02-30), returned as given, trimmed."""
    day = text.strip()
    try:
        if DAY_RE.match(day):
            date.fromisoformat(day)
            return day
    except ValueError:
        pass
    raise InputError(field, text, "give a date as YYYY-MM-DD")


def parse_choice(text: str, field: str, choices: Iterable[str]) -> str:
    """One of `choices`, exactly."""
    options = list(choices)
    if text not in options:
        raise InputError(field, text, f"one of {', '.join(options)}")
    return text


def parse_seconds(text: str, field: str, *, most: float = 10**7) -> float:
    """A duration in seconds (`30`, `2.5`), from 0 to `most`."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < most:  # NaN fails too
        raise InputError(field, text, "give a number of seconds")
    return seconds


AGE_UNITS = {"h": 3_600, "d": 86_400, "w": 7 * 86_400}


def parse_age(text: str, field: str) -> int:
    """An age in whole hours, days or weeks (`36h`, `30d`, `8w`), as seconds."""
    number, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in AGE_UNITS or not (number.isascii() and number.isdigit()) or int(number) > 100_000:
        raise InputError(field, text, "give an age such as 30d (h: hours, d: days, w: weeks)")
    return int(number) * AGE_UNITS[unit]


def parse_session_id(text: str, field: str) -> str:
    """A session id, by the store's rule: ids the store refuses cannot name a session."""
    if not SESSION_ID_RE.match(text):
        raise InputError(field, text, SESSION_ID_RULE)
    return text
