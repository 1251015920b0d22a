"""How many bytes of events each site may send per second: a token bucket per site key.

The site key is public (it sits in every recorded page), so a leaked key, a runaway page or a load
test against staging could otherwise fill the disk and starve every other site's visitors. Over
budget, a chunk gets 429 with `Retry-After`; the snippet keeps it and retries, so nothing is lost
to a short burst.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class SiteBudget:
    """`rate` bytes per second per site, with bursts up to `burst` bytes; `rate <= 0` is no limit."""

    def __init__(self, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = max(burst, rate)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # site -> (tokens, when)

    def take(self, site: str, amount: int) -> float:
        """Spend `amount` bytes of `site`'s budget: 0 when granted, else the seconds to wait.

        A chunk larger than the whole burst is granted once the bucket is full, so it can never be
        refused forever; it leaves the bucket in debt.
        """
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, when = self._buckets.get(site, (self.burst, now))
        tokens = min(self.burst, tokens + (now - when) * self.rate)
        if tokens >= min(amount, self.burst):
            self._buckets[site] = (tokens - amount, now)
            return 0.0
        self._buckets[site] = (tokens, now)
        return (min(amount, self.burst) - tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
