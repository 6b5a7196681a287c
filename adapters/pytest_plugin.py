# SPDX-License-Identifier: MIT
"""The pytest plugin for adapter authors (registered under ``pytest11`` as ``logdesk-adapters``).

Loaded automatically wherever Logdesk is installed; without an installation, add
``-p adapters.pytest_plugin`` to pytest's options. It makes pytest rewrite the assertions of
:mod:`adapters.testing` (so a failing contract test shows the values it compared) and provides:

- the ``contract`` marker, applied to every test inherited from ``CrmAdapterContract``, so
  ``pytest -m contract`` runs only the contract suite;
- the ``rc_calls`` fixture: the :mod:`adapters.testing.calls` factories.

It lives outside :mod:`adapters.testing` because assertion rewriting must be registered before
that package is imported.
"""

from __future__ import annotations

import types

import pytest

pytest.register_assert_rewrite("adapters.testing")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "contract: a test of the CRM adapter contract suite")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        cls = getattr(item, "cls", None)
        if cls is None:
            continue
        if any(base.__module__ == "adapters.testing.contract" for base in cls.__mro__):
            item.add_marker(pytest.mark.contract)


@pytest.fixture
def rc_calls() -> types.ModuleType:
    """The RingCentral-shaped call factories: ``rc_calls.inbound_call("+14155550123")``."""
    from adapters.testing import calls

    return calls
