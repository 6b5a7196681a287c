# SPDX-License-Identifier: MIT
"""The engine's metering wrapper passes the adapter's live page fields on, so auto-log writes the
defaults the log page shows (a disposition list changed in the CRM), not the manifest's."""

from __future__ import annotations

from pathlib import Path

from adapters.base import page_field_defaults, page_fields_for
from tests.engine.world import World, drive

PHONE = "+14155550123"


def test_auto_log_takes_the_defaults_of_the_live_page_fields_not_the_manifests(tmp_path: Path) -> None:
    # Given a Local CRM whose disposition list no longer has the manifest's inbound default
    world = World(tmp_path)
    ada = world.contact("Ada Lovelace", PHONE)
    world.crm.set_dispositions(["Interested", "Not interested"])
    assert world.crm.manifest.field("disposition").defaults["Inbound"] == "connected"
    world.add_call(phone=PHONE)
    rc = world.rc()
    engine = world.engine(rc, auto_log=True)
    try:
        # The wrapper the engine talks through offers the live fields
        assert page_fields_for(engine.adapter) == world.crm.page_fields()
        # When the call is auto-logged
        drive(engine, world.clock, rc, until=lambda: bool(world.crm.call_logs()))
    finally:
        engine.close()
    # Then the log has what the log page would pre-fill now: no disposition, rather than one not offered
    [log] = world.crm.call_logs()
    assert log.dispositions == page_field_defaults(world.crm.page_fields(), "Inbound", ada)
    assert log.dispositions["disposition"] is None
