# SPDX-License-Identifier: MIT
"""A CRM adapter wrapper that spends the CRM budget for every request it passes on.

The engine checks the budget before it starts an operation (an operation is one to three
requests) and this wrapper records each request actually sent, so the budget mirrors what the
CRM counts. It also counts requests per method, which the benchmarks report.

Threading contract: as the wrapped adapter's (one caller at a time per account).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import ClassVar

from adapters.base import CrmAdapter, Manifest, PageField, page_fields_for
from adapters.models import Call, CallLogRef, Contact, FieldValue, LogEntry, LogUpdate, StoredCallLog
from desktop.engine.ports import Clock
from desktop.engine.scheduler import RateBudget


class MeteredAdapter:
    """Passes every call to ``inner``, recording it in ``budget`` and ``counts``."""

    manifest: ClassVar[Manifest]

    def __init__(self, inner: CrmAdapter, budget: RateBudget, clock: Clock) -> None:
        self.inner = inner
        self.budget = budget
        self.clock = clock
        self.counts: Counter[str] = Counter()

    def __getattribute__(self, name: str) -> object:
        if name == "manifest":
            return object.__getattribute__(self, "inner").manifest
        return object.__getattribute__(self, name)

    def _spend(self, method: str) -> None:
        self.counts[method] += 1
        self.budget.record(self.clock.now())

    def verify(self) -> str:
        self._spend("verify")
        return self.inner.verify()

    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        self._spend("find_contact")
        return self.inner.find_contact(phone, is_extension=is_extension)

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        self._spend("create_call_log")
        return self.inner.create_call_log(call, contact, entry)

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        self._spend("get_call_log")
        return self.inner.get_call_log(ref)

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        self._spend("update_call_log")
        return self.inner.update_call_log(ref, change, expected_version=expected_version)

    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        self._spend("upsert_disposition")
        self.inner.upsert_disposition(ref, values)

    def find_call_log(self, call: Call) -> CallLogRef | None:
        self._spend("find_call_log")
        return self.inner.find_call_log(call)

    def page_fields(self) -> list[PageField]:
        """The wrapped adapter's log-page fields (its live ones, else its manifest's): without this
        the engine's auto-log would take the manifest's defaults, not what the log form pre-fills.
        Not counted: where an adapter asks its CRM, it does so once and keeps the answer."""
        return page_fields_for(self.inner)

    def close(self) -> None:
        self.inner.close()
