# SPDX-License-Identifier: MIT
"""RingCentral: the REST client (:mod:`.client`), sign-in (:mod:`.auth`), rate limits
(:mod:`.ratelimit`), response models (:mod:`.models`) and a simulated account (:mod:`.sandbox`)."""
