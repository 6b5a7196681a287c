# SPDX-License-Identifier: MIT
"""The shared status and transport mapping every adapter sends through."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from adapters.base import (
    AuthError,
    ConflictError,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationError,
)
from adapters.http import json_body, parse_retry_after, send


def _client(handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), base_url="https://crm.test")


def test_a_timeout_becomes_a_transient_error_that_says_it_will_retry() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    with pytest.raises(TransientError, match="Acme did not answer in time; will retry"):
        send(_client(handler), "GET", "/x", crm="Acme")


def test_a_refused_connection_becomes_a_transient_error_naming_the_crm() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TransientError, match="Could not reach Acme; will retry") as info:
        send(_client(handler), "GET", "/x", crm="Acme")
    assert info.value.vendor_message == "connection refused"


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthError), (403, PermissionDenied), (404, NotFound), (409, ConflictError), (412, ConflictError),
     (400, ValidationError), (422, ValidationError), (500, TransientError), (503, TransientError)],
)
def test_status_codes_map_to_the_error_hierarchy_and_keep_the_vendors_words(status: int, error: type) -> None:
    client = _client(lambda request: httpx.Response(status, json={"message": "the vendor's words", "field": "subject"}))
    with pytest.raises(error) as info:
        send(client, "POST", "/x", crm="Acme")
    assert info.value.vendor_message == "the vendor's words" and info.value.status == status


def test_a_rejected_field_is_named() -> None:
    body = {"errors": [{"message": "too long", "field": "subject"}]}
    client = _client(lambda request: httpx.Response(422, json=body))
    with pytest.raises(ValidationError) as info:
        send(client, "POST", "/x", crm="Acme")
    assert info.value.field == "subject" and "(subject)" in info.value.message


def test_429_carries_retry_after_in_seconds() -> None:
    client = _client(lambda request: httpx.Response(429, headers={"Retry-After": "12"}, text="slow down"))
    with pytest.raises(RateLimited) as info:
        send(client, "GET", "/x", crm="Acme")
    assert info.value.retry_after == 12.0 and info.value.vendor_message == "slow down"


def test_retry_after_as_an_http_date_is_converted_to_seconds() -> None:
    now = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Tue, 24 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("not a date") is None
    assert parse_retry_after(None) is None


def test_a_body_that_is_not_json_is_a_malformed_response() -> None:
    response = httpx.Response(200, text="<html>proxy error</html>")
    with pytest.raises(MalformedResponse, match="not JSON") as info:
        json_body(response, crm="Acme")
    assert info.value.vendor_message == "<html>proxy error</html>"
