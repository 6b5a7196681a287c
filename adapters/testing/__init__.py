# SPDX-License-Identifier: MIT
"""The contract suite every CRM adapter must pass, usable by third parties as a pytest plugin.

An adapter's test module::

    import pytest
    from adapters.testing import ContractHarness, CrmAdapterContract

    class TestMyCrm(CrmAdapterContract):
        @pytest.fixture
        def harness(self, tmp_path):
            h = MyCrmHarness(tmp_path)   # a ContractHarness subclass, fresh per test
            yield h
            h.close()

Public names:

- :class:`CrmAdapterContract`: the ``test_*`` methods (see :mod:`adapters.testing.contract`).
- :class:`ContractHarness`: what a test module provides: ``adapter``, ``add_contact``,
  ``person_edits_log``, ``read_log_raw``, ``inject_failure``, ``supports_http_faults``,
  ``make_call``, ``sample_dispositions``.
- :mod:`adapters.testing.calls`: RingCentral-shaped call factories (``inbound_call``,
  ``outbound_call``, ``internal_call``, ``raw_call_record``).
- :mod:`adapters.testing.faults`: :class:`FaultInjector`, a one-shot failure queue for fake
  servers built on ``httpx.MockTransport``.

Installing Logdesk registers :mod:`adapters.pytest_plugin` under ``pytest11``, so pytest
rewrites the suite's assertions (readable failures) and offers its fixtures everywhere.
This package needs pytest; the application never imports it.
"""

from adapters.testing.calls import inbound_call, internal_call, outbound_call, raw_call_record
from adapters.testing.contract import CrmAdapterContract, sample_body
from adapters.testing.harness import ContractHarness, FailureKind

__all__ = [
    "ContractHarness",
    "CrmAdapterContract",
    "FailureKind",
    "inbound_call",
    "internal_call",
    "outbound_call",
    "raw_call_record",
    "sample_body",
]
