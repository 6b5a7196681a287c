# SPDX-License-Identifier: MIT
"""The contract suite can fail: adapters with the classic mistakes are caught.

Each mutant is the template adapter with one mistake; the contract test named beside it must
fail against it (and passes against the unmodified template in test_template_contract.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.base import AuthError
from adapters.models import Call, CallLogRef, Contact, Direction, LogEntry, LogUpdate, StoredCallLog
from adapters.template.acme import AcmeAdapter
from adapters.template.acme_harness import AcmeHarness
from adapters.testing import CrmAdapterContract

_FAILED = (AssertionError, pytest.fail.Exception, httpx.HTTPError)
_WRONG_SHAPE = "test_answer_of_the_wrong_shape_is_malformed_response_never_a_leak"
_FACTS = "test_direction_start_duration_and_contact_reach_the_crm"


class IgnoresVersion(AcmeAdapter):
    """Drops the precondition: overwrites whatever a person changed meanwhile."""

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        return super().update_call_log(ref, change)


class ResendsWholeRecord(AcmeAdapter):
    """Recomposes: every update sends the subject and note it created, clobbering CRM edits."""

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        created = self._created[ref.log_id]
        full = change.model_copy(update={"subject": change.subject or created[0], "body": change.body or created[1]})
        return super().update_call_log(ref, full, expected_version=expected_version)

    def create_call_log(self, call: Any, contact: Contact, entry: Any) -> CallLogRef:
        ref = super().create_call_log(call, contact, entry)
        if not hasattr(self, "_created"):
            self._created: dict[str, tuple[str, str]] = {}
        self._created[ref.log_id] = (entry.subject, entry.body)
        return ref


class SearchesE164Only(AcmeAdapter):
    """Sends RingCentral's E.164 to a CRM that matches stored text exactly."""

    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        if is_extension:
            return super().find_contact(phone, is_extension=True)
        raw = self._request("GET", "/v1/contacts", params=[("phone", phone)])
        return [Contact(id=r["id"], name=r["name"], phone=r["phone"]) for r in raw]


class LeaksHttpErrors(AcmeAdapter):
    """Lets httpx exceptions escape instead of mapping them to the hierarchy."""

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        response = self._client.get(f"{self._base}/v1/activities/{ref.log_id}", headers=self._auth)
        response.raise_for_status()
        return self._stored(response.json()["data"])


class LeaksValidationErrors(AcmeAdapter):
    """Validates Acme's JSON with pydantic but lets pydantic's ValidationError escape."""

    @staticmethod
    def _parse(model: Any, raw: Any) -> Any:
        return model.model_validate(raw)


class ReadsNumbersAsText(AcmeAdapter):
    """Coerces whatever Acme sends into text: a number in the note field becomes the note."""

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        raw = self._request("GET", f"/v1/activities/{ref.log_id}")
        return StoredCallLog(
            ref=CallLogRef(adapter_id="acme", log_id=ref.log_id, version=str(raw.get("version"))),
            subject=str(raw.get("subject")),
            body=str(raw.get("note")),
        )


class LogsEveryCallAsInboundWithoutDuration(AcmeAdapter):
    """Writes the note and forgets the call's facts: every call "inbound", no duration."""

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        inbound = call.model_copy(update={"direction": Direction.INBOUND})
        return super().create_call_log(inbound, contact, entry.model_copy(update={"duration_seconds": None}))


class StampsTheLoggingTime(AcmeAdapter):
    """Sends when the call was logged as its start."""

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        return super().create_call_log(call.model_copy(update={"start_time": datetime.now(UTC)}), contact, entry)


class IgnoresLateDurations(AcmeAdapter):
    """Writes the duration known at create, never the final one sent with an update."""

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        return super().update_call_log(ref, change.model_copy(update={"duration_seconds": None}))


class LinksTheFirstMatch(AcmeAdapter):
    """Ignores the contact the agent chose and links the first one with the caller's number."""

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        first = self.find_contact(call.remote.phone_number or "")[0]
        return super().create_call_log(call, first, entry)


class TruncatesSilently(AcmeAdapter):
    """Cuts a long subject to fit instead of refusing it: the agent's text is lost unnoticed."""

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        if change.subject is not None:
            change = change.model_copy(update={"subject": change.subject[:200]})
        return super().update_call_log(ref, change, expected_version=expected_version)


class ServesCachedBody(AcmeAdapter):
    """Answers get_call_log from what it wrote, not from what the CRM holds now."""

    def create_call_log(self, call: Any, contact: Contact, entry: Any) -> CallLogRef:
        ref = super().create_call_log(call, contact, entry)
        self.__dict__.setdefault("_cache", {})[ref.log_id] = super().get_call_log(ref)
        return ref

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        cache: dict[str, StoredCallLog] = self.__dict__.setdefault("_cache", {})
        return cache.get(ref.log_id) or super().get_call_log(ref)


class ForgetsLogs(AcmeAdapter):
    """Cannot tell whether a call was logged: after a crash the call would be logged twice."""

    def find_call_log(self, call: Any) -> CallLogRef | None:
        return None


def _harness_with(adapter_class: type[AcmeAdapter]) -> AcmeHarness:
    harness = AcmeHarness()
    client = harness.adapter._client
    harness.adapter = adapter_class(_connection(), client=client)
    return harness


def _connection() -> Any:
    from adapters.base import Connection
    from adapters.template.acme_fake import BASE_URL, TEST_TOKEN

    return Connection(settings={"api_base_url": BASE_URL}, secrets={"api_token": TEST_TOKEN})


@pytest.fixture
def make_harness() -> Iterator[Callable[[type[AcmeAdapter]], AcmeHarness]]:
    made: list[AcmeHarness] = []

    def make(adapter_class: type[AcmeAdapter]) -> AcmeHarness:
        made.append(_harness_with(adapter_class))
        return made[-1]

    yield make
    for harness in made:
        harness.close()


@pytest.mark.parametrize(
    ("mutant", "test_name", "params"),
    [
        (IgnoresVersion, "test_stale_expected_version_raises_conflict_and_keeps_record", {}),
        (ResendsWholeRecord, "test_update_of_dispositions_only_leaves_subject_and_note_alone", {}),
        (ResendsWholeRecord, "test_subject_edited_in_crm_survives_a_note_update", {}),
        (SearchesE164Only, "test_find_contact_by_e164_finds_contact_stored_formatted", {"stored": "(415) 555-0123"}),
        (LeaksHttpErrors, "test_failure_on_get_maps_to_error", {"kind": 401, "expected": AuthError}),
        (TruncatesSilently, "test_subject_at_the_limit_round_trips_and_over_it_is_refused", {}),
        (ServesCachedBody, "test_edit_made_in_crm_survives_update", {}),
        (ForgetsLogs, "test_find_call_log_finds_created_log_by_its_call", {}),
        (LeaksValidationErrors, _WRONG_SHAPE, {"operation": "get_call_log"}),
        (LeaksValidationErrors, _WRONG_SHAPE, {"operation": "find_contact"}),
        (LeaksValidationErrors, _WRONG_SHAPE, {"operation": "create_call_log"}),
        (ReadsNumbersAsText, _WRONG_SHAPE, {"operation": "get_call_log"}),
        (LogsEveryCallAsInboundWithoutDuration, _FACTS, {"direction": Direction.OUTBOUND}),
        (LogsEveryCallAsInboundWithoutDuration, _FACTS, {"direction": Direction.INBOUND}),
        (StampsTheLoggingTime, _FACTS, {"direction": Direction.INBOUND}),
        (IgnoresLateDurations, "test_duration_known_only_after_the_log_was_created_reaches_the_crm", {}),
        (LinksTheFirstMatch, _FACTS, {"direction": Direction.INBOUND}),
    ],
)
def test_contract_suite_catches_the_mistake(
    make_harness: Callable[[type[AcmeAdapter]], AcmeHarness],
    mutant: type[AcmeAdapter],
    test_name: str,
    params: dict[str, Any],
) -> None:
    contract_test = getattr(CrmAdapterContract(), test_name)
    with pytest.raises(_FAILED):
        contract_test(make_harness(mutant), **params)


@pytest.mark.parametrize(
    ("test_name", "params"),
    [
        ("test_stale_expected_version_raises_conflict_and_keeps_record", {}),
        ("test_update_of_dispositions_only_leaves_subject_and_note_alone", {}),
        ("test_find_contact_by_e164_finds_contact_stored_formatted", {"stored": "(415) 555-0123"}),
        ("test_failure_on_get_maps_to_error", {"kind": 401, "expected": AuthError}),
        ("test_edit_made_in_crm_survives_update", {}),
        (_WRONG_SHAPE, {"operation": "get_call_log"}),
        (_WRONG_SHAPE, {"operation": "find_contact"}),
        (_WRONG_SHAPE, {"operation": "create_call_log"}),
        (_FACTS, {"direction": Direction.OUTBOUND}),
        ("test_duration_known_only_after_the_log_was_created_reaches_the_crm", {}),
    ],
)
def test_the_same_tests_pass_for_the_correct_adapter(
    make_harness: Callable[[type[AcmeAdapter]], AcmeHarness], test_name: str, params: dict[str, Any]
) -> None:
    getattr(CrmAdapterContract(), test_name)(make_harness(AcmeAdapter), **params)


def test_local_only_harness_skips_http_fault_tests_with_a_reason(tmp_path: Any) -> None:
    from tests.adapters.crm.test_local_contract import LocalHarness

    harness = LocalHarness(tmp_path / "crm.sqlite3")
    try:
        with pytest.raises(pytest.skip.Exception, match="not reached over HTTP"):
            CrmAdapterContract().test_429_raises_rate_limited_with_retry_after(harness)
    finally:
        harness.close()
