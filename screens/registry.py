"""The one screen registry: name → class, with each screen's ``.kv`` loaded on first use."""

from __future__ import annotations

import importlib
from pathlib import Path

from kivy.lang import Builder
from kivy.uix.screenmanager import Screen, ScreenManager

SCREENS: dict[str, str] = {
    "attract": "screens.attract:AttractScreen",
    "home": "screens.home:HomeScreen",
    "out_of_service": "screens.out_of_service:OutOfServiceScreen",
    "scan": "screens.scan:ScanScreen",
    "face": "screens.face:FaceScreen",
    "step_card": "screens.steps:CardScreen",
    "step_consent": "screens.steps:ConsentScreen",
    "step_result": "screens.steps:ResultScreen",
    "step_face_intro": "screens.steps:FaceIntroScreen",
    "step_party": "screens.party_steps:PartyScreen",
    "step_work": "screens.steps:WorkScreen",
    "step_choose": "screens.steps:ChooseScreen",
    "step_pay": "screens.steps:PayScreen",
    "step_done": "screens.steps:DoneScreen",
    "step_form": "screens.application_steps:FormScreen",
    "step_review": "screens.application_steps:ReviewScreen",
    "step_sign": "screens.application_steps:SignScreen",
    "operator_login": "screens.operator:OperatorLoginScreen",
    "workbench": "screens.operator:WorkbenchScreen",
    "approve": "screens.operator:ApproveScreen",
    "maintenance_pin": "screens.maintenance:MaintenancePinScreen",
    "maintenance": "screens.maintenance:MaintenanceScreen",
}

_loaded_kv: set[str] = set()


def load_kv(module_name: str) -> None:
    """Load ``<module>.kv`` beside the module once (kv rules are global in Kivy)."""
    module = importlib.import_module(module_name)
    kv = Path(str(module.__file__)).with_suffix(".kv")
    if kv.exists() and str(kv) not in _loaded_kv:
        Builder.load_file(str(kv))
        _loaded_kv.add(str(kv))


class ScreenRegistry:
    def __init__(self, manager: ScreenManager) -> None:
        self.manager = manager

    def get(self, name: str) -> Screen:
        if self.manager.has_screen(name):
            return self.manager.get_screen(name)
        module_name, _, class_name = SCREENS[name].partition(":")
        load_kv("screens.widgets")
        load_kv(module_name)
        cls = getattr(importlib.import_module(module_name), class_name)
        screen: Screen = cls(name=name)
        self.manager.add_widget(screen)
        return screen

    def show(self, name: str) -> Screen:
        screen = self.get(name)
        self.manager.current = name
        return screen
