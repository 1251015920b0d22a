"""Reading rrweb events in tests: find nodes in snapshots, pick events by kind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plumbing.events import EventType, IncrementalSource, MouseInteraction


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("childNodes", []):
        yield from walk(child)


def node_id_by_attr(events: list[dict[str, Any]], attr: str, value: str) -> list[int]:
    """rrweb ids of every snapshotted element with attr=value, one per full snapshot."""
    return [
        node["id"]
        for event in events if event["type"] == EventType.FULL_SNAPSHOT
        for node in walk(event["data"]["node"])
        if node.get("attributes", {}).get(attr) == value
    ]


def clicks(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        e["data"] for e in events
        if e["type"] == EventType.INCREMENTAL_SNAPSHOT
        and e["data"]["source"] == IncrementalSource.MOUSE_INTERACTION
        and e["data"]["type"] == MouseInteraction.CLICK
    ]


def types(events: list[dict[str, Any]]) -> list[int]:
    return [e["type"] for e in events]
