"""What page a URL shows: the one rule by which pageviews are matched to a heatmap's page, to the
explorer's list of pages, and to a goal's URL pattern (plumbing/conversions.py)."""

from __future__ import annotations

from urllib.parse import urlsplit


def page_path(url: str) -> str:
    """The page a URL shows, for matching pageviews to a heatmap: its path, without the query and
    fragment (campaign tags, variant flags), a trailing slash or a directory's index file, so
    `/`, `/index.html` and `/?utm=x` are one page."""
    path = urlsplit(url).path
    for index in ("index.html", "index.htm"):
        if path.endswith("/" + index):
            path = path[: -len(index)]
    return path.rstrip("/") or "/"
