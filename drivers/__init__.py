"""The hardware abstraction layer: typed device contracts, drivers and wire-level emulators.

Nothing here imports ``kiosk`` or Kivy: drivers are usable from a maintenance shell, a test or
another product without the kiosk around them.
"""
