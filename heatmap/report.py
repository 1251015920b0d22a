"""A small static HTML report of rendered heatmaps: opens from disk, no network, no scripts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from heatmap.build import Heatmap

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
header, section { max-width: 1320px; margin: 0 auto; padding: 16px 24px; }
h1 { font-size: 22px; margin: 8px 0; } h2 { font-size: 18px; margin: 28px 0 8px; }
.caution { background: #fff3c4; border: 1px solid #e2c044; padding: 6px 10px; display: inline-block; }
table { border-collapse: collapse; margin: 8px 0 16px; background: #fff; }
th, td { border: 1px solid #d9dde3; padding: 4px 8px; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 12px; word-break: break-all; }
img { max-width: 100%; border: 1px solid #d9dde3; background: #fff; }
nav a { margin-right: 12px; }
"""


@dataclass
class ReportEntry:
    title: str
    png: Path  # relative to the report's folder
    heatmap: Heatmap | None = None
    json: Path | None = None


def _element_table(heatmap: Heatmap, limit: int = 10) -> str:
    placement = heatmap.placement
    if placement is None:
        return "".join(f"<p>{html.escape(k)} of pageviews still reached y = {v} px</p>"
                       for k, v in heatmap.marks.items())
    total = sum(e.hits for e in placement.elements) + placement.n_missing
    rows = []
    for e in placement.elements[:limit]:
        rows.append(f"<tr><td>{html.escape(e.label or e.tag)}</td><td><code>{html.escape(e.element_key)}"
                    f"</code></td><td class=n>{e.hits}</td><td class=n>{len(e.sessions)}</td>"
                    f"<td class=n>{100 * e.hits / max(1, total):.1f} %</td><td class=n>{e.rage}</td>"
                    f"<td class=n>{e.dead}</td></tr>")
    out = ("<table><tr><th>element</th><th>key</th><th>hits</th><th>sessions</th><th>share</th>"
           "<th>rage</th><th>dead</th></tr>" + "".join(rows) + "</table>")
    if placement.not_on_layout:
        missing = ", ".join(f"{html.escape(e.label or e.element_key)} ({e.hits})"
                            for e in placement.not_on_layout)
        out += f"<p><b>Not on this layout</b> (counted, not drawn): {missing}</p>"
    return out


def _states(heatmap: Heatmap, png: Path) -> str:
    """The map's page states (heatmap/states.py): each one's counts and its panel, drawn on a
    photograph of the page in that state (written beside the map by `Heatmap.write`)."""
    out = []
    for panel in heatmap.states:
        if not panel.png:
            continue
        placed = len(panel.placement.points) if panel.placement else 0
        title = f"Page state: {panel.group.title}"
        out.append(f"<h3>{html.escape(title)}</h3><p>{placed} of {len(panel.group.hits)} hits drawn; photographed in "
                   f"session <code>{html.escape(panel.session_id)}</code> at {panel.t / 1000:.1f} s "
                   f"({html.escape(panel.why)})</p>"
                   f'<img src="{html.escape(png.with_name(panel.png).as_posix())}" alt="{html.escape(title)}">')
    return "".join(out)


def write_report(path: str | Path, entries: Sequence[ReportEntry], *, title: str = "sessionheat report",
                 intro: str = "") -> Path:
    """Write `path` (HTML) beside the PNGs it shows; every text is escaped, nothing recorded runs."""
    path = Path(path)
    nav = " ".join(f'<a href="#m{i}">{html.escape(e.title)}</a>' for i, e in enumerate(entries))
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
             f"<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; img-src 'self'; "
             f"style-src 'unsafe-inline'\"><style>{STYLE}</style></head><body><header>"
             f"<h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p><nav>{nav}</nav></header>"]
    for i, entry in enumerate(entries):
        parts.append(f'<section id="m{i}"><h2>{html.escape(entry.title)}</h2>')
        if entry.heatmap is not None:
            hm = entry.heatmap
            parts.append(f"<p>{hm.n_sessions} sessions, {hm.n_pageviews} pageviews; reference layout: session "
                         f"<code>{html.escape(hm.reference.session_id)}</code>, "
                         f"{hm.reference.viewport[0]}x{hm.reference.viewport[1]}, photographed at "
                         f"{hm.reference.t / 1000:.1f} s ({html.escape(str(hm.reference.moment))})</p>")
            if hm.caution:
                parts.append(f'<p class=caution>{html.escape(hm.caution)}</p>')
            parts.append(_element_table(hm))
        if entry.json is not None:
            parts.append(f'<p><a href="{html.escape(entry.json.as_posix())}">points and tables (JSON)</a></p>')
        parts.append(f'<img src="{html.escape(entry.png.as_posix())}" alt="{html.escape(entry.title)}">')
        if entry.heatmap is not None:
            parts.append(_states(entry.heatmap, entry.png))
        parts.append("</section>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
