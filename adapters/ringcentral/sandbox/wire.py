# SPDX-License-Identifier: MIT
"""What travels between a client and the sandbox: requests, responses and RingCentral's error bodies.

Both ways in (:mod:`~.server`: the in-process transport and the loopback sockets) turn an HTTP
request into a :class:`SandboxRequest` and hand it to anything that is a :class:`SandboxApp` (the
:class:`~.account.SandboxAccount`); they write its :class:`SandboxResponse` back. Nothing here
imports the account, so the server and the account's areas can both build on this module.

Areas of the account (OAuth, the call log, recordings, ...) declare what they answer as
:class:`Route` values; the account registers every area's routes in one table and dispatches on it.

The error bodies follow RingCentral's three shapes: the REST API's (:func:`api_error`: top-level
``errorCode``/``message`` plus ``errors[]``), OAuth's (:func:`oauth_error`: RFC 6749 fields plus
``errors[]``) and the ``/ai`` API's (:func:`ai_error`: ``errors[]`` only).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl


@dataclass
class SandboxRequest:
    """One HTTP request, whichever way it arrived.

    Attributes:
        host: ``"platform"`` or ``"media"``.
        platform_base: e.g. ``http://127.0.0.1:49152``, used to build absolute URIs.
        media_base: the media host's base URL.
    """

    method: str
    host: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes
    platform_base: str
    media_base: str

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def params(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


@dataclass
class SandboxResponse:
    """One HTTP response. ``fault`` asks the transport to misbehave (``timeout``, ``truncated``)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    fault: str | None = None


class SandboxApp(Protocol):
    """What the transport and the server need from an account (:class:`~.account.SandboxAccount`).

    Attributes:
        hang_seconds: how long the socket server holds a connection it answers with a ``timeout``
            fault before dropping it.
    """

    hang_seconds: float

    def handle(self, req: SandboxRequest) -> SandboxResponse:
        """Answers one request; called from many threads."""
        ...

    def close(self) -> None:
        """Stops the app's background threads (its WebSocket gateway); it stays usable."""
        ...


#: Answers a request; gets the groups of the route's pattern.
Handler = Callable[[SandboxRequest, tuple[str, ...]], SandboxResponse]

#: An account or extension id in a path: digits, or ``~`` for the caller's own.
ID_OR_ME = r"(?:~|\d+)"

#: Route-pattern prefix of the account's REST resources.
ACCOUNT_PATH = f"/restapi/v1.0/account/{ID_OR_ME}"

#: Route-pattern prefix of the caller's extension.
EXTENSION_PATH = f"{ACCOUNT_PATH}/extension/{ID_OR_ME}"


@dataclass(frozen=True)
class Route:
    """One route an area answers.

    Attributes:
        method: the HTTP method; another method on a matching path gets 405 ``CMN-405``.
        host: ``"platform"``, ``"media"`` or ``"any"``; the other host gets 404 ``CMN-102``.
        pattern: a regular expression the whole path must match; its groups go to the handler.
        group: the rate-limit group (``Heavy``, ``Medium``, ``Light``, ``Auth``); ``None``: neither
            rate-limited nor subject to faults (the control API).
        needs_auth: a bearer access token is required; its owner is the rate-limit key.
        handler: answers the request (called with the account lock held).
    """

    method: str
    host: str
    pattern: str
    group: str | None
    needs_auth: bool
    handler: Handler


class Area(Protocol):
    """A part of the API with its own state; the account registers its :meth:`routes`."""

    def routes(self) -> list[Route]:
        """The routes this area answers, in matching order."""
        ...


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> SandboxResponse:
    """A compact JSON body with RingCentral's ``Content-Type``."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return SandboxResponse(status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body)


def api_error_body(code: str, message: str, *, parameter: str | None = None, **top: Any) -> dict[str, Any]:
    """RingCentral's REST error body as a dict (also the body of a failed request over the WebSocket)."""
    entry: dict[str, Any] = {"errorCode": code, "message": message}
    if parameter is not None:
        entry["parameterName"] = parameter
    return {"errorCode": code, "message": message, "errors": [entry], **top}


def api_error(status: int, code: str, message: str, *, parameter: str | None = None, **top: Any) -> SandboxResponse:
    """RingCentral's REST error body: top-level ``errorCode``/``message`` plus ``errors[]``."""
    return json_response(status, api_error_body(code, message, parameter=parameter, **top))


def insufficient_permissions(permission: str) -> SandboxResponse:
    """403 ``InsufficientPermissions`` / ``CMN-401``: the app lacks ``permission`` [D basics/errors.md]."""
    message = f"In order to call this API endpoint, application needs to have [{permission}] permission"
    return json_response(
        403,
        {
            "errorCode": "InsufficientPermissions",
            "message": message,
            "errors": [{"errorCode": "CMN-401", "message": message, "permissionName": permission}],
            "permissionName": permission,
        },
    )


def oauth_error(status: int, error: str, code: str, message: str) -> SandboxResponse:
    """RingCentral's OAuth error body: RFC 6749 fields plus ``errors[]``."""
    return json_response(
        status,
        {"error": error, "errors": [{"errorCode": code, "message": message}], "error_description": message},
    )


def token_invalid(code: str, message: str) -> SandboxResponse:
    """A 401 for an unknown, revoked or expired access token."""
    return json_response(
        401, {"errorCode": "TokenInvalid", "message": message, "errors": [{"errorCode": code, "message": message}]}
    )


def ai_error(status: int, code: str, message: str) -> SandboxResponse:
    """The ``/ai`` error body: ``errors[]`` only, no top-level code."""
    return json_response(status, {"errors": [{"errorCode": code, "message": message}]})


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def pattern_match(pattern: str, path: str) -> tuple[str, ...] | None:
    """The groups of ``pattern`` matching the whole ``path``, or ``None``."""
    match = _compiled(pattern).fullmatch(path)
    return match.groups() if match else None
