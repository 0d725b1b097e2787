"""Shipped device profiles (TOML). Installed as the ``kiosk.device_profiles`` package data."""
