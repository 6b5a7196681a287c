# SPDX-License-Identifier: MIT
"""Deprecated: the Local CRM now lives in :mod:`adapters.crm.local`.

This module only keeps old imports working (``from adapters.local import LocalCrm`` in plug-ins and
scripts written before the vendor adapters moved into :mod:`adapters.crm`). It re-exports the
public names of :mod:`adapters.crm.local` (any other attribute is read from there too) and warns
with ``DeprecationWarning`` when imported: import from :mod:`adapters.crm.local` instead. Nothing
inside Logdesk imports it.
"""

from __future__ import annotations

import warnings
from typing import Any

from adapters.crm import local as _moved
from adapters.crm.local import (
    ADAPTER_ID,
    CRM_NAME,
    DEFAULT_DISPOSITIONS,
    ConflictError,
    LocalCrm,
)

__all__ = [
    "ADAPTER_ID",
    "CRM_NAME",
    "DEFAULT_DISPOSITIONS",
    "ConflictError",
    "LocalCrm",
]

warnings.warn(
    "adapters.local is deprecated: import from adapters.crm.local instead",
    DeprecationWarning,
    stacklevel=2,
)


def __getattr__(name: str) -> Any:
    # Anything else the module had before the move (helpers, private names) comes from its new home.
    return getattr(_moved, name)
