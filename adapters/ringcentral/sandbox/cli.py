# SPDX-License-Identifier: MIT
"""``logdesk sandbox serve``: run the simulated RingCentral account on loopback sockets.

Point any RingCentral client at the printed platform URL, with the desktop client id for the
PKCE sign-in (redirect ``http://127.0.0.1:<port>/callback``) or the admin client for the JWT
grant. The account runs on the real clock; ``--demo`` (the default) compresses the delays so a
call rings every 30–60 s (live, with telephony-session events) and its recording and AI notes
follow within two minutes of its end. Control routes: ``POST /__sandbox/calls?kind=inbound``
places a call that already ended, ``…&live=1`` (optionally ``&duration=90&hold=1``) rings one now,
``POST /__sandbox/advance?seconds=N`` is accepted only with ``--manual-clock``.

Push events: ``POST /restapi/oauth/wstoken`` starts the WebSocket gateway on its own loopback port
(RingCentral's WebSocket API: subscriptions, telephony-session and RingSense events, recovery);
its address is printed once it exists.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any, TextIO

from adapters.ringcentral.sandbox.account import SandboxAccount
from adapters.ringcentral.sandbox.clock import ManualClock
from adapters.ringcentral.sandbox.oauth import ADMIN_CLIENT_ID, DESKTOP_CLIENT_ID
from adapters.ringcentral.sandbox.scenario import PRESETS, preset


def register(subparsers: Any) -> None:
    """Adds ``sandbox`` with its ``serve`` action to the ``logdesk`` command line."""
    parser = subparsers.add_parser("sandbox", help="the simulated RingCentral account")
    actions = parser.add_subparsers(dest="sandbox_action", metavar="ACTION", required=True)
    serve = actions.add_parser("serve", help="serve the simulated account on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8480, help="platform API port (default 8480; 0 picks one)")
    serve.add_argument("--media-port", type=int, default=8481, help="media host port (default 8481; 0 picks one)")
    serve.add_argument("--scenario", default="happy", choices=sorted(PRESETS), help="behaviour preset")
    serve.add_argument("--seed", type=int, default=None, help="make ids and traffic reproducible")
    pace = serve.add_mutually_exclusive_group()
    pace.add_argument("--demo", dest="demo", action="store_true", default=True, help="compressed delays (default)")
    pace.add_argument("--realistic", dest="demo", action="store_false", help="production-like delays")
    serve.add_argument("--manual-clock", action="store_true", help="time moves only through POST /__sandbox/advance")
    serve.set_defaults(run=run)


def run(args: argparse.Namespace, *, stop: threading.Event | None = None, out: TextIO | None = None) -> int:
    """Serves until interrupted (Ctrl-C) or until ``stop`` is set (tests)."""
    out = out or sys.stdout
    scenario = preset(args.scenario, demo=args.demo)
    clock = ManualClock(time.time()) if args.manual_clock else time.time
    seed = args.seed if args.seed is not None else int(time.time())
    account = SandboxAccount(clock=clock, scenario=scenario, seed=seed)
    try:
        server = account.serve(port=args.port, media_port=args.media_port)
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{args.port}/{args.media_port}: {exc}", file=sys.stderr)
        return 2
    with server:
        print(f"RingCentral sandbox ({scenario.name}{', demo pace' if args.demo else ''})", file=out)
        print(f"  platform:  {server.url}", file=out)
        print(f"  media:     {server.media_url}", file=out)
        print(f"  PKCE client id: {DESKTOP_CLIENT_ID}  (redirect http://127.0.0.1:<port>/callback)", file=out)
        print(f"  JWT client id:  {ADMIN_CLIENT_ID}", file=out)
        print("  websocket: starts with the first POST /restapi/oauth/wstoken", file=out)
        print("Press Ctrl-C to stop.", file=out, flush=True)
        waiter = stop or threading.Event()
        announced: str | None = None
        try:
            while not waiter.wait(0.5):
                url = account.ws_url
                if url is not None and url != announced:
                    print(f"  websocket: {url}", file=out, flush=True)
                    announced = url
        except KeyboardInterrupt:
            print("stopping", file=out)
    account.close()
    return 0
