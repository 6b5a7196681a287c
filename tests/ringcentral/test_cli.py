# SPDX-License-Identifier: MIT
"""``logdesk sandbox serve`` serves a working account on loopback."""

from __future__ import annotations

import argparse
import io
import threading

import httpx

from adapters.ringcentral.auth import RingCentralAuth
from adapters.ringcentral.client import RingCentralClient
from adapters.ringcentral.sandbox import DESKTOP_CLIENT_ID, cli
from tests.ringcentral.conftest import follow_like_a_browser


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["sandbox", "serve", *argv])


def test_serve_parses_options() -> None:
    args = _args("--port", "0", "--scenario", "no-ringsense", "--realistic")
    assert (args.port, args.scenario, args.demo, args.run) == (0, "no-ringsense", False, cli.run)


def test_serve_answers_on_loopback_until_stopped() -> None:
    args = _args("--port", "0", "--media-port", "0", "--seed", "3", "--manual-clock")
    stop = threading.Event()
    out = io.StringIO()
    ready = threading.Event()

    announced = threading.Event()

    class Tee(io.StringIO):
        def write(self, text: str) -> int:
            out.write(text)
            if "Ctrl-C" in text:
                ready.set()
            if "websocket: ws://" in text:
                announced.set()
            return len(text)

    worker = threading.Thread(target=cli.run, args=(args,), kwargs={"stop": stop, "out": Tee()})
    worker.start()
    try:
        assert ready.wait(10)
        platform = next(line.split()[-1] for line in out.getvalue().splitlines() if "platform:" in line)
        placed = httpx.post(f"{platform}/__sandbox/calls", params={"kind": "missed"})
        assert placed.status_code == 200 and placed.json()["kind"] == "missed"
        advanced = httpx.post(f"{platform}/__sandbox/advance", params={"seconds": "30"})
        assert advanced.status_code == 200
        assert httpx.get(f"{platform}/restapi/v1.0/account/~/extension/~").status_code == 401
        rung = httpx.post(f"{platform}/__sandbox/calls", params={"kind": "inbound", "live": "1"})
        assert rung.status_code == 200 and rung.json()["live"] is True
        assert "websocket: starts with the first POST /restapi/oauth/wstoken" in out.getvalue()
        # The first wstoken starts the WebSocket gateway, and the command says where it is
        with httpx.Client(timeout=5) as http:
            auth = RingCentralAuth(platform, DESKTOP_CLIENT_ID, None, save=lambda tokens: None, http=http)
            auth.sign_in_browser(follow_like_a_browser, port=0, timeout=5)
            token = RingCentralClient(platform, auth, client=http).ws_token()
        assert announced.wait(10)
        assert f"websocket: {token.uri}" in out.getvalue()
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()
