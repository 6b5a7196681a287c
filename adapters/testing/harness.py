# SPDX-License-Identifier: MIT
"""What the contract suite needs from an adapter's test module: a :class:`ContractHarness`.

A harness owns one adapter instance and a CRM it can reach behind the adapter's back: it seeds
contacts, makes the edits a person would make in the CRM's own UI, reads what the CRM stores, and
makes the next request fail. It is built fresh for every test (a new fake server or a new
database), so tests never see each other's records.

Threading: a harness is used by one test on one thread.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from adapters.base import CrmAdapter, PageFieldKind
from adapters.models import Call, CallLogRef, Contact, Direction, FieldValue
from adapters.testing import calls

#: How the next request to the CRM fails: an HTTP status, a timeout, a 2xx with a body that is
#: not JSON (``"malformed"``), or a 2xx with valid JSON of the wrong shape (``"wrong_shape"``: the
#: CRM's own answer with a documented field missing or a value of the wrong type).
FailureKind = int | Literal["timeout", "malformed", "wrong_shape"]


class ContractHarness(abc.ABC):
    """The adapter under test plus a back door into its CRM.

    Subclass it in your adapter's tests and return one from a ``harness`` fixture (fresh per test).

    Attributes:
        adapter: the adapter under test, connected to the CRM the harness controls.
        supports_http_faults: whether :meth:`inject_failure` works. ``False`` (the Local CRM has
            no HTTP) skips the error-mapping tests with a reason.
        region: the default region the adapter was configured with.
        facts_not_stored, start_time_grain, duration_grain: how the CRM keeps a call's
            direction, start, duration and contact (see :meth:`read_log_raw`).
    """

    adapter: CrmAdapter
    supports_http_faults: bool = True
    region: str = "US"
    #: Call facts the CRM has no field for (``"direction"``, ``"start_time"``,
    #: ``"duration_seconds"``, ``"contact_id"``): the suite does not look for them in
    #: :meth:`read_log_raw` and says so in the skip reason.
    facts_not_stored: frozenset[str] = frozenset()
    #: How finely the CRM stores a call's start (one second; a minute; a day for a date field).
    start_time_grain: timedelta = timedelta(seconds=1)
    #: How finely the CRM stores a duration, in seconds (60 for a CRM that keeps whole minutes).
    duration_grain: int = 1

    # --- required -----------------------------------------------------------------------------

    @abc.abstractmethod
    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        """Creates a contact directly in the CRM and returns its CRM id.

        ``phone`` is stored exactly as given (``(415) 555-0123`` stays that text), the way a
        person typing into the CRM would store it. With ``extension``, the record is an internal
        user reachable at that extension number (only asked when the manifest declares
        ``capabilities.extension_logging``).
        """

    @abc.abstractmethod
    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        """A person edits the log in the CRM's UI, bumping its version as the vendor would.

        Args:
            ref: the log to edit.
            subject: the new subject, or ``None`` to keep it.
            body: a function from the stored body to the edited body, or ``None`` to keep it.
        """

    @abc.abstractmethod
    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        """What the CRM stores for this log, bypassing the adapter ("check the CRM").

        The dict holds the vendor's own fields and, in addition, these normalised keys the suite
        reads: ``"subject"`` (str), ``"body"`` (str, the note exactly as stored), when the CRM
        stores them, ``"dispositions"`` (a dict keyed by page-field id), and the call's facts as
        the CRM holds them in its own fields (not in the note):

        - ``"direction"``: ``"Inbound"`` or ``"Outbound"`` (:class:`~adapters.models.Direction`);
        - ``"start_time"``: when the call started, an aware ``datetime`` (a CRM that keeps only a
          date or minutes gives that instant: midnight, or the minute; see
          :attr:`start_time_grain`);
        - ``"duration_seconds"``: the duration in seconds, ``None`` when the CRM holds none;
        - ``"contact_id"``: the id of the contact the log is linked to, ``None`` when unlinked.

        A CRM with no field for one of these facts leaves its key out and lists it in
        :attr:`facts_not_stored`.
        """

    # --- optional -----------------------------------------------------------------------------

    def inject_failure(self, kind: FailureKind, *, retry_after: float | None = None, body: Any = None) -> None:
        """Makes the next request to the CRM fail.

        Args:
            kind: an HTTP status (answered with the vendor's error envelope, or ``body``),
                ``"timeout"`` (the request times out), ``"malformed"`` (a 2xx whose body is
                ``body`` or, by default, not JSON at all) or ``"wrong_shape"`` (the answer the CRM
                would have given, as valid JSON of the wrong shape: reshaped by ``body``, a
                function from the decoded JSON to the reshaped JSON, or by default by
                :func:`adapters.testing.faults.wrong_shape`, which sends every text value as a
                number and every number as text). :class:`~adapters.testing.faults.FaultInjector`
                does all of these for a ``MockTransport`` fake.
            retry_after: with 429, the ``Retry-After`` header value in seconds.
            body: overrides the response body (a dict is sent as JSON, a str as text); with
                ``"wrong_shape"``, the reshaping function.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot inject failures")

    def unknown_log_ref(self) -> CallLogRef:
        """A reference to a log that does not exist, in this CRM's id format."""
        return CallLogRef(adapter_id=self.adapter.manifest.id, log_id="999999999")

    def make_call(
        self,
        phone: str,
        *,
        direction: Direction = Direction.INBOUND,
        start_time: datetime | None = None,
        recording: bool = False,
    ) -> Call:
        """A finished call with ``phone`` on the other end (see :mod:`adapters.testing.calls`)."""
        if direction is Direction.INBOUND:
            return calls.inbound_call(phone, start_time=start_time, recording=recording)
        return calls.outbound_call(phone, start_time=start_time, recording=recording)

    def sample_dispositions(self, contact: Contact, *, alternate: bool = False) -> dict[str, FieldValue]:
        """Valid values for the manifest's page fields (override for patterned text fields).

        Selections take their last option (their first with ``alternate``), contact-dependent
        selections take an option of ``contact``, checkboxes are ``True`` (``False``), text fields
        without a pattern get a short text. Notices and patterned text fields are left out.
        """
        values: dict[str, FieldValue] = {}
        for field in self.adapter.manifest.page_fields:
            if field.kind is PageFieldKind.SELECTION:
                options = contact.options.get(field.id, []) if field.contact_dependent else field.options
                if options:
                    values[field.id] = (options[0] if alternate else options[-1]).id
            elif field.kind is PageFieldKind.CHECKBOX:
                values[field.id] = not alternate
            elif field.kind is PageFieldKind.TEXT and not field.pattern:
                values[field.id] = "Second pass" if alternate else "Follow up Tuesday"
        return values

    def close(self) -> None:
        """Releases the adapter and whatever the harness started."""
        self.adapter.close()
