# SPDX-License-Identifier: MIT
"""The grant store the fake CRMs' OAuth servers share: one-time authorization codes with PKCE
S256 verification, grants keyed by their refresh token, and the access tokens issued from them.

What stays in each fake is what differs between vendors: which clients and redirect URIs are
accepted, the token formats, how long things live, and the error bodies sent back. The store
only answers questions ("is this code good for this client?", "which grant owns this token?")
and records what happened; it never builds an HTTP response.

Times are whatever the fake's clock gives (a ``datetime`` or seconds as a ``float``): the store
only compares them with ``now()``.

Threading: not locked itself; each fake calls it while holding its own lock.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

#: Why a code could not be exchanged: unknown, used, expired or another client's; issued for
#: another redirect URI; or the verifier does not match the challenge.
CodeRefusal = Literal["invalid_code", "redirect_mismatch", "pkce_failed"]


def pkce_s256(verifier: str) -> str:
    """The S256 code challenge for ``verifier`` (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class AuthCode:
    """An authorization code handed out on the redirect, good for one exchange.

    ``extra`` carries what a vendor remembers besides (Zoho's ``offline`` access type, ...).
    """

    client_id: str
    redirect_uri: str
    challenge: str | None
    expires: Any
    scopes: tuple[str, ...] = ()
    user_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    used: bool = False


@dataclass
class Grant:
    """An approved connection: its refresh token and the access tokens issued from it."""

    client_id: str = ""
    scopes: tuple[str, ...] = ()
    user_id: str = ""
    refresh_token: str = ""
    revoked: bool = False
    access: dict[str, Any] = field(default_factory=dict)  # access token -> expiry


class GrantStore:
    """Codes and grants of one fake OAuth server.

    Args:
        now: the fake's clock, compared with code and token expiries.
    """

    def __init__(self, now: Callable[[], Any]) -> None:
        self._now = now
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}

    # --- codes --------------------------------------------------------------------------------

    def add_code(self, code: str, entry: AuthCode) -> str:
        self.codes[code] = entry
        return code

    def redeem_code(
        self, code: str, *, client_id: str, redirect_uri: str | None, verifier: str
    ) -> AuthCode | CodeRefusal:
        """Exchange ``code`` once: the code is spent even when the redirect URI or verifier is wrong.

        The verifier is checked only when the code was issued with a challenge; an empty
        verifier never matches.
        """
        entry = self.codes.get(code)
        if entry is None or entry.used or entry.expires < self._now() or entry.client_id != client_id:
            return "invalid_code"
        entry.used = True
        if redirect_uri != entry.redirect_uri:
            return "redirect_mismatch"
        if entry.challenge is not None and (not verifier or pkce_s256(verifier) != entry.challenge):
            return "pkce_failed"
        return entry

    # --- grants and tokens --------------------------------------------------------------------

    def add_grant(self, key: str, grant: Grant) -> Grant:
        """Keep ``grant`` under ``key`` (its refresh token, or any unique name for a grant without one)."""
        self.grants[key] = grant
        return grant

    def by_refresh(self, refresh_token: str, client_id: str | None = None) -> Grant | None:
        """The live grant whose refresh token this is (and, if given, issued to ``client_id``)."""
        grant = self.grants.get(refresh_token)
        if grant is None or grant.revoked or (client_id is not None and grant.client_id != client_id):
            return None
        return grant

    def issue_access(self, grant: Grant, token: str, expires: Any) -> str:
        grant.access[token] = expires
        return token

    def find_access(self, token: str) -> tuple[Grant, Any] | None:
        """The grant that issued access token ``token`` and the token's expiry, revoked or not."""
        for grant in self.grants.values():
            expiry = grant.access.get(token)
            if expiry is not None:
                return grant, expiry
        return None

    def __iter__(self) -> Iterator[Grant]:
        return iter(self.grants.values())

    def revoke(self, grant: Grant, *, forget_access: bool = True) -> None:
        grant.revoked = True
        if forget_access:
            grant.access.clear()

    def revoke_all(self, *, forget_access: bool = True) -> None:
        """The user (or an admin) took the app's access away: no token of any grant works again."""
        for grant in self.grants.values():
            self.revoke(grant, forget_access=forget_access)
