"""One rule for which device a viewport is: the store's device column and a heatmap's viewport
bucket come from it, so a session filed as a tablet is drawn on the tablet map."""

from __future__ import annotations

import pytest

from plumbing.devices import DEVICES, TYPICAL_WIDTHS, VIEWPORT_BUCKETS, classify_device, viewport_bucket

from heatmap import Segment


@pytest.mark.parametrize("width, device", [
    (0, "mobile"), (390, "mobile"), (767, "mobile"), (767.5, "mobile"),
    (768, "tablet"), (820, "tablet"), (1023.9, "tablet"),
    (1024, "desktop"), (1280, "desktop"), (7680, "desktop"), (250_000, "desktop"),
])
def test_every_width_is_in_exactly_one_bucket(width: float, device: str) -> None:
    assert classify_device(width) == device == viewport_bucket(width)[0]
    name, low, high = viewport_bucket(width)
    assert low <= width < high + 1 or name == VIEWPORT_BUCKETS[-1][0]


def test_without_a_width_the_user_agent_decides() -> None:
    assert classify_device(None, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148") == "mobile"
    assert classify_device(None, "Mozilla/5.0 (X11; Linux x86_64)") == "desktop"


def test_each_device_has_a_typical_width_inside_its_bucket_and_segments_name_it() -> None:
    assert set(DEVICES) == set(TYPICAL_WIDTHS) == {name for name, _, _ in VIEWPORT_BUCKETS}
    for device, width in TYPICAL_WIDTHS.items():
        assert classify_device(width) == device
        assert Segment(viewport_w=width).bucket_label().startswith(f"{device} viewports")
