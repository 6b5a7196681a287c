# SPDX-License-Identifier: MIT
"""The fault injector's answers of the wrong shape: the fake's own answer, reshaped once."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.testing.faults import FaultInjector, swap_types


def _fake(status: int = 200, body: object = None) -> httpx.MockTransport:
    faults = FaultInjector()

    def answer(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, json=body)

    def handle(request: httpx.Request) -> httpx.Response:
        return faults.take(request, answer) or answer(request)

    transport = httpx.MockTransport(handle)
    transport.faults = faults  # type: ignore[attr-defined]
    return transport


def test_swap_types_sends_text_as_numbers_and_numbers_as_text_keeping_keys_and_nulls() -> None:
    raw = {"data": [{"id": "1001", "version": 3, "done": True, "note": None, "tags": ["a"]}]}
    assert swap_types(raw) == {"data": [{"id": 5, "version": "3", "done": "yes", "note": None, "tags": [2]}]}


def test_wrong_shape_reshapes_the_next_answer_once() -> None:
    record = {"data": {"id": "1001", "subject": "Call"}}
    transport = _fake(body=record)
    transport.faults.inject("wrong_shape")  # type: ignore[attr-defined]
    with httpx.Client(transport=transport) as client:
        first = client.get("https://crm.example/v1/x")
        second = client.get("https://crm.example/v1/x")
    assert first.status_code == 200 and first.json() == swap_types(record)
    assert second.json() == record


def test_wrong_shape_takes_a_reshaping_function() -> None:
    transport = _fake(body={"data": {"id": "1001", "subject": "Call"}})
    transport.faults.inject("wrong_shape", body=lambda raw: {"data": {"id": raw["data"]["id"]}})  # type: ignore[attr-defined]
    with httpx.Client(transport=transport) as client:
        assert client.get("https://crm.example/v1/x").json() == {"data": {"id": "1001"}}


def test_wrong_shape_waits_for_an_answer_with_a_json_body() -> None:
    faults = FaultInjector()
    answers = iter([httpx.Response(204), httpx.Response(200, json={"id": "7"})])

    def handle(request: httpx.Request) -> httpx.Response:
        return faults.take(request, lambda _: next(answers)) or next(answers)

    faults.inject("wrong_shape")
    with httpx.Client(transport=httpx.MockTransport(handle)) as client:
        assert client.patch("https://crm.example/v1/x").status_code == 204
        assert json.loads(client.get("https://crm.example/v1/x").content) == {"id": 2}
    assert faults.pending == 0


def test_wrong_shape_without_the_fakes_answer_says_how_to_pass_it() -> None:
    faults = FaultInjector()
    faults.inject("wrong_shape")
    with pytest.raises(TypeError, match="answer"):
        faults.take(httpx.Request("GET", "https://crm.example/v1/x"))
