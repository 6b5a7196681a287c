# SPDX-License-Identifier: MIT
"""Deprecated: the Zoho CRM adapter now lives in :mod:`adapters.crm.zoho`.

This module only keeps old imports working (``from adapters.zoho import ZohoAdapter`` in plug-ins
and scripts written before the vendor adapters moved into :mod:`adapters.crm`). It re-exports the
public names of :mod:`adapters.crm.zoho` (any other attribute is read from there too) and warns
with ``DeprecationWarning`` when imported: import from :mod:`adapters.crm.zoho` instead. Nothing
inside Logdesk imports it.
"""

from __future__ import annotations

import warnings
from typing import Any

from adapters.crm import zoho as _moved
from adapters.crm.zoho import (
    API_DOMAINS,
    API_PATH,
    DATA_CENTRES,
    DEFAULT_REDIRECT_PORT,
    KNOWN_RECORDS,
    MANIFEST,
    NAME,
    SCOPES,
    ZohoAdapter,
    accounts_url,
    oauth_endpoints,
    sign_in,
    trusted_accounts_server,
    version_of,
    zoho_error_parser,
)

__all__ = [
    "API_DOMAINS",
    "API_PATH",
    "DATA_CENTRES",
    "DEFAULT_REDIRECT_PORT",
    "KNOWN_RECORDS",
    "MANIFEST",
    "NAME",
    "SCOPES",
    "ZohoAdapter",
    "accounts_url",
    "oauth_endpoints",
    "sign_in",
    "trusted_accounts_server",
    "version_of",
    "zoho_error_parser",
]

warnings.warn(
    "adapters.zoho is deprecated: import from adapters.crm.zoho instead",
    DeprecationWarning,
    stacklevel=2,
)


def __getattr__(name: str) -> Any:
    # Anything else the module had before the move (helpers, private names) comes from its new home.
    return getattr(_moved, name)
