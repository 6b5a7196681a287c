# SPDX-License-Identifier: MIT
"""PyInstaller's hook for a PySide6 module, less two things Logdesk does not use.

``scripts/bundle.py`` copies this file as ``hook-PySide6.<module>.py`` for each Qt module the app
loads (PyInstaller's helper reads the module's name from the file name), so it replaces
PyInstaller's own hook for them. Left out:

- the GTK 3 platform theme (``libqgtk3.so``): it would bring the build machine's GTK 3 stack into
  the bundle (about 20 MB of system libraries) and load it on other distributions' GNOME desktops,
  where it can clash with their own GTK; Qt's generic theme and the XDG portal theme remain, and
  Logdesk sets its own style;
- Qt's translations of its built-in texts (7 MB): Logdesk installs no translator for them.
"""

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [entry for entry in binaries if "libqgtk3" not in entry[0]]
datas = [entry for entry in datas if "translations" not in entry[1]]
