"""Heatmap rendering, checked on pixels: where heat lands, what the legend says, what is untouched.

Legend text is checked by template matching: the expected words are drawn with the same font, size
and colours, and must appear pixel-for-pixel somewhere in the legend strip.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heatmap.render import (
    LEGEND_HEIGHT,
    LEGEND_MIN_WIDTH,
    ElementOutline,
    render_band_map,
    render_difference_map,
    render_point_map,
    write_png,
)
from heatmap.render_legend import (
    CAUTION_FILL,
    CAUTION_INK,
    CAUTION_STYLES,
    FONT,
    INK,
    MUTED,
    PAPER,
    ascii_text,
    wrap_text,
)

H, W = 600, 900
LH = LEGEND_HEIGHT


def page(height: int = H, width: int = W) -> np.ndarray:
    """A light page with a dark block and some text, so 'unchanged' is not trivially true."""
    bg = np.full((height, width, 3), 236, np.uint8)
    cv2.rectangle(bg, (40, 40), (260, 120), (90, 60, 30), -1)
    cv2.putText(bg, "Pricing", (320, 90), FONT, 1.0, (20, 20, 20), 2, cv2.LINE_AA)
    return bg


def cluster(x: float, y: float, n: int, spread: float = 3.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal((x, y), spread, size=(n, 2))


def on_page(img: np.ndarray, x: int, y: int) -> np.ndarray:
    """The output pixel showing page pixel (x, y)."""
    return img[LH + y, x].astype(int)


def change(img: np.ndarray, bg: np.ndarray, x: int, y: int) -> int:
    return int(np.abs(on_page(img, x, y) - bg[y, x].astype(int)).sum())


def legend_says(
    img: np.ndarray,
    text: str,
    *,
    scale: float = 0.52,
    colour: tuple = INK,
    paper: tuple = PAPER,
    thickness: int = 1,
) -> bool:
    """True if `text`, drawn as the legend draws it, appears exactly in the legend strip."""
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    tpl = np.full((th + base + 4, tw + 4, 3), paper, np.uint8)
    cv2.putText(tpl, text, (2, th + 2), FONT, scale, colour, thickness, cv2.LINE_AA)
    scores = cv2.matchTemplate(img[:LH], tpl, cv2.TM_SQDIFF)
    x, y = cv2.minMaxLoc(scores)[2]  # best match; confirm exactly (the score carries FFT noise)
    return np.array_equal(img[y : y + tpl.shape[0], x : x + tpl.shape[1]], tpl)


# -- size and placement -----------------------------------------------------------------------


def test_output_is_the_page_below_a_legend_strip() -> None:
    bg = page()
    out = render_point_map(bg, cluster(300, 200, 50))
    assert out.shape == (H + LH, W, 3) and out.dtype == np.uint8
    narrow = page(300, 390)
    out = render_point_map(narrow, np.empty((0, 2)))
    assert out.shape == (300 + LH, LEGEND_MIN_WIDTH, 3)
    assert np.array_equal(out[LH:, :390], narrow)


def test_heat_is_where_the_points_are_and_nowhere_else() -> None:
    bg = page()
    out = render_point_map(bg, cluster(700, 450, 400))
    assert change(out, bg, 700, 450) > 120  # dense spot: strongly coloured
    assert change(out, bg, 450, 700 % H) == 0  # x and y swapped: nothing there
    far = out[LH : LH + 300, :500]
    assert np.array_equal(far, bg[:300, :500])  # far away: the page, untouched


def test_weights_change_which_spot_is_hotter() -> None:
    bg = page()
    pts = np.concatenate([cluster(200, 300, 20), cluster(650, 300, 20, seed=1)])
    heavy_left = np.r_[np.full(20, 10.0), np.ones(20)]
    out = render_point_map(bg, pts, weights=heavy_left)
    assert change(out, bg, 200, 300) > change(out, bg, 650, 300) + 60
    out = render_point_map(bg, pts, weights=heavy_left[::-1])
    assert change(out, bg, 650, 300) > change(out, bg, 200, 300) + 60


def test_one_hot_spot_does_not_wash_out_the_rest() -> None:
    bg = page()
    hot = np.full((5000, 2), (150.0, 450.0))  # e.g. a bot hammering one pixel
    modest = cluster(650, 450, 60, spread=8)
    out = render_point_map(bg, np.concatenate([hot, modest]))
    assert change(out, bg, 650, 450) > 60  # max-normalised, it would be invisible (~0)


def test_points_outside_are_clipped_and_counted() -> None:
    bg = page()
    inside = cluster(400, 300, 30)
    outside = np.array([[W + 3, 100], [-4, 200], [500, H], [np.nan, 10], [10, np.inf], [-1, -1]])
    out = render_point_map(bg, np.concatenate([inside, outside]))
    assert np.array_equal(out[LH:, W - 40 :], bg[:, W - 40 :])  # not clamped onto the right edge
    assert np.array_equal(out[LH:, :40], bg[:, :40])  # nor onto the left edge
    assert np.array_equal(out[LH + H - 40 :], bg[H - 40 :])  # nor the bottom
    assert legend_says(out, "30 clicks drawn")
    assert legend_says(out, "6 outside the page (not drawn)", colour=(0, 0, 170))
    clean = render_point_map(bg, inside)
    assert np.array_equal(clean[LH:], out[LH:])
    assert legend_says(clean, "0 outside the page")


def test_outline_is_drawn_around_the_box_with_its_count() -> None:
    bg = page()
    box = ElementOutline(x=400, y=300, w=160, h=50, count=37, label="Buy now")
    out = render_point_map(bg, np.empty((0, 2)), outlines=[box])
    for x, y in [(480, 300), (480, 350), (400, 325), (560, 325)]:  # the four edges
        assert change(out, bg, x, y) > 150
    assert change(out, bg, 480, 325) == 0  # the element itself stays visible
    assert change(out, bg, 700, 500) == 0
    badge = out[LH + 270 : LH + 300, 400:560]
    assert (badge.reshape(-1, 3) == (30, 30, 30)).all(axis=1).mean() > 0.3  # dark count badge


def test_empty_input_draws_a_legend_saying_zero_and_leaves_the_page_alone() -> None:
    bg = page()
    out = render_point_map(bg, np.empty((0, 2)), kind_label="taps")
    assert np.array_equal(out[LH:], bg)
    assert legend_says(out, "0 taps drawn")
    assert legend_says(out, "no taps on this page")


def test_legend_shows_the_scale_in_counts_and_the_caption() -> None:
    bg = page()
    out = render_point_map(bg, cluster(300, 300, 1, spread=0), caption="Café — /pricing")
    assert legend_says(out, "Cafe - /pricing", scale=0.55, colour=MUTED)
    assert legend_says(out, "1 click drawn")


def test_caution_is_drawn_prominently() -> None:
    bg, pts = page(), cluster(300, 300, 12)
    plain = render_point_map(bg, pts)
    warned = render_point_map(bg, pts, caution="only 12 sessions - too few to trust")
    assert np.array_equal(plain[LH:], warned[LH:])
    assert not np.array_equal(plain[:LH], warned[:LH])
    amber = (warned[:LH].reshape(-1, 3) == CAUTION_FILL).all(axis=1).mean()
    assert amber > 0.1
    caution_style = {"colour": CAUTION_INK, "paper": CAUTION_FILL, "thickness": 2}
    assert legend_says(warned, "CAUTION: only 12 sessions", scale=0.6, **caution_style)


# -- band maps --------------------------------------------------------------------------------


def test_band_map_marks_and_fold_are_at_the_given_rows() -> None:
    bg = np.full((H, W, 3), 250, np.uint8)
    reach = np.linspace(1.0, 0.1, H)
    out = render_band_map(bg, reach, kind="scroll", fold_y=120, marks={"50%": 350})
    assert out.shape == (H + LH, W, 3)
    line = out[LH + 350, 200:W].astype(int).sum(axis=1)
    assert (line < 200).mean() > 0.95  # dark, solid, across the page
    for dy in (-8, 8):
        assert (out[LH + 350 + dy, 200:W].astype(int).sum(axis=1) > 400).mean() > 0.95
    fold = out[LH + 120, : W - 150].astype(int).sum(axis=1) < 200
    assert 0.3 < fold.mean() < 0.8  # dashed
    top, bottom = on_page(out, 600, 20), on_page(out, 600, H - 20)
    assert top[2] > top[0] + 40 and bottom[0] > bottom[2] + 20  # reddish vs blueish


def test_band_map_values_change_the_tint_row_by_row() -> None:
    bg = np.full((H, W, 3), 250, np.uint8)
    secs = np.zeros(H)
    secs[200:260] = 42.0
    out = render_band_map(bg, secs, kind="attention", fold_y=None)
    assert np.abs(on_page(out, 400, 230) - on_page(out, 400, 500)).sum() > 100
    assert legend_says(out, "42 s", scale=0.48)


def test_band_map_rejects_values_that_do_not_fit() -> None:
    bg = page()
    with pytest.raises(ValueError, match="one value per background row"):
        render_band_map(bg, np.ones(H - 1))
    with pytest.raises(ValueError, match="0..1"):
        render_band_map(bg, np.full(H, 1.5), kind="scroll")


# -- difference maps --------------------------------------------------------------------------


def test_difference_map_shows_two_hues_where_each_segment_dominates() -> None:
    bg = np.full((H, W, 3), 250, np.uint8)
    a = np.concatenate([cluster(200, 300, 80), cluster(600, 300, 20, seed=2)])
    b = np.concatenate([cluster(200, 300, 20, seed=3), cluster(600, 300, 80, seed=4)])
    out = render_difference_map(bg, a, b, label_a="variant=A", label_b="variant=B")
    at_a, at_b = on_page(out, 200, 300), on_page(out, 600, 300)
    assert at_a[2] > at_a[0] + 80  # orange: red channel over blue (BGR)
    assert at_b[0] > at_b[2] + 80  # blue
    assert change(out, bg, 400, 100) == 0
    assert legend_says(out, "A (orange) = variant=A: 100 clicks", colour=(0, 85, 200))


def test_difference_map_compares_shares_not_raw_counts() -> None:
    bg = page()
    spot_a, spot_b = cluster(300, 300, 10), cluster(300, 300, 10)
    out = render_difference_map(bg, spot_a, np.repeat(spot_b, 10, axis=0))
    assert np.array_equal(out[LH:], bg)  # same distribution, ten times the traffic: no difference


# -- properties and plumbing ------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, W - 1), st.floats(0, H - 1)), min_size=1, max_size=6
    ),
    st.floats(6, 40),
)
def test_heat_stays_near_the_points(points: list, radius: float) -> None:
    bg = np.full((H, W, 3), 240, np.uint8)
    pts = np.array(points)
    out = render_point_map(bg, pts, radius_px=radius)
    changed = np.abs(out[LH:].astype(int) - bg).sum(axis=2) > 0
    ys, xs = np.nonzero(changed)
    dist = np.hypot(xs[:, None] - pts[:, 0], ys[:, None] - pts[:, 1]).min(axis=1)
    assert dist.size == 0 or dist.max() < 2 * radius + 4
    for x, y in pts:  # every point shows
        assert changed[int(y), int(x)]


def test_weights_and_points_are_validated() -> None:
    with pytest.raises(ValueError, match="one value per point"):
        render_point_map(page(), cluster(10, 10, 3), weights=np.ones(2))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        render_point_map(page(), np.ones((3, 3)))


def test_grey_and_bgra_backgrounds_are_accepted() -> None:
    grey = np.full((200, 800), 200, np.uint8)
    assert render_point_map(grey, cluster(50, 50, 5)).shape == (200 + LH, 800, 3)
    bgra = np.full((200, 800, 4), 200, np.uint8)
    assert render_point_map(bgra, cluster(50, 50, 5)).shape == (200 + LH, 800, 3)


def test_write_png_round_trips_and_explains_failures(tmp_path) -> None:
    out = render_point_map(page(), cluster(300, 300, 40))
    path = write_png(tmp_path / "map.png", out)
    assert np.array_equal(cv2.imread(str(path)), out)
    with pytest.raises(OSError, match="could not write heatmap PNG"):
        write_png(tmp_path / "missing" / "map.png", out)


# -- narrow maps: text wraps, never cut ---------------------------------------------------------

PHONE_CAPTION = ("/signup.html, mobile viewport, demo_run=20261126T024218 | 2 sessions, 2 pageviews | "
                 "reference BSgPyjZG_gD8CUQC at 3.1 s | 4 not on this layout")
LONG_CAUTION = ("only 2 sessions: heatmaps need about 100 to trust; /index.html is on 2 sites: drew "
                "http://127.0.0.1:46051 (10 pageviews), not http://127.0.0.1:54939 (3); "
                "give a full URL to choose, e.g. http://127.0.0.1:54939/index.html")


def legend_line_says(img: np.ndarray, text: str, *, scale: float, colour: tuple = INK,
                     paper: tuple = PAPER, thickness: int = 1) -> bool:
    """legend_says for wrapped lines: the template holds no blank rows above or below the text,
    which the line before or after would overlap."""
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    tpl = np.full((th + base, tw + 4, 3), paper, np.uint8)
    cv2.putText(tpl, text, (2, th), FONT, scale, colour, thickness, cv2.LINE_AA)
    x, y = cv2.minMaxLoc(cv2.matchTemplate(img[:LH], tpl, cv2.TM_SQDIFF))[2]
    return np.array_equal(img[y : y + tpl.shape[0], x : x + tpl.shape[1]], tpl)


def drawn_anywhere(img: np.ndarray, text: str, scale: float, colour: tuple, paper: tuple) -> bool:
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    tpl = np.full((th + base + 4, tw + 4, 3), paper, np.uint8)
    cv2.putText(tpl, text, (2, th + 2), FONT, scale, colour, 1, cv2.LINE_AA)
    x, y = cv2.minMaxLoc(cv2.matchTemplate(img, tpl, cv2.TM_SQDIFF))[2]
    return np.array_equal(img[y : y + tpl.shape[0], x : x + tpl.shape[1]], tpl)


def test_phone_width_caption_stats_and_caution_wrap_instead_of_being_cut() -> None:
    narrow = page(400, 390)
    out = render_point_map(narrow, cluster(100, 100, 3), caption=PHONE_CAPTION, caution=LONG_CAUTION,
                           outlines=[ElementOutline(50, 50, 100, 40, 3, "Buy")])
    assert out.shape == (400 + LH, LEGEND_MIN_WIDTH, 3)  # the legend's height is the same for all
    assert np.array_equal(out[LH + 200 :, :390], narrow[200:])
    title_w = cv2.getTextSize("Heatmap: clicks", FONT, 0.7, 2)[0][0]
    lines = wrap_text(PHONE_CAPTION, LEGEND_MIN_WIDTH - 28, 0.55,
                      first_width=LEGEND_MIN_WIDTH - 14 - title_w - cv2.getTextSize("  ", FONT, 0.55, 1)[0][0] - 14)
    assert len(lines) >= 2 and " ".join(lines) == PHONE_CAPTION  # nothing dropped
    for line in lines:
        assert legend_line_says(out, line, scale=0.55, colour=MUTED), line
    assert lines[-1].endswith("4 not on this layout")
    # The stats that do not fit beside each other go on to the next line, whole.
    assert legend_says(out, "top 1 elements outlined with their clicks")
    assert legend_says(out, "3 clicks drawn")
    # The caution, set smaller to fit the room left, is all there, below the stats.
    found = []
    for scale, thickness, _ in CAUTION_STYLES:
        caution = wrap_text("CAUTION: " + LONG_CAUTION, LEGEND_MIN_WIDTH - 36, scale, thickness)
        style = {"colour": CAUTION_INK, "paper": CAUTION_FILL, "thickness": thickness}
        if all(legend_line_says(out, line, scale=scale, **style) for line in caution):
            found.append(caution)
    assert found and " ".join(found[0]) == "CAUTION: " + LONG_CAUTION
    rows = np.nonzero((out[:LH] == CAUTION_FILL).all(axis=2).any(axis=1))[0]
    stats_row = np.nonzero((out[:LH, :300] != PAPER).any(axis=2).any(axis=1))[0]
    assert rows[0] > max(r for r in stats_row if r < rows[0])  # under the stats, not over them


def test_one_click_is_singular_and_symbols_the_font_lacks_are_dropped() -> None:
    assert ascii_text("\u25b6 Watch demo") == "Watch demo" and ascii_text("a \u2713 b") == "a b"
    assert ascii_text("Caf\u00e9 \u2014 x") == "Cafe - x"
    bg = page()
    out = render_point_map(bg, cluster(480, 330, 1, spread=0),
                           outlines=[ElementOutline(400, 300, 160, 50, 1, "\u25b6 Watch demo")])
    assert legend_says(out, "1 click drawn")
    assert drawn_anywhere(out, "1 click - Watch demo", 0.45, (255, 255, 255), (30, 30, 30))
    two = render_point_map(bg, cluster(480, 330, 2, spread=0),
                           outlines=[ElementOutline(400, 300, 160, 50, 2, "Buy")], kind_label="taps")
    assert drawn_anywhere(two, "2 taps - Buy", 0.45, (255, 255, 255), (30, 30, 30))


def test_on_a_phone_page_outline_labels_go_in_the_margin_beside_their_elements() -> None:
    narrow = page(600, 390)
    near = [ElementOutline(40, 200, 300, 60, 9, "Support your customers"),  # middles 8 px apart
            ElementOutline(60, 218, 120, 30, 1, "Watch demo"),
            ElementOutline(20, 585, 200, 14, 2, "Footer link")]  # at the very bottom
    out = render_point_map(narrow, np.empty((0, 2)), outlines=near)
    margin = out[:, 390:]
    for text in ("9 clicks - Support your customers", "1 click - Watch demo", "2 clicks - Footer link"):
        assert drawn_anywhere(margin, text, 0.45, (255, 255, 255), (30, 30, 30)), text
    # Nothing is written over the page above the elements, where a badge used to sit.
    assert np.array_equal(out[LH + 150 : LH + 197, :390], narrow[150:197])
    # The labels are stacked, not piled: three separate dark bands in the margin, all inside it.
    dark = (out[LH:, 403] == (30, 30, 30)).all(axis=1)  # the labels' fill, left of their text
    starts = np.nonzero(dark[1:] & ~dark[:-1])[0]
    assert len(starts) == 3 and np.diff(starts).min() > 20 and dark.sum() == 3 * 21
    assert not dark[-3:].any()
    # Each label is joined to its element: the leader leaves the box's right edge.
    assert change(out, narrow, 345, 230) > 150


def test_an_outlined_element_at_the_top_of_the_page_keeps_its_label_off_itself() -> None:
    bg = page()
    out = render_point_map(bg, np.empty((0, 2)), outlines=[ElementOutline(400, 4, 160, 50, 2, "Accept")])
    assert drawn_anywhere(out[LH + 56 : LH + 82], "2 clicks - Accept", 0.45, (255, 255, 255), (30, 30, 30))
    assert np.array_equal(out[LH + 10 : LH + 48, 406:554], bg[10:48, 406:554])  # the element, unhidden
