# SPDX-License-Identifier: MIT
"""Deprecated: the Salesforce adapter now lives in :mod:`adapters.crm.salesforce`.

This module only keeps old imports working (``from adapters.salesforce import SalesforceAdapter``
in plug-ins and scripts written before the vendor adapters moved into :mod:`adapters.crm`). It
re-exports the public names of :mod:`adapters.crm.salesforce` (any other attribute is read from
there too) and warns with ``DeprecationWarning`` when imported: import from
:mod:`adapters.crm.salesforce` instead. Nothing inside Logdesk imports it.
"""

from __future__ import annotations

import warnings
from typing import Any

from adapters.crm import salesforce as _moved
from adapters.crm.salesforce import (
    API_VERSION,
    BODY_LIMIT,
    CALL_RESULT,
    CRM,
    DEFAULT_CALL_RESULTS,
    DEFAULT_LOGIN_HOST,
    DEFAULT_REDIRECT_PORT,
    DEFAULT_SESSION_MINUTES,
    DISPOSITION_LIMIT,
    MANIFEST,
    REDIRECT_PATH,
    REFRESH_MARGIN,
    RELATED_TO,
    SANDBOX_LOGIN_HOST,
    SCOPES,
    SUBJECT_LIMIT,
    USAGE_RECHECK_SECONDS,
    USAGE_RESERVE,
    SalesforceAdapter,
    SalesforceErrorParser,
    escape_sosl,
    if_unmodified_since,
    login_base_url,
    oauth_endpoints,
    parse_salesforce_error,
    parse_sf_datetime,
    session_seconds,
    sign_in,
    soql_string,
    with_expiry,
)

__all__ = [
    "API_VERSION",
    "BODY_LIMIT",
    "CALL_RESULT",
    "CRM",
    "DEFAULT_CALL_RESULTS",
    "DEFAULT_LOGIN_HOST",
    "DEFAULT_REDIRECT_PORT",
    "DEFAULT_SESSION_MINUTES",
    "DISPOSITION_LIMIT",
    "MANIFEST",
    "REDIRECT_PATH",
    "REFRESH_MARGIN",
    "RELATED_TO",
    "SANDBOX_LOGIN_HOST",
    "SCOPES",
    "SUBJECT_LIMIT",
    "USAGE_RECHECK_SECONDS",
    "USAGE_RESERVE",
    "SalesforceAdapter",
    "SalesforceErrorParser",
    "escape_sosl",
    "if_unmodified_since",
    "login_base_url",
    "oauth_endpoints",
    "parse_salesforce_error",
    "parse_sf_datetime",
    "session_seconds",
    "sign_in",
    "soql_string",
    "with_expiry",
]

warnings.warn(
    "adapters.salesforce is deprecated: import from adapters.crm.salesforce instead",
    DeprecationWarning,
    stacklevel=2,
)


def __getattr__(name: str) -> Any:
    # Anything else the module had before the move (helpers, private names) comes from its new home.
    return getattr(_moved, name)
