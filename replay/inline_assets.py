"""Recorded events with the assets their pages showed inlined, for a player file that travels.

rrweb records addresses, not pictures: `<img src>`, `srcset`, CSS `url()` (fonts, backgrounds),
the style sheets it could not read. An offline player that keeps those addresses shows broken
images as soon as the site is gone. Here each such address is fetched once, the way a replay
fetches (`replay.host.NetworkGuard`: only origins the session recorded, never inside the network
unless vouched for, through the store's asset cache, so what a replay fetched before is reused),
and written into the events as a `data:` URL. What cannot be fetched keeps its address.

Only values that load something are touched: the attributes rrweb made absolute on elements
that load them (an `<a href>` is a link and stays one) and CSS text; page text never is.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urljoin

from plumbing.vocabulary import MIB

from replay.host import AssetResponse, NetworkGuard

MAX_INLINED_BYTES = 8 * MIB  # a larger asset (a video) keeps its address
FETCH_THREADS = 8

# (tag, attribute) pairs whose value is one address the element loads; "*" any tag.
_LOADING_ATTRIBUTES = {
    ("img", "src"), ("source", "src"), ("input", "src"), ("video", "src"), ("audio", "src"),
    ("track", "src"), ("video", "poster"), ("image", "href"), ("image", "xlink:href"),
    ("use", "href"), ("use", "xlink:href"), ("feimage", "href"), ("feimage", "xlink:href"),
    ("table", "background"), ("td", "background"), ("th", "background"), ("body", "background"),
}
_LOADING_LINK = re.compile(r"(^|\s)(stylesheet|preload|icon|apple-touch-icon)(\s|$)", re.I)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(https?://[^'")\s]+)\1\s*\)""", re.I)
_CSS_ANY_URL = re.compile(r"""url\(\s*(['"]?)([^'")\s]+)\1\s*\)""", re.I)
_SRCSET_URL = re.compile(r"(^\s*|,\s*)(https?://[^\s,]+)")


class _Walker:
    """Rewrites the events' loading values through `inline(url) -> data URL or None`."""

    def __init__(self, inline: Callable[[str], str | None]) -> None:
        self.inline = inline
        self.tags: dict[int, str] = {}  # rrweb node id -> "tag" or "link <rel>"

    def css(self, text: Any) -> Any:
        if not isinstance(text, str) or "url(" not in text:
            return text

        def swap(match: re.Match[str]) -> str:
            data = self.inline(match.group(2))
            return f'url("{data}")' if data else match.group(0)
        return _CSS_URL.sub(swap, text)

    def srcset(self, text: Any) -> Any:
        if not isinstance(text, str):
            return text
        return _SRCSET_URL.sub(lambda m: m.group(1) + (self.inline(m.group(2)) or m.group(2)), text)

    def value(self, tag: str, name: str, value: Any) -> Any:
        """The attribute's value with what it loads inlined (a style diff is an object of values)."""
        if isinstance(value, dict):  # rrweb's style mutation: {property: value | [value, priority]}
            return {k: ([self.css(v[0]), *v[1:]] if isinstance(v, list) and v else self.css(v))
                    for k, v in value.items()}
        if not isinstance(value, str):
            return value
        name = name.lower()
        if name in ("style", "_csstext"):
            return self.css(value)
        if name == "srcset":
            return self.srcset(value)
        element = tag.split(" ", 1)[0]
        loads = (element, name) in _LOADING_ATTRIBUTES or (
            element == "link" and name == "href" and _LOADING_LINK.search(tag.partition(" ")[2]))
        if loads and value.startswith(("http://", "https://")):
            return self.inline(value) or value
        return value

    def tag_of(self, node_id: Any) -> str:
        return self.tags.get(node_id, "") if isinstance(node_id, int) else ""

    def attributes(self, tag: str, attrs: dict[str, Any]) -> dict[str, Any]:
        if "_cssText" in attrs:  # a sheet rrweb read: the replay builds it from _cssText, not href
            return {name: value if name == "href" else self.value(tag, name, value) for name, value in attrs.items()}
        return {name: self.value(tag, name, value) for name, value in attrs.items()}

    def node(self, node: dict[str, Any]) -> dict[str, Any]:
        """A copy of a serialized node tree with its loading values inlined; notes each element's tag."""
        node = dict(node)
        if node.get("type") == 2:
            attrs = node.get("attributes") or {}
            tag = str(node.get("tagName", "")).lower()
            if tag == "link":
                tag = f"link {attrs.get('rel', '')}"
            if isinstance(node.get("id"), int):
                self.tags[node["id"]] = tag
            node["attributes"] = self.attributes(tag, attrs)
        elif node.get("type") == 3 and node.get("isStyle"):
            node["textContent"] = self.css(node.get("textContent"))
        if node.get("childNodes"):
            node["childNodes"] = [self.node(child) for child in node["childNodes"]]
        return node

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        data = event.get("data")
        if not isinstance(data, dict):
            return event
        kind = event.get("type")
        if kind == 2 and isinstance(data.get("node"), dict):
            self.tags = {}
            return {**event, "data": {**data, "node": self.node(data["node"])}}
        if kind != 3:
            return event
        source, data = data.get("source"), dict(data)
        if source == 0:  # mutations
            data["adds"] = [{**add, "node": self.node(add["node"])} if isinstance(add, dict)
                            and isinstance(add.get("node"), dict) else add for add in data.get("adds") or ()]
            data["attributes"] = [
                {**change, "attributes": self.attributes(self.tag_of(change.get("id")), change["attributes"])}
                if isinstance(change, dict) and isinstance(change.get("attributes"), dict) else change
                for change in data.get("attributes") or ()]
            data["texts"] = [{**text, "value": self.css(text.get("value"))} if isinstance(text, dict) else text
                             for text in data.get("texts") or ()]
        elif source == 8:  # a style sheet's rules
            data["adds"] = [{**rule, "rule": self.css(rule.get("rule"))} if isinstance(rule, dict) else rule
                            for rule in data.get("adds") or ()]
            for key in ("replace", "replaceSync"):
                if key in data:
                    data[key] = self.css(data[key])
        elif source == 15:  # adopted style sheets
            data["styles"] = [{**style, "rules": [{**r, "rule": self.css(r.get("rule"))} if isinstance(r, dict)
                                                  else r for r in style.get("rules") or ()]}
                              if isinstance(style, dict) else style for style in data.get("styles") or ()]
        elif source == 10:  # a font added from script
            data["fontSource"] = self.css(data.get("fontSource"))
        else:
            return event
        return {**event, "data": data}


def loaded_urls(events: Iterable[dict[str, Any]]) -> list[str]:
    """Every http(s) address the events' pages load (images, style sheets, fonts...), in order."""
    seen: dict[str, None] = {}

    def note(url: str) -> str | None:
        seen.setdefault(url, None)
        return None
    walker = _Walker(note)
    for event in events:
        walker.event(event)
    return list(seen)


def data_url(response: AssetResponse) -> str | None:
    status, headers, body = response
    if status >= 400 or len(body) > MAX_INLINED_BYTES:
        return None
    mime = headers.get("content-type", "application/octet-stream").split(",")[0].strip()
    return f"data:{mime};base64,{base64.b64encode(body).decode('ascii')}"


def inline_assets(events: list[dict[str, Any]], guard: NetworkGuard) -> tuple[list[dict[str, Any]], int]:
    """The events with every asset `guard` can get inlined, and how many addresses were left as they
    were (not reachable, failed, too large). The events given are not changed."""
    urls = loaded_urls(events)
    with ThreadPoolExecutor(max_workers=FETCH_THREADS) as pool:
        answers = dict(zip(urls, pool.map(guard.asset, urls)))
    inlined: dict[str, str] = {}
    for url, answer in answers.items():
        found = data_url(answer) if answer is not None else None
        if found and answer is not None and "css" in answer[1].get("content-type", ""):
            found = _sheet_data_url(url, answer, guard)
        if found:
            inlined[url] = found
    walker = _Walker(inlined.get)
    return [walker.event(event) for event in events], len(urls) - len(inlined)


def _sheet_data_url(url: str, answer: AssetResponse, guard: NetworkGuard) -> str | None:
    """A style sheet rrweb could not read, with what its own url()s load inlined in turn: relative
    addresses would mean nothing inside a data: URL."""
    status, headers, body = answer
    text = body.decode("utf-8", errors="replace")

    def swap(match: re.Match[str]) -> str:
        target = urljoin(url, match.group(2))
        if not target.startswith(("http://", "https://")):
            return match.group(0)
        found = guard.asset(target)
        data = data_url(found) if found is not None else None
        return f'url("{data or target}")'
    text = _CSS_ANY_URL.sub(swap, text)
    return data_url((status, {**headers, "content-type": "text/css; charset=utf-8"}, text.encode("utf-8")))
