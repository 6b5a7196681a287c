# SPDX-License-Identifier: MIT
"""The contract suite every CRM adapter must pass.

Usage, in an adapter's test module::

    import pytest
    from adapters.testing import ContractHarness, CrmAdapterContract

    class MyHarness(ContractHarness):
        ...  # add_contact, person_edits_log, read_log_raw, inject_failure

    class TestMyCrm(CrmAdapterContract):
        @pytest.fixture
        def harness(self) -> Iterator[ContractHarness]:
            h = MyHarness()
            yield h
            h.close()

What it checks, following the seed's "test your adapter" steps (log a call to a known contact,
check the CRM, edit, check subject and note load, update, check the CRM):

- contacts are found by E.164, by national digits and by formatted variants of the stored
  number, and internal users by extension number when the manifest declares it;
- create → get round-trips subject, note and dispositions, and the CRM holds what was sent;
- the CRM holds each call's direction, start time, duration (also one that arrives only with a
  later update) and contact link in its own fields (:meth:`ContractHarness.read_log_raw`);
- an edit made in the CRM between create and update survives the update: the suite reads,
  substitutes a placeholder with plain string operations (what the note engine does), and writes
  back; updates that leave a field ``None`` never touch it; and the same holds for the note
  engine's own compose → apply → replace-note cycle (:mod:`adapters.notes`);
- a stale ``expected_version`` raises :class:`ConflictError` when the manifest declares
  versioned writes;
- ``find_call_log`` finds a created log from its call (crash recovery);
- 400, 401, 403, 404, 409, 412, 422, 429 (with ``Retry-After``), 5xx, a timeout and a malformed
  body map to the error hierarchy, and a failed write leaves the record as it was;
- an answer of the wrong shape (valid JSON, text sent as numbers and numbers as text) is
  :class:`MalformedResponse`, never a ``pydantic.ValidationError`` or ``KeyError`` escaping the
  adapter, nor a number read back as a subject or a note;
- the manifest's field limits hold: a value at the limit round-trips, one over it is refused
  with :class:`ValidationError` rather than silently cut.

A test that does not apply to a CRM can be overridden in the subclass with
``pytest.mark.skip(reason=...)``; say why.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.base import (
    AdapterError,
    AuthError,
    ConflictError,
    CrmAdapter,
    MalformedResponse,
    Manifest,
    NotFound,
    PageFieldKind,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationError,
)
from adapters.models import CallLogRef, Contact, Direction, LogEntry, LogUpdate
from adapters.testing import calls
from adapters.testing.harness import ContractHarness, FailureKind

E164 = "+14155550123"
OTHER_E164 = "+12125557464"
UNKNOWN_E164 = "+13125550199"

#: Placeholders as the note engine writes them, and what the poller substitutes later.
DURATION_PENDING = "Call duration: (pending)"
DURATION_FINAL = "Call duration: 3 min 14 sec"
RECORDING_PENDING = "Call recording: <recording being processed by RingCentral>"
RECORDING_FINAL = "Call recording: https://media.ringcentral.com/recording/1662272004"
PERSON_LINE = "Promised a quote by Friday (added in the CRM)"


def sample_body(fmt: str, agent_note: str = "Customer asked about pricing; costs $1 & $20.") -> str:
    """A note as the note engine would compose it, with pending placeholders."""
    if fmt == "text/html":
        note = agent_note.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return (
            f"<p>{note}</p>"
            f"<ul><li>{DURATION_PENDING}</li>"
            f"<li>{RECORDING_PENDING.replace('<', '&lt;').replace('>', '&gt;')}</li></ul>"
        )
    bullet = "* " if fmt == "text/markdown" else "- "
    return f"{agent_note}\n\n{bullet}{DURATION_PENDING}\n{bullet}{RECORDING_PENDING}\n"


def _html_aware(fmt: str, text: str) -> str:
    if fmt == "text/html":
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _add_person_line(fmt: str) -> Any:
    def edit(body: str) -> str:
        if fmt == "text/html":
            return body + f"<p>{PERSON_LINE}</p>"
        return body + f"\n{PERSON_LINE}\n"

    return edit


class CrmAdapterContract:
    """Mix into ``class TestMyCrm(CrmAdapterContract)`` and provide a ``harness`` fixture."""

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _manifest(harness: ContractHarness) -> Manifest:
        return harness.adapter.manifest

    @staticmethod
    def _known_contact(harness: ContractHarness, phone: str = E164, name: str = "Ada Lovelace") -> Contact:
        contact_id = harness.add_contact(name, phone)
        found = [c for c in harness.adapter.find_contact(phone) if c.id == contact_id]
        assert found, f"contact {contact_id} stored with phone {phone!r} was not found by that phone"
        return found[0]

    def _log(
        self,
        harness: ContractHarness,
        *,
        subject: str = "Inbound call from Ada Lovelace",
        body: str | None = None,
        direction: Direction = Direction.INBOUND,
    ) -> tuple[CallLogRef, LogEntry, Contact]:
        contact = self._known_contact(harness)
        call = harness.make_call(E164, direction=direction)
        entry = LogEntry(
            subject=subject,
            body=body if body is not None else sample_body(self._manifest(harness).log_format),
            dispositions=harness.sample_dispositions(contact),
            duration_seconds=call.duration,
        )
        ref = harness.adapter.create_call_log(call, contact, entry)
        return ref, entry, contact

    # --- manifest -----------------------------------------------------------------------------

    def test_manifest_is_consistent(self, harness: ContractHarness) -> None:
        manifest = self._manifest(harness)
        assert isinstance(harness.adapter, CrmAdapter)
        assert manifest.id and manifest.id == manifest.id.lower() and " " not in manifest.id
        assert manifest.name.strip()
        ids = [f.id for f in manifest.page_fields]
        assert len(ids) == len(set(ids)), "page field ids must be unique"
        for field in manifest.page_fields:
            if field.kind is PageFieldKind.SELECTION and not field.contact_dependent:
                option_ids = {o.id for o in field.options}
                assert option_ids, f"selection {field.id!r} has no options and is not contact-dependent"
                for direction, value in field.defaults.items():
                    assert direction in {"Inbound", "Outbound", "*"}, direction
                    assert value is None or value in option_ids, f"{field.id}: default {value!r} is not an option"

    def test_verify_names_the_signed_in_identity(self, harness: ContractHarness) -> None:
        who = harness.adapter.verify()
        assert isinstance(who, str) and who.strip()

    # --- find_contact -------------------------------------------------------------------------

    def test_find_contact_by_e164_finds_contact_stored_in_e164(self, harness: ContractHarness) -> None:
        contact_id = harness.add_contact("Ada Lovelace", E164)
        matches = harness.adapter.find_contact(E164)
        assert [c.id for c in matches] == [contact_id]
        assert matches[0].name == "Ada Lovelace"

    @pytest.mark.parametrize(
        "stored",
        ["(415) 555-0123", "415-555-0123", "415.555.0123", "+1 415-555-0123", "4155550123"],
    )
    def test_find_contact_by_e164_finds_contact_stored_formatted(self, harness: ContractHarness, stored: str) -> None:
        contact_id = harness.add_contact("Grace Hopper", stored)
        assert contact_id in [c.id for c in harness.adapter.find_contact(E164)]

    @pytest.mark.parametrize("searched", ["(415) 555-0123", "4155550123", "+1 (415) 555-0123"])
    def test_find_contact_accepts_national_and_formatted_input(self, harness: ContractHarness, searched: str) -> None:
        contact_id = harness.add_contact("Ada Lovelace", E164)
        assert contact_id in [c.id for c in harness.adapter.find_contact(searched)]

    def test_find_contact_unknown_number_returns_empty_list(self, harness: ContractHarness) -> None:
        harness.add_contact("Ada Lovelace", E164)
        assert harness.adapter.find_contact(UNKNOWN_E164) == []

    def test_find_contact_returns_every_contact_sharing_a_number(self, harness: ContractHarness) -> None:
        first = harness.add_contact("Ada Lovelace", E164)
        second = harness.add_contact("Charles Babbage", "(415) 555-0123")
        harness.add_contact("Someone Else", OTHER_E164)
        ids = [c.id for c in harness.adapter.find_contact(E164)]
        assert sorted(ids) == sorted([first, second])

    def test_find_contact_by_extension_when_declared(self, harness: ContractHarness) -> None:
        if not self._manifest(harness).capabilities.extension_logging:
            pytest.skip("the manifest does not declare extension-number logging")
        colleague = harness.add_contact("Sam Colleague", "+16505550102", extension="102")
        matches = harness.adapter.find_contact("102", is_extension=True)
        assert [c.id for c in matches] == [colleague]
        assert matches[0].is_internal

    def test_internal_call_is_logged_against_a_colleague_when_declared(self, harness: ContractHarness) -> None:
        if not self._manifest(harness).capabilities.extension_logging:
            pytest.skip("the manifest does not declare extension-number logging")
        harness.add_contact("Sam Colleague", "+16505550102", extension="102")
        [colleague] = harness.adapter.find_contact("102", is_extension=True)
        call = calls.internal_call("102", colleague_name="Sam Colleague")
        entry = LogEntry(subject="Internal call with Sam", body=sample_body(self._manifest(harness).log_format))
        ref = harness.adapter.create_call_log(call, colleague, entry)
        stored = harness.adapter.get_call_log(ref)
        assert (stored.subject, stored.body) == (entry.subject, entry.body)
        found = harness.adapter.find_call_log(call)
        assert found is not None and found.log_id == ref.log_id

    def test_find_contact_by_extension_finds_nothing_when_not_declared(self, harness: ContractHarness) -> None:
        if self._manifest(harness).capabilities.extension_logging:
            pytest.skip("the manifest declares extension-number logging")
        harness.add_contact("Ada Lovelace", E164)
        assert harness.adapter.find_contact("102", is_extension=True) == []

    # --- create / get -------------------------------------------------------------------------

    def test_create_returns_a_reference_for_this_adapter(self, harness: ContractHarness) -> None:
        ref, _, contact = self._log(harness)
        assert ref.adapter_id == self._manifest(harness).id
        assert ref.log_id
        assert ref.contact_id in (None, contact.id)

    def test_create_then_get_round_trips_subject_note_and_dispositions(self, harness: ContractHarness) -> None:
        ref, entry, contact = self._log(harness)
        stored = harness.adapter.get_call_log(ref)
        assert stored.subject == entry.subject
        assert stored.body == entry.body
        for key, value in entry.dispositions.items():
            assert stored.dispositions.get(key) == value, key
        assert stored.ref.log_id == ref.log_id
        assert stored.contact_id in (None, contact.id)

    def test_created_log_is_stored_in_the_crm(self, harness: ContractHarness) -> None:
        ref, entry, _ = self._log(harness)
        raw = harness.read_log_raw(ref)
        assert raw["subject"] == entry.subject
        assert raw["body"] == entry.body

    def test_outbound_call_round_trips(self, harness: ContractHarness) -> None:
        ref, entry, _ = self._log(harness, subject="Outbound call to Ada Lovelace", direction=Direction.OUTBOUND)
        stored = harness.adapter.get_call_log(ref)
        assert (stored.subject, stored.body) == (entry.subject, entry.body)

    # --- the call's facts: direction, start, duration, contact ----------------------------------

    @staticmethod
    def _stored_fact(raw: dict[str, Any], fact: str) -> Any:
        assert fact in raw, (
            f"read_log_raw must add {fact!r}: what the CRM holds in its own field for it (or list {fact!r} in "
            "the harness's facts_not_stored when the CRM has no field for it)"
        )
        return raw[fact]

    def _check_facts(
        self,
        harness: ContractHarness,
        ref: CallLogRef,
        *,
        direction: Direction,
        start: datetime,
        duration: int | None,
        contact: Contact,
    ) -> None:
        raw = harness.read_log_raw(ref)
        stored = harness.adapter.get_call_log(ref)
        facts = {"direction", "start_time", "duration_seconds", "contact_id"} - harness.facts_not_stored
        if "direction" in facts:
            held = self._stored_fact(raw, "direction")
            assert held == direction.value, f"the CRM holds direction {held!r} for an {direction.value.lower()} call"
        if "start_time" in facts:
            held = self._stored_fact(raw, "start_time")
            assert isinstance(held, datetime) and held.tzinfo is not None, f"start_time is no aware datetime: {held!r}"
            assert abs(held - start) < harness.start_time_grain, (
                f"the CRM holds start {held.isoformat()} for a call that started {start.isoformat()}"
            )
        if "duration_seconds" in facts and duration is not None:
            held = self._stored_fact(raw, "duration_seconds")
            grain = harness.duration_grain
            assert held is not None and abs(held - duration) < grain, (
                f"the CRM holds duration {held!r} for a call of {duration} s"
            )
            if stored.duration_seconds is not None:
                assert abs(stored.duration_seconds - duration) < grain, "get_call_log reads another duration"
        if "contact_id" in facts:
            held = self._stored_fact(raw, "contact_id")
            assert held == contact.id, f"the log is linked to {held!r}, not to the call's contact {contact.id!r}"
        assert stored.contact_id in (None, contact.id), "get_call_log names another contact"

    @pytest.mark.parametrize("direction", [Direction.INBOUND, Direction.OUTBOUND])
    def test_direction_start_duration_and_contact_reach_the_crm(
        self, harness: ContractHarness, direction: Direction
    ) -> None:
        """Log a call and check the CRM: its direction, start time, duration and contact are in the
        CRM's own fields, as the call had them (not "inbound, no duration" for every call), and it
        is linked to the contact chosen, not to another one sharing the number."""
        harness.add_contact("Charles Babbage", E164)
        contact = self._known_contact(harness)
        start = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
        call = harness.make_call(E164, direction=direction, start_time=start)
        assert call.duration, "make_call must give a finished call a duration"
        entry = LogEntry(
            subject=f"{direction.value} call with Ada Lovelace",
            body=sample_body(self._manifest(harness).log_format),
            duration_seconds=call.duration,
        )
        ref = harness.adapter.create_call_log(call, contact, entry)
        self._check_facts(harness, ref, direction=direction, start=start, duration=call.duration, contact=contact)
        found = harness.adapter.find_call_log(call)
        assert found is not None and found.log_id == ref.log_id

    def test_duration_known_only_after_the_log_was_created_reaches_the_crm(self, harness: ContractHarness) -> None:
        """Auto-log writes at connect, before the duration is known; the final one comes as an update."""
        contact = self._known_contact(harness)
        start = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
        live = harness.make_call(E164, direction=Direction.OUTBOUND, start_time=start)
        live = live.model_copy(update={"duration": None, "duration_ms": None, "result": "In Progress"})
        entry = LogEntry(subject="Outbound call", body=sample_body(self._manifest(harness).log_format))
        ref = harness.adapter.create_call_log(live, contact, entry)
        harness.adapter.update_call_log(ref, LogUpdate(duration_seconds=431))
        self._check_facts(harness, ref, direction=Direction.OUTBOUND, start=start, duration=431, contact=contact)

    def test_note_with_dollar_signs_markup_and_unicode_round_trips_verbatim(self, harness: ContractHarness) -> None:
        fmt = self._manifest(harness).log_format
        note = 'Zoë said: use $1 and \\1, <script>alert(1)</script> — ☎ 100% "quoted"'
        body = sample_body(fmt, note)
        ref, _, _ = self._log(harness, subject="Call with Zoë — $1 <b>", body=body)
        stored = harness.adapter.get_call_log(ref)
        assert stored.body == body
        assert stored.subject == "Call with Zoë — $1 <b>"

    def test_get_unknown_log_raises_not_found(self, harness: ContractHarness) -> None:
        with pytest.raises(NotFound):
            harness.adapter.get_call_log(harness.unknown_log_ref())

    # --- update -------------------------------------------------------------------------------

    def test_update_subject_and_note_round_trips(self, harness: ContractHarness) -> None:
        ref, entry, _ = self._log(harness)
        stored = harness.adapter.get_call_log(ref)
        new_body = stored.body.replace("Customer asked about pricing", "Customer accepted the quote")
        updated = harness.adapter.update_call_log(
            ref, LogUpdate(subject="Quote accepted", body=new_body), expected_version=stored.version
        )
        assert (updated.subject, updated.body) == ("Quote accepted", new_body)
        again = harness.adapter.get_call_log(ref)
        assert (again.subject, again.body) == ("Quote accepted", new_body)
        raw = harness.read_log_raw(ref)
        assert (raw["subject"], raw["body"]) == ("Quote accepted", new_body)
        for key, value in entry.dispositions.items():
            assert again.dispositions.get(key) == value, key

    def test_edit_made_in_crm_survives_update(self, harness: ContractHarness) -> None:
        # Given a log, edited by a person in the CRM after it was created
        fmt = self._manifest(harness).log_format
        ref, entry, _ = self._log(harness)
        harness.person_edits_log(ref, body=_add_person_line(fmt))
        # When the engine reads, substitutes the placeholders and writes back
        stored = harness.adapter.get_call_log(ref)
        assert PERSON_LINE in stored.body, "get_call_log must return the body as the CRM holds it now"
        new_body = stored.body.replace(DURATION_PENDING, DURATION_FINAL).replace(
            _html_aware(fmt, RECORDING_PENDING), _html_aware(fmt, RECORDING_FINAL)
        )
        harness.adapter.update_call_log(ref, LogUpdate(body=new_body), expected_version=stored.version)
        # Then the CRM holds the person's line and the final values, and the subject is untouched
        raw = harness.read_log_raw(ref)
        assert PERSON_LINE in raw["body"], "the update overwrote what the person added in the CRM"
        assert DURATION_FINAL in raw["body"], "the substituted value did not reach the CRM"
        assert raw["body"] == new_body
        assert raw["subject"] == entry.subject, "a body-only update changed the subject"

    def test_note_engine_cycle_keeps_what_a_person_typed_in_the_crm(self, harness: ContractHarness) -> None:
        """The engine's real loop: compose → create → (a person edits) → read → apply → update,
        then the agent edits the note in Logdesk's editor → read → replace note → update."""
        notes = pytest.importorskip("adapters.notes", reason="the note engine is not installed")
        manifest = self._manifest(harness)
        fmt, settings = manifest.log_format, notes.NoteSettings()
        contact = self._known_contact(harness)
        call = calls.inbound_call(E164, duration=None, result="In Progress")
        agent_note = "Wants a callback; quoted $1 <b>not bold</b>"
        content = notes.NoteContent.from_call(call, note=agent_note, contact=contact, expect_recording=True)
        body = notes.compose(content, settings, fmt, limit=manifest.limits)
        ref = harness.adapter.create_call_log(call, contact, LogEntry(subject=str(content.subject), body=body))
        # A person adds a line in the CRM; then the poller brings the duration and the recording.
        harness.person_edits_log(ref, body=_add_person_line(fmt))
        stored = harness.adapter.get_call_log(ref)
        change = notes.NoteContent(duration=194, recording_link="https://media.ringcentral.com/recording/1662272004")
        merged, _ = notes.apply(stored.body, change, settings, fmt, limit=manifest.limits)
        assert merged != stored.body, "the note engine found nothing to substitute in the stored body"
        harness.adapter.update_call_log(ref, LogUpdate(body=merged), expected_version=stored.version)
        raw = harness.read_log_raw(ref)
        assert raw["body"] == merged
        assert PERSON_LINE in raw["body"], "the update lost what the person added in the CRM"
        assert notes.extract_agent_note(raw["body"], fmt) == agent_note
        # The agent edits the note in Logdesk's editor and saves.
        stored = harness.adapter.get_call_log(ref)
        edited = notes.replace_agent_note(stored.body, "Called back; quote accepted", fmt)
        harness.adapter.update_call_log(ref, LogUpdate(body=edited), expected_version=stored.version)
        raw = harness.read_log_raw(ref)
        assert notes.extract_agent_note(raw["body"], fmt) == "Called back; quote accepted"
        assert PERSON_LINE in raw["body"]

    def test_update_of_dispositions_only_leaves_subject_and_note_alone(self, harness: ContractHarness) -> None:
        fmt = self._manifest(harness).log_format
        ref, _, contact = self._log(harness)
        harness.person_edits_log(ref, subject="Renamed in the CRM", body=_add_person_line(fmt))
        before = harness.read_log_raw(ref)
        values = harness.sample_dispositions(contact, alternate=True)
        harness.adapter.update_call_log(ref, LogUpdate(dispositions=values, duration_seconds=194))
        after = harness.read_log_raw(ref)
        assert (after["subject"], after["body"]) == (before["subject"], before["body"]), (
            "an update of dispositions only must not write the subject or the note"
        )
        stored = harness.adapter.get_call_log(ref)
        for key, value in values.items():
            assert stored.dispositions.get(key) == value, key

    def test_subject_edited_in_crm_survives_a_note_update(self, harness: ContractHarness) -> None:
        ref, _, _ = self._log(harness)
        harness.person_edits_log(ref, subject="Renamed in the CRM")
        stored = harness.adapter.get_call_log(ref)
        assert stored.subject == "Renamed in the CRM"
        harness.adapter.update_call_log(ref, LogUpdate(body=stored.body.replace(DURATION_PENDING, DURATION_FINAL)))
        assert harness.read_log_raw(ref)["subject"] == "Renamed in the CRM", "a note update overwrote the subject"

    def test_update_gives_a_new_version_when_versioned(self, harness: ContractHarness) -> None:
        if not self._manifest(harness).capabilities.versioned_writes:
            pytest.skip("the manifest does not declare versioned writes")
        ref, _, _ = self._log(harness)
        stored = harness.adapter.get_call_log(ref)
        assert stored.version, "a versioned CRM must report a version"
        updated = harness.adapter.update_call_log(
            ref, LogUpdate(subject="Second subject"), expected_version=stored.version
        )
        assert updated.version and updated.version != stored.version
        assert harness.adapter.get_call_log(ref).version == updated.version

    def test_stale_expected_version_raises_conflict_and_keeps_record(self, harness: ContractHarness) -> None:
        if not self._manifest(harness).capabilities.versioned_writes:
            pytest.skip("the manifest does not declare versioned writes")
        fmt = self._manifest(harness).log_format
        ref, _, _ = self._log(harness)
        read_before_edit = harness.adapter.get_call_log(ref)
        harness.person_edits_log(ref, body=_add_person_line(fmt))
        edited = harness.read_log_raw(ref)
        with pytest.raises(ConflictError):
            harness.adapter.update_call_log(
                ref, LogUpdate(body="overwrites everything"), expected_version=read_before_edit.version
            )
        assert harness.read_log_raw(ref)["body"] == edited["body"], "a refused update still changed the record"

    def test_update_unknown_log_raises_not_found(self, harness: ContractHarness) -> None:
        with pytest.raises(NotFound):
            harness.adapter.update_call_log(harness.unknown_log_ref(), LogUpdate(subject="x"))

    # --- dispositions -------------------------------------------------------------------------

    def test_disposition_round_trip(self, harness: ContractHarness) -> None:
        ref, entry, contact = self._log(harness)
        values = harness.sample_dispositions(contact, alternate=True)
        if not values:
            pytest.skip("the manifest declares no disposition fields")
        harness.adapter.upsert_disposition(ref, values)
        stored = harness.adapter.get_call_log(ref)
        for key, value in values.items():
            assert stored.dispositions.get(key) == value, key
        assert (stored.subject, stored.body) == (entry.subject, entry.body)

    def test_upsert_disposition_keeps_note_edited_in_crm(self, harness: ContractHarness) -> None:
        fmt = self._manifest(harness).log_format
        ref, _, contact = self._log(harness)
        values = harness.sample_dispositions(contact, alternate=True)
        if not values:
            pytest.skip("the manifest declares no disposition fields")
        harness.person_edits_log(ref, body=_add_person_line(fmt))
        harness.adapter.upsert_disposition(ref, values)
        assert PERSON_LINE in harness.read_log_raw(ref)["body"]

    # --- find_call_log ------------------------------------------------------------------------

    def test_find_call_log_finds_created_log_by_its_call(self, harness: ContractHarness) -> None:
        contact = self._known_contact(harness)
        call = harness.make_call(E164)
        entry = LogEntry(subject="Inbound call", body=sample_body(self._manifest(harness).log_format))
        ref = harness.adapter.create_call_log(call, contact, entry)
        found = harness.adapter.find_call_log(call)
        assert found is not None, "find_call_log did not find the log just created for this call"
        assert found.log_id == ref.log_id

    def test_find_call_log_tells_two_calls_with_one_contact_apart(self, harness: ContractHarness) -> None:
        contact = self._known_contact(harness)
        first = harness.make_call(E164)
        second = harness.make_call(E164, start_time=first.start_time - timedelta(hours=2))
        body = sample_body(self._manifest(harness).log_format)
        ref_first = harness.adapter.create_call_log(first, contact, LogEntry(subject="First", body=body))
        ref_second = harness.adapter.create_call_log(second, contact, LogEntry(subject="Second", body=body))
        found_first, found_second = harness.adapter.find_call_log(first), harness.adapter.find_call_log(second)
        assert found_first is not None and found_first.log_id == ref_first.log_id, "the earlier call's log"
        assert found_second is not None and found_second.log_id == ref_second.log_id, "the later call's log"

    def test_find_call_log_returns_none_for_a_call_never_logged(self, harness: ContractHarness) -> None:
        contact = self._known_contact(harness)
        logged = harness.make_call(E164)
        body = sample_body(self._manifest(harness).log_format)
        harness.adapter.create_call_log(logged, contact, LogEntry(subject="Logged", body=body))
        never_logged = harness.make_call(E164, start_time=logged.start_time - timedelta(hours=5))
        assert harness.adapter.find_call_log(never_logged) is None, "a call never logged must not match another log"

    # --- field limits -------------------------------------------------------------------------

    def test_subject_at_the_limit_round_trips_and_over_it_is_refused(self, harness: ContractHarness) -> None:
        limit = self._manifest(harness).limits.subject_chars
        if limit is None:
            pytest.skip("the manifest declares no subject limit")
        at_limit = ("Call é " * limit)[:limit]
        ref, _, _ = self._log(harness, subject=at_limit)
        assert harness.adapter.get_call_log(ref).subject == at_limit
        with pytest.raises(ValidationError):
            harness.adapter.update_call_log(ref, LogUpdate(subject=at_limit + "x"))
        assert harness.read_log_raw(ref)["subject"] == at_limit

    def test_body_at_the_limit_round_trips_and_over_it_is_refused(self, harness: ContractHarness) -> None:
        limits = self._manifest(harness).limits
        if limits.body is None:
            pytest.skip("the manifest declares no body limit")
        fmt = self._manifest(harness).log_format
        head = sample_body(fmt, "Long call.")
        filler = "é" if limits.body_unit == "bytes" else "x"
        size = len(head.encode()) if limits.body_unit == "bytes" else len(head)
        room = limits.body - size
        unit = len(filler.encode()) if limits.body_unit == "bytes" else 1
        body = head + filler * (room // unit) + "a" * (room % unit)
        measured = len(body.encode()) if limits.body_unit == "bytes" else len(body)
        assert measured == limits.body
        ref, _, _ = self._log(harness, body=body)
        assert harness.adapter.get_call_log(ref).body == body
        with pytest.raises(ValidationError):
            harness.adapter.update_call_log(ref, LogUpdate(body=body + "a"))
        assert harness.read_log_raw(ref)["body"] == body

    # --- error mapping ------------------------------------------------------------------------

    @staticmethod
    def _needs_faults(harness: ContractHarness) -> None:
        if not harness.supports_http_faults:
            pytest.skip("this CRM is not reached over HTTP: no transport faults to map")

    @pytest.mark.parametrize(
        ("kind", "expected"),
        [
            (400, ValidationError),
            (401, AuthError),
            (403, PermissionDenied),
            (404, NotFound),
            (409, ConflictError),
            (412, ConflictError),
            (422, ValidationError),
            (429, RateLimited),
            (500, TransientError),
            (502, TransientError),
            (503, TransientError),
            ("timeout", TransientError),
            ("malformed", MalformedResponse),
        ],
    )
    def test_failure_on_get_maps_to_error(
        self, harness: ContractHarness, kind: FailureKind, expected: type[AdapterError]
    ) -> None:
        self._needs_faults(harness)
        ref, entry, _ = self._log(harness)
        harness.inject_failure(kind)
        with pytest.raises(expected):
            harness.adapter.get_call_log(ref)
        # The failure was one request: the adapter works again afterwards.
        assert harness.adapter.get_call_log(ref).subject == entry.subject

    @pytest.mark.parametrize(
        ("kind", "expected"),
        [
            (400, ValidationError),
            (401, AuthError),
            (403, PermissionDenied),
            (404, NotFound),
            (409, ConflictError),
            (412, ConflictError),
            (422, ValidationError),
            (429, RateLimited),
            (500, TransientError),
            (503, TransientError),
            ("timeout", TransientError),
        ],
    )
    def test_failed_update_maps_to_error_and_leaves_the_record(
        self, harness: ContractHarness, kind: FailureKind, expected: type[AdapterError]
    ) -> None:
        self._needs_faults(harness)
        ref, _, _ = self._log(harness)
        before = harness.read_log_raw(ref)
        harness.inject_failure(kind)
        with pytest.raises(expected):
            harness.adapter.update_call_log(ref, LogUpdate(subject="Changed", body="changed"))
        after = harness.read_log_raw(ref)
        assert (after["subject"], after["body"]) == (before["subject"], before["body"])

    @pytest.mark.parametrize(
        ("kind", "expected"),
        [
            (401, AuthError),
            (403, PermissionDenied),
            (429, RateLimited),
            (500, TransientError),
            ("timeout", TransientError),
            ("malformed", MalformedResponse),
        ],
    )
    def test_failure_on_find_contact_maps_to_error(
        self, harness: ContractHarness, kind: FailureKind, expected: type[AdapterError]
    ) -> None:
        self._needs_faults(harness)
        harness.add_contact("Ada Lovelace", E164)
        harness.inject_failure(kind)
        with pytest.raises(expected):
            harness.adapter.find_contact(E164)

    @pytest.mark.parametrize(
        ("kind", "expected"),
        [
            (400, ValidationError),
            (401, AuthError),
            (422, ValidationError),
            (429, RateLimited),
            (500, TransientError),
            ("timeout", TransientError),
            ("malformed", MalformedResponse),
        ],
    )
    def test_failure_on_create_maps_to_error(
        self, harness: ContractHarness, kind: FailureKind, expected: type[AdapterError]
    ) -> None:
        self._needs_faults(harness)
        contact = self._known_contact(harness)
        call = harness.make_call(E164)
        harness.inject_failure(kind)
        with pytest.raises(expected):
            harness.adapter.create_call_log(
                call, contact, LogEntry(subject="s", body=sample_body(self._manifest(harness).log_format))
            )

    @pytest.mark.parametrize(
        ("kind", "expected"), [(401, AuthError), (403, PermissionDenied), ("timeout", TransientError)]
    )
    def test_failure_on_verify_maps_to_error(
        self, harness: ContractHarness, kind: FailureKind, expected: type[AdapterError]
    ) -> None:
        """What "Test connection" shows when the credentials are refused or the CRM is unreachable."""
        self._needs_faults(harness)
        harness.inject_failure(kind)
        with pytest.raises(expected):
            harness.adapter.verify()

    @pytest.mark.parametrize(
        "operation", ["find_contact", "create_call_log", "get_call_log", "update_call_log", "find_call_log"]
    )
    def test_answer_of_the_wrong_shape_is_malformed_response_never_a_leak(
        self, harness: ContractHarness, operation: str
    ) -> None:
        """Valid JSON that is not what the API documents (text sent as numbers, numbers as text:
        :func:`adapters.testing.faults.swap_types`) raises :class:`MalformedResponse`. No
        ``pydantic.ValidationError``, ``KeyError`` or ``TypeError`` leaves the adapter, and no other
        error stands in for it. An adapter that can still read such an answer may, but then what it
        returns must be what the CRM holds: never a number turned into a subject or a note, never
        "no such contact" or "never logged" for a record that exists."""
        self._needs_faults(harness)
        fmt = self._manifest(harness).log_format
        ref, _, contact = self._log(harness)
        logged = harness.make_call(E164, start_time=calls.later(harness.make_call(E164), 90))
        logged_ref = harness.adapter.create_call_log(logged, contact, LogEntry(subject="Logged", body=sample_body(fmt)))
        another = harness.make_call(E164, start_time=logged.start_time - timedelta(hours=3))
        runs: dict[str, Any] = {
            "find_contact": lambda: harness.adapter.find_contact(E164),
            "create_call_log": lambda: harness.adapter.create_call_log(
                another, contact, LogEntry(subject="Another call", body=sample_body(fmt))
            ),
            "get_call_log": lambda: harness.adapter.get_call_log(ref),
            "update_call_log": lambda: harness.adapter.update_call_log(ref, LogUpdate(subject="Changed subject")),
            "find_call_log": lambda: harness.adapter.find_call_log(logged),
        }
        harness.inject_failure("wrong_shape")
        try:
            answer = runs[operation]()
        except MalformedResponse:
            answer = None
        except AdapterError as exc:
            pytest.fail(
                f"{operation}: an answer of the wrong shape raised {type(exc).__name__} ({exc}) instead of "
                "MalformedResponse"
            )
        except Exception as exc:
            pytest.fail(
                f"{operation}: {type(exc).__name__} escaped the adapter on an answer of the wrong shape; "
                f"turn it into MalformedResponse ({exc})"
            )
        else:
            self._check_lenient_answer(harness, operation, answer, ref=ref, contact=contact, logged_ref=logged_ref)
        # The failure was one answer: the adapter works again afterwards.
        assert harness.adapter.get_call_log(logged_ref).subject == "Logged"

    @staticmethod
    def _check_lenient_answer(
        harness: ContractHarness,
        operation: str,
        answer: Any,
        *,
        ref: CallLogRef,
        contact: Contact,
        logged_ref: CallLogRef,
    ) -> None:
        """An adapter read an answer of the wrong shape without complaint: it must have read it right."""
        wrong = f"{operation} read an answer of the wrong shape without raising MalformedResponse, and got it wrong"
        if operation == "find_contact":
            found = {c.id: c.name for c in answer}
            assert found.get(contact.id) == contact.name, f"{wrong}: {answer!r}"
        elif operation == "create_call_log":
            assert harness.read_log_raw(answer)["subject"] == "Another call", f"{wrong}: {answer!r}"
        elif operation in ("get_call_log", "update_call_log"):
            raw = harness.read_log_raw(ref)
            assert (answer.subject, answer.body) == (raw["subject"], raw["body"]), f"{wrong}: {answer!r}"
            if operation == "update_call_log":
                assert raw["subject"] == "Changed subject", f"{wrong}: the CRM did not get the change"
        else:
            assert answer is not None and answer.log_id == logged_ref.log_id, f"{wrong}: {answer!r}"

    def test_429_raises_rate_limited_with_retry_after(self, harness: ContractHarness) -> None:
        self._needs_faults(harness)
        ref, _, _ = self._log(harness)
        harness.inject_failure(429, retry_after=17)
        with pytest.raises(RateLimited) as caught:
            harness.adapter.get_call_log(ref)
        assert caught.value.retry_after == pytest.approx(17)
        assert caught.value.retryable

    def test_errors_carry_a_message_for_the_agent(self, harness: ContractHarness) -> None:
        self._needs_faults(harness)
        ref, _, _ = self._log(harness)
        harness.inject_failure(401)
        with pytest.raises(AuthError) as caught:
            harness.adapter.get_call_log(ref)
        assert str(caught.value).strip()
        assert "Traceback" not in str(caught.value)
