# SPDX-License-Identifier: MIT
"""Deprecated: the HubSpot adapter now lives in :mod:`adapters.crm.hubspot`.

This module only keeps old imports working (``from adapters.hubspot import HubSpotAdapter`` in
plug-ins and scripts written before the vendor adapters moved into :mod:`adapters.crm`). It
re-exports the public names of :mod:`adapters.crm.hubspot` (any other attribute is read from there
too) and warns with ``DeprecationWarning`` when imported: import from :mod:`adapters.crm.hubspot`
instead. Nothing inside Logdesk imports it.
"""

from __future__ import annotations

import warnings
from typing import Any

from adapters.crm import hubspot as _moved
from adapters.crm.hubspot import (
    API_BASE,
    BODY_LIMIT,
    CALL_TO_COMPANY,
    CALL_TO_CONTACT,
    CRM,
    DAILY_LIMIT_PAUSE,
    DEFAULT_OUTCOMES,
    ENV_BASE_URL,
    KNOWN_RECORDS,
    MAX_TYPED_VARIANTS,
    RECOVERY_CONTACTS,
    HubSpotAdapter,
    call_status,
    parse_hubspot_error,
)

__all__ = [
    "API_BASE",
    "BODY_LIMIT",
    "CALL_TO_COMPANY",
    "CALL_TO_CONTACT",
    "CRM",
    "DAILY_LIMIT_PAUSE",
    "DEFAULT_OUTCOMES",
    "ENV_BASE_URL",
    "KNOWN_RECORDS",
    "MAX_TYPED_VARIANTS",
    "RECOVERY_CONTACTS",
    "HubSpotAdapter",
    "call_status",
    "parse_hubspot_error",
]

warnings.warn(
    "adapters.hubspot is deprecated: import from adapters.crm.hubspot instead",
    DeprecationWarning,
    stacklevel=2,
)


def __getattr__(name: str) -> Any:
    # Anything else the module had before the move (helpers, private names) comes from its new home.
    return getattr(_moved, name)
