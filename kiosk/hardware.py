"""The device vocabulary the screens may use — roles, states, a self-test's steps — so that no
screen imports a driver module: screens talk to ``kiosk``, and ``kiosk`` to ``drivers``."""

from __future__ import annotations

from drivers.base import Role, SelfTestStep, State, Status

__all__ = ["Role", "SelfTestStep", "State", "Status"]
