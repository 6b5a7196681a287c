# SPDX-License-Identifier: MIT
"""The signed-in user's extension (``GET .../extension/~``): who the bearer token belongs to.

Answers for the agent, the account's one user, with RingCentral's ``Light`` rate-limit group.

Threading contract: not locked on its own; the account calls it with its lock held.
"""

from __future__ import annotations

from adapters.ringcentral.sandbox.data import People
from adapters.ringcentral.sandbox.wire import EXTENSION_PATH, Route, SandboxRequest, SandboxResponse, json_response


class Extension:
    """The agent's extension record.

    Args:
        people: the agent and the account id.
    """

    def __init__(self, people: People) -> None:
        self._people = people

    def routes(self) -> list[Route]:
        return [Route("GET", "platform", EXTENSION_PATH, "Light", True, self._extension)]

    def _extension(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        agent = self._people.agent
        first, _sep, last = (agent.name or "").partition(" ")
        acc = self._people.account_id
        return json_response(
            200,
            {
                "uri": f"{req.platform_base}/restapi/v1.0/account/{acc}/extension/{agent.extension_id}",
                "id": int(agent.extension_id or 0),
                "extensionNumber": agent.extension_number,
                "name": agent.name,
                "contact": {"firstName": first, "lastName": last, "email": self._people.agent_email},
                "account": {"id": acc, "uri": f"{req.platform_base}/restapi/v1.0/account/{acc}"},
                "status": "Enabled",
                "type": "User",
            },
        )
