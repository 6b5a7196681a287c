# SPDX-License-Identifier: MIT
"""A live call's whole lifecycle through the engine into every built-in CRM (its fake): auto-logged
at connect, the final duration at the hang-up, the recording with the call-log record, the AI note
and transcript from RingSense — at most four CRM requests, and a person's edits made in the CRM
between the app's writes all survive."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adapters.crm.live_lifecycle import CRMS, SUMMARY, live_lifecycle, make_crm


@pytest.mark.parametrize("name", CRMS)
def test_a_live_calls_lifecycle_costs_at_most_four_crm_requests(tmp_path: Path, name: str) -> None:
    crm = make_crm(name, tmp_path)
    try:
        done = live_lifecycle(tmp_path, crm)
    finally:
        crm.close()
    assert len(done.requests) <= 4, done.requests
    assert SUMMARY in done.body and "3 minutes, 20 seconds" in done.body
    assert "ringcentral-media-reader" in done.body and "pending" not in done.body.lower()


@pytest.mark.parametrize("name", CRMS)
def test_edits_made_in_the_crm_between_the_apps_writes_survive_the_lifecycle(tmp_path: Path, name: str) -> None:
    crm = make_crm(name, tmp_path)
    try:
        done = live_lifecycle(tmp_path, crm, person_edits=True)
    finally:
        crm.close()
    assert len(done.person_lines) >= 2
    for line in done.person_lines:
        assert line in done.body
    assert SUMMARY in done.body and "3 minutes, 20 seconds" in done.body
    assert "pending" not in done.body.lower()
