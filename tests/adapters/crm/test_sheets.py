# SPDX-License-Identifier: MIT
"""The Google Sheets adapter against the fake Google (tests/fakes/sheets.py): the contract suite
in-process and over loopback, and what is particular to a spreadsheet: sign-in, rows that move,
formulas, tabs, validation lists, quotas."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from adapters import oauth
from adapters.base import (
    AuthError,
    ConflictError,
    Connection,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationError,
    page_fields_for,
)
from adapters.crm.sheets import CALL_COLUMNS, DEFAULT_DISPOSITIONS, ENV_BASE_URL, SCOPE, SheetsAdapter, sign_in
from adapters.models import CallLogRef, Contact, LogEntry, LogUpdate
from adapters.testing import ContractHarness, CrmAdapterContract, inbound_call, outbound_call, sample_body
from tests.adapters.crm.renewing_harness import RenewingHarness
from tests.fakes.browser import play_browser
from tests.fakes.loopback import HostRouter, LoopbackServer
from tests.fakes.sheets import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEFAULT_SPREADSHEET_ID,
    SCOPE_DRIVE_FILE,
    TOKEN_PATH,
    USER,
    Formula,
    SheetsFake,
)

E164 = "+14155550123"
SPREADSHEET_URL = f"https://docs.google.com/spreadsheets/d/{DEFAULT_SPREADSHEET_ID}/edit#gid=0"
GOOGLE_HOSTS = ("accounts.google.com", "oauth2.googleapis.com", "sheets.googleapis.com")
SETTINGS = {"spreadsheet": SPREADSHEET_URL, "client_id": CLIENT_ID}


def google(fake: SheetsFake, *, timeout: float = 20.0) -> httpx.Client:
    """A client that reaches the fake under Google's real host names (no address override)."""
    router = HostRouter({h: fake.handler for h in GOOGLE_HOSTS})
    return httpx.Client(transport=httpx.MockTransport(router), timeout=timeout)


class SheetsHarness(RenewingHarness):
    """An adapter signed in to a fresh fake Google with one spreadsheet (Contacts + an empty Calls tab).

    ``inject_failure(401)`` makes Sheets refuse the token twice in a row: the adapter renews a
    refused token once by design.
    """

    def __init__(
        self,
        fake: SheetsFake | None = None,
        *,
        client: httpx.Client | None = None,
        settings: dict[str, str] | None = None,
        scopes: tuple[str, ...] = (SCOPE,),
    ) -> None:
        self.fake = fake or SheetsFake()
        self.saved: list[dict[str, str]] = []
        tokens = oauth.TokenSet.from_response(self.fake.issue_tokens(scopes=scopes), now=self.clock())
        self.client = client or google(self.fake)
        self.adapter: SheetsAdapter = SheetsAdapter(
            Connection(
                settings={**SETTINGS, **(settings or {})},
                secrets={"client_secret": CLIENT_SECRET, **tokens.to_secrets()},
            ),
            client=self.client,
            save_secrets=lambda values: self.saved.append(dict(values)),
            clock=self.clock,
            sleep=self.fake.advance,
            jitter=lambda: 0.0,
        )

    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        return self.fake.add_contact(name, phone)

    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        self.fake.person_edits_call(ref.log_id.partition("/")[0], subject=subject, note=body)

    def row(self, ref: CallLogRef) -> dict[str, str]:
        session_id, _, extension = ref.log_id.partition("/")
        return next(r for r in self.fake.rows() if (r["Session ID"], r["Extension"]) == (session_id, extension))

    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        row: dict[str, Any] = dict(self.row(ref))
        row["subject"] = row["Subject"]
        row["body"] = row["Note"]
        row["dispositions"] = {"disposition": row["Disposition"] or None}
        row["direction"] = row["Direction"]
        row["start_time"] = datetime.fromisoformat(row["Start time (UTC)"])
        row["duration_seconds"] = int(row["Duration (s)"]) if row["Duration (s)"] else None
        row["contact_id"] = row["Contact ID"] or None
        return row

    def unknown_log_ref(self) -> CallLogRef:
        return CallLogRef(adapter_id="sheets", log_id="999999999/101")


class TestSheetsContract(CrmAdapterContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        h = SheetsHarness()
        yield h
        h.close()


class TestSheetsContractOverLoopback(CrmAdapterContract):
    """The same suite with the fake on a real socket, reached through the address override."""

    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        fake = SheetsFake()
        with LoopbackServer(fake.handler) as server:
            h = SheetsHarness(fake, client=httpx.Client(timeout=2), settings={"api_base_url": server.base_url})
            yield h
            h.close()


@pytest.fixture
def sheets() -> Iterator[SheetsHarness]:
    h = SheetsHarness()
    yield h
    h.close()


def _contact(h: SheetsHarness, phone: str = E164, name: str = "Ada Lovelace") -> Contact:
    contact_id = h.add_contact(name, phone)
    return next(c for c in h.adapter.find_contact(phone) if c.id == contact_id)


def _entry(**kw: Any) -> LogEntry:
    return LogEntry(**{"subject": "Inbound call from Ada Lovelace", "body": sample_body("text/plain"), **kw})


def _token(h: SheetsHarness) -> str:
    return h.adapter._oauth.manager.access_token()


def _api(h: SheetsHarness, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request of our own to the fake's Sheets API, with the adapter's token."""
    url = f"https://sheets.googleapis.com/v4/spreadsheets/{DEFAULT_SPREADSHEET_ID}{path}"
    return h.client.request(method, url, headers={"Authorization": f"Bearer {_token(h)}"}, **kwargs)


# --- sign-in -------------------------------------------------------------------------------------


def test_sign_in_with_pkce_through_the_loopback_redirect_reaches_the_spreadsheet() -> None:
    # Given Google (the fake) under its real host names, and the browser played by the test
    fake = SheetsFake()
    http = google(fake)
    settings = {**SETTINGS, "client_secret": CLIENT_SECRET}
    # When the user signs in
    secrets = sign_in(settings, http, open_url=play_browser(http), timeout=10)
    # Then the consent page was asked for the spreadsheets scope with an S256 challenge, on a loopback redirect
    [authorize] = [r for r in fake.requests if r.url.host == "accounts.google.com"]
    assert authorize.url.params["scope"] == SCOPE
    assert authorize.url.params["code_challenge_method"] == "S256"
    assert authorize.url.params["redirect_uri"].startswith("http://127.0.0.1:")
    # and the code was exchanged at oauth2.googleapis.com with the verifier and the desktop client's secret
    [exchange] = [r for r in fake.requests if r.url.path == TOKEN_PATH]
    form = dict(httpx.QueryParams(exchange.content.decode()))
    assert exchange.url.host == "oauth2.googleapis.com"
    assert form["grant_type"] == "authorization_code" and form["code_verifier"]
    assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    tokens = oauth.TokenSet.from_secrets(secrets)
    assert tokens is not None and tokens.refresh_token and tokens.scope == SCOPE
    # And the adapter works with what was kept
    adapter = SheetsAdapter(Connection(settings=SETTINGS, secrets={"client_secret": CLIENT_SECRET, **secrets}),
                            client=http)
    assert adapter.verify() == "Spreadsheet 'Team calls' (tabs Contacts, Calls)"


def test_sign_in_against_the_fake_served_on_loopback_through_the_address_override(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = SheetsFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=5) as http:
        monkeypatch.setenv(ENV_BASE_URL, server.base_url)
        secrets = sign_in(SETTINGS, http, open_url=play_browser(http), timeout=10,
                          secrets={"client_secret": CLIENT_SECRET})
        adapter = SheetsAdapter(Connection(settings=SETTINGS, secrets={"client_secret": CLIENT_SECRET, **secrets}),
                                client=http)
        assert adapter.verify().startswith("Spreadsheet 'Team calls'")
        assert {r.url.port for r in fake.requests} == {httpx.URL(server.base_url).port}


def test_sign_in_declined_in_the_browser_says_so() -> None:
    fake = SheetsFake()
    fake.deny_next_authorize = True
    http = google(fake)
    with pytest.raises(oauth.SignInCancelled, match="declined"):
        sign_in({**SETTINGS, "client_secret": CLIENT_SECRET}, http, open_url=play_browser(http, lands_on=400),
                timeout=10)


def test_a_code_obtained_for_another_challenge_is_refused_in_words() -> None:
    fake = SheetsFake()
    http = google(fake)

    def forged(url: str) -> None:
        swapped = httpx.URL(url).copy_set_param("code_challenge", oauth.make_challenge(oauth.make_verifier()))
        play_browser(http)(str(swapped))

    with pytest.raises(AuthError) as caught:
        sign_in({**SETTINGS, "client_secret": CLIENT_SECRET}, http, open_url=forged, timeout=10)
    assert "invalid_grant" in (caught.value.vendor_message or "")
    assert "Reconnect Google Sheets in Settings" in str(caught.value)


def test_sign_in_without_the_spreadsheets_permission_is_refused_and_the_grant_given_back() -> None:
    # Given a user who unticks the Sheets permission on Google's consent page
    fake = SheetsFake()
    fake.unticked_scopes = {SCOPE}
    http = google(fake)
    # When signing in (the fake grants what is left: nothing useful), then the user is told what to tick
    with pytest.raises(PermissionDenied, match="tick"):
        sign_in({**SETTINGS, "client_secret": CLIENT_SECRET},
                http, open_url=play_browser(http), timeout=10)
    # and the useless grant was revoked
    assert all(g.revoked for g in fake.grants)


def test_sign_in_needs_the_client_id_and_secret() -> None:
    with pytest.raises(AuthError, match="client ID"):
        sign_in({}, httpx.Client(), open_url=lambda url: None)
    with pytest.raises(AuthError, match="client secret"):
        sign_in({"client_id": CLIENT_ID}, httpx.Client(), open_url=lambda url: None)


# --- tokens --------------------------------------------------------------------------------------


def test_access_token_is_refreshed_ahead_of_expiry_and_saved_before_use(sheets: SheetsHarness) -> None:
    sheets.adapter.verify()
    before = sheets.adapter._oauth.tokens
    sheets.fake.advance(3599 - 30)  # inside the refresh margin, not yet expired
    sheets.adapter.verify()
    [saved] = sheets.saved
    after = oauth.TokenSet.from_secrets(saved)
    assert before is not None and after is not None
    assert after.access_token != before.access_token
    assert after.refresh_token == before.refresh_token  # Google does not rotate refresh tokens
    refresh = [r for r in sheets.fake.requests if r.url.path == TOKEN_PATH]
    assert dict(httpx.QueryParams(refresh[0].content.decode()))["grant_type"] == "refresh_token"


def test_a_token_refused_before_its_expiry_is_renewed_once_and_the_request_repeated(sheets: SheetsHarness) -> None:
    contact = _contact(sheets)
    sheets.fake.inject_failure(401)
    ref = sheets.adapter.create_call_log(inbound_call(E164), contact, _entry())
    assert sheets.adapter.get_call_log(ref).subject == "Inbound call from Ada Lovelace"
    assert len(sheets.saved) == 1


def test_revoked_access_asks_to_reconnect_google_sheets(sheets: SheetsHarness) -> None:
    sheets.fake.revoke_grant()
    with pytest.raises(AuthError) as caught:
        sheets.adapter.verify()
    assert "Reconnect Google Sheets in Settings" in str(caught.value)
    assert "invalid_grant" in (caught.value.vendor_message or "")


def test_sign_out_revokes_the_grant_at_google(sheets: SheetsHarness) -> None:
    secrets = sheets.adapter._oauth.tokens.to_secrets()  # type: ignore[union-attr]
    sheets.adapter.sign_out()
    with pytest.raises(AuthError, match="Not signed in"):
        sheets.adapter.verify()
    other = SheetsAdapter(Connection(settings=SETTINGS, secrets={"client_secret": CLIENT_SECRET, **secrets}),
                          client=sheets.client, clock=sheets.clock)
    with pytest.raises(AuthError, match="Reconnect Google Sheets"):
        other.verify()


# --- which spreadsheet, which tabs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("https://example.com/some/page", "not a Google Sheets address"),
        ("", "Enter the spreadsheet"),
        ("https://docs.google.com/spreadsheets/d/e/2PACX-1vQpublished/pubhtml", "published to the web"),
    ],
)
def test_a_wrong_spreadsheet_address_names_the_setting_and_sends_nothing(typed: str, words: str) -> None:
    fake = SheetsFake()
    h = SheetsHarness(fake, settings={"spreadsheet": typed})
    with pytest.raises(ValidationError, match=words) as caught:
        h.adapter.verify()
    assert caught.value.field == "spreadsheet"
    assert fake.api_requests() == []


def test_a_bare_spreadsheet_id_is_accepted() -> None:
    h = SheetsHarness(settings={"spreadsheet": DEFAULT_SPREADSHEET_ID})
    assert h.adapter.verify().startswith("Spreadsheet 'Team calls'")


def test_a_spreadsheet_that_does_not_exist_names_the_address_to_check() -> None:
    h = SheetsHarness(settings={"spreadsheet": "1NoSuchSpreadsheetAnywhere0123456789abcdef"})
    with pytest.raises(NotFound, match="Check the spreadsheet address in Settings"):
        h.adapter.verify()


def test_a_spreadsheet_not_shared_with_the_account_says_whom_to_ask(sheets: SheetsHarness) -> None:
    sheets.fake.share(USER, None)
    with pytest.raises(PermissionDenied, match=r"cannot open this spreadsheet\. Ask its owner to share it"):
        sheets.adapter.verify()


def test_a_view_only_share_lets_contacts_be_found_but_not_calls_logged(sheets: SheetsHarness) -> None:
    contact = _contact(sheets)
    sheets.fake.share(USER, "reader")
    assert [c.id for c in sheets.adapter.find_contact(E164)] == [contact.id]
    with pytest.raises(PermissionDenied, match="cannot edit this spreadsheet"):
        sheets.adapter.create_call_log(inbound_call(E164), contact, _entry())


def test_drive_file_does_not_reach_a_spreadsheet_named_by_its_address() -> None:
    # Why the adapter asks for the spreadsheets scope: with drive.file, a sheet the app did not
    # create or open through Google's Picker answers 404, as if it did not exist.
    h = SheetsHarness(scopes=(SCOPE_DRIVE_FILE,))
    with pytest.raises(NotFound):
        h.adapter.verify()
    h.fake.book.opened_with_app = True  # picked through the Picker: then it is reachable
    assert h.adapter.verify().startswith("Spreadsheet 'Team calls'")


def test_missing_tabs_are_named_with_what_to_do() -> None:
    fake = SheetsFake(tabs=("Contacts", "Sheet1"))
    h = SheetsHarness(fake)
    with pytest.raises(ValidationError, match="no tab named 'Calls'") as caught:
        h.adapter.verify()
    assert caught.value.field == "calls_tab"
    contact = _contact(h)
    with pytest.raises(ValidationError, match="no tab named 'Calls'"):
        h.adapter.create_call_log(inbound_call(E164), contact, _entry())
    renamed = SheetsHarness(fake, settings={"calls_tab": "Sheet1"})
    assert renamed.adapter.verify() == "Spreadsheet 'Team calls' (tabs Contacts, Sheet1)"


def test_tab_names_with_spaces_and_quotes_are_quoted_in_a1_notation() -> None:
    fake = SheetsFake(tabs=("Our people", "Bob's calls"))
    fake.tab("Our people").rows.append(["Name", "Phone"])
    h = SheetsHarness(fake, settings={"contacts_tab": "Our people", "calls_tab": "Bob's calls"})
    fake.tab("Our people").rows.append(["Ada Lovelace", E164])
    [contact] = h.adapter.find_contact(E164)
    ref = h.adapter.create_call_log(inbound_call(E164), contact, _entry())
    assert h.adapter.get_call_log(ref).subject == "Inbound call from Ada Lovelace"
    paths = {r.url.path for r in fake.api_requests()}
    assert f"/v4/spreadsheets/{DEFAULT_SPREADSHEET_ID}/values/'Bob''s calls'!A2:B" in paths


def test_the_calls_header_is_written_into_an_empty_tab_and_a_foreign_one_is_refused(sheets: SheetsHarness) -> None:
    contact = _contact(sheets)
    sheets.adapter.create_call_log(inbound_call(E164), contact, _entry())
    assert tuple(sheets.fake.tab().rows[0]) == CALL_COLUMNS
    other = SheetsFake()
    other.tab().rows.append(["Session ID", "Extension", "When"])
    h = SheetsHarness(other)
    with pytest.raises(ValidationError, match="column C holds 'When' where 'Start time \\(UTC\\)' belongs"):
        h.adapter.create_call_log(inbound_call(E164), _contact(h), _entry())


# --- contacts ------------------------------------------------------------------------------------


def test_contacts_are_matched_by_e164_in_any_phone_column_of_any_layout() -> None:
    # Given a Contacts tab a person laid out: no ID column, columns in their own order, two numbers in a cell
    fake = SheetsFake(contacts_header=())
    contacts = fake.tab("Contacts").rows
    contacts.append(["Company", "Mobile", "name", "Work phone"])
    contacts.append(["Analytical Engines", "", "Ada Lovelace", "(415) 555-0123"])
    contacts.append(["Navy", "415.555.0199 / +1 415-555-0123", "Grace Hopper", ""])
    contacts.append(["", "+1 212 555 7464", "Someone Else", ""])
    h = SheetsHarness(fake)
    found = {c.name: c for c in h.adapter.find_contact("(415) 555-0123")}
    # Then both people with that number are offered, with a stable id from name and number
    assert set(found) == {"Ada Lovelace", "Grace Hopper"}
    assert found["Ada Lovelace"].id == f"Ada Lovelace <{E164}>"
    assert (found["Ada Lovelace"].company, found["Grace Hopper"].phone) == ("Analytical Engines", "+1 415-555-0123")
    assert h.adapter.find_contact("+14155550199")[0].name == "Grace Hopper"


def test_a_contacts_tab_without_name_and_phone_headers_says_what_it_needs() -> None:
    fake = SheetsFake(contacts_header=("Who", "Number"))
    h = SheetsHarness(fake)
    with pytest.raises(ValidationError, match="Name and Phone"):
        h.adapter.find_contact(E164)


def test_contacts_are_read_in_one_values_get_with_formatted_values(sheets: SheetsHarness) -> None:
    _contact(sheets)
    [read] = sheets.fake.api_requests()
    assert (read.method, read.url.path) == ("GET", f"/v4/spreadsheets/{DEFAULT_SPREADSHEET_ID}/values/Contacts")
    assert dict(read.url.params) == {"valueRenderOption": "FORMATTED_VALUE"}


# --- rows that move under the app ----------------------------------------------------------------


def test_rows_inserted_above_between_the_apps_read_and_write_do_not_shift_the_write(sheets: SheetsHarness) -> None:
    # Given a logged call, read by the app
    contact = _contact(sheets)
    ref = sheets.adapter.create_call_log(inbound_call(E164), contact, _entry())
    read = sheets.adapter.get_call_log(ref)
    assert sheets.fake.row_number(ref.log_id.partition("/")[0]) == 2
    # When a person inserts two rows above it before the app writes
    sheets.fake.person_inserts_rows(2, [["typed by a person", "", "2026-01-01"], ["another person's row"]])
    sheets.adapter.update_call_log(
        ref, LogUpdate(body=read.body.replace("(pending)", "3 min 14 sec")), expected_version=read.version
    )
    # Then the call's own row (now row 4) got the note, and the person's rows are as typed
    assert sheets.fake.row_number(ref.log_id.partition("/")[0]) == 4
    assert "Call duration: 3 min 14 sec" in sheets.row(ref)["Note"]
    first, second = sheets.fake.rows()[:2]
    assert (first["Session ID"], first["Start time (UTC)"], first["Note"]) == ("typed by a person", "2026-01-01", "")
    assert (second["Session ID"], second["Note"]) == ("another person's row", "")
    put = [r for r in sheets.fake.api_requests() if r.method == "PUT"][-1]
    assert put.url.path.endswith("/values/Calls!A4:N4")


def test_rows_sorted_by_a_person_are_followed_by_session_id(sheets: SheetsHarness) -> None:
    contact = _contact(sheets)
    older = sheets.adapter.create_call_log(inbound_call(E164, session_id="1000000000001"), contact, _entry())
    newer = sheets.adapter.create_call_log(inbound_call(E164, session_id="1000000000002"), contact, _entry())
    read = sheets.adapter.get_call_log(older)
    sheets.fake.person_sorts_rows("A", descending=True)
    sheets.adapter.update_call_log(older, LogUpdate(subject="Older call, renamed"), expected_version=read.version)
    assert sheets.row(older)["Subject"] == "Older call, renamed"
    assert sheets.row(newer)["Subject"] == "Inbound call from Ada Lovelace"
    assert sheets.fake.row_number("1000000000001") == 3


def test_a_person_editing_the_row_between_read_and_write_is_a_conflict_and_nothing_is_written(
    sheets: SheetsHarness,
) -> None:
    contact = _contact(sheets)
    ref = sheets.adapter.create_call_log(inbound_call(E164), contact, _entry())
    read = sheets.adapter.get_call_log(ref)
    sheets.fake.person_edits_call(ref.log_id.partition("/")[0], note=lambda n: n + "Called back, all sorted.\n")
    writes = sum(1 for r in sheets.fake.api_requests() if r.method == "PUT")
    with pytest.raises(ConflictError):
        sheets.adapter.update_call_log(ref, LogUpdate(body="overwrites"), expected_version=read.version)
    assert sum(1 for r in sheets.fake.api_requests() if r.method == "PUT") == writes
    assert sheets.row(ref)["Note"].endswith("Called back, all sorted.\n")


def test_an_update_sends_only_the_changed_cells_and_sheets_skips_the_nulls(sheets: SheetsHarness) -> None:
    contact = _contact(sheets)
    ref = sheets.adapter.create_call_log(inbound_call(E164), contact, _entry())
    sheets.adapter.update_call_log(ref, LogUpdate(duration_seconds=431, recording_url="https://r.test/1"))
    put = [r for r in sheets.fake.api_requests() if r.method == "PUT"][-1]
    [values] = json.loads(put.content)["values"]
    assert [i for i, v in enumerate(values) if v is not None] == [7, 11]  # Duration (s), Recording
    assert put.url.params["valueInputOption"] == "RAW"
    row = sheets.row(ref)
    assert (row["Duration (s)"], row["Recording"], row["Subject"]) == ("431", "https://r.test/1", _entry().subject)


def test_a_row_deleted_in_the_sheet_is_not_found(sheets: SheetsHarness) -> None:
    contact = _contact(sheets)
    ref = sheets.adapter.create_call_log(inbound_call(E164), contact, _entry())
    sheets.fake.person_deletes_row(sheets.fake.row_number(ref.log_id.partition("/")[0]))
    with pytest.raises(NotFound, match="deleted in the spreadsheet"):
        sheets.adapter.get_call_log(ref)
    assert sheets.adapter.find_call_log(inbound_call(E164)) is None


def test_two_agents_logging_one_call_get_a_row_each(sheets: SheetsHarness) -> None:
    contact = _contact(sheets)
    mine = inbound_call(E164, session_id="2000000000001")
    theirs = mine.model_copy(update={"to": mine.to.model_copy(update={"extension_number": "102"})})
    ref_mine = sheets.adapter.create_call_log(mine, contact, _entry(subject="Dana's log"))
    ref_theirs = sheets.adapter.create_call_log(theirs, contact, _entry(subject="Marcus's log"))
    assert (ref_mine.log_id, ref_theirs.log_id) == ("2000000000001/101", "2000000000001/102")
    assert sheets.adapter.get_call_log(ref_theirs).subject == "Marcus's log"
    found = sheets.adapter.find_call_log(mine)
    assert found is not None and found.log_id == ref_mine.log_id


# --- what is written: text stays text ------------------------------------------------------------


@pytest.mark.parametrize("text", ["=HYPERLINK(\"https://evil.example\",\"click\")", "+1 415 555 0123", "-5", "@here"])
def test_notes_and_subjects_that_look_like_formulas_are_kept_as_text(sheets: SheetsHarness, text: str) -> None:
    contact = _contact(sheets)
    ref = sheets.adapter.create_call_log(inbound_call(E164), contact, _entry(subject=text, body=text + "\n"))
    row = sheets.fake.rows_raw(sheets.fake.row_number(ref.log_id.partition("/")[0]))
    assert (row[9], row[10]) == (text, text + "\n")  # stored as strings, never a Formula or a number
    assert row[4] == E164 and isinstance(row[4], str)  # the caller's number keeps its '+'
    stored = sheets.adapter.get_call_log(ref)
    assert (stored.subject, stored.body) == (text, text + "\n")


def test_the_fake_turns_user_entered_text_into_formulas_as_the_sheets_ui_does(sheets: SheetsHarness) -> None:
    answer = _api(sheets, "PUT", "/values/Calls!A1:B1", params={"valueInputOption": "USER_ENTERED"},
                  json={"values": [["=1+2", "+14155550123"]]})
    assert answer.status_code == 200
    assert sheets.fake.tab().rows[0][:2] == [Formula("=1+2"), 14155550123]


def test_a_note_over_the_cell_limit_is_refused_before_sending_and_the_fake_refuses_it_too(
    sheets: SheetsHarness,
) -> None:
    contact = _contact(sheets)
    sent = len(sheets.fake.api_requests())
    with pytest.raises(ValidationError, match="at most 50,000") as caught:
        sheets.adapter.create_call_log(inbound_call(E164), contact, _entry(body="x" * 50_001))
    assert caught.value.field == "body" and len(sheets.fake.api_requests()) == sent
    answer = _api(sheets, "PUT", "/values/Calls!K2", params={"valueInputOption": "RAW"},
                  json={"values": [["x" * 50_001]]})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "Your input contains more than the maximum of 50000 characters in a single cell."
    )


def test_the_ai_note_column_follows_the_notes_ai_note_section(sheets: SheetsHarness) -> None:
    contact = _contact(sheets)
    body = "- Note: hi\n\n- AI Note:\n<AI note being prepared by RingCentral>\n--- END\n"
    ref = sheets.adapter.create_call_log(inbound_call(E164), contact, _entry(body=body))
    assert sheets.row(ref)["AI note"] == ""
    done = body.replace("<AI note being prepared by RingCentral>", "Summary:\na billing question")
    sheets.adapter.update_call_log(ref, LogUpdate(body=done))
    assert sheets.row(ref)["AI note"] == "Summary:\na billing question"


# --- dispositions --------------------------------------------------------------------------------


def test_dispositions_are_the_disposition_columns_validation_list(sheets: SheetsHarness) -> None:
    sheets.fake.set_validation("N", ["Sale", "Quote sent", "Not interested"])
    fields = {f.id: f for f in page_fields_for(sheets.adapter)}
    assert [o.id for o in fields["disposition"].options] == ["Sale", "Quote sent", "Not interested"]
    page_fields_for(sheets.adapter)
    [asked] = [r for r in sheets.fake.api_requests() if r.url.path.endswith(DEFAULT_SPREADSHEET_ID)]
    assert asked.url.params["fields"] == "sheets(data(rowData(values(dataValidation))))"
    assert asked.url.params["ranges"] == "Calls!N2"
    assert sheets.adapter.manifest.field("disposition").options[0].id == DEFAULT_DISPOSITIONS[0]


def test_dispositions_can_come_from_a_range_the_validation_names() -> None:
    fake = SheetsFake(tabs=("Contacts", "Calls", "Lists"))
    fake.tab("Lists").rows.extend([["Outcome"], ["Booked demo"], ["Wrong number"]])
    fake.set_validation("N", ["=Lists!A2:A"], kind="ONE_OF_RANGE")
    h = SheetsHarness(fake)
    assert [o.id for o in h.adapter.dispositions()] == ["Booked demo", "Wrong number"]


def test_without_a_validation_list_the_default_dispositions_are_offered(sheets: SheetsHarness) -> None:
    assert [o.id for o in sheets.adapter.dispositions()] == list(DEFAULT_DISPOSITIONS)


# --- quotas and faults ---------------------------------------------------------------------------


def test_a_429_without_retry_after_backs_off_exponentially_and_sends_nothing_meanwhile(sheets: SheetsHarness) -> None:
    contact = _contact(sheets)
    waits = []
    for _ in range(4):
        sheets.fake.inject_failure(429)
        with pytest.raises(RateLimited) as caught:
            sheets.adapter.find_contact(E164)
        assert "RESOURCE_EXHAUSTED" in (caught.value.vendor_message or "")
        waits.append(caught.value.retry_after)
        sent = len(sheets.fake.requests)
        if caught.value.retry_after and caught.value.retry_after > 2:
            with pytest.raises(RateLimited):
                sheets.adapter.find_contact(E164)
            assert len(sheets.fake.requests) == sent, "nothing may be sent during the backoff"
        sheets.fake.advance(caught.value.retry_after or 0)
    assert waits == [1.0, 2.0, 4.0, 8.0]  # 2^n + (no) random milliseconds
    assert [c.id for c in sheets.adapter.find_contact(E164)] == [contact.id]
    sheets.fake.inject_failure(429)
    with pytest.raises(RateLimited) as caught:
        sheets.adapter.find_contact(E164)
    assert caught.value.retry_after == 1.0, "a success starts the backoff over"


def test_the_adapter_keeps_under_sixty_reads_a_minute_without_asking_google(sheets: SheetsHarness) -> None:
    _contact(sheets)
    for _ in range(59):
        sheets.adapter.find_contact(E164)
    sent = len(sheets.fake.requests)
    with pytest.raises(RateLimited) as caught:
        sheets.adapter.find_contact(E164)
    assert len(sheets.fake.requests) == sent and 0 < (caught.value.retry_after or 0) <= 60
    sheets.fake.advance(60)
    assert sheets.adapter.find_contact(E164)


def test_two_desktops_of_one_user_together_meet_googles_per_user_quota() -> None:
    # Each adapter counts only its own requests; together they pass 60 reads a minute.
    fake = SheetsFake()
    first, second = SheetsHarness(fake), SheetsHarness(fake)
    fake.add_contact("Ada Lovelace", E164)
    for _ in range(30):
        first.adapter.find_contact(E164)
        second.adapter.find_contact(E164)
    with pytest.raises(RateLimited) as caught:
        first.adapter.find_contact(E164)
    assert caught.value.retry_after == 1.0
    assert "Read requests per minute per user" in (caught.value.vendor_message or "")
    fake.advance(60)
    assert first.adapter.find_contact(E164)


def test_a_timeout_on_a_real_socket_is_transient_and_the_next_request_works() -> None:
    fake = SheetsFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=0.3) as http:
        h = SheetsHarness(fake, client=http, settings={"api_base_url": server.base_url})
        fake.inject_failure("timeout")
        with pytest.raises(TransientError, match="did not answer in time"):
            h.adapter.verify()
        assert h.adapter.verify().startswith("Spreadsheet")


def test_a_slow_answer_within_the_timeout_arrives_and_a_slower_one_is_transient() -> None:
    fake = SheetsFake()
    with google(fake, timeout=5) as http:
        h = SheetsHarness(fake, client=http)
        fake.delay_next(4)
        assert h.adapter.verify().startswith("Spreadsheet")
        fake.delay_next(6)
        with pytest.raises(TransientError, match="did not answer in time"):
            h.adapter.find_contact(E164)


# --- the fake validates like Google --------------------------------------------------------------


def test_the_fake_refuses_an_undeclared_query_parameter_with_googles_words(sheets: SheetsHarness) -> None:
    answer = _api(sheets, "GET", "/values/Calls!A1", params={"valueRenderOption": "FORMATTED_VALUE", "sort": "A"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["status"], error["code"]) == ("INVALID_ARGUMENT", 400)
    assert error["message"] == (
        'Invalid JSON payload received. Unknown name "sort": Cannot bind query parameter. '
        "Field 'sort' could not be found in request message."
    )
    # System parameters (fields, prettyPrint, ...) are taken by every method
    assert _api(sheets, "GET", "/values/Calls!A1", params={"prettyPrint": "false"}).status_code == 200


def test_the_fake_refuses_an_undeclared_body_field_and_a_missing_value_input_option(sheets: SheetsHarness) -> None:
    answer = _api(sheets, "PUT", "/values/Calls!A1", params={"valueInputOption": "RAW"},
                  json={"values": [["x"]], "valueInputOption": "RAW"})
    assert answer.json()["error"]["message"] == (
        'Invalid JSON payload received. Unknown name "valueInputOption": Cannot find field.'
    )
    answer = _api(sheets, "POST", "/values/Calls!A:N:append", json={"values": [["x"]]})
    assert answer.json()["error"]["message"] == "'valueInputOption' is required but not specified"
    assert sheets.fake.tab().rows == []


def test_the_fake_parses_a1_notation_like_sheets(sheets: SheetsHarness) -> None:
    assert _api(sheets, "GET", "/values/Sheet 1!A1").json()["error"]["message"] == "Unable to parse range: Sheet 1!A1"
    assert _api(sheets, "GET", "/values/Calls!A1:B1:C1").status_code == 400
    answer = _api(sheets, "PUT", "/values/Calls!A1:B1", params={"valueInputOption": "RAW"},
                  json={"values": [["a", "b", "c"]]})
    assert answer.json()["error"]["message"] == (
        "Requested writing within range [Calls!A1:B1], but tried writing to column [C]"
    )
    assert _api(sheets, "GET", "/values/Calls!A:B").json() == {"range": "Calls!A1:B1000", "majorDimension": "ROWS"}


def test_outbound_calls_keep_their_direction_and_number(sheets: SheetsHarness) -> None:
    contact = _contact(sheets, phone="+12125557464", name="Grace Hopper")
    ref = sheets.adapter.create_call_log(outbound_call("+12125557464"), contact, _entry(subject="Outbound"))
    row = sheets.row(ref)
    assert (row["Direction"], row["Number"], row["Contact"], row["Result"]) == (
        "Outbound", "+12125557464", "Grace Hopper", "Call connected")
