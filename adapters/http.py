# SPDX-License-Identifier: MIT
"""Shared HTTP plumbing for adapters: transport failures and status codes → the error hierarchy.

An adapter calls :func:`send` for every request and gives it a function that pulls the vendor's
human message out of an error body; everything else (timeouts, resets, 4xx/5xx, ``Retry-After``,
bodies that are not JSON) is mapped here, once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from adapters.base import (
    AdapterError,
    AuthError,
    ConflictError,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationError,
)

#: Pulls (message, field) out of a vendor's error body; either may be None.
ErrorParser = Callable[[Any], tuple[str | None, str | None]]


def default_error_parser(raw_body: Any) -> tuple[str | None, str | None]:
    """Finds a message in the common shapes: ``{"message"}``, ``{"error"}``, ``{"errors":[...]}``."""
    if isinstance(raw_body, dict):
        for key in ("message", "error_description", "error", "detail", "title"):
            value = raw_body.get(key)
            if isinstance(value, str) and value:
                return value, raw_body.get("field") if isinstance(raw_body.get("field"), str) else None
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return value["message"], None
        errors = raw_body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            msg = first.get("message") or first.get("errorMessage")
            fld = first.get("field") or first.get("parameterName")
            return (str(msg) if msg else None, str(fld) if fld else None)
    if isinstance(raw_body, list) and raw_body and isinstance(raw_body[0], dict):
        return default_error_parser(raw_body[0])
    return None, None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_for_response(
    response: httpx.Response, *, crm: str, parse: ErrorParser = default_error_parser
) -> AdapterError:
    """The exception that describes a non-2xx response, with the vendor's words kept."""
    status = response.status_code
    try:
        raw_body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raw_body = None
    vendor_message, field = parse(raw_body) if raw_body is not None else (None, None)
    if vendor_message is None:
        text = response.text.strip()
        vendor_message = text[:300] if text else None
    kw: dict[str, Any] = {"vendor_message": vendor_message, "status": status}
    if status == 401:
        return AuthError(f"{crm} did not accept the saved credentials. Reconnect {crm} in Settings.", **kw)
    if status == 403:
        return PermissionDenied(f"{crm} refused this: the connected user lacks permission.", **kw)
    if status == 404 or status == 410:
        return NotFound(f"{crm} could not find that record.", **kw)
    if status in (409, 412):
        return ConflictError(f"The record changed in {crm} since it was read.", **kw)
    if status == 429:
        retry = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimited(f"{crm} asks to slow down.", retry_after=retry, **kw)
    if status in (400, 422):
        what = f" ({field})" if field else ""
        return ValidationError(f"{crm} rejected a value{what}.", field=field, **kw)
    if status >= 500:
        return TransientError(f"{crm} had a server error ({status}); will retry.", **kw)
    return AdapterError(f"{crm} answered {status}.", **kw)


def transport_failure(exc: httpx.TransportError, *, crm: str) -> TransientError:
    """The error for a request that got no answer: a timeout or a connection that failed."""
    if isinstance(exc, httpx.TimeoutException):
        return TransientError(f"{crm} did not answer in time; will retry.", vendor_message=str(exc) or None)
    return TransientError(f"Could not reach {crm}; will retry.", vendor_message=str(exc) or None)


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    crm: str,
    parse: ErrorParser = default_error_parser,
    **kwargs: Any,
) -> httpx.Response:
    """Sends one request; returns the response if it is 2xx, raises an :class:`AdapterError` otherwise."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TransportError as exc:  # timeouts included
        raise transport_failure(exc, crm=crm) from exc
    if response.is_success:
        return response
    raise error_for_response(response, crm=crm, parse=parse)


def json_body(response: httpx.Response, *, crm: str) -> Any:
    """The decoded JSON body, or :class:`MalformedResponse` naming what was wrong."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        snippet = response.text[:80].replace("\n", " ")
        raise MalformedResponse(
            f"{crm} sent a response that is not JSON.", vendor_message=snippet or None, status=response.status_code
        ) from exc
