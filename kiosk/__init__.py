"""Dengji Kiosk core: configuration, devices, sessions, flows, backend client, audit, CLI.

Nothing in this package imports Kivy; the UI launcher imports ``screens`` inside a function.
"""

__version__ = "0.1.0"
