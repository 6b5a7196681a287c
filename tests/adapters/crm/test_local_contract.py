# SPDX-License-Identifier: MIT
"""The Local CRM passes the adapter contract suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Connection
from adapters.crm.local import LocalCrm
from adapters.models import CallLogRef
from adapters.testing import ContractHarness, CrmAdapterContract


class LocalHarness(ContractHarness):
    """A fresh SQLite file; a second connection to it plays the person editing in the CRM."""

    supports_http_faults = False

    def __init__(self, path: Path) -> None:
        self.adapter: LocalCrm = LocalCrm(Connection(settings={"path": str(path)}))
        self._crm_screen = LocalCrm.open(path)

    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        return self._crm_screen.add_contact(name, phone, extension=extension).id

    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        self._crm_screen.person_edits(ref.log_id, subject=subject, body=body)

    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        raw = self._crm_screen.raw_log(ref.log_id)
        raw["start_time"] = datetime.fromisoformat(raw["start_time"])
        raw["contact_id"] = str(raw["contact_id"]) if raw["contact_id"] is not None else None
        return raw

    def close(self) -> None:
        self.adapter.close()
        self._crm_screen.close()


class TestLocalCrm(CrmAdapterContract):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> Iterator[ContractHarness]:
        h = LocalHarness(tmp_path / "local-crm.sqlite3")
        yield h
        h.close()
