# SPDX-License-Identifier: MIT
"""The CRM adapters that ship with Logdesk: one module per CRM.

:mod:`adapters.crm.local` is the Local CRM, embedded and the default (contacts and call logs in a
SQLite file); :mod:`~adapters.crm.hubspot`, :mod:`~adapters.crm.pipedrive`,
:mod:`~adapters.crm.salesforce`, :mod:`~adapters.crm.zoho`, :mod:`~adapters.crm.clio`,
:mod:`~adapters.crm.bullhorn`, :mod:`~adapters.crm.insightly` and :mod:`~adapters.crm.sheets`
(Google Sheets) talk to the vendors' APIs.

What they share (the contract, models, HTTP error mapping, phone numbers, OAuth, throttling, the
registry that lists them in :data:`adapters.registry.BUILTIN_ADAPTERS`) stays one level up in
:mod:`adapters`. This package imports none of its modules, so the registry can load each lazily.
"""
