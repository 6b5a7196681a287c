# SPDX-License-Identifier: MIT
"""Call recordings: metadata on the platform host, the audio on the media host.

What it checks, like RingCentral does: a recording exists only once it is attached to a record
that is visible in the call log (404 ``CMN-102`` before); its ``contentUri`` points at the media
host, which alone serves the content (the platform host answers 404) and also accepts the token as
``access_token`` in the query. Content honours one ``Range`` (``bytes=first-last``, ``first-`` or
the suffix ``-n``; anything else, or a range past the end, gives 416 ``CMN-107`` with
``Content-Range: bytes */total``) and ``contentDisposition`` (``Inline``/``Attachment``, with
``contentDispositionFilename``). The audio is a small WAV (a soft two-tone hum, at most 8 s).

Threading contract: not locked on its own; the account calls it with its lock held.
"""

from __future__ import annotations

from adapters.ringcentral.sandbox.calls import RecordingIndex, SimCall, SimRecording
from adapters.ringcentral.sandbox.clock import Clock
from adapters.ringcentral.sandbox.data import People, wav_bytes
from adapters.ringcentral.sandbox.wire import (
    ACCOUNT_PATH,
    Route,
    SandboxRequest,
    SandboxResponse,
    api_error,
    json_response,
)

_RANGE_PREFIX = "bytes="


def content_uri(req: SandboxRequest, account_id: str, recording_id: str) -> str:
    """Where a recording's audio is served: on the media host."""
    return f"{req.media_base}/restapi/v1.0/account/{account_id}/recording/{recording_id}/content"


class Recordings:
    """Recording metadata and content, looked up in the account's recording index.

    Args:
        recordings: the account's recording index (filled by :class:`~.calls.CallTraffic`).
        people: the account id for URIs.
        clock: UNIX seconds.
    """

    def __init__(self, *, recordings: RecordingIndex, people: People, clock: Clock) -> None:
        self._recordings = recordings
        self._people = people
        self._clock = clock

    def routes(self) -> list[Route]:
        return [
            Route("GET", "platform", f"{ACCOUNT_PATH}/recording/([^/]+)", "Heavy", True, self._recording),
            Route("GET", "media", f"{ACCOUNT_PATH}/recording/([^/]+)/content", "Heavy", True, self._recording_content),
        ]

    def _attached_recording(self, recording_id: str) -> tuple[SimCall, SimRecording] | None:
        found = self._recordings.get(recording_id)
        now = self._clock()
        if found is None or found[1].attach_at is None or found[1].attach_at > now or found[0].visible_at > now:
            return None
        return found

    def _recording(self, req: SandboxRequest, match: tuple[str, ...]) -> SandboxResponse:
        found = self._attached_recording(match[0])
        if found is None:
            return api_error(
                404, "CMN-102", "Resource for parameter [recordingId] is not found", parameter="recordingId"
            )
        _, rec = found
        return json_response(
            200,
            {
                "uri": f"{req.platform_base}/restapi/v1.0/account/{self._people.account_id}/recording/{rec.id}",
                "id": rec.id,
                "contentUri": content_uri(req, self._people.account_id, rec.id),
                "contentType": "audio/wav",
                "duration": rec.duration,
            },
        )

    def _recording_content(self, req: SandboxRequest, match: tuple[str, ...]) -> SandboxResponse:
        found = self._attached_recording(match[0])
        if found is None:
            return api_error(
                404, "CMN-102", "Resource for parameter [recordingId] is not found", parameter="recordingId"
            )
        _, rec = found
        data = wav_bytes(min(max(rec.duration, 1), 8))
        total = len(data)
        headers = {"Content-Type": "audio/wav", "Accept-Ranges": "bytes"}
        disposition = req.param("contentDisposition")
        if disposition in ("Inline", "Attachment"):
            filename = req.param("contentDispositionFilename") or f"recording-{rec.id}.wav"
            headers["Content-Disposition"] = f'{disposition.lower()}; filename="{filename}"'
        range_header = req.header("Range")
        if range_header:
            span = _parse_range(range_header, total)
            if span is None:
                response = api_error(416, "CMN-107", "Requested Range Not Satisfiable")
                response.headers["Content-Range"] = f"bytes */{total}"
                return response
            first, last = span
            headers["Content-Range"] = f"bytes {first}-{last}/{total}"
            return SandboxResponse(206, headers, data[first : last + 1])
        return SandboxResponse(200, headers, data)


def _parse_range(value: str, total: int) -> tuple[int, int] | None:
    if not value.startswith(_RANGE_PREFIX) or "," in value:
        return None
    first_raw, _, last_raw = value[len(_RANGE_PREFIX) :].strip().partition("-")
    try:
        if first_raw == "":
            suffix = int(last_raw)
            if suffix <= 0:
                return None
            return max(0, total - suffix), total - 1
        first = int(first_raw)
        last = int(last_raw) if last_raw else total - 1
    except ValueError:
        return None
    if first >= total or last < first:
        return None
    return first, min(last, total - 1)
