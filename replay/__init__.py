"""Headless reconstruction of recorded sessions: seek, element boxes, screenshots, video, player.

    from replay import open_session
    with open_session(store, session_id) as rp:
        rp.seek(1500)                   # ms since the session's first event
        box = rp.element_box(node_id)   # Box(x, y, w, h) in document px, as the live page had it
        boxes = rp.resolve([(t, node_id), ...])   # many moments in one pass
"""

from plumbing.vocabulary import Box

from replay.host import AssetCache
from replay.player import player_html, write_player_html
from replay.session import Pageview, Replay, ReplayError, ReplayPage, Resolved, open_session
from replay.timeline import Interaction, LiveClick, Timeline
from replay.video import VideoResult, frame_times, render_video

__all__ = [
    "AssetCache",
    "Box",
    "Interaction",
    "LiveClick",
    "Pageview",
    "Replay",
    "ReplayError",
    "ReplayPage",
    "Resolved",
    "Timeline",
    "VideoResult",
    "frame_times",
    "open_session",
    "player_html",
    "render_video",
    "write_player_html",
]
