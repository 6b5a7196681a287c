# SPDX-License-Identifier: MIT
"""Deprecated: the Pipedrive adapter now lives in :mod:`adapters.crm.pipedrive`.

This module only keeps old imports working (``from adapters.pipedrive import PipedriveAdapter`` in
plug-ins and scripts written before the vendor adapters moved into :mod:`adapters.crm`). It
re-exports the public names of :mod:`adapters.crm.pipedrive` (any other attribute is read from
there too) and warns with ``DeprecationWarning`` when imported: import from
:mod:`adapters.crm.pipedrive` instead. Nothing inside Logdesk imports it.
"""

from __future__ import annotations

import warnings
from typing import Any

from adapters.crm import pipedrive as _moved
from adapters.crm.pipedrive import (
    CRM,
    ENV_BASE_URL,
    MAX_PERSONS,
    MAX_REFUSAL_PAUSE,
    NOTE_LIMIT,
    RELATED,
    PipedriveAdapter,
    format_duration,
    normalize_domain,
    parse_duration,
    parse_pipedrive_error,
)

__all__ = [
    "CRM",
    "ENV_BASE_URL",
    "MAX_PERSONS",
    "MAX_REFUSAL_PAUSE",
    "NOTE_LIMIT",
    "RELATED",
    "PipedriveAdapter",
    "format_duration",
    "normalize_domain",
    "parse_duration",
    "parse_pipedrive_error",
]

warnings.warn(
    "adapters.pipedrive is deprecated: import from adapters.crm.pipedrive instead",
    DeprecationWarning,
    stacklevel=2,
)


def __getattr__(name: str) -> Any:
    # Anything else the module had before the move (helpers, private names) comes from its new home.
    return getattr(_moved, name)
