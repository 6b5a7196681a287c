# SPDX-License-Identifier: MIT
"""A fake Acme CRM server:
the vendor's REST API, in memory, behind ``httpx.MockTransport``.

It validates requests the way the real service would, so the adapter meets realistic errors:
bearer-token auth (401), unknown or read-only fields (422), field limits (422), unknown records
(404), ``If-Match`` preconditions (412), too many search values (400). Every write bumps the
record's ``version``; :meth:`FakeAcmeServer.person_edits` is a person editing
in Acme's own screens.
:attr:`FakeAcmeServer.faults` makes the next request fail on purpose (an error
status, a timeout, a body that is not JSON, or this server's own answer in the
wrong shape).

The API (all JSON, errors as ``{"error": {"code", "message", "field"}}``):

- ``GET /v1/me``: the token's user.
- ``GET /v1/contacts?phone=A&phone=B``: contacts whose stored phone text equals any value
  exactly (at most 20 values), each with its open ``deals``. ``GET /v1/users?extension=102``: internal users.
- ``POST /v1/activities``: create a call activity → 201 ``{"data": activity}``.
- ``GET /v1/activities/{id}``, ``PATCH /v1/activities/{id}`` (``If-Match: <version>``).
- ``GET /v1/activities?external_id=<session id>``.

Threading: a lock guards the state; the handler may serve several threads.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

import httpx

from adapters.testing.faults import FaultInjector

BASE_URL = "https://api.acme-crm.example"
#: The API token the fake accepts by default (a test value, not a credential).
TEST_TOKEN = "acme-test-token"  # noqa: S105
OUTCOMES = ("connected", "voicemail", "no_answer", "busy")
SUBJECT_LIMIT = 200
NOTE_LIMIT = 10_000
MAX_PHONE_VALUES = 20

TICKET_PATTERN = r"[A-Z]{2,5}-\d{1,6}"

_CREATE_FIELDS = {
    "subject", "note", "contact_id", "direction", "started_at", "duration_seconds",
    "recording_url", "outcome", "follow_up", "deal_id", "ticket", "external_id",
}  # fmt: skip
_PATCH_FIELDS = {"subject", "note", "duration_seconds", "recording_url", "outcome", "follow_up", "deal_id", "ticket"}


class _Reject(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_envelope(status: int, code: str = "", message: str = "", field: str | None = None) -> dict[str, Any]:
    """Acme's error body."""
    default_codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
                     412: "precondition_failed", 422: "invalid_field", 429: "rate_limited"}  # fmt: skip
    body: dict[str, Any] = {
        "code": code or default_codes.get(status, "server_error"),
        "message": message or f"Acme answered {status}",
    }
    if field:
        body["field"] = field
    return {"error": body}


class FakeAcmeServer:
    """The fake service. ``token`` is the only API token it accepts.

    Args:
        token: the valid bearer token.
        clock: the server's clock for ``updated_at`` stamps.
    """

    def __init__(
        self, token: str = TEST_TOKEN, *, clock: Callable[[], datetime] | None = None, base_url: str = BASE_URL
    ) -> None:
        self.token = token
        self.base_url = base_url
        self.faults = FaultInjector(lambda status: error_envelope(status))
        self.requests: list[httpx.Request] = []
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._ids = itertools.count(1001)
        self.contacts: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.activities: dict[str, dict[str, Any]] = {}

    # --- the back door: what a person does in Acme's own screens ---

    def add_contact(self, name: str, phone: str, company: str | None = None) -> str:
        with self._lock:
            cid = str(next(self._ids))
            self.contacts[cid] = {"id": cid, "name": name, "phone": phone, "company": company, "deals": []}
            return cid

    def add_deal(self, contact_id: str, name: str) -> str:
        """A deal (an open opportunity) of a contact: the log page offers it for that contact only."""
        with self._lock:
            did = str(next(self._ids))
            self.contacts[contact_id]["deals"].append({"id": did, "name": name})
            return did

    def add_user(self, name: str, extension: str, phone: str | None = None) -> str:
        with self._lock:
            uid = str(next(self._ids))
            self.users[uid] = {"id": uid, "name": name, "extension": extension, "phone": phone}
            return uid

    def person_edits(
        self, activity_id: str, *, subject: str | None = None, note: Callable[[str], str] | None = None
    ) -> None:
        with self._lock:
            activity = self.activities[activity_id]
            if subject is not None:
                activity["subject"] = subject
            if note is not None:
                activity["note"] = note(activity["note"])
            self._touch(activity)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def seed_demo(self) -> int:
        """Adds the people of Logdesk's sandbox (``resources/sandbox/contacts.json``), each with a
        deal, and its colleagues as users, so the sandbox's simulated calls find them."""
        raw_doc = json.loads(resources.files("resources").joinpath("sandbox", "contacts.json").read_text("utf-8"))
        added = 0
        for raw in raw_doc.get("contacts", []):
            name = raw.get("name") or f"{raw.get('firstName', '')} {raw.get('lastName', '')}".strip()
            contact_id = self.add_contact(name, raw.get("crmPhone") or raw["phoneNumber"], raw.get("company"))
            self.add_deal(contact_id, f"{raw.get('company') or name}: renewal")
            added += 1
        for raw in raw_doc.get("colleagues", []):
            self.add_user(raw["name"], raw["extensionNumber"])
            added += 1
        return added

    @contextlib.contextmanager
    def serve(self, port: int = 0) -> Iterator[str]:
        """Serves the fake on ``127.0.0.1:port`` (0 picks a free port) and yields its base URL.

        For trying the adapter in the app: point the adapter's API address at the URL.
        """
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                content = self.rfile.read(length) if length else b""
                headers = [(k, v) for k, v in self.headers.items() if k.lower() != "host"]
                url = f"{fake.base_url}{self.path}"
                try:
                    response = fake.handle(httpx.Request(self.command, url, headers=headers, content=content))
                except httpx.TimeoutException:  # an injected timeout: hang up without an answer
                    self.close_connection = True
                    return
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        previous, self.base_url = self.base_url, f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, name="acme-fake", daemon=True)
        thread.start()
        try:
            yield self.base_url
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
            self.base_url = previous

    # --- the API ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answers one request (the ``MockTransport`` handler)."""
        with self._lock:
            self.requests.append(request)
            injected = self.faults.take(request, self._answer)
            if injected is not None:
                return injected
            return self._answer(request)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        """The API's answer, without injected failures."""
        try:
            if request.url.host != httpx.URL(self.base_url).host:
                raise _Reject(404, "not_found", f"No Acme API at {request.url.host}")
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                raise _Reject(401, "unauthorized", "Invalid or expired token")
            return self._route(request)
        except _Reject as rej:
            return httpx.Response(rej.status, json=error_envelope(rej.status, rej.code, rej.message, rej.field))

    def _route(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path.rstrip("/"), request.method
        parts = path.split("/")[1:]
        if parts[:1] != ["v1"]:
            raise _Reject(404, "not_found", f"Unknown path {path}")
        if method == "GET" and parts == ["v1", "me"]:
            me = {"id": "u-1", "name": "Dana Agent", "email": "dana@acme.example"}
            return httpx.Response(200, json={"data": me})
        if method == "GET" and parts == ["v1", "contacts"]:
            values = request.url.params.get_list("phone")
            if not values:
                raise _Reject(400, "bad_request", "phone is required", "phone")
            if len(values) > MAX_PHONE_VALUES:
                raise _Reject(400, "bad_request", f"At most {MAX_PHONE_VALUES} phone values", "phone")
            found = [c for c in self.contacts.values() if c["phone"] in values]
            return httpx.Response(200, json={"data": found})
        if method == "GET" and parts == ["v1", "users"]:
            ext = request.url.params.get("extension", "")
            return httpx.Response(200, json={"data": [u for u in self.users.values() if u["extension"] == ext]})
        if parts[:2] == ["v1", "activities"]:
            if len(parts) == 2 and method == "POST":
                return self._create(self._json(request))
            if len(parts) == 2 and method == "GET":
                external_id = request.url.params.get("external_id")
                if not external_id:
                    raise _Reject(400, "bad_request", "external_id is required", "external_id")
                found = [a for a in self.activities.values() if a["external_id"] == external_id]
                return httpx.Response(200, json={"data": found})
            if len(parts) == 3:
                activity = self.activities.get(parts[2])
                if activity is None:
                    raise _Reject(404, "not_found", f"Activity {parts[2]} not found")
                if method == "GET":
                    return self._one(activity, 200)
                if method == "PATCH":
                    return self._patch(activity, request)
        raise _Reject(404, "not_found", f"No route for {method} {path}")

    @staticmethod
    def _json(request: httpx.Request) -> dict[str, Any]:
        if request.headers.get("Content-Type", "").split(";")[0] != "application/json":
            raise _Reject(400, "bad_request", "Content-Type must be application/json")
        try:
            raw_body = json.loads(request.content)
        except ValueError:
            raise _Reject(400, "bad_request", "Body is not JSON")
        if not isinstance(raw_body, dict):
            raise _Reject(400, "bad_request", "Body must be an object")
        return raw_body

    @staticmethod
    def _check_values(raw_body: dict[str, Any]) -> None:
        for key in ("subject", "note"):
            if key in raw_body and not isinstance(raw_body[key], str):
                raise _Reject(422, "invalid_field", f"{key} must be a string", key)
        if len(raw_body.get("subject", "")) > SUBJECT_LIMIT:
            raise _Reject(422, "too_long", f"subject is longer than {SUBJECT_LIMIT} characters", "subject")
        if len(raw_body.get("note", "")) > NOTE_LIMIT:
            raise _Reject(422, "too_long", f"note is longer than {NOTE_LIMIT} characters", "note")
        if raw_body.get("outcome") is not None and raw_body["outcome"] not in OUTCOMES:
            raise _Reject(422, "invalid_field", f"outcome must be one of {', '.join(OUTCOMES)}", "outcome")
        if "follow_up" in raw_body and not isinstance(raw_body["follow_up"], bool):
            raise _Reject(422, "invalid_field", "follow_up must be true or false", "follow_up")
        duration = raw_body.get("duration_seconds")
        if duration is not None and (not isinstance(duration, int) or isinstance(duration, bool) or duration < 0):
            raise _Reject(422, "invalid_field", "duration_seconds must be a whole number", "duration_seconds")
        url = raw_body.get("recording_url")
        if url is not None and not (isinstance(url, str) and url.startswith("https://")):
            raise _Reject(422, "invalid_field", "recording_url must be an https URL", "recording_url")
        ticket = raw_body.get("ticket")
        if ticket is not None and not (isinstance(ticket, str) and re.fullmatch(TICKET_PATTERN, ticket)):
            raise _Reject(422, "invalid_field", "ticket must look like SUP-123", "ticket")

    def _check_deal(self, contact_id: str, deal_id: Any) -> None:
        if deal_id is None:
            return
        deals = self.contacts.get(contact_id, {}).get("deals", [])
        if not any(d["id"] == deal_id for d in deals):
            raise _Reject(422, "invalid_field", "deal_id is not a deal of this contact", "deal_id")

    def _create(self, raw_body: dict[str, Any]) -> httpx.Response:
        unknown = set(raw_body) - _CREATE_FIELDS
        if unknown:
            raise _Reject(422, "unknown_field", f"Unknown field {sorted(unknown)[0]}", sorted(unknown)[0])
        for key in ("subject", "note", "contact_id", "direction", "started_at"):
            if raw_body.get(key) in (None, ""):
                raise _Reject(422, "required", f"{key} is required", key)
        self._check_values(raw_body)
        if raw_body["contact_id"] not in self.contacts and raw_body["contact_id"] not in self.users:
            raise _Reject(422, "invalid_field", "contact_id does not exist", "contact_id")
        self._check_deal(raw_body["contact_id"], raw_body.get("deal_id"))
        if raw_body["direction"] not in ("inbound", "outbound"):
            raise _Reject(422, "invalid_field", "direction must be inbound or outbound", "direction")
        try:
            started = datetime.fromisoformat(str(raw_body["started_at"]))
        except ValueError:
            raise _Reject(422, "invalid_field", "started_at must be ISO 8601", "started_at")
        if started.tzinfo is None:
            raise _Reject(422, "invalid_field", "started_at needs a UTC offset", "started_at")
        aid = str(next(self._ids))
        activity = {
            "id": aid,
            "subject": raw_body["subject"],
            "note": raw_body["note"],
            "contact_id": raw_body["contact_id"],
            "direction": raw_body["direction"],
            "started_at": raw_body["started_at"],
            "duration_seconds": raw_body.get("duration_seconds"),
            "recording_url": raw_body.get("recording_url"),
            "outcome": raw_body.get("outcome"),
            "follow_up": bool(raw_body.get("follow_up", False)),
            "deal_id": raw_body.get("deal_id"),
            "ticket": raw_body.get("ticket"),
            "external_id": raw_body.get("external_id"),
            "version": 0,
        }
        self._touch(activity)
        self.activities[aid] = activity
        return self._one(activity, 201)

    def _patch(self, activity: dict[str, Any], request: httpx.Request) -> httpx.Response:
        precondition = request.headers.get("If-Match")
        if precondition is not None and precondition.strip('"') != str(activity["version"]):
            raise _Reject(412, "precondition_failed", "The activity was changed by someone else")
        raw_body = self._json(request)
        blocked = set(raw_body) - _PATCH_FIELDS
        if blocked:
            name = sorted(blocked)[0]
            raise _Reject(
                422, "read_only" if name in _CREATE_FIELDS else "unknown_field", f"{name} cannot be changed", name
            )
        self._check_values(raw_body)
        if "deal_id" in raw_body:
            self._check_deal(activity["contact_id"], raw_body["deal_id"])
        activity.update(raw_body)
        self._touch(activity)
        return self._one(activity, 200)

    def _touch(self, activity: dict[str, Any]) -> None:
        activity["version"] += 1
        activity["updated_at"] = self._clock().astimezone(UTC).isoformat()

    @staticmethod
    def _one(activity: dict[str, Any], status: int) -> httpx.Response:
        return httpx.Response(status, json={"data": activity}, headers={"ETag": f'"{activity["version"]}"'})


def main(argv: list[str] | None = None) -> int:
    """``python -m adapters.template.acme_fake``: serve the fake on loopback until Ctrl+C."""
    parser = argparse.ArgumentParser(
        description="Serve the fake Acme CRM API on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=8770)
    parser.add_argument("--token", default=TEST_TOKEN, help="the API token the fake accepts")
    parser.add_argument("--empty", action="store_true", help="start without the sandbox's demo people")
    args = parser.parse_args(argv)
    fake = FakeAcmeServer(token=args.token)
    people = 0 if args.empty else fake.seed_demo()
    with fake.serve(args.port) as url:
        print(f"Fake Acme CRM at {url}", flush=True)
        print(f"{people} demo people. API token: {args.token}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
