"""Masking what visitors type, on the server, before anything is stored.

The snippet masks inputs in the page, but the page is not ours: an old tag, `data-mask-inputs="false"`
or a hand-made client would otherwise have us store `typed-password-123` while the UI says "value
masked". So the collector masks by the site's policy, whatever the page sent:

- masked inputs (the default): every value a visitor can type or choose: rrweb Input events'
  `data.text`; the `value` of input (except buttons, checkboxes and radios, whose values are the
  page's own), textarea and select elements in full snapshots and added nodes, and in attribute
  mutations of those elements; the text inside a textarea; an option's `selected` mark.
- recorded inputs (`sites add --record-inputs`): the same, for password fields only (an input whose
  `type` is or ever was `password` in this session, or that rrweb marked `data-rr-is-password`).

Values become one `*` per character, as rrweb masks them, so replays keep their layout.

A value can arrive in a later chunk than its field (the snapshot in chunk 0, the typing in chunk
5, the field's id is all the Input event carries). So a chunk declares the fields it introduces,
and the values it holds of nodes it did not introduce wait for the store's answer, given in the
write transaction from the session's earlier chunks (`FieldGuard`, table `masked_nodes`). While an
earlier chunk of the session is missing, every such value is masked: the missing chunk may be the
one that introduced the field. A field stays masked for the rest of the session, even when a later
page reuses its id for another node: masking too much is the safe mistake.

Known gap: text added, in a later chunk, under a textarea of an earlier chunk and then changed by a
text mutation is masked when added but not when changed (no chain from a text node to its parent).

Pure and quick: one pass over the events, skipping every event that cannot hold a value (mouse
moves, scrolls, the bulk of a recording); see `bench/bench_ingest.py` for its cost per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plumbing.events import EventType, IncrementalSource
from plumbing.store import FieldGuard

ELEMENT, TEXT = 2, 3  # rrweb-snapshot node types
FIELD_TAGS = frozenset({"input", "textarea", "select"})
UNTYPED_INPUT_TYPES = frozenset({"submit", "button", "reset", "image", "checkbox", "radio"})
RRWEB_PASSWORD_MARK = "data-rr-is-password"  # rrweb 2 keeps this on a password field turned text

# Plain ints: the pass compares every event's type, and enum members are slower to look up.
_INCREMENTAL, _FULL = int(EventType.INCREMENTAL_SNAPSHOT), int(EventType.FULL_SNAPSHOT)
_INPUT, _MUTATION = int(IncrementalSource.INPUT), int(IncrementalSource.MUTATION)


def masked_text(value: str) -> str:
    return "*" * len(value)


def _input_type(attributes: dict[str, Any]) -> str:
    kind = attributes.get("type")
    return kind.lower() if isinstance(kind, str) else "text"


@dataclass
class _Pass:
    """One chunk's masking: what it settled alone, and the values waiting on the session."""

    record_inputs: bool
    changed: bool = False
    declared: set[int] = field(default_factory=set)
    waiting: list[tuple[int, dict[str, Any], str]] = field(default_factory=list)  # (node id, holder, key)

    def mask(self, holder: dict[str, Any], key: str) -> bool:
        value = holder.get(key)
        if isinstance(value, str):
            masked = masked_text(value)
            if masked != value:
                holder[key] = masked
                self.changed = True
                return True
        return False

    def declare(self, node_id: Any) -> None:
        if type(node_id) is int:
            self.declared.add(node_id)

    def later(self, node_id: Any, holder: dict[str, Any], key: str) -> None:
        """A value whose node this chunk may not have introduced; an id no store can name
        (not an integer: a hostile page) is masked at once."""
        if type(node_id) is not int:
            self.mask(holder, key)
        elif isinstance(holder.get(key), str):
            self.waiting.append((node_id, holder, key))

    def guards(self, tag: str, attributes: dict[str, Any]) -> bool:
        """Whether the policy masks this element's value."""
        if self.record_inputs:
            return tag == "input" and (_input_type(attributes) == "password"
                                       or RRWEB_PASSWORD_MARK in attributes)
        if tag == "input":
            return _input_type(attributes) not in UNTYPED_INPUT_TYPES
        return tag in FIELD_TAGS

    def node(self, top: dict[str, Any], parent_tag: str | None, parent_id: Any) -> None:
        """A serialized node and its subtree (from a snapshot, or added by a mutation)."""
        stack = [(top, parent_tag)]
        while stack:
            node, parent = stack.pop()
            if type(node) is not dict:
                continue
            kind = node.get("type")
            if kind == TEXT:
                if parent == "textarea" and not self.record_inputs:
                    self.declare(node.get("id"))
                    self.mask(node, "textContent")
                elif parent is None and not self.record_inputs:  # added under an older node
                    self.later(parent_id, node, "textContent")
                continue
            tag = node.get("tagName")
            tag = tag.lower() if isinstance(tag, str) else ""
            attributes = node.get("attributes")
            if kind == ELEMENT and type(attributes) is dict:
                if self.guards(tag, attributes):
                    self.declare(node.get("id"))
                    self.mask(attributes, "value")
                elif tag == "option" and not self.record_inputs and "selected" in attributes:
                    del attributes["selected"]
                    self.changed = True
            children = node.get("childNodes")
            if type(children) is list:
                stack.extend((child, tag) for child in children)

    def mutation(self, data: dict[str, Any]) -> None:
        for add in data["adds"]:
            self.node(add.get("node"), None, add.get("parentId"))
        for change in data["attributes"]:
            attributes = change.get("attributes")
            if type(attributes) is not dict:
                continue
            if self.record_inputs and (RRWEB_PASSWORD_MARK in attributes or (
                    isinstance(attributes.get("type"), str) and attributes["type"].lower() == "password")):
                self.declare(change.get("id"))
            if "value" in attributes:
                self.later(change.get("id"), attributes, "value")
        if not self.record_inputs:
            for text in data["texts"]:
                self.later(text.get("id"), text, "value")

    def run(self, events: list[dict[str, Any]]) -> "_Pass":
        record_inputs = self.record_inputs
        for event in events:
            etype = event["type"]
            if etype == _INCREMENTAL:
                data = event["data"]
                source = data["source"]
                if source == _INPUT:
                    if record_inputs:
                        self.later(data["id"], data, "text")
                    else:
                        self.mask(data, "text")
                elif source == _MUTATION:
                    self.mutation(data)
            elif etype == _FULL:
                self.node(event["data"]["node"], None, None)
        # A field introduced anywhere in this chunk is settled here, whichever came first.
        waiting = []
        for node_id, holder, key in self.waiting:
            if node_id in self.declared:
                self.mask(holder, key)
            else:
                waiting.append((node_id, holder, key))
        self.waiting = waiting
        return self

    def mask_waiting(self, masked_ids: frozenset[int] | None) -> bool:
        """Mask the waiting values of these nodes (None: all); True if any changed."""
        changed = False
        for node_id, holder, key in self.waiting:
            if masked_ids is None or node_id in masked_ids:
                changed |= self.mask(holder, key)
        return changed


@dataclass(frozen=True)
class MaskedChunk:
    changed: bool  # the events differ from what was received (their JSON text must be redone)
    guard: FieldGuard | None  # what the store must settle with the session's state, if anything


def mask_chunk(events: list[dict[str, Any]], *, record_inputs: bool) -> MaskedChunk:
    """Mask `events` in place as far as the chunk alone tells (events already checked by
    `plumbing.events.events_problem`); the guard carries the rest to the store."""
    done = _Pass(record_inputs).run(events)
    if not done.declared and not done.waiting:
        return MaskedChunk(done.changed, None)

    def canonical(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
        _Pass(record_inputs).run(stored).mask_waiting(None)
        return stored

    asked = frozenset(node_id for node_id, _, _ in done.waiting)
    guard = FieldGuard(frozenset(done.declared), asked, done.mask_waiting, canonical)
    return MaskedChunk(done.changed, guard)
