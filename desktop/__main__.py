# SPDX-License-Identifier: MIT
"""``python -m desktop`` is the same as the ``logdesk`` command."""

from __future__ import annotations

import sys


def main() -> None:
    from desktop.cli import main as cli_main

    sys.exit(cli_main())


if __name__ == "__main__":
    main()
