"""Render a replayed session to an MP4 through OpenCV: idle stretches skipped, pointer and clicks drawn.

Frames are screenshots of the replay at evenly spaced session times; a stretch with nothing
happening for longer than `idle_ms` is cut down to `idle_keep_ms`, so a visitor who left the tab
open does not become minutes of still frames.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from plumbing.events import EventType, IncrementalSource
from plumbing.vocabulary import DEFAULT_VIEWPORT

if TYPE_CHECKING:
    import numpy as np

    from replay.session import Replay
    from replay.timeline import Timeline

DEFAULT_FPS = 10
IDLE_MS = 3000  # a pause longer than this is skipped...
IDLE_KEEP_MS = 1000  # ...down to this much
CLICK_MARK_MS = 800  # how long a click's mark stays on screen


@dataclass(frozen=True)
class VideoResult:
    path: Path
    frames: int
    size: tuple[int, int]  # (width, height) of every frame
    fps: float
    skipped_ms: int  # session time left out as idle


def frame_times(timeline: "Timeline", *, fps: float = DEFAULT_FPS, speed: float = 1.0,
                idle_ms: int = IDLE_MS, idle_keep_ms: int = IDLE_KEEP_MS) -> tuple[list[float], int]:
    """Session times (ms) to draw a frame at, and how much idle time was skipped."""
    if fps <= 0 or speed <= 0:
        raise ValueError("fps and speed must be positive")
    step = 1000.0 * speed / fps
    activity = sorted(set(timeline.activity_times()) | {p[0] for p in timeline.pointer()})
    end = float(timeline.duration)
    times: list[float] = []
    skipped = 0.0
    t = 0.0
    while t <= end + 1e-9:
        times.append(t)
        nxt = t + step
        k = bisect.bisect_right(activity, t)
        last = activity[k - 1] if k else 0.0
        upcoming = activity[k] if k < len(activity) else end
        if upcoming - last > idle_ms and nxt > last + idle_keep_ms and nxt < upcoming:
            resume = max(nxt, upcoming - idle_keep_ms / 2)
            skipped += resume - nxt
            nxt = resume
        t = nxt
    return times, int(skipped)


def render_video(replay: "Replay", path: str | Path, *, fps: float = DEFAULT_FPS, speed: float = 1.0,
                 idle_ms: int = IDLE_MS, progress: Callable[[int, int], None] | None = None) -> VideoResult:
    """Write the session as an MP4 (MPEG-4, OpenCV's `mp4v`) and say what was written."""
    import cv2
    import numpy as np

    path = Path(path)
    timeline = replay.timeline
    times, skipped = frame_times(timeline, fps=fps, speed=speed, idle_ms=idle_ms)
    size = _largest_viewport(timeline)
    fourcc = cv2.VideoWriter.fourcc(*"mp4v")
    writer = cv2.VideoWriter(str(path), fourcc, float(fps), size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    pointer = timeline.pointer()
    pointer_t = [p[0] for p in pointer]
    clicks = [(float(i.t), i.x, i.y) for i in timeline.interactions()
              if i.x is not None and i.y is not None]
    with replay.painting():  # one painted stretch, not a reveal per frame
        try:
            for n, t in enumerate(times):
                replay.seek(t)
                shot = decode_png(replay.frame_png())
                frame = np.full((size[1], size[0], 3), 32, np.uint8)
                h, w = min(shot.shape[0], size[1]), min(shot.shape[1], size[0])
                frame[:h, :w] = shot[:h, :w]
                for tc, x, y in clicks:
                    if tc <= t < tc + CLICK_MARK_MS:
                        age = (t - tc) / CLICK_MARK_MS
                        cv2.circle(frame, (int(x), int(y)), int(8 + 22 * age), (40, 40, 230), 3, cv2.LINE_AA)
                k = bisect.bisect_right(pointer_t, t)
                if k:
                    _draw_pointer(frame, pointer[k - 1][1], pointer[k - 1][2])
                writer.write(frame)
                if progress:
                    progress(n + 1, len(times))
        finally:
            writer.release()
    return VideoResult(path, len(times), size, float(fps), skipped)


def decode_png(png: bytes) -> "np.ndarray":
    """A screenshot as an OpenCV BGR image; a replay that returned no PNG is an error here, not a
    None that fails further on."""
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"not a PNG the replay could have taken ({len(png)} bytes)")
    return np.asarray(image)


def _draw_pointer(frame: "np.ndarray", x: float, y: float) -> None:
    import cv2
    import numpy as np

    tip = np.array([[0, 0], [0, 17], [4, 13], [7, 20], [10, 19], [7, 12], [12, 12]], np.int32)
    shape = tip + np.array([int(x), int(y)], np.int32)
    cv2.fillPoly(frame, [shape], (255, 255, 255), cv2.LINE_AA)
    cv2.polylines(frame, [shape], True, (0, 0, 0), 1, cv2.LINE_AA)


def _largest_viewport(timeline: "Timeline") -> tuple[int, int]:
    """Frames all have one size: the largest viewport the visitor had (smaller ones are padded)."""
    w = h = 0
    for e in timeline.events:
        d = e.get("data") or {}
        if e["type"] == EventType.META or (e["type"] == EventType.INCREMENTAL_SNAPSHOT
                                           and d.get("source") == IncrementalSource.VIEWPORT_RESIZE):
            w, h = max(w, int(d.get("width") or 0)), max(h, int(d.get("height") or 0))
    return (w or DEFAULT_VIEWPORT[0]) // 2 * 2, (h or DEFAULT_VIEWPORT[1]) // 2 * 2
