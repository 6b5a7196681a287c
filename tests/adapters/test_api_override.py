# SPDX-License-Identifier: MIT
"""The developer API-host override: https anywhere, plain http only on loopback."""

from __future__ import annotations

import httpx
import pytest

from adapters.api_override import api_base_override
from adapters.base import AuthError, Connection
from adapters.crm.hubspot import HubSpotAdapter
from adapters.crm.pipedrive import PipedriveAdapter


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://api.eu1.hubapi.com/", "https://api.eu1.hubapi.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost:8766/", "http://localhost:8766"),
        ("", None),
    ],
)
def test_safe_overrides_are_used(value: str, expected: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOGDESK_X_URL", raising=False)
    assert api_base_override({"api_base_url": value}, "LOGDESK_X_URL") == expected


@pytest.mark.parametrize("value", ["http://crm.example.com", "ftp://127.0.0.1", "127.0.0.1:8765", "https://"])
def test_unsafe_overrides_are_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGDESK_X_URL", value)
    with pytest.raises(AuthError, match="no credentials were sent"):
        api_base_override({}, "LOGDESK_X_URL")


def test_the_connection_setting_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGDESK_X_URL", "http://127.0.0.1:1")
    assert api_base_override({"api_base_url": "http://127.0.0.1:2"}, "LOGDESK_X_URL") == "http://127.0.0.1:2"


@pytest.mark.parametrize(
    ("adapter_class", "connection", "env"),
    [
        (HubSpotAdapter, Connection(secrets={"token": "t"}), "LOGDESK_HUBSPOT_URL"),
        (PipedriveAdapter, Connection(secrets={"api_token": "t"}, settings={"company_domain": "acme"}),
         "LOGDESK_PIPEDRIVE_URL"),
    ],
)
def test_an_adapter_with_an_unsafe_override_sends_nothing(
    adapter_class: type, connection: Connection, env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[httpx.Request] = []
    monkeypatch.setenv(env, "http://crm.example.com")
    client = httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200)))
    adapter = adapter_class(connection, client=client)
    try:
        with pytest.raises(AuthError, match="https URL"):
            adapter.verify()
        assert sent == []
    finally:
        client.close()
