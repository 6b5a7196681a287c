# SPDX-License-Identifier: MIT
"""The template adapter (Acme CRM over its fake server) passes the contract suite out of the box."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.template.acme_harness import AcmeHarness
from adapters.testing import ContractHarness, CrmAdapterContract


class TestAcmeTemplate(CrmAdapterContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        h = AcmeHarness()
        yield h
        h.close()
