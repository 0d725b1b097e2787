"""The face check screen: the live preview (mirrored, as people expect) with the face boxed,
the guidance or the challenge, a progress ring, the attempts left, and always a way on:
retry, or continue at the counter. It reads a ``FaceCheckRunner`` on its clock."""

from __future__ import annotations

from typing import Any

import cv2
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.identity.face_check import FaceCheckRunner, FaceView, Phase
from kiosk.identity.quality import Guidance
from screens.textures import to_texture

GOOD_BOX = (60, 180, 60)  # BGR
ADJUST_BOX = (0, 170, 255)


class FaceScreen(Screen):  # type: ignore[misc]
    runner = ObjectProperty(None, allownone=True)
    prompt_zh = StringProperty("")
    prompt_en = StringProperty("")
    progress = NumericProperty(0.0)
    attempts_left = NumericProperty(0)
    phase = StringProperty("")
    can_retry = BooleanProperty(False)
    passed = BooleanProperty(False)
    bank = BooleanProperty(False)  # an operator is there: the way without is their witness

    def start(self, runner: FaceCheckRunner) -> None:
        self.runner = runner
        self.passed = False
        runner.start()
        self._event = Clock.schedule_interval(self._refresh, 1 / 15)

    def stop(self) -> FaceCheckRunner | None:
        """Stop the camera and wipe every frame (the step ends or the visit ends)."""
        runner: FaceCheckRunner | None = self.runner
        self.runner = None
        event = getattr(self, "_event", None)
        if event is not None:
            event.cancel()
        if runner is not None:
            runner.wipe()
        self.ids.preview.texture = None
        self.progress = 0.0
        return runner

    def _refresh(self, _dt: float) -> None:
        runner = self.runner
        if runner is None:
            return
        view = runner.check.view()
        self._show(view)
        if view.face is not None:  # someone is in front of the camera: the visit is active
            from kivy.app import App

            App.get_running_app().shell.touch()
        frame = runner.latest()
        if frame is not None:
            if view.face is not None and view.frame_size[0]:
                scale = frame.shape[1] / view.frame_size[0]
                f = view.face
                colour = GOOD_BOX if view.guidance is Guidance.GOOD else ADJUST_BOX
                cv2.rectangle(
                    frame,
                    (int(f.x * scale), int(f.y * scale)),
                    (int((f.x + f.w) * scale), int((f.y + f.h) * scale)),
                    colour,
                    3,
                )
            self.ids.preview.texture = to_texture(cv2.flip(frame, 1))
            frame[:] = 0

    def _show(self, view: FaceView) -> None:
        self.phase = view.phase.value
        spoken = self.prompt_zh
        self.prompt_zh, self.prompt_en = view.prompt
        if (
            self.runner is not None
            and self.runner.error
            and view.phase
            in (
                Phase.ALIGN,
                Phase.CHALLENGE,
            )
        ):
            self.prompt_zh = "摄像头暂不可用，请到人工窗口办理"
            self.prompt_en = "The camera is not working: please go to a counter"
        self.progress = (
            view.progress
            if view.phase is Phase.CHALLENGE
            else (1.0 if view.phase in (Phase.VERIFYING, Phase.PASSED) else 0.0)
        )
        self.attempts_left = view.attempts_left
        self.can_retry = view.phase is Phase.FAILED
        self.passed = view.phase is Phase.PASSED
        if self.prompt_zh and self.prompt_zh != spoken:  # each new instruction, said aloud
            from kivy.app import App

            App.get_running_app().say(self.prompt_zh)

    def retry(self) -> None:
        if self.runner is not None:
            self.runner.retry()

    def to_counter(self) -> None:
        from kivy.app import App

        App.get_running_app().face_check_to_counter()

    def cancel(self) -> None:
        from kivy.app import App

        App.get_running_app().finish_face_check()

    def on_passed(self, _screen: Any, passed: bool) -> None:
        if passed:
            from kivy.app import App

            Clock.schedule_once(lambda _dt: App.get_running_app().finish_face_check(), 1.0)
