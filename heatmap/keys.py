"""Element keys: what names "the same element" across sessions whose DOMs differ.

The rules live in `element_key.js`, which runs inside whatever document holds the element (a live
page, or a replayed session's iframe); this module hands that script to callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sessionheat.assets import package_text


Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class ElementKey:
    key: str  # a CSS selector, unique in the element's own document
    label: str  # visible text, trimmed
    tag: str
    interactive: bool  # a link, button, field... (or inside one: clicks on a button's icon count for it)
    box: Box  # where it was, document px


def element_key_js() -> str:
    """`(function (el, opts) {...})` returning {key, label, tag, interactive, box} for an element."""
    return package_text("heatmap", "element_key.js").strip().rstrip(";")


def key_from_js(value: dict[str, Any] | None) -> ElementKey | None:
    if not value:
        return None
    return ElementKey(value["key"], value["label"], value["tag"], bool(value["interactive"]),
                      tuple(value["box"]))  # type: ignore[arg-type]


def element_key_of(page_or_frame: Any, selector: str) -> ElementKey | None:
    """Key of the first element matching `selector` in a Playwright page or frame."""
    return key_from_js(page_or_frame.evaluate(
        f"(selector) => ({element_key_js()})(document.querySelector(selector))", selector))
