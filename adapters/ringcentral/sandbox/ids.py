# SPDX-License-Identifier: MIT
"""Random ids shaped like RingCentral's, drawn from the account's seeded ``random.Random``.

Drawing from the account's generator (never ``secrets``) keeps ids reproducible for a seed.
"""

from __future__ import annotations

import random
import string


def random_alnum(rng: random.Random, n: int) -> str:
    """``n`` letters and digits (call-log record ids are 15 of these)."""
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def random_hex(rng: random.Random, n: int) -> str:
    """``n`` lowercase hex digits (the parts of a telephony session id)."""
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))
