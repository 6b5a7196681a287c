# SPDX-License-Identifier: MIT
"""The RingCentral REST client: extension, call log, call-log sync, recordings, RingSense.

Everything goes through one request path that:

1. waits for the endpoint's rate-limit group to have budget (:mod:`.ratelimit`), sleeping through
   the injected ``sleep`` for short waits and raising :class:`~adapters.base.RateLimited` for long
   ones, so nothing is sent while a group is paused;
2. adds a fresh bearer token (:class:`~.auth.RingCentralAuth` refreshes ahead of expiry);
3. corrects the budget from ``X-Rate-Limit-*``; on a 429 pauses that group for ``Retry-After``
   (30 s when absent) and raises :class:`~adapters.base.RateLimited`;
4. retries timeouts, dropped connections and 5xx with jittered exponential backoff;
5. on a 401 refreshes once and retries once;
6. maps every other failure to an :mod:`adapters.base` error, and validates bodies with pydantic
   models (a missing or malformed field is named in the message).

Threading contract: a :class:`RingCentralClient` may be shared by worker threads: the rate limiter
and the token refresh are thread-safe, and ``httpx.Client`` is thread-safe. It never touches Qt.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import pydantic

from adapters.base import (
    AdapterError,
    AuthError,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationError,
)
from adapters.http import error_for_response, parse_retry_after, transport_failure
from adapters.models import Call
from adapters.ringcentral.auth import RingCentralAuth
from adapters.ringcentral.models import (
    CallLogPage,
    Extension,
    Insights,
    RecordingInfo,
    RejectedRecord,
    SyncPage,
    SyncResult,
    WsToken,
    field_path,
    validate,
)
from adapters.ringcentral.ratelimit import Group, GroupStatus, RateLimiter

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]

VENDOR = "RingCentral"
_EXT = "/restapi/v1.0/account/~/extension/~"
_ACCOUNT = "/restapi/v1.0/account/~"
_RINGSENSE = "/ai/ringsense/v1/public/accounts/~/domains/pbx"
#: FSync's maximum ``recordCount``.
FSYNC_MAX_RECORDS = 250


#: Secret-store keys (the app's store; the client only calls ``get``/``set`` through it).
TOKENS_KEY = "ringcentral:tokens"
JWT_KEY = "ringcentral:jwt"
CLIENT_SECRET_KEY = "ringcentral:client_secret"  # noqa: S105 (a key name)


class SecretAccess(Protocol):
    """The part of the app's secret store the client uses."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class RingCentralConfig(Protocol):
    """The RingCentral settings the client is built from (``desktop.settings.RingCentralSettings``)."""

    @property
    def server(self) -> str: ...

    @property
    def client_id(self) -> str: ...

    @property
    def auth_mode(self) -> str: ...


class NotLicensed(PermissionDenied):
    """RingSense (AI insights) is not available to this user: no licence, scope or role permission.

    The client stops asking for the rest of the session; the UI should say so once.
    """


def rc_error_parser(raw_body: Any) -> tuple[str | None, str | None]:
    """(``"CODE: message"``, ``parameterName``) from any RingCentral error body."""
    if not isinstance(raw_body, dict):
        return None, None
    errors = raw_body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = first.get("errorCode") or raw_body.get("errorCode") or raw_body.get("error")
    message = first.get("message") or raw_body.get("message") or raw_body.get("error_description")
    param = first.get("parameterName")
    text = f"{code}: {message}" if code and message else (message or code)
    return (str(text) if text else None), (str(param) if param else None)


def error_code(response: httpx.Response) -> tuple[str | None, str | None]:
    """(``errors[0].errorCode``, ``errors[0].parameterName``) of an error response, if present."""
    try:
        raw_body = response.json()
    except ValueError:
        return None, None
    if not isinstance(raw_body, dict):
        return None, None
    errors = raw_body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = first.get("errorCode") or raw_body.get("errorCode")
    param = first.get("parameterName")
    return (str(code) if code else None), (str(param) if param else None)


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class _InsightsPage(pydantic.BaseModel):
    records: list[dict[str, Any]]


class _SyncExpired(Exception):
    """ISync refused the token: start over with FSync."""


class RingCentralClient:
    """The signed-in user's RingCentral account over REST.

    Args:
        server_url: the platform URL (``https://platform.ringcentral.com``, or the sandbox's).
        tokens: the session (:class:`~.auth.RingCentralAuth`); its rate limiter is shared.
        client: the httpx client (inject one with a sandbox transport in tests); one with a 20 s
            timeout is made and owned when omitted.
        clock: UNIX seconds (also the limiter's clock when the session has none of its own).
        sleep: blocks for the given seconds; tests pass a fake that advances their clock.
        max_wait: the longest the client sleeps for a rate-limit budget or a retry before raising
            :class:`~adapters.base.RateLimited` / :class:`~adapters.base.TransientError` instead.
        retries: extra attempts after a timeout, a dropped connection or a 5xx.
        fsync_days: how far back a full sync reaches (at most 30).
        rng: jitter source (seed it in tests).
        owns_client: whether :meth:`close` closes ``client`` (default: only one the client made).

    Every method raises :mod:`adapters.base` errors only.
    """

    def __init__(
        self,
        server_url: str,
        tokens: RingCentralAuth,
        *,
        client: httpx.Client | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        max_wait: float = 15.0,
        retries: int = 3,
        fsync_days: int = 7,
        rng: random.Random | None = None,
        owns_client: bool | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.auth = tokens
        self._own_http = client is None if owns_client is None else owns_client
        self._http = client if client is not None else httpx.Client(timeout=httpx.Timeout(20.0, connect=10.0))
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        self._retries = retries
        self._fsync_days = max(1, min(fsync_days, 30))
        self._rng = rng or random.Random()
        self.limiter: RateLimiter = tokens.limiter
        self._ringsense_refused: NotLicensed | None = None
        self._extension_id: str | None = None
        #: Records left out of the most recent listing or sync because they failed validation
        #: (informational; with several threads prefer ``SyncResult.rejected``).
        self.rejected: list[RejectedRecord] = []

    @classmethod
    def from_settings(
        cls,
        settings: RingCentralConfig,
        secrets: SecretAccess,
        *,
        http: httpx.Client | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
    ) -> RingCentralClient:
        """The production client from the app's settings and secret store.

        Reads :data:`TOKENS_KEY` (a :class:`~adapters.oauth.TokenSet` as JSON) and, in JWT mode,
        :data:`JWT_KEY` and :data:`CLIENT_SECRET_KEY` now (call this where reading the store is
        allowed). Rotated pairs are written back with ``secrets.set(TOKENS_KEY, ...)`` from the
        worker thread that refreshed, before the new token is used: the store must be thread-safe.
        No request is made here.
        """
        from adapters.oauth import TokenSet

        tokens = TokenSet.from_secrets({"tokens": secrets.get(TOKENS_KEY) or ""})
        jwt_mode = settings.auth_mode == "jwt"

        def save(new: TokenSet) -> None:
            secrets.set(TOKENS_KEY, new.model_dump_json())

        auth = RingCentralAuth(
            settings.server,
            settings.client_id,
            tokens,
            save=save,
            http=http,
            client_secret=secrets.get(CLIENT_SECRET_KEY) if jwt_mode else None,
            jwt=secrets.get(JWT_KEY) if jwt_mode else None,
            clock=clock,
            sleep=sleep,
        )
        return cls(settings.server, auth, client=http, clock=clock, sleep=sleep)

    def extension_id(self) -> str:
        """The signed-in extension id: from the token pair (no request), else ``get_extension``."""
        if self._extension_id is None:
            self._extension_id = self.auth.owner_id or self.get_extension().id
        return self._extension_id

    # --- observable state -------------------------------------------------------------------------

    def rate_limit_status(self) -> dict[Group, GroupStatus]:
        """Budget and wait per rate-limit group, for the UI ("waiting for RingCentral (12 s)")."""
        return self.limiter.status()

    def waiting_message(self) -> str | None:
        """A one-line status while a group is out of budget or paused; ``None`` otherwise."""
        return self.limiter.describe_wait()

    @property
    def ringsense_available(self) -> bool:
        """``False`` once RingSense refused this user (403): insights are not asked for again."""
        return self._ringsense_refused is None

    def close(self) -> None:
        """Closes the owned httpx clients (an injected one is the caller's to close)."""
        if self._own_http:
            self._http.close()
        self.auth.close()

    # --- identity ---------------------------------------------------------------------------------

    def get_extension(self) -> Extension:
        """The signed-in extension (id, number, name) — Light group."""
        response = self._request("GET", f"{self.server_url}{_EXT}", group=Group.LIGHT, route="extension")
        return validate(Extension, self._json(response), what="the signed-in extension")

    # --- call log ---------------------------------------------------------------------------------

    def iter_call_log(
        self,
        date_from: datetime,
        date_to: datetime | None = None,
        per_page: int = 250,
        *,
        view: str = "Detailed",
        extra: Mapping[str, str] | None = None,
    ) -> Iterator[Call]:
        """The user's calls that started in [date_from, date_to], newest first, all pages.

        Follows ``navigation.nextPage`` while present. Each page costs one Heavy request.
        Records failing validation are skipped and listed in :attr:`rejected`.

        Raises:
            RateLimited, TransientError, MalformedResponse, AuthError, ValidationError.
        """
        params: dict[str, str] = {
            "view": view,
            "dateFrom": _iso(date_from),
            "perPage": str(max(1, min(per_page, 1000))),
            **(extra or {}),
        }
        if date_to is not None:
            params["dateTo"] = _iso(date_to)
        rejected: list[RejectedRecord] = []
        self.rejected = rejected
        url: str | None = f"{self.server_url}{_EXT}/call-log"
        query: dict[str, str] | None = params
        while url is not None:
            response = self._request("GET", url, group=Group.HEAVY, route="call-log", params=query)
            page = validate(CallLogPage, self._json(response), what="a call-log page")
            yield from self._records(page.records, rejected)
            url = page.navigation.next_page.uri if page.navigation.next_page else None
            query = None  # nextPage carries the full query

    def sync_call_log(self, sync_token: str | None) -> SyncResult:
        """Call-log sync: FSync without a token, ISync with one.

        When RingCentral refuses the token (expired, call log reset, too many changes), this
        starts over with a full sync and returns ``full=True``: replace your list of calls.
        Incremental results include deleted records with ``deleted=True``: drop those.

        Args:
            sync_token: from the previous :class:`~.models.SyncResult`, or ``None``.

        Raises:
            RateLimited, TransientError, MalformedResponse, AuthError.
        """
        if sync_token:
            try:
                return self._sync({"syncType": "ISync", "syncToken": sync_token, "showDeleted": "true"}, full=False)
            except _SyncExpired:
                log.info("RingCentral asked for a full call-log sync; starting over")
        since = datetime.fromtimestamp(self._clock(), UTC) - timedelta(days=self._fsync_days)
        params = {
            "syncType": "FSync",
            "recordCount": str(FSYNC_MAX_RECORDS),
            "dateFrom": _iso(since),
            "statusGroup": "All",
            "view": "Detailed",
        }
        try:
            return self._sync(params, full=True)
        except _SyncExpired as exc:  # pragma: no cover - FSync takes no token
            raise MalformedResponse("RingCentral refused a full call-log sync.") from exc

    def _sync(self, params: dict[str, str], *, full: bool) -> SyncResult:
        url = f"{self.server_url}{_EXT}/call-log-sync"
        try:
            response = self._request("GET", url, group=Group.HEAVY, route="call-log-sync", params=params)
        except ValidationError as exc:
            if not full and _is_sync_token_error(exc):
                raise _SyncExpired() from exc
            raise
        page = validate(SyncPage, self._json(response), what="a call-log sync response")
        rejected: list[RejectedRecord] = []
        records = list(self._records(page.records, rejected))
        self.rejected = rejected
        return SyncResult(records=records, sync_token=page.sync_info.sync_token, full=full, rejected=rejected)

    def get_call(self, record_id: str) -> Call:
        """One call-log record by id (Detailed view).

        Raises:
            NotFound: no such record (yet: records appear 15–30 s after a call ends).
            MalformedResponse: a needed field is missing or malformed (named in the message).
        """
        url = f"{self.server_url}{_EXT}/call-log/{record_id}"
        response = self._request("GET", url, group=Group.HEAVY, route="call-log-record", params={"view": "Detailed"})
        return validate(Call, self._json(response), what=f"call-log record {record_id}")

    def _records(self, raw_records: list[dict[str, Any]], rejected: list[RejectedRecord]) -> Iterator[Call]:
        for raw_record in raw_records:
            try:
                yield Call.model_validate(raw_record)
            except pydantic.ValidationError as exc:
                record_id = raw_record.get("id") if isinstance(raw_record.get("id"), str) else None
                reason = f"missing or malformed '{field_path(exc)}'"
                log.info("skipped call-log record %s: %s", record_id or "(no id)", reason)
                rejected.append(RejectedRecord(id=record_id, reason=reason))

    # --- recordings -------------------------------------------------------------------------------

    def get_recording(self, recording_id: str) -> RecordingInfo:
        """Recording metadata (content URI, type, duration) — Heavy.

        Raises:
            NotFound: no such recording, or not attached yet.
        """
        url = f"{self.server_url}{_ACCOUNT}/recording/{recording_id}"
        response = self._request("GET", url, group=Group.HEAVY, route="recording")
        return validate(RecordingInfo, self._json(response), what=f"recording {recording_id}")

    def download_recording(self, recording_id: str, dest: Path, *, content_uri: str | None = None) -> Path:
        """Streams the recording's audio to ``dest`` and returns it.

        Writes to ``dest`` + ``.part`` first and renames when complete; an interrupted download
        resumes with a ``Range`` request next time. Pass ``content_uri`` (from the call-log
        record) to skip the metadata request.

        Raises:
            NotFound, RateLimited, TransientError, AuthError; ``OSError`` never escapes (it becomes
            :class:`~adapters.base.AdapterError`).
        """
        if content_uri is None:
            content_uri = self.get_recording(recording_id).content_uri
        dest = Path(dest)
        part = dest.with_name(dest.name + ".part")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            offset = part.stat().st_size if part.exists() else 0
        except OSError as exc:
            raise AdapterError(f"Cannot write the recording to {dest.parent}.", vendor_message=str(exc)) from exc
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            response = self._request(
                "GET", content_uri, group=Group.HEAVY, route="recording-content", headers=headers, stream=True
            )
        except AdapterError as exc:
            if exc.status == 416 and offset:
                part.unlink(missing_ok=True)  # the partial file is stale: start over
                return self.download_recording(recording_id, dest, content_uri=content_uri)
            raise
        if response.status_code == 206 and not response.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
            response.close()  # not the range we asked for: start over rather than splice wrong bytes
            part.unlink(missing_ok=True)
            return self.download_recording(recording_id, dest, content_uri=content_uri)
        try:
            mode = "ab" if response.status_code == 206 and offset else "wb"
            with part.open(mode) as out:
                for chunk in response.iter_bytes(64 * 1024):
                    out.write(chunk)
            os.replace(part, dest)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise TransientError(
                "The recording download was interrupted; it will resume.", vendor_message=str(exc) or None
            ) from exc
        except OSError as exc:
            raise AdapterError(f"Cannot write the recording to {dest}.", vendor_message=str(exc)) from exc
        finally:
            response.close()
        return dest

    # --- push events ---------------------------------------------------------------------------------

    def ws_token(self) -> WsToken:
        """A single-use token for one WebSocket connection (``POST /restapi/oauth/wstoken``) — Auth
        group, 5 a minute, shared with sign-in and refresh: reconnect storms must back off.

        Raises:
            PermissionDenied: the app or the user lacks the WebSocket permission (fall back to polling).
            RateLimited: the Auth budget is spent (``retry_after`` says how long).
            AuthError / TransientError / MalformedResponse: as for every request.
        """
        url = f"{self.server_url}/restapi/oauth/wstoken"
        response = self._request("POST", url, group=Group.AUTH, route="wstoken")
        token = validate(WsToken, self._json(response), what="the WebSocket token")
        if not token.uri.startswith(("wss://", "ws://")):
            raise MalformedResponse("RingCentral sent a WebSocket address that is not ws:// or wss://.",
                                    vendor_message=token.uri[:80])
        return token

    # --- RingSense ----------------------------------------------------------------------------------

    def get_insights(self, recording_id: str) -> Insights | None:
        """RingSense insights for a recording — Light.

        Returns:
            The insights, or ``None`` when they are not ready yet (404): ask again later.

        Raises:
            NotLicensed: RingSense refused this user (403). Raised again without a request for the
                rest of the session.
            MalformedResponse: the answer is not a RingSense insights object (no ``sourceRecordId``).
                A speaker or an insight entry that cannot be read is left out instead, keeping the rest.
        """
        if self._ringsense_refused is not None:
            raise self._ringsense_refused
        url = f"{self.server_url}{_RINGSENSE}/records/{recording_id}/insights"
        try:
            response = self._request("GET", url, group=Group.LIGHT, route="insights")
        except NotFound:
            return None
        except PermissionDenied as exc:
            raise self._refuse_ringsense(exc) from exc
        return validate(Insights, self._json(response), what=f"RingSense insights for recording {recording_id}")

    def get_session_insights(self, telephony_session_id: str) -> list[Insights]:
        """RingSense insights for every recording of a call (transfers have one per leg) — Light.

        Returns:
            One :class:`~.models.Insights` per recording that has them; empty when none is ready. A
            recording whose insights cannot be read (no ``sourceRecordId``) is left out; within each,
            unreadable speakers and insight entries are left out (see :class:`~.models.Insights`).

        Raises:
            NotLicensed: as :meth:`get_insights`.
        """
        if self._ringsense_refused is not None:
            raise self._ringsense_refused
        url = f"{self.server_url}{_RINGSENSE}/sessions/{telephony_session_id}/insights"
        try:
            response = self._request("GET", url, group=Group.LIGHT, route="insights")
        except NotFound:
            return []
        except PermissionDenied as exc:
            raise self._refuse_ringsense(exc) from exc
        page = validate(_InsightsPage, self._json(response), what=f"RingSense insights for {telephony_session_id}")
        found: list[Insights] = []
        for raw in page.records:
            try:
                found.append(validate(Insights, raw, what=f"RingSense insights for {telephony_session_id}"))
            except MalformedResponse as exc:
                # One recording's insights that cannot be read cost that recording, not the others.
                log.info("left out RingSense insights of session %s: %s", telephony_session_id, exc)
        return found

    def _refuse_ringsense(self, exc: PermissionDenied) -> NotLicensed:
        refused = NotLicensed(
            "RingSense AI insights are not available for this RingCentral user (licence or permission "
            "missing). Logdesk will not ask for AI notes again in this session.",
            vendor_message=exc.vendor_message,
            status=exc.status,
        )
        self._ringsense_refused = refused
        return refused

    # --- the request path ---------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        group: Group,
        route: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        attempt = 0
        refreshed = False
        while True:
            actual_group = self.limiter.group_for(route, group)
            self.limiter.acquire(actual_group, sleep=self._sleep, max_wait=self._max_wait)
            token = self.auth.access_token()
            request = self._http.build_request(
                method,
                url,
                params=params,
                headers={"Accept": "application/json", **(headers or {}), "Authorization": f"Bearer {token}"},
            )
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:  # timeouts included
                attempt += 1
                if attempt > self._retries:
                    raise transport_failure(exc, crm="RingCentral") from exc
                self._backoff(attempt, None)
                continue
            self.limiter.observe(route, actual_group, response.headers)
            if response.is_success:
                return response
            if stream:
                try:
                    response.read()  # the error body, so it can be parsed below
                except (httpx.TimeoutException, httpx.TransportError) as exc:
                    attempt += 1
                    if attempt > self._retries:
                        raise TransientError(
                            "RingCentral's answer was cut short; will retry.", vendor_message=str(exc) or None
                        ) from exc
                    self._backoff(attempt, None)
                    continue
                finally:
                    response.close()
            status = response.status_code
            if status == 401 and not refreshed:
                refreshed = True
                self.auth.refresh_after_rejection(token)
                continue
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                pause = self.limiter.penalize(actual_group, retry_after)
                vendor_text, _field = rc_error_parser(_safe_json(response))
                raise RateLimited(
                    f"Waiting for RingCentral's rate limit ({math.ceil(pause)} s).",
                    retry_after=pause,
                    vendor_message=vendor_text,
                    status=429,
                )
            if status >= 500 or status == 408:
                attempt += 1
                if attempt <= self._retries:
                    self._backoff(attempt, parse_retry_after(response.headers.get("Retry-After")))
                    continue
            raise self._error(response)

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        """Jittered exponential backoff: ~1 s, 2 s, 4 s … (capped), or the server's Retry-After."""
        if retry_after is not None:
            delay = retry_after
        else:
            ceiling = min(30.0, 2.0 ** (attempt - 1))
            delay = ceiling * (0.5 + self._rng.random() / 2)
        if delay > self._max_wait:
            raise TransientError(f"RingCentral is unavailable; will retry in {math.ceil(delay)} s.")
        self._sleep(delay)

    def _error(self, response: httpx.Response) -> AdapterError:
        error = error_for_response(response, crm=VENDOR, parse=rc_error_parser)
        if isinstance(error, AuthError):
            return AuthError(
                "RingCentral no longer accepts this sign-in. Reconnect RingCentral in Settings.",
                vendor_message=error.vendor_message,
                status=error.status,
            )
        return error

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            snippet = response.text[:80].replace("\n", " ") if response.text else None
            raise MalformedResponse(
                "RingCentral sent a response that is not JSON (or was cut short).",
                vendor_message=snippet,
                status=response.status_code,
            ) from exc


def _safe_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _is_sync_token_error(exc: ValidationError) -> bool:
    text = exc.vendor_message or ""
    return exc.field == "syncToken" or text.startswith("CLG-")
