# SPDX-License-Identifier: MIT
"""The template adapter: a complete adapter for Acme CRM, a fictional CRM, with its own fake server.

Copy it, or run ``logdesk adapter new NAME`` to get it as a separate, installable package with
the names changed. It passes the contract suite out of the box
(``tests/adapters/test_template_contract.py``), so you start from green and change one
endpoint at a time towards your CRM's real API.

- :mod:`adapters.template.acme`: the adapter (manifest, phone search, create/get/update,
  dispositions, crash recovery by session id, error mapping through :mod:`adapters.http`).
- :mod:`adapters.template.acme_fake`: the fake Acme server, an ``httpx.MockTransport`` handler
  that validates requests the way the vendor would (auth, required fields, limits, versions).
- :mod:`adapters.template.acme_harness`: the :class:`~adapters.testing.ContractHarness` that
  connects the two for the contract suite.
"""
