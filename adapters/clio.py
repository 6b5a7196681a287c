# SPDX-License-Identifier: MIT
"""Deprecated: the Clio adapter now lives in :mod:`adapters.crm.clio`.

This module only keeps old imports working (``from adapters.clio import ClioAdapter`` in plug-ins
and scripts written before the vendor adapters moved into :mod:`adapters.crm`). It re-exports the
public names of :mod:`adapters.crm.clio` (any other attribute is read from there too) and warns
with ``DeprecationWarning`` when imported: import from :mod:`adapters.crm.clio` instead. Nothing
inside Logdesk imports it.
"""

from __future__ import annotations

import warnings
from typing import Any

from adapters.crm import clio as _moved
from adapters.crm.clio import (
    API_PATH,
    DEFAULT_REDIRECT_PORT,
    MANIFEST,
    NAME,
    REGIONS,
    TIME_BILLABLE,
    TIME_NON_BILLABLE,
    TIME_NONE,
    ClioAdapter,
    clio_error_parser,
    host_for,
    oauth_endpoints,
    reduce_candidates,
    sign_in,
)

__all__ = [
    "API_PATH",
    "DEFAULT_REDIRECT_PORT",
    "MANIFEST",
    "NAME",
    "REGIONS",
    "TIME_BILLABLE",
    "TIME_NONE",
    "TIME_NON_BILLABLE",
    "ClioAdapter",
    "clio_error_parser",
    "host_for",
    "oauth_endpoints",
    "reduce_candidates",
    "sign_in",
]

warnings.warn(
    "adapters.clio is deprecated: import from adapters.crm.clio instead",
    DeprecationWarning,
    stacklevel=2,
)


def __getattr__(name: str) -> Any:
    # Anything else the module had before the move (helpers, private names) comes from its new home.
    return getattr(_moved, name)
