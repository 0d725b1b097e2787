"""The embedded reference registry: the gateway API on loopback, on SQLite, with synthetic data.

It is the kiosk's embedded default, the training rooms' registry and the tests' backend.
"""
