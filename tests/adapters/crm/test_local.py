# SPDX-License-Identifier: MIT
"""The Local CRM beyond the contract: demo data, dispositions, concurrency, threads, CSV export."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.base import AdapterError, ConflictError, Connection, TransientError, ValidationError
from adapters.crm.local import DEFAULT_DISPOSITIONS, LocalCrm
from adapters.models import LogEntry, LogUpdate, Option
from adapters.testing.calls import inbound_call, internal_call, outbound_call


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[LocalCrm]:
    adapter = LocalCrm.open(tmp_path / "crm.sqlite3")
    yield adapter
    adapter.close()


def _entry(subject: str = "Call", **dispositions: str | bool | None) -> LogEntry:
    return LogEntry(subject=subject, body="Note\n\n- Call duration: (pending)\n", dispositions=dispositions)


def test_demo_contacts_are_seeded_once_from_the_sandbox_file(crm: LocalCrm) -> None:
    added = crm.seed_demo()
    assert added >= 13
    assert crm.seed_demo() == 0, "seeding twice must not duplicate people"
    [alice] = crm.find_contact("+14155550132")
    assert alice.name == "Alice Moreno" and alice.phone == "(415) 555-0132"
    [frank] = crm.find_contact("+16175550109")
    assert frank.phone == "1-617-555-0109"
    [marcus] = crm.find_contact("102", is_extension=True)
    assert marcus.is_internal and marcus.name == "Marcus Lee"


def test_demo_contacts_can_come_from_another_file(crm: LocalCrm, tmp_path: Path) -> None:
    source = tmp_path / "people.json"
    source.write_text(
        json.dumps([{"name": "Zoë Quinn", "phone": "212.555.0147"}, {"name": "No Number"}, "junk"]),
        encoding="utf-8",
    )
    assert crm.seed_demo(source) == 1
    assert [c.name for c in crm.find_contact("+12125550147")] == ["Zoë Quinn"]


def test_contacts_and_logs_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "crm.sqlite3"
    first = LocalCrm(Connection(settings={"path": str(path)}))
    contact = first.add_contact("Ada Lovelace", "+14155550123")
    ref = first.create_call_log(inbound_call("+14155550123"), contact, _entry("Kept"))
    first.close()
    second = LocalCrm(Connection(settings={"path": str(path)}))
    try:
        assert second.get_call_log(ref).subject == "Kept"
        assert second.find_contact("4155550123")[0].id == contact.id
    finally:
        second.close()


def test_a_path_is_required() -> None:
    with pytest.raises(ValidationError) as caught:
        LocalCrm(Connection())
    assert caught.value.field == "path"


def test_a_file_that_is_not_a_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(AdapterError, match="cannot be opened"):
        LocalCrm.open(path)


def test_a_closed_crm_says_so(tmp_path: Path) -> None:
    crm = LocalCrm.open(tmp_path / "crm.sqlite3")
    crm.close()
    crm.close()
    with pytest.raises(AdapterError, match="closed"):
        crm.find_contact("+14155550123")


def test_an_unreadable_stored_number_still_matches_its_digits(crm: LocalCrm) -> None:
    odd = crm.add_contact("Switchboard", "0800-FLOWERS 12")
    assert [c.id for c in crm.find_contact("0800-FLOWERS 12")] == [odd.id]


def test_internal_call_is_logged_against_a_colleague(crm: LocalCrm) -> None:
    colleague = crm.add_contact("Sam Colleague", extension="102")
    [found] = crm.find_contact("102", is_extension=True)
    assert found.id == colleague.id and found.is_internal and found.type == "Internal user"
    call = internal_call("102")
    ref = crm.create_call_log(call, found, _entry("Internal call"))
    assert crm.raw_log(ref.log_id)["phone"] == "102"
    assert crm.find_call_log(call) == ref


def test_logging_for_a_deleted_contact_is_refused(crm: LocalCrm) -> None:
    ghost = crm.add_contact("Ghost", "+14155550123").model_copy(update={"id": "424242"})
    with pytest.raises(ValidationError) as caught:
        crm.create_call_log(outbound_call("+14155550123"), ghost, _entry())
    assert caught.value.field == "contact"


def test_disposition_list_is_configurable(crm: LocalCrm) -> None:
    assert [o.id for o in crm.dispositions()] == [o.id for o in DEFAULT_DISPOSITIONS]
    contact = crm.add_contact("Ada", "+14155550123")
    old = crm.create_call_log(inbound_call("+14155550123"), contact, _entry(disposition="connected"))
    crm.set_dispositions(["Sale made", Option(id="no_sale", label="No sale")])
    field = next(f for f in crm.page_fields() if f.id == "disposition")
    assert [(o.id, o.label) for o in field.options] == [("sale_made", "Sale made"), ("no_sale", "No sale")]
    assert field.default_for("Inbound") is None, "a default that is no longer offered is dropped"
    with pytest.raises(ValidationError):
        crm.create_call_log(inbound_call("+14155550123"), contact, _entry(disposition="connected"))
    ref = crm.create_call_log(inbound_call("+14155550123"), contact, _entry(disposition="sale_made"))
    assert crm.get_call_log(ref).dispositions["disposition"] == "sale_made"
    assert crm.get_call_log(old).dispositions["disposition"] == "connected", "old logs keep their value"


def test_disposition_list_survives_reopening_even_when_emptied(tmp_path: Path) -> None:
    crm = LocalCrm.open(tmp_path / "crm.sqlite3")
    crm.set_dispositions([])
    crm.close()
    crm = LocalCrm.open(tmp_path / "crm.sqlite3")
    try:
        assert crm.dispositions() == []
    finally:
        crm.close()


@pytest.mark.parametrize("labels", [["Same", "same"], ["   "]])
def test_bad_disposition_lists_are_refused(crm: LocalCrm, labels: list[str]) -> None:
    with pytest.raises(ValidationError):
        crm.set_dispositions(labels)
    assert len(crm.dispositions()) == len(DEFAULT_DISPOSITIONS)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"case_number": "not a case"}, "case_number"),
        ({"follow_up": "yes"}, "follow_up"),
        ({"disposition": "exploded"}, "disposition"),
        ({"priority": "high"}, "priority"),
        ({"stored_locally": "x"}, "stored_locally"),
    ],
)
def test_invalid_page_values_name_the_field(crm: LocalCrm, values: dict[str, str], field: str) -> None:
    contact = crm.add_contact("Ada", "+14155550123")
    ref = crm.create_call_log(inbound_call("+14155550123"), contact, _entry())
    with pytest.raises(ValidationError) as caught:
        crm.upsert_disposition(ref, values)
    assert caught.value.field == field
    assert crm.get_call_log(ref).dispositions == {}


def test_patterned_text_field_accepts_a_matching_value(crm: LocalCrm) -> None:
    contact = crm.add_contact("Ada", "+14155550123")
    ref = crm.create_call_log(inbound_call("+14155550123"), contact, _entry(case_number="SUP-1234"))
    assert crm.get_call_log(ref).dispositions == {"case_number": "SUP-1234"}


def test_person_edit_from_another_connection_is_a_conflict_for_a_stale_writer(tmp_path: Path) -> None:
    # Given the app's adapter and a person's screen on the same file
    path = tmp_path / "crm.sqlite3"
    app, screen = LocalCrm.open(path), LocalCrm.open(path)
    try:
        contact = app.add_contact("Ada", "+14155550123")
        ref = app.create_call_log(inbound_call("+14155550123"), contact, _entry())
        read = app.get_call_log(ref)
        # When the person edits, then the app writes with the version it read
        edited = screen.person_edits(
            ref.log_id, body=lambda b: b + "typed in the CRM\n", dispositions={"follow_up": True}
        )
        assert edited.version == str(int(read.version or 0) + 1)
        with pytest.raises(ConflictError):
            app.update_call_log(ref, LogUpdate(body="overwrite"), expected_version=read.version)
        # Then nothing the person typed is lost, and a fresh read-modify-write succeeds
        fresh = app.get_call_log(ref)
        assert fresh.body.endswith("typed in the CRM\n") and fresh.dispositions["follow_up"] is True
        done = app.update_call_log(
            ref, LogUpdate(body=fresh.body.replace("(pending)", "4 min")), expected_version=fresh.version
        )
        assert "typed in the CRM" in done.body and "4 min" in done.body
        assert screen.raw_log(ref.log_id)["modified_by"] == "logdesk"
    finally:
        app.close()
        screen.close()


def test_an_empty_update_writes_nothing(crm: LocalCrm) -> None:
    contact = crm.add_contact("Ada", "+14155550123")
    ref = crm.create_call_log(inbound_call("+14155550123"), contact, _entry())
    assert crm.update_call_log(ref, LogUpdate()).version == "1"


def test_modified_time_comes_from_the_injected_clock(tmp_path: Path) -> None:
    when = datetime(2026, 4, 11, 9, 30, tzinfo=UTC)
    crm = LocalCrm.open(tmp_path / "crm.sqlite3", clock=lambda: when)
    try:
        contact = crm.add_contact("Ada", "+14155550123")
        ref = crm.create_call_log(inbound_call("+14155550123"), contact, _entry())
        assert crm.get_call_log(ref).modified_at == when
        assert contact.created_at == when
    finally:
        crm.close()


def test_worker_threads_can_share_one_instance(crm: LocalCrm) -> None:
    contact = crm.add_contact("Ada", "+14155550123")
    ref = crm.create_call_log(inbound_call("+14155550123"), contact, _entry())
    start = threading.Barrier(6)
    errors: list[BaseException] = []
    created: list[str] = []

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(15):
                created.append(crm.create_call_log(inbound_call("+14155550123"), contact, _entry(f"{n}-{i}")).log_id)
                crm.upsert_disposition(ref, {"follow_up": bool(i % 2)})
                crm.find_contact("(415) 555-0123")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(created)) == 90
    assert crm.get_call_log(ref).version == str(1 + 90)


def test_call_logs_export_as_csv_with_formulas_neutralised(crm: LocalCrm, tmp_path: Path) -> None:
    contact = crm.add_contact('Ada, "the" Countess', "+14155550123")
    entry = LogEntry(
        subject='=HYPERLINK("http://x")',
        body="line 1\nline 2, with comma",
        dispositions={"disposition": "connected", "follow_up": True},
    )
    crm.create_call_log(inbound_call("+14155550123"), contact, entry)
    target = tmp_path / "logs.csv"
    assert crm.export_csv(target) == 1
    with target.open(encoding="utf-8", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["subject"] == '\'=HYPERLINK("http://x")'
    assert row["note"] == "line 1\nline 2, with comma"
    assert row["contact_name"] == 'Ada, "the" Countess'
    assert row["phone"] == "+14155550123", "a phone number is not a formula"
    assert (row["disposition"], row["follow_up"], row["case_number"]) == ("connected", "True", "")


def test_contacts_export_as_csv(crm: LocalCrm) -> None:
    crm.seed_demo()
    out = io.StringIO()
    count = crm.export_csv(out, what="contacts")
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == count >= 13
    assert {"name": "Marcus Lee", "extension": "102", "internal": "True"}.items() <= rows[-3].items()


def test_export_of_an_unknown_table_is_refused(crm: LocalCrm) -> None:
    with pytest.raises(ValueError, match="cannot export"):
        crm.export_csv(io.StringIO(), what="secrets")


def test_verify_reports_the_database(crm: LocalCrm) -> None:
    crm.add_contact("Ada", "+14155550123")
    assert crm.verify().startswith("Local CRM (1 contacts")


def test_log_page_shows_the_live_disposition_list(crm: LocalCrm) -> None:
    from adapters.base import page_fields_for
    from adapters.template.acme import AcmeAdapter

    crm.set_dispositions(["Booked"])
    [disposition] = [f for f in page_fields_for(crm) if f.id == "disposition"]
    assert [o.label for o in disposition.options] == ["Booked"]
    assert LocalCrm.manifest.field("disposition").options == list(DEFAULT_DISPOSITIONS), "the manifest is unchanged"
    acme = AcmeAdapter(Connection(secrets={"api_token": "t"}))
    try:
        assert page_fields_for(acme) == AcmeAdapter.manifest.page_fields
    finally:
        acme.close()


def test_a_database_locked_by_another_program_is_a_transient_error(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "crm.sqlite3"
    crm = LocalCrm.open(path, busy_timeout=0.05)
    contact = crm.add_contact("Ada", "+14155550123")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        with pytest.raises(TransientError, match="busy"):
            crm.create_call_log(inbound_call("+14155550123"), contact, _entry("Blocked"))
        assert crm.find_contact("+14155550123")[0].id == contact.id, "reads go on while a writer holds the lock"
        other.execute("ROLLBACK")
        ref = crm.create_call_log(inbound_call("+14155550123"), contact, _entry("After"))
        assert crm.get_call_log(ref).subject == "After"
        assert [log.subject for log in crm.call_logs()] == ["After"], "the blocked write left nothing behind"
    finally:
        other.close()
        crm.close()
