# SPDX-License-Identifier: MIT
"""Bullhorn (REST API): calls logged as ``Note`` records on the candidate, contact or lead.

Sources: the Bullhorn REST reference (``bullhorn/rest-api-docs``, ``source/includes/_*.md`` and
``entityref/_*.md``, as published at https://bullhorn.github.io/rest-api-docs), "Getting Started
with REST" (https://bullhorn.github.io/Getting-Started-with-REST), "OAuth authorization for the
Bullhorn REST API" (https://bullhorn.github.io/docs/oauth), Bullhorn's Java SDK
(``bullhorn/sdk-rest``) where the reference is silent. The fake in ``tests/fakes/bullhorn.py``
cites the same pages beside each rule it enforces.

Connecting, as Bullhorn intends for an application (:func:`sign_in`):

1. **Data centre**: ``GET https://rest.bullhornstaffing.com/rest-services/loginInfo?username=``
   names the user's ``oauthUrl`` and ``restUrl`` (_intro.md; the SDK reads exactly these two). A
   request to the wrong data centre answers 307 to the right one, which is followed once, and only
   to a Bullhorn host. The two addresses are kept with the token pair; when a stored one no longer
   serves the account (404, or no answer), loginInfo is asked again and its answer kept.
2. **Authorization code** in the system browser: ``{oauthUrl}/authorize`` with ``client_id``,
   ``response_type=code``, ``redirect_uri`` (a loopback URI registered with the key) and ``state``.
   Bullhorn documents no PKCE and no public client: the token call always carries the key's
   ``client_secret``, which the user enters once and which stays in the keyring. The code is traded
   at ``{oauthUrl}/token`` with the parameters in the query string, as Getting Started shows. The
   access token lives 10 minutes; refresh tokens are single-use and rotate (docs/oauth), so every
   new pair is saved before it is used (:class:`adapters.oauth.TokenManager`).
3. **REST session**: ``POST {restUrl}/login?version=2.0&access_token=…&ttl=…`` answers
   ``{"BhRestToken", "restUrl"}`` (_login.md); every API call sends the ``BhRestToken`` header
   (_authorization.md) to that ``restUrl``. The session is kept with the token pair in the keyring
   and renewed ``SESSION_MARGIN`` seconds before the ``ttl`` it was asked for ends; when Bullhorn
   refuses it earlier (401) the adapter does what _login.md says — a refresh-token request, a new
   login — once, and repeats the request; a second refusal asks the user to reconnect.

Where call data goes:

=====================  ===========================================================================
``personReference``    the contact chosen: a Candidate, ClientContact or Lead, ``{"id": n}``
``commentingPerson``   the signed-in user (``settings/userId``)
``comments``           an ``<h3>`` heading with the log subject (a Note has no subject field),
                       then the composed note, verbatim: HTML, because Bullhorn's Notes tab shows
                       ``comments`` as rich text (its editor adds @-mention links; App Connect
                       writes HTML there too); a plain-text note would lose its line breaks
``dateAdded``          when the call started (epoch milliseconds, as Bullhorn's timestamps are)
``minutesSpent``       the duration in whole minutes, rounded up (the field is an Integer)
``action``             the disposition: the corporation's note actions (``settings/commentActionList``)
``jobOrder`` /         the page field ``related``: one of the contact's open job orders (to-one
NoteEntity             ``jobOrder``) or the candidate's placements and submitted jobs (a
                       ``NoteEntity`` with ``targetEntityName: "Placement"``, _noteentity.md)
``externalID``         the RingCentral session id (String 100): what recovery looks for
=====================  ===========================================================================

Bullhorn has no field for the call's direction or its recording: both stay in the note.

Phone search: ``POST search/{Candidate|ClientContact|Lead}`` with a Lucene query ORing every
notation :func:`adapters.phone.search_candidates` gives over each entity's phone fields (quoted
phrases), ``AND isDeleted:0`` (_search.md). Bullhorn does not document how phone fields are
tokenised, and a phrase also matches inside a longer value, so every hit is checked to really
carry the number. Colleagues cannot be found by extension: ``CorporateUser`` has no extension
field (_corporateuser.md), so ``extension_logging`` is off.

Concurrency: Bullhorn documents no ETag or precondition. The version is a digest of what this
adapter writes (comments, action, minutes, related record), so an edit of any of them is seen,
even in the same millisecond (:func:`version_of`). :meth:`BullhornAdapter.update_call_log` re-reads the note
right before its ``POST`` and raises :class:`ConflictError` when it changed; the window left is
the one round trip between that read and the write. Only changed fields are sent, and the write is
not read back (the version follows from what was written). The manifest says
``update_reads_first``: the engine counts that read and holds the note for one read and one write.

Crash recovery (:meth:`BullhornAdapter.find_call_log`): ``query/Note`` by the signed-in user as
``commentingPerson`` and ``dateAdded`` = the call's start to the millisecond; ``externalID`` (else
the session id in the comments) tells two calls of the same millisecond apart.

Errors and limits: Bullhorn's error bodies (``errorMessage``, ``errorMessageKey``, ``errors[]``
with ``propertyName``) keep their words in ``vendor_message`` and name the field. A 429 ("Wait 1
second then retry request", _errors.md; no ``Retry-After`` is documented, one is honoured when
sent) pauses every later request for that long; the API's 1,500 requests a minute (kb.bullhorn.com
"API Usage Limits") is kept locally.

Developer option: ``LOGDESK_BULLHORN_URL`` (or the connection setting ``api_base_url``) points the
whole sign-in and API at a fake on loopback (``python -m tests.fakes.bullhorn``): loginInfo is
asked there, and every address Bullhorn names must then be on that host.

Threading contract: one worker thread at a time per instance (see :mod:`adapters.base`); the
token manager inside is thread-safe. Nothing here touches Qt.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from adapters import oauth
from adapters.api_override import api_base_override
from adapters.base import (
    AdapterError,
    AuthError,
    AuthField,
    AuthKind,
    AuthSpec,
    Capabilities,
    ConflictError,
    Connection,
    FieldLimits,
    MalformedResponse,
    Manifest,
    NotFound,
    OAuthSpec,
    PageField,
    PageFieldKind,
    PermissionDenied,
    RateLimited,
    SecretsSaver,
    TransientError,
    ValidationError,
    phone_settings,
)
from adapters.http import ErrorParser, error_for_response, json_body, transport_failure
from adapters.models import (
    Call,
    CallLogRef,
    Contact,
    FieldValue,
    LogEntry,
    LogUpdate,
    Option,
    StoredCallLog,
)
from adapters.oauth_session import OAuthSession
from adapters.phone import same_number, search_candidates
from adapters.throttle import Throttle, ThrottleTimeout
from adapters.vendor_shape import id_of, text_of, vendor_shape

log = logging.getLogger(__name__)

NAME = "Bullhorn"
#: The developer option that points the adapter at a fake (see :mod:`adapters.api_override`).
ENV_BASE_URL = "LOGDESK_BULLHORN_URL"
#: _intro.md: "GET rest-services/loginInfo request with the API_Username".
LOGIN_INFO_URL = "https://rest.bullhornstaffing.com/rest-services/loginInfo"
DEFAULT_REDIRECT_PORT = 53694
#: _login.md: ``version`` is required; pinned, rather than ``*`` (latest), so answers do not change
#: shape under the adapter.
API_VERSION = "2.0"
#: _login.md ``ttl``: the session length asked for, in minutes (the SDK's MAX_TTL).
SESSION_MINUTES = 2880
#: Renew the REST session this many seconds before it ends (App Connect uses two minutes too).
SESSION_MARGIN = 120.0
#: _errors.md: "429 Rate Limited — Wait 1 second then retry request."
RETRY_AFTER_DEFAULT = 1.0
#: kb.bullhorn.com "API Usage Limits": up to 1,500 requests a minute.
REQUESTS_PER_MINUTE = 1500

#: A Note has no subject: the subject is the heading of ``comments``; Logdesk's own bound.
SUBJECT_CHARS = 255
#: ``comments`` is a String (2147483647) (_note.md); Logdesk's own bound, so the note engine
#: shortens a long transcript instead of sending megabytes.
BODY_CHARS = 200_000
#: _note.md: ``action`` String (30), ``externalID`` String (100).
ACTION_CHARS = 30
EXTERNAL_ID_CHARS = 100

_BULLHORN_DOMAINS = ("bullhornstaffing.com", "bullhorn.com")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: The people a call can be logged against, their phone fields (entityref tables) and label.
_PEOPLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ClientContact", "Contact", ("phone", "mobile", "phone2", "phone3")),
    ("Candidate", "Candidate", ("phone", "mobile", "workPhone", "phone2", "phone3")),
    ("Lead", "Lead", ("phone", "mobile", "phone2", "phone3")),
)
_COMPANY_FIELD = {"ClientContact": "clientCorporation(name)", "Candidate": "companyName",
                  "Lead": "companyName,clientCorporation(name)"}

_NOTE_FIELDS = (
    "id,comments,action,minutesSpent,dateAdded,dateLastModified,externalID,isDeleted,"
    "personReference(id,firstName,lastName),commentingPerson(id),jobOrder(id,title),placements(id)"
)
_RELATED_PREFIXES = ("JobOrder", "Placement")

MANIFEST = Manifest(
    id="bullhorn",
    name=NAME,
    log_format="text/html",
    auth=AuthSpec(
        kind=AuthKind.OAUTH_PKCE,
        fields=[
            AuthField(
                key="username",
                label="Bullhorn username",
                help="The user you sign in to Bullhorn with: Logdesk asks Bullhorn which data centre serves it.",
            ),
            AuthField(
                key="client_id",
                label="Client ID",
                help="From the REST API key Bullhorn Support issues (a ticket in the Bullhorn Resource Center). "
                f"Ask for the redirect URI http://127.0.0.1:{DEFAULT_REDIRECT_PORT}/callback and refresh tokens.",
            ),
            AuthField(
                key="client_secret",
                label="Client secret",
                secret=True,
                help="The same key's secret (Bullhorn has no sign-in without one); it stays in the system keyring.",
            ),
        ],
        oauth=OAuthSpec(
            authorize_url="https://auth.bullhornstaffing.com/oauth/authorize",
            token_url="https://auth.bullhornstaffing.com/oauth/token",  # noqa: S106 (a URL)
            needs_client_secret=True,
        ),
    ),
    page_fields=[
        PageField(
            id="action",
            label="Note action",
            kind=PageFieldKind.SELECTION,
            contact_dependent=True,
            help="Your corporation's note actions in Bullhorn (System Settings → commentActionList).",
        ),
        PageField(
            id="related",
            label="Related job or placement",
            kind=PageFieldKind.SELECTION,
            contact_dependent=True,
            help="An open job of the chosen contact, or a placement or submitted job of the candidate.",
        ),
    ],
    limits=FieldLimits(subject_chars=SUBJECT_CHARS, body=BODY_CHARS, body_unit="chars"),
    capabilities=Capabilities(find_by_session_id=True, versioned_writes=True, update_reads_first=True),
)


# --- addresses ------------------------------------------------------------------------------------


class UntrustedAddress(AuthError):
    """Bullhorn (or a redirect) named an address that is not Bullhorn's: nothing was sent there."""


def _trusted(url: str, override: str | None) -> bool:
    """Whether credentials may go to ``url``: an https Bullhorn host, or the developer override's host."""
    parts = urlsplit(url)
    if override is not None:
        base = urlsplit(override)
        return (parts.scheme, parts.hostname, parts.port) == (base.scheme, base.hostname, base.port)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(host == d or host.endswith("." + d) for d in _BULLHORN_DOMAINS)


def _require_trusted(url: str, override: str | None, *, what: str) -> str:
    if not _trusted(url, override):
        raise UntrustedAddress(
            f"{NAME} named an address for {what} that is not one of Bullhorn's; nothing was sent there. "
            "Check the username in Settings → CRM and sign in again.",
            vendor_message=url[:200],
        )
    return url


def bullhorn_error_parser(raw_body: Any) -> tuple[str | None, str | None]:
    """``(vendor message, field)`` from Bullhorn's error body.

    The REST API answers ``{"errorMessage", "errorMessageKey", "errorCode", "errors": [{"propertyName",
    "severity", "type", "detailMessage"}]}`` (``errorMessage``/``errorMessageKey``: sdk-rest issues #216
    and #217; ``errors[]``: third-party clients); the OAuth server ``{"error", "error_description"}``.
    """
    if not isinstance(raw_body, dict):
        return None, None
    message = raw_body.get("errorMessage")
    text = message if isinstance(message, str) and message else None
    field: str | None = None
    errors = raw_body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        prop, detail = first.get("propertyName"), first.get("detailMessage")
        field = prop if isinstance(prop, str) and prop else None
        if isinstance(detail, str) and detail and detail not in (text or ""):
            text = f"{text} ({detail})" if text else detail
    error = raw_body.get("error")
    if text is None and isinstance(error, str) and error:
        description = raw_body.get("error_description")
        text = f"{error}: {description}" if isinstance(description, str) and description else error
    return text, field


def _call(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    override: str | None,
    parse: ErrorParser = bullhorn_error_parser,
    **kwargs: Any,
) -> httpx.Response:
    """One request; a 307/308 to another Bullhorn data centre is followed once (_intro.md: "Your code
    must be written to handle that 307 redirect"), to a Bullhorn host only.

    Raises:
        UntrustedAddress: the redirect leads elsewhere.
        AdapterError: as :func:`adapters.http.error_for_response` maps the answer.
    """
    for hop in (1, 2):
        try:
            response = http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise transport_failure(exc, crm=NAME) from exc
        if response.status_code in (307, 308) and hop == 1:
            location = response.headers.get("Location", "")
            target = urljoin(url, location)
            _require_trusted(target, override, what="its other data centre")
            url = target
            kwargs.pop("params", None)  # the Location carries the query
            continue
        if response.is_success:
            return response
        raise error_for_response(response, crm=NAME, parse=parse)
    raise MalformedResponse(f"{NAME} redirected the request twice.")


def login_info_url(override: str | None) -> str:
    return f"{override}/rest-services/loginInfo" if override else LOGIN_INFO_URL


def discover(settings: Mapping[str, str], http: httpx.Client, override: str | None) -> tuple[str, str]:
    """``(oauthUrl, restUrl)`` of the user's data centre, from ``loginInfo`` (_intro.md, sdk-rest).

    Raises:
        AuthError: no username, a username Bullhorn does not know, or addresses that are not Bullhorn's.
        MalformedResponse: an answer without the two addresses.
    """
    username = (settings.get("username") or "").strip()
    if not username:
        raise AuthError(
            f"Enter your {NAME} username in Settings → CRM: Logdesk asks {NAME} which data centre serves it."
        )
    try:
        response = _call(
            http, "GET", login_info_url(override), override=override, params={"username": username},
            headers={"Accept": "application/json"},
        )
    except (ValidationError, NotFound) as exc:
        raise AuthError(
            f"{NAME} does not know the username {username!r}. Check it in Settings → CRM.",
            vendor_message=exc.vendor_message,
            status=exc.status,
        ) from None
    raw_info = json_body(response, crm=NAME)
    if not isinstance(raw_info, dict):
        raise MalformedResponse(f"{NAME} answered loginInfo with something that is not an object.")
    oauth_url = text_of(raw_info, "oauthUrl", crm=NAME)
    rest_url = text_of(raw_info, "restUrl", crm=NAME)
    if not oauth_url or not rest_url:
        raise MalformedResponse(f"{NAME} did not say which servers serve {username!r} (no oauthUrl or restUrl).")
    _require_trusted(oauth_url, override, what="sign-in")
    _require_trusted(rest_url, override, what="the REST login")
    return oauth_url.rstrip("/"), rest_url.rstrip("/")


def _credentials(settings: Mapping[str, str]) -> tuple[str, str]:
    client_id = (settings.get("client_id") or "").strip()
    client_secret = (settings.get("client_secret") or "").strip()
    if not client_id or not client_secret:
        missing = " and ".join(n for n, v in (("client ID", client_id), ("client secret", client_secret)) if not v)
        raise AuthError(
            f"Enter the {missing} of your {NAME} API key in Settings → CRM (Bullhorn Support issues them)."
        )
    return client_id, client_secret


def _token_call(
    http: httpx.Client,
    oauth_url: str,
    params: Mapping[str, str],
    *,
    override: str | None,
    now: float,
    previous: oauth.TokenSet | None = None,
) -> oauth.TokenSet:
    """``POST {oauthUrl}/token`` with the parameters in the query string (Getting Started; the SDK
    and App Connect send them the same way)."""
    try:
        response = _call(
            http, "POST", f"{oauth_url}/token", override=override, params=dict(params),
            headers={"Accept": "application/json"},
        )
    except (RateLimited, TransientError, UntrustedAddress, NotFound):
        raise  # NotFound: no token endpoint there (a data centre that moved); the caller asks loginInfo
    except AdapterError as exc:
        code = (exc.vendor_message or "").split(":", 1)[0].strip()
        kw: dict[str, Any] = {"vendor_message": exc.vendor_message, "status": exc.status}
        if code == "invalid_client":
            raise AuthError(
                f"{NAME} does not accept this client ID and secret. Check both in Settings → CRM "
                "(they come with the API key Bullhorn Support issued).",
                **kw,
            ) from None
        if code == "invalid_grant":
            raise AuthError(
                f"The {NAME} sign-in has expired or was revoked. Reconnect {NAME} in Settings.", **kw
            ) from None
        raise AuthError(f"{NAME} refused the sign-in ({exc.status}). Reconnect {NAME} in Settings.", **kw) from None
    return oauth.TokenSet.from_response(json_body(response, crm=NAME), now=now, previous=previous, vendor=NAME)


def sign_in(
    settings: Mapping[str, str],
    http: httpx.Client,
    *,
    open_url: Callable[[str], None],
    port: int | None = None,
    timeout: float = 300.0,
    clock: Callable[[], float] = time.time,
    on_receiver: Callable[[oauth.LoopbackReceiver], None] | None = None,
) -> dict[str, str]:
    """Signs in through the system browser; returns the secrets to keep (``{"tokens": ...}``).

    Finds the user's data centre (loginInfo), opens Bullhorn's authorize page, receives the code on
    ``127.0.0.1`` and trades it with the key's secret. Blocks until the user finishes: call it on a
    worker thread.

    Args:
        settings: ``username``, ``client_id`` and ``client_secret`` (the dialog merges the keyring's
            secrets in); ``api_base_url`` for a fake.
        http: used for loginInfo and the code exchange.
        open_url: opens the authorize URL in the system browser.
        port: the loopback port registered with the key (``0``: any free port).
        timeout: seconds the user has to finish in the browser.
        clock: UNIX seconds, for token expiry.
        on_receiver: receives the redirect listener, so the UI can offer Cancel.

    Raises:
        AuthError: a missing setting, an unknown username, declined, timed out, a wrong secret, or
            a key without refresh tokens (the message says what to do).
    """
    client_id, client_secret = _credentials(settings)
    override = api_base_override(settings, ENV_BASE_URL)
    oauth_url, login_url = discover(settings, http, override)
    state = oauth.make_state()
    with oauth.LoopbackReceiver(state, port=DEFAULT_REDIRECT_PORT if port is None else port) as receiver:
        if on_receiver is not None:
            on_receiver(receiver)
        query = urlencode(
            {"client_id": client_id, "response_type": "code", "redirect_uri": receiver.redirect_uri, "state": state}
        )
        open_url(f"{oauth_url}/authorize?{query}")
        code = receiver.wait(timeout)
        redirect_uri = receiver.redirect_uri
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
    }
    try:
        tokens = _token_call(http, oauth_url, exchange, override=override, now=clock())
    except NotFound as exc:
        raise AuthError(
            f"{NAME} has no token endpoint where loginInfo pointed; try signing in again.",
            vendor_message=exc.vendor_message,
            status=exc.status,
        ) from None
    if not tokens.refresh_token:
        raise AuthError(
            f"{NAME} granted no refresh token, so the sign-in would end within minutes. Ask Bullhorn Support to "
            "enable refresh tokens for your API key, then sign in again."
        )
    username = (settings.get("username") or "").strip()
    extra = {**tokens.extra, "oauth_url": oauth_url, "login_url": login_url, "username": username}
    return tokens.model_copy(update={"extra": extra}).to_secrets()


# --- the note's layout ------------------------------------------------------------------------------

_HEADING = re.compile(r"\s*<h3(?:\s[^>]*)?>(.*?)</h3>", re.DOTALL | re.IGNORECASE)


def compose_comments(subject: str, body: str) -> str:
    """What ``comments`` holds: the subject as a heading, then the note exactly as composed."""
    return f"<h3>{html.escape(subject, quote=False)}</h3>{body}"


def split_comments(comments: str) -> tuple[str, str]:
    """``(subject, body)`` from ``comments``; a note without the heading is all body."""
    match = _HEADING.match(comments)
    if match is None:
        return "", comments
    subject = html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))
    return subject, comments[match.end():]


def _epoch_ms(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // timedelta(milliseconds=1)


def _from_ms(value: Any, *, key: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResponse(f"{NAME} sent an answer in an unexpected shape.", vendor_message=f"{key} is {value!r}")
    return _EPOCH + timedelta(milliseconds=value)


def _minutes(seconds: int) -> int:
    """``minutesSpent`` is an Integer (_note.md): whole minutes, rounded up (a 20-second call took a minute)."""
    return -(-max(0, int(seconds)) // 60)


def _int_of(raw: Mapping[str, Any], key: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResponse(f"{NAME} sent an answer in an unexpected shape.", vendor_message=f"{key} is {value!r}")
    return value


def _ref_id(raw: Mapping[str, Any], key: str) -> str | None:
    """The id of a to-one association (``{"id": n, ...}``), or ``None`` when it is empty."""
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedResponse(f"{NAME} sent an answer in an unexpected shape.", vendor_message=f"{key} is {value!r}")
    return id_of(value, crm=NAME, numeric=True)


def _placement_ids(raw_note: Mapping[str, Any]) -> list[str]:
    """The note's placements: a to-many association comes as ``{"total", "data": [{"id"}]}``."""
    value = raw_note.get("placements")
    if value is None:
        return []
    data = value.get("data") if isinstance(value, dict) else None
    if not isinstance(data, list):
        raise MalformedResponse(f"{NAME} sent an answer in an unexpected shape.", vendor_message="placements")
    return [id_of(item, crm=NAME, numeric=True) for item in data if isinstance(item, dict)]


def _related_of(raw_note: Mapping[str, Any]) -> str | None:
    job = _ref_id(raw_note, "jobOrder")
    if job is not None:
        return f"JobOrder:{job}"
    placements = _placement_ids(raw_note)
    return f"Placement:{placements[0]}" if placements else None


def _related_value(value: FieldValue) -> tuple[str, int] | None:
    if value in (None, "", False):
        return None
    kind, _, rid = str(value).partition(":")
    if kind not in _RELATED_PREFIXES or not rid.isdigit():
        raise ValidationError(f"{value!r} is not a {NAME} job order or placement.", field="related")
    return kind, int(rid)


def version_of(raw_note: Mapping[str, Any]) -> str:
    """A digest of everything Logdesk writes (comments, action, minutes, related record).

    Not ``dateLastModified``: Bullhorn's answer to a write does not name the new one, and the
    digest already changes with every edit of a field Logdesk would write, even within one
    millisecond; an edit of another field never conflicts with Logdesk's write, which sends only
    the fields it changes.
    """
    written = "\x00".join(
        str(x)
        for x in (
            text_of(raw_note, "comments", crm=NAME) or "",
            text_of(raw_note, "action", crm=NAME) or "",
            _int_of(raw_note, "minutesSpent"),
            _related_of(raw_note),
        )
    )
    return hashlib.sha256(written.encode()).hexdigest()[:16]


def _lucene_phrase(text: str) -> str:
    """A Lucene phrase: inside quotes only ``"`` and ``\\`` need escaping."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_sizes(subject: str | None, body: str | None) -> None:
    if subject is not None and len(subject) > SUBJECT_CHARS:
        raise ValidationError(
            f"The subject has {len(subject)} characters; {NAME} notes take at most {SUBJECT_CHARS} here.",
            field="subject",
        )
    if body is not None and len(body) > BODY_CHARS:
        raise ValidationError(
            f"The note has {len(body)} characters; at most {BODY_CHARS} are sent to {NAME}.", field="comments"
        )


# --- the adapter ------------------------------------------------------------------------------------


class BullhornAdapter:
    """One Bullhorn user.

    Args:
        connection: ``settings`` with ``username`` and ``client_id`` (``api_base_url`` for a fake),
            ``phone_region``/``phone_patterns``; ``secrets`` with ``client_secret`` and ``tokens``
            as written by :func:`sign_in` (the REST session is kept in the same pair).
        client: the HTTP client (tests inject one over a fake server).
        save_secrets: persists a new pair or session (``{"tokens": ...}``) before it is used.
        clock: UNIX seconds (token and session expiry, rate-limit pauses).
        sleep: waits out short rate-limit pauses.

    Threading contract: see the module docstring.
    """

    manifest: ClassVar[Manifest] = MANIFEST

    def __init__(
        self,
        connection: Connection,
        *,
        client: httpx.Client | None = None,
        save_secrets: SecretsSaver | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._settings = {**connection.settings, "client_secret": connection.secrets.get("client_secret", "")}
        self._clock = clock or time.time
        self._save = save_secrets
        self._region, self._patterns = phone_settings(self._settings)
        self._config_error: AuthError | None = None
        self._override: str | None = None
        try:
            self._override = api_base_override(self._settings, ENV_BASE_URL)
        except AuthError as exc:  # reported by every request, so the app still starts
            self._config_error = exc
        self._throttle = Throttle(clock=self._clock, sleep=sleep, max_wait=2.0)
        self._throttle.limit("api", REQUESTS_PER_MINUTE, 60.0)
        self._oauth = OAuthSession(
            NAME,
            connection.secrets,
            endpoints=self._endpoints,
            client=client,
            save_secrets=save_secrets,
            clock=self._clock,
            refresh=self._refresh_grant,
            revocable=lambda tokens: None,  # Bullhorn documents no revocation endpoint
        )
        self._tokens = self._oauth.manager
        self._account: dict[str, Any] | None = None

    # --- OAuth and the REST session ------------------------------------------------------------

    def _endpoints(self) -> oauth.OAuthEndpoints:
        tokens = self._tokens.tokens
        base = (tokens.extra.get("oauth_url") if tokens else None) or "https://auth.bullhornstaffing.com/oauth"
        return oauth.OAuthEndpoints(
            authorize_url=f"{base}/authorize",
            token_url=f"{base}/token",
            client_id=self._settings.get("client_id", ""),
            client_secret=self._settings.get("client_secret") or None,
        )

    def _urls(self, tokens: oauth.TokenSet) -> tuple[str, str]:
        """``(oauthUrl, login restUrl)``: as stored at sign-in, else asked of loginInfo again."""
        oauth_url, login_url = tokens.extra.get("oauth_url"), tokens.extra.get("login_url")
        if not oauth_url or not login_url:
            oauth_url, login_url = discover(self._settings, self._oauth.http, self._override)
        _require_trusted(oauth_url, self._override, what="sign-in")
        _require_trusted(login_url, self._override, what="the REST login")
        return oauth_url, login_url

    def _moved(self, exc: AdapterError, oauth_url: str, login_url: str) -> tuple[str, str] | None:
        """After a failure at a stored address: the data centre loginInfo names now, if it differs.

        Bullhorn moves accounts between data centres (App Connect migrated its APAC users' stored
        hosts in 2026); a host that no longer serves the account answers 404 or not at all, and
        loginInfo is how the right one is found (_intro.md).
        """
        if not isinstance(exc, NotFound | TransientError) or isinstance(exc, MalformedResponse):
            return None
        moved = discover(self._settings, self._oauth.http, self._override)
        return moved if moved != (oauth_url, login_url) else None

    def _refresh_grant(self, current: oauth.TokenSet) -> oauth.TokenSet:
        """docs/oauth: the last refresh token buys a new pair (and is spent doing so)."""
        if not current.refresh_token:
            raise AuthError(f"The {NAME} sign-in cannot be renewed (no refresh token). Reconnect {NAME} in Settings.")
        client_id, client_secret = _credentials(self._settings)
        oauth_url, login_url = self._urls(current)
        params = {
            "grant_type": "refresh_token",
            "refresh_token": current.refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        try:
            return _token_call(
                self._oauth.http, oauth_url, params, override=self._override, now=self._clock(), previous=current
            )
        except (NotFound, TransientError) as exc:
            moved = self._moved(exc, oauth_url, login_url)
            if moved is None:
                if isinstance(exc, NotFound):
                    raise AuthError(
                        f"{NAME} has no sign-in service at the stored address. Reconnect {NAME} in Settings.",
                        vendor_message=exc.vendor_message,
                        status=exc.status,
                    ) from None
                raise
            # The new pair carries the new addresses (its extras come from ``previous``).
            extra = {**current.extra, "oauth_url": moved[0], "login_url": moved[1]}
            return _token_call(
                self._oauth.http, moved[0], params, override=self._override, now=self._clock(),
                previous=current.model_copy(update={"extra": extra}),
            )

    def _session(self) -> tuple[str, str]:
        """``(BhRestToken, restUrl)``, logging in again when the session is about to end."""
        tokens = self._tokens.tokens
        if tokens is None:
            raise AuthError(f"Not signed in to {NAME}. Sign in to {NAME} in Settings → CRM.")
        token, rest_url = tokens.extra.get("bh_rest_token"), tokens.extra.get("rest_url")
        try:
            expires = float(tokens.extra.get("session_expires_at") or 0)
        except ValueError:
            expires = 0.0
        if token and rest_url and expires - self._clock() > SESSION_MARGIN:
            return token, rest_url
        return self._login(refresh_first=False)

    def _login(self, *, refresh_first: bool) -> tuple[str, str]:
        """_login.md: ``login?version&access_token&ttl`` → ``BhRestToken`` and ``restUrl``.

        Args:
            refresh_first: Bullhorn refused the session (401): do what _login.md says, "a refresh
                token request", before logging in again.
        """
        current = self._tokens.tokens
        if current is None:
            raise AuthError(f"Not signed in to {NAME}. Sign in to {NAME} in Settings → CRM.")
        oauth_url, login_url = self._urls(current)
        access = self._tokens.refresh_after_rejection(current.access_token) if refresh_first else (
            self._tokens.access_token()
        )
        refreshed = False
        moved_to: dict[str, str] = {}
        for _ in range(3):
            try:
                response = _call(
                    self._oauth.http,
                    "POST",
                    f"{login_url}/login",
                    override=self._override,
                    params={"version": API_VERSION, "access_token": access, "ttl": str(SESSION_MINUTES)},
                    headers={"Accept": "application/json"},
                )
                break
            except UntrustedAddress:
                raise
            except (ValidationError, AuthError) as exc:
                # "Invalid or expired OAuth access token." (_login.md), HTTP 400 (sdk-rest #216): the
                # 10-minute token ended early; one refresh, one more login.
                if not refreshed and "oauth access token" in (exc.vendor_message or "").lower():
                    refreshed = True
                    access = self._tokens.refresh_after_rejection(access)
                    continue
                raise AuthError(
                    f"{NAME} refused to open a session for this sign-in. Reconnect {NAME} in Settings.",
                    vendor_message=exc.vendor_message,
                    status=exc.status,
                ) from None
            except (NotFound, TransientError) as exc:
                moved = None if moved_to else self._moved(exc, oauth_url, login_url)
                if moved is None:
                    raise
                oauth_url, login_url = moved
                moved_to = {"oauth_url": oauth_url, "login_url": login_url}
        else:
            raise AuthError(f"{NAME} refused to open a session for this sign-in. Reconnect {NAME} in Settings.")
        raw_login = json_body(response, crm=NAME)
        if not isinstance(raw_login, dict):
            raise MalformedResponse(f"{NAME} answered the login with something that is not an object.")
        token = text_of(raw_login, "BhRestToken", crm=NAME)
        rest_url = text_of(raw_login, "restUrl", crm=NAME)
        if not token or not rest_url:
            raise MalformedResponse(f"{NAME} opened no session (the login named no BhRestToken or restUrl).")
        rest_url = _require_trusted(rest_url, self._override, what="the API")
        rest_url = rest_url if rest_url.endswith("/") else rest_url + "/"
        fresh = self._tokens.tokens or current
        session = {
            "bh_rest_token": token,
            "rest_url": rest_url,
            "session_expires_at": f"{self._clock() + SESSION_MINUTES * 60:.0f}",
        }
        renewed = fresh.model_copy(update={"extra": {**fresh.extra, **moved_to, **session}})
        self._tokens.replace(renewed)
        if self._save is not None:
            try:
                self._save(renewed.to_secrets())
            except Exception as exc:  # the pair itself is saved; only the session is lost at exit
                log.info("the %s session could not be kept in the keyring: %s", NAME, type(exc).__name__)
        return token, rest_url

    def sign_out(self) -> None:
        """Ends the REST session (_login.md "Logout", best effort) and forgets the pair."""
        tokens = self._tokens.tokens
        if tokens is not None and tokens.extra.get("bh_rest_token") and tokens.extra.get("rest_url"):
            try:
                _call(
                    self._oauth.http, "GET", f"{tokens.extra['rest_url']}logout", override=self._override,
                    headers={"BhRestToken": tokens.extra["bh_rest_token"], "Accept": "application/json"},
                )
            except AdapterError as exc:
                log.info("ending the %s session failed: %s", NAME, exc)
        self._oauth.sign_out()

    # --- requests ------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API request under the session's ``restUrl``, with the ``BhRestToken`` header
        (_authorization.md). A refused session is renewed once and the request repeated."""
        if self._config_error is not None:
            raise self._config_error
        try:
            self._throttle.acquire("api")
        except ThrottleTimeout as exc:
            raise RateLimited(f"{NAME} asked to pause; trying again later.", retry_after=exc.seconds) from None
        token, rest_url = self._session()
        for attempt in (1, 2):
            headers = {"BhRestToken": token, "Accept": "application/json"}
            try:
                return _call(self._oauth.http, method, rest_url + path, override=self._override, headers=headers,
                             **kwargs)
            except UntrustedAddress:
                raise
            except RateLimited as exc:
                wait = exc.retry_after if exc.retry_after is not None else RETRY_AFTER_DEFAULT
                self._throttle.block_for(wait)
                raise RateLimited(
                    f"{NAME} asks to slow down; trying again in {wait:g} s.",
                    retry_after=wait,
                    vendor_message=exc.vendor_message,
                    status=exc.status,
                ) from None
            except PermissionDenied as exc:
                raise PermissionDenied(
                    f"{NAME} refused this: the signed-in user lacks the entitlement to read or change notes "
                    "of this record. Ask your Bullhorn administrator.",
                    vendor_message=exc.vendor_message,
                    status=exc.status,
                ) from None
            except AuthError as exc:
                if attempt == 2:
                    raise AuthError(
                        f"{NAME} no longer accepts this session. Reconnect {NAME} in Settings.",
                        vendor_message=exc.vendor_message,
                        status=exc.status,
                    ) from exc
            # _login.md: "Perform a refresh token request when a REST API request returns a 401".
            token, rest_url = self._login(refresh_first=True)
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        raw_body = json_body(response, crm=NAME)
        if not isinstance(raw_body, dict):
            raise MalformedResponse(f"{NAME} sent an answer that is not an object.", status=response.status_code)
        return raw_body

    def _record(self, response: httpx.Response) -> dict[str, Any]:
        """The record of a single-entity GET: ``{"data": {...}}`` (sdk-rest reads the wrapper's data)."""
        raw_data = self._json(response).get("data")
        if not isinstance(raw_data, dict):
            raise MalformedResponse(f"{NAME} sent a record without its data.", status=response.status_code)
        return raw_data

    def _rows(self, response: httpx.Response) -> list[dict[str, Any]]:
        """The ``data`` list of a search or query answer."""
        raw_data = self._json(response).get("data")
        if not isinstance(raw_data, list) or not all(isinstance(r, dict) for r in raw_data):
            raise MalformedResponse(f"{NAME} sent a list without its records.", status=response.status_code)
        return raw_data

    def _changed_id(self, response: httpx.Response, change: str) -> int:
        """``changedEntityId`` of a write answering ``{"changedEntityId", "changeType"}`` (_entity.md)."""
        raw_body = self._json(response)
        if text_of(raw_body, "changeType", crm=NAME) != change:
            raise MalformedResponse(
                f"{NAME} confirmed another change than the one sent.", vendor_message=str(raw_body.get("changeType"))
            )
        return int(id_of(raw_body, "changedEntityId", crm=NAME, numeric=True))

    # --- the account -----------------------------------------------------------------------------

    def _account_settings(self) -> dict[str, Any]:
        """``settings/userId,corporationName,commentActionList,isNoteActionRequired`` (_settings.md;
        the names as sdk-rest's ``Settings`` has them), once per adapter."""
        if self._account is None:
            raw_settings = self._json(
                self._request("GET", "settings/userId,corporationName,commentActionList,isNoteActionRequired")
            )
            user_id = raw_settings.get("userId")
            if isinstance(user_id, bool) or not isinstance(user_id, int):
                raise MalformedResponse(f"{NAME} did not say who is signed in (settings/userId).")
            actions = raw_settings.get("commentActionList") or []
            if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
                raise MalformedResponse(f"{NAME} sent its note actions in an unexpected shape.")
            self._account = {
                "user_id": user_id,
                "corporation": text_of(raw_settings, "corporationName", crm=NAME) or "",
                "actions": [a for a in actions if a],
                "action_required": raw_settings.get("isNoteActionRequired") is True,
            }
        return self._account

    def note_actions(self) -> list[Option]:
        """The corporation's note actions, the disposition list (cached for the adapter's life)."""
        return [Option(id=a, label=a) for a in self._account_settings()["actions"]]

    @vendor_shape(NAME)
    def verify(self) -> str:
        account = self._account_settings()
        raw_user = self._record(
            self._request("GET", f"entity/CorporateUser/{account['user_id']}",
                          params={"fields": "id,firstName,lastName,username"})
        )
        name = " ".join(p for p in (text_of(raw_user, "firstName", crm=NAME), text_of(raw_user, "lastName", crm=NAME))
                        if p)
        username = text_of(raw_user, "username", crm=NAME) or ""
        who = f"{name} ({username})" if name and username else (name or username or str(account["user_id"]))
        return f"{who} at {account['corporation']}" if account["corporation"] else who

    @vendor_shape(NAME)
    def page_fields(self) -> list[PageField]:
        """The log page's fields, ``action`` carrying the corporation's note actions (required when
        ``isNoteActionRequired`` is set) and, where the list has them, "… Inbound/Outbound … Call"
        as the default per direction. ``related`` stays contact-dependent."""
        account = self._account_settings()
        fields = [f.model_copy(deep=True) for f in self.manifest.page_fields]
        for f in fields:
            if f.id == "action":
                f.options = self.note_actions()
                f.contact_dependent = False
                f.required = bool(account["action_required"])
                f.defaults = _action_defaults(account["actions"])
        return fields

    # --- contacts --------------------------------------------------------------------------------

    @vendor_shape(NAME)
    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        if is_extension:
            return []  # CorporateUser has no extension number to search (_corporateuser.md)
        candidates = search_candidates(phone, region=self._region, patterns=self._patterns)
        if not candidates:
            return []
        found: dict[str, tuple[Contact, str]] = {}
        for entity, label, phone_fields in _PEOPLE:
            clauses = " OR ".join(f"{f}:{_lucene_phrase(c)}" for f in phone_fields for c in candidates)
            fields = (
                f"id,firstName,lastName,name,{','.join(phone_fields)},status,dateAdded,{_COMPANY_FIELD[entity]},"
                "owner(firstName,lastName)"
            )
            response = self._request(
                "POST", f"search/{entity}", params={"fields": fields, "count": "50"},
                json={"query": f"({clauses}) AND isDeleted:0"},
            )
            for raw_person in self._rows(response):
                pid = id_of(raw_person, crm=NAME, numeric=True)
                stored = [text_of(raw_person, f, crm=NAME) for f in phone_fields]
                matched = next((s for s in stored if s and same_number(s, phone, self._region)), None)
                if matched is None or pid in found:
                    continue  # a phrase that matched inside another number, or seen already
                found[pid] = (self._contact(raw_person, label, matched), entity)
        if not found:
            return []
        actions = self.note_actions()
        out = []
        for contact, entity in found.values():
            contact.options["action"] = list(actions)
            contact.options["related"] = self._related_options(entity, contact.id)
            out.append(contact)
        return out

    def _contact(self, raw_person: Mapping[str, Any], label: str, phone: str) -> Contact:
        parts = (text_of(raw_person, "firstName", crm=NAME), text_of(raw_person, "lastName", crm=NAME))
        name = (text_of(raw_person, "name", crm=NAME) or " ".join(p for p in parts if p)).strip() or "(no name)"
        company = text_of(raw_person, "companyName", crm=NAME)
        corporation = raw_person.get("clientCorporation")
        if isinstance(corporation, dict) and not company:
            company = text_of(corporation, "name", crm=NAME)
        owner = raw_person.get("owner")
        owner_name = None
        if isinstance(owner, dict):
            owner_name = " ".join(
                p for p in (text_of(owner, "firstName", crm=NAME), text_of(owner, "lastName", crm=NAME)) if p
            ) or None
        return Contact(
            id=id_of(raw_person, crm=NAME, numeric=True),
            name=name,
            phone=phone,
            type=label,
            company=company or None,
            owner=owner_name,
            created_at=_from_ms(raw_person.get("dateAdded"), key="dateAdded"),
        )

    def _related_options(self, entity: str, person_id: str) -> list[Option]:
        """Job orders and placements a note about this person can be related to, by JPQL query
        (_query.md: compound names through to-one associations, booleans as true/false)."""
        if entity == "ClientContact":
            rows = self._rows(self._request("GET", "query/JobOrder", params={
                "where": f"clientContact.id={person_id} AND isOpen=true AND isDeleted=false",
                "fields": "id,title,status", "count": "50", "orderBy": "-dateAdded",
            }))
            return [self._job_option(row) for row in rows]
        if entity != "Candidate":
            return []
        options: list[Option] = []
        placements = self._rows(self._request("GET", "query/Placement", params={
            "where": f"candidate.id={person_id}", "fields": "id,status,jobOrder(id,title)", "count": "50",
            "orderBy": "-dateBegin",
        }))
        for row in placements:
            placed = row.get("jobOrder")
            title = (text_of(placed, "title", crm=NAME) if isinstance(placed, dict) else None) or "placement"
            status = text_of(row, "status", crm=NAME)
            options.append(Option(
                id=f"Placement:{id_of(row, crm=NAME, numeric=True)}",
                label=f"Placement: {title}" + (f" ({status})" if status else ""),
            ))
        submissions = self._rows(self._request("GET", "query/JobSubmission", params={
            "where": f"candidate.id={person_id} AND isDeleted=false", "fields": "id,status,jobOrder(id,title)",
            "count": "50", "orderBy": "-dateAdded",
        }))
        seen: set[str] = set()
        for row in submissions:
            job = row.get("jobOrder")
            if not isinstance(job, dict):
                continue
            job_id = id_of(job, crm=NAME, numeric=True)
            if job_id in seen:
                continue
            seen.add(job_id)
            status = text_of(row, "status", crm=NAME)
            title = text_of(job, "title", crm=NAME) or "job"
            options.append(Option(id=f"JobOrder:{job_id}", label=f"Job: {title}" + (f" ({status})" if status else "")))
        return options

    @staticmethod
    def _job_option(row: Mapping[str, Any]) -> Option:
        title = text_of(row, "title", crm=NAME) or "job"
        status = text_of(row, "status", crm=NAME)
        label = f"Job: {title}" + (f" ({status})" if status else "")
        return Option(id=f"JobOrder:{id_of(row, crm=NAME, numeric=True)}", label=label)

    # --- notes -----------------------------------------------------------------------------------

    def _dispositions_into(
        self, raw_note: dict[str, Any], values: Mapping[str, FieldValue], *, current: Mapping[str, Any] | None
    ) -> tuple[int | None, bool]:
        """Puts ``action`` and the related job order into ``raw_note``; returns the placement to link
        (or ``None``) and whether placement links must be reconsidered."""
        if "action" in values:
            action = values["action"]
            text = str(action) if action not in (None, "", False) else None
            if text is not None and len(text) > ACTION_CHARS:
                raise ValidationError(f"A {NAME} note action has at most {ACTION_CHARS} characters.", field="action")
            if current is None or text != text_of(current, "action", crm=NAME):
                raw_note["action"] = text
        if "related" not in values:
            return None, False
        related = _related_value(values["related"])
        current_job = _ref_id(current, "jobOrder") if current is not None else None
        job = related[1] if related is not None and related[0] == "JobOrder" else None
        if job is not None and str(job) != current_job:
            raw_note["jobOrder"] = {"id": job}
        elif job is None and current_job is not None:
            raw_note["jobOrder"] = None
        placement = related[1] if related is not None and related[0] == "Placement" else None
        return placement, current is not None

    def _sync_placements(self, note_id: int, placement: int | None, *, current: Mapping[str, Any] | None) -> None:
        """A note's placement is a ``NoteEntity`` (_noteentity.md: ``targetEntityName`` "Placement"):
        created for the chosen one, deleted for the ones no longer chosen."""
        linked = _placement_ids(current) if current is not None else []
        if linked and (placement is None or [str(placement)] != linked):
            rows = self._rows(self._request("GET", "query/NoteEntity", params={
                "where": f"note.id={note_id} AND targetEntityName='Placement'",
                "fields": "id,targetEntityID", "count": "50",
            }))
            for row in rows:
                if placement is not None and _int_of(row, "targetEntityID") == placement:
                    continue
                self._changed_id(self._request("DELETE", f"entity/NoteEntity/{id_of(row, crm=NAME, numeric=True)}"),
                                 "DELETE")
        if placement is not None and str(placement) not in linked:
            link = {"note": {"id": note_id}, "targetEntityID": placement, "targetEntityName": "Placement"}
            self._changed_id(self._request("PUT", "entity/NoteEntity", json=link), "INSERT")

    def _user_id(self) -> int:
        return int(self._account_settings()["user_id"])

    @vendor_shape(NAME)
    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        _check_sizes(entry.subject, entry.body)
        if not contact.id.isdigit():
            raise ValidationError(f"{contact.id!r} is not a {NAME} person id.", field="personReference")
        duration = entry.duration_seconds if entry.duration_seconds is not None else call.duration
        raw_note: dict[str, Any] = {
            "personReference": {"id": int(contact.id)},
            "commentingPerson": {"id": self._user_id()},
            "comments": compose_comments(entry.subject, entry.body),
            "dateAdded": _epoch_ms(call.start_time),
            "externalID": call.session_id[:EXTERNAL_ID_CHARS],
        }
        if duration is not None:
            raw_note["minutesSpent"] = _minutes(duration)
        placement, _ = self._dispositions_into(raw_note, entry.dispositions, current=None)
        note_id = self._changed_id(self._request("PUT", "entity/Note", json=raw_note), "INSERT")
        if placement is not None:
            self._sync_placements(note_id, placement, current=None)
        stored = self._read(str(note_id))
        version = version_of(stored)
        return CallLogRef(adapter_id=MANIFEST.id, log_id=str(note_id), contact_id=contact.id, version=version)

    def _read(self, log_id: str) -> dict[str, Any]:
        if not log_id.isdigit():
            raise NotFound(f"{NAME} has no note {log_id!r}.")
        raw_note = self._record(self._request("GET", f"entity/Note/{log_id}", params={"fields": _NOTE_FIELDS}))
        if raw_note.get("isDeleted") is True:
            raise NotFound(f"The note was deleted in {NAME}.", status=404)
        return raw_note

    def _stored(self, ref: CallLogRef, raw_note: Mapping[str, Any]) -> StoredCallLog:
        subject, body = split_comments(text_of(raw_note, "comments", crm=NAME) or "")
        person = raw_note.get("personReference")
        contact_id = _ref_id(raw_note, "personReference")
        contact_name = None
        if isinstance(person, dict):
            parts = (text_of(person, "firstName", crm=NAME), text_of(person, "lastName", crm=NAME))
            contact_name = " ".join(p for p in parts if p) or None
        minutes = _int_of(raw_note, "minutesSpent")
        return StoredCallLog(
            ref=CallLogRef(
                adapter_id=MANIFEST.id,
                log_id=ref.log_id,
                contact_id=contact_id or ref.contact_id,
                version=version_of(raw_note),
            ),
            subject=subject,
            body=body,
            dispositions={"action": text_of(raw_note, "action", crm=NAME), "related": _related_of(raw_note)},
            contact_id=contact_id,
            contact_name=contact_name,
            duration_seconds=minutes * 60 if minutes is not None else None,
            modified_at=_from_ms(raw_note.get("dateLastModified"), key="dateLastModified"),
        )

    @vendor_shape(NAME)
    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        return self._stored(ref, self._read(ref.log_id))

    @vendor_shape(NAME)
    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        """Writes only the fields ``change`` sets.

        The note is read right before the write; with ``expected_version``, :class:`ConflictError`
        is raised if it changed (Bullhorn has no precondition: the window left is the one round
        trip between that read and the ``POST``). The subject and the note share ``comments``, so
        a change of one is written with the other as Bullhorn holds it now.
        """
        _check_sizes(change.subject, change.body)
        current = self._read(ref.log_id)
        if expected_version is not None and version_of(current) != expected_version:
            raise ConflictError(
                f"The note was changed in {NAME} since it was read; it will be read again before saving.", status=409
            )
        raw_change: dict[str, Any] = {}
        if change.subject is not None or change.body is not None:
            old_comments = text_of(current, "comments", crm=NAME) or ""
            subject, body = split_comments(old_comments)
            comments = compose_comments(
                change.subject if change.subject is not None else subject,
                change.body if change.body is not None else body,
            )
            if comments != old_comments:
                raw_change["comments"] = comments
        minutes = _minutes(change.duration_seconds) if change.duration_seconds is not None else None
        if minutes is not None and minutes != _int_of(current, "minutesSpent"):
            raw_change["minutesSpent"] = minutes
        placement, reconsider = None, False
        if change.dispositions is not None:
            placement, reconsider = self._dispositions_into(raw_change, change.dispositions, current=current)
        placements_change = reconsider and (
            (placement is None and bool(_placement_ids(current))) or (
                placement is not None and [str(placement)] != _placement_ids(current)
            )
        )
        if not raw_change and not placements_change:
            return self._stored(ref, current)
        note_id = int(ref.log_id)
        if raw_change:
            self._changed_id(self._request("POST", f"entity/Note/{note_id}", json=raw_change), "UPDATE")
        if placements_change:
            self._sync_placements(note_id, placement, current=current)
            return self._stored(ref, self._read(ref.log_id))
        # The note as just written, without reading it back (its version is a digest of these fields).
        return self._stored(ref, {**current, **raw_change})

    @vendor_shape(NAME)
    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        self.update_call_log(ref, LogUpdate(dispositions=dict(values)))

    @vendor_shape(NAME)
    def find_call_log(self, call: Call) -> CallLogRef | None:
        where = f"commentingPerson.id={self._user_id()} AND dateAdded={_epoch_ms(call.start_time)} AND isDeleted=false"
        rows = self._rows(self._request("GET", "query/Note", params={
            "where": where, "fields": "id,externalID,comments,personReference(id),dateLastModified,action,"
            "minutesSpent,jobOrder(id),placements(id)", "count": "50", "orderBy": "id",
        }))
        session = call.session_id[:EXTERNAL_ID_CHARS]
        ours = [r for r in rows if text_of(r, "externalID", crm=NAME) == session]
        if not ours:
            # A note whose externalID names another session is another call's; one without an
            # externalID is ours if its comments carry this session id (the note's "Session id" line).
            unmarked = [r for r in rows if not text_of(r, "externalID", crm=NAME)]
            ours = [r for r in unmarked if session and session in (text_of(r, "comments", crm=NAME) or "")]
        if not ours:
            return None
        chosen = min(ours, key=lambda r: int(id_of(r, crm=NAME, numeric=True)))
        return CallLogRef(
            adapter_id=MANIFEST.id,
            log_id=id_of(chosen, crm=NAME, numeric=True),
            contact_id=_ref_id(chosen, "personReference"),
            version=version_of(chosen),
        )

    def close(self) -> None:
        self._oauth.close()


def _action_defaults(actions: list[str]) -> dict[str, FieldValue]:
    """The default action per direction: the first one naming the direction and "call" ("Inbound Call")."""
    defaults: dict[str, FieldValue] = {}
    for direction in ("Inbound", "Outbound"):
        match = next((a for a in actions if direction.lower() in a.lower() and "call" in a.lower()), None)
        if match is not None:
            defaults[direction] = match
    return defaults
