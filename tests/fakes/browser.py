# SPDX-License-Identifier: MIT
"""The system browser, played for sign-in tests against the fake CRMs' OAuth servers."""

from __future__ import annotations

from collections.abc import Callable

import httpx


def play_browser(client: httpx.Client, *, lands_on: int = 200) -> Callable[[str], None]:
    """An ``open_url`` for a sign-in: GET the authorize page through ``client`` (the fake answers
    at once with a 302) and follow that redirect to the loopback receiver on a real socket.

    Args:
        client: reaches the fake's authorize page (in-process or on loopback).
        lands_on: the status the loopback receiver must answer the redirect with.
    """

    def open_url(url: str) -> None:
        answer = client.get(url)
        assert answer.status_code == 302, answer.text
        with httpx.Client() as browser:  # the loopback receiver is a real socket
            landed = browser.get(answer.headers["Location"])
        assert landed.status_code == lands_on

    return open_url
