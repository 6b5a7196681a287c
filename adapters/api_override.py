# SPDX-License-Identifier: MIT
"""The developer option that points an adapter at another API host (a fake on loopback).

An adapter reads its override from the connection setting ``api_base_url`` or, failing that, an
environment variable named after the CRM (``LOGDESK_HUBSPOT_URL``). Credentials follow the
override, so only an ``https`` URL or a plain ``http`` URL on this machine's loopback is accepted;
anything else is refused with :class:`~adapters.base.AuthError` naming the setting, never used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from adapters.base import AuthError

#: The connection setting that overrides an adapter's API host (not shown on the connect form).
SETTING_API_BASE_URL = "api_base_url"

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def api_base_override(settings: Mapping[str, str], env_var: str) -> str | None:
    """The overriding base URL without a trailing slash, or ``None`` when there is none.

    Raises:
        AuthError: the override would send credentials somewhere unsafe (plain http off loopback,
            or not a URL at all).
    """
    raw = (settings.get(SETTING_API_BASE_URL) or os.environ.get(env_var) or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    where = f"{SETTING_API_BASE_URL} / {env_var}"
    if parts.scheme == "https" and parts.hostname:
        return raw.rstrip("/")
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return raw.rstrip("/")
    raise AuthError(
        f"The API address override ({where}) must be an https URL or an http URL on 127.0.0.1; "
        f"{raw!r} is neither, so no credentials were sent."
    )
