# SPDX-License-Identifier: MIT
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from desktop.logs import LOG_FILE, REDACTED, setup_logging
from desktop.secrets import MemorySecretStore


@pytest.fixture
def logfile(tmp_path: Path):
    store = MemorySecretStore()
    handler = setup_logging(store.values, directory=tmp_path)
    yield store, tmp_path / LOG_FILE
    logging.getLogger().removeHandler(handler)
    handler.close()


def test_bearer_tokens_are_redacted(logfile) -> None:
    _, path = logfile
    logging.getLogger("adapters.crm.hubspot").info("sending Authorization: Bearer pat-na1-0123456789abcdef")
    text = path.read_text()
    assert "pat-na1-0123456789abcdef" not in text
    assert f"Bearer {REDACTED}" in text


def test_token_and_code_query_values_are_redacted(logfile) -> None:
    _, path = logfile
    logging.getLogger("x").info(
        "redirect http://127.0.0.1:53682/callback?code=U0FNUExFX0NPREU&state=abc and "
        "https://media.example/rec/1/content?access_token=U1hDMTFQMDFQQVMwMHxBQUJf"
    )
    text = path.read_text()
    assert "U0FNUExFX0NPREU" not in text and "U1hDMTFQMDFQQVMwMHxBQUJf" not in text
    assert "state=abc" in text


def test_every_secret_the_store_holds_is_redacted_even_in_args_and_tracebacks(logfile, caplog) -> None:
    store, path = logfile
    store.set("pipedrive:api_token", "0123456789abcdef0123")
    log = logging.getLogger("adapters.crm.pipedrive")
    log.info("token is %s", "0123456789abcdef0123")
    try:
        raise RuntimeError("failed with 0123456789abcdef0123")
    except RuntimeError:
        log.exception("request failed")
    text = path.read_text()
    assert "0123456789abcdef0123" not in text
    assert text.count(REDACTED) >= 3


def test_bullhorns_session_key_is_redacted_as_a_header_a_json_value_and_a_query_parameter(logfile) -> None:
    _, path = logfile
    logging.getLogger("adapters.crm.bullhorn").info(
        'headers BhRestToken: 1a2b3c4d-aaaa-bbbb-cccc-0123456789ab; body {"BhRestToken": "5e6f7a8b-1111", '
        '"restUrl": "https://rest42.bullhornstaffing.com/rest-services/e999/"}; '
        '{"bh_rest_token":"9c9c9c9c"}; https://rest42.bullhornstaffing.com/rest-services/e999/ping?BhRestToken=77aa88bb'
    )
    text = path.read_text()
    for secret in ("1a2b3c4d-aaaa-bbbb-cccc-0123456789ab", "5e6f7a8b-1111", "9c9c9c9c", "77aa88bb"):
        assert secret not in text
    assert "rest42.bullhornstaffing.com" in text
