# SPDX-License-Identifier: MIT
"""The phone region and search patterns the app hands every adapter."""

from __future__ import annotations

from adapters.base import SETTING_PHONE_PATTERNS, SETTING_REGION, phone_settings


def test_phone_settings_default_to_us_and_no_patterns() -> None:
    assert phone_settings({}) == ("US", [])


def test_phone_region_is_read_from_its_own_key_not_a_crm_hosting_region() -> None:
    # Clio's connect form has a "region" of its own (its hosting region): it must not be read as a country.
    assert phone_settings({"region": "eu", SETTING_REGION: "gb"}) == ("GB", [])
    assert phone_settings({"region": "eu"})[0] == "US"


def test_patterns_from_settings_and_an_adapters_own_field_are_merged_once() -> None:
    settings = {SETTING_PHONE_PATTERNS: "(###) ###-####\n###.###.####\n"}
    region, patterns = phone_settings(settings, extra_patterns="###.###.####; ### ### ####")
    assert region == "US"
    assert patterns == ["(###) ###-####", "###.###.####", "### ### ####"]
