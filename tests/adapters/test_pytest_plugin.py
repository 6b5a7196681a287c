# SPDX-License-Identifier: MIT
"""The contract suite as a third party meets it: a pytest plugin loaded from Logdesk's entry point."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

_THIRD_PARTY_TESTS = """
import pytest

from adapters.template.acme_harness import AcmeHarness
from adapters.testing import ContractHarness, CrmAdapterContract


class TestAcme(CrmAdapterContract):
    @pytest.fixture
    def harness(self):
        h = AcmeHarness()
        yield h
        h.close()


def test_call_factories_come_as_a_fixture(rc_calls):
    call = rc_calls.outbound_call("+12125557464")
    assert call.remote.phone_number == "+12125557464"
"""


@pytest.mark.slow
def test_contract_marker_selects_only_the_inherited_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_acme=_THIRD_PARTY_TESTS)
    contract = pytester.runpytest_subprocess("-q", "-m", "contract", "-p", "no:cacheprovider")
    outcomes = contract.parseoutcomes()
    assert outcomes.get("failed", 0) == outcomes.get("errors", 0) == 0
    assert outcomes["deselected"] == 1 and outcomes["passed"] > 50
    suite_size = outcomes["passed"] + outcomes.get("skipped", 0)
    rest = pytester.runpytest_subprocess("-q", "-m", "not contract", "-p", "no:cacheprovider")
    rest.assert_outcomes(passed=1, deselected=suite_size)


@pytest.mark.slow
def test_failing_contract_assertions_show_the_compared_values(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_broken="""
import pytest

from adapters.base import Connection
from adapters.template.acme import AcmeAdapter
from adapters.template.acme_fake import BASE_URL, TEST_TOKEN
from adapters.template.acme_harness import AcmeHarness
from adapters.testing import CrmAdapterContract


class Forgetful(AcmeAdapter):
    def get_call_log(self, ref):
        stored = super().get_call_log(ref)
        return stored.model_copy(update={"subject": "something else"})


class TestForgetful(CrmAdapterContract):
    @pytest.fixture
    def harness(self):
        h = AcmeHarness()
        connection = Connection(settings={"api_base_url": BASE_URL}, secrets={"api_token": TEST_TOKEN})
        h.adapter = Forgetful(connection, client=h.adapter._client)
        yield h
        h.close()
"""
    )
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "-k", "test_create_then_get_round_trips_subject_note_and_dispositions"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: assert 'something else' == 'Inbound call*", "*+ something else"])
