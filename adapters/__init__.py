# SPDX-License-Identifier: MIT
"""Everything that talks to the outside world, and the call-log note format.

Nothing in this package imports PySide6: adapters run on worker threads, from the
command line and in tests without a QApplication.
"""
