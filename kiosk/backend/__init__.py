"""The registry gateway: its API (shared models and routes), the kiosk's client, the outbox."""
