"""The scan screen: live preview with the page outline (document camera) or progress (flatbed),
the guidance, the pages so far, retake and done. It reads a ``ScanSession`` on its clock."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.image import Image
from kivy.uix.screenmanager import Screen

from kiosk.documents.scan_session import ScanSession
from screens.textures import to_texture


class ScanScreen(Screen):  # type: ignore[misc]
    session = ObjectProperty(None, allownone=True)
    guidance_zh = StringProperty("")
    guidance_en = StringProperty("")
    message_zh = StringProperty("")
    message_en = StringProperty("")
    pages = NumericProperty(0)
    document_zh = StringProperty("")  # what to scan, in a journey
    document_en = StringProperty("")
    in_flow = BooleanProperty(False)  # a journey needs at least one page
    feeder = BooleanProperty(False)  # flatbed or feeder: the person asks for each scan
    busy = BooleanProperty(False)

    def start(self, session: ScanSession) -> None:
        self.session = session
        self.feeder = not session.uses_camera
        self.pages = 0
        self.ids.thumbs.clear_widgets()
        session.start()
        self._event = Clock.schedule_interval(self._refresh, 0.1)

    def stop(self) -> ScanSession | None:
        session: ScanSession | None = self.session
        self.session = None
        event = getattr(self, "_event", None)
        if event is not None:
            event.cancel()
        if session is not None:
            session.stop()
        self.ids.thumbs.clear_widgets()  # the person's pages leave the screen with the step
        self.ids.preview.texture = None
        self.pages = 0
        return session

    def _refresh(self, _dt: float) -> None:
        session = self.session
        if session is None:
            return
        snap = session.snapshot()
        self.busy = snap.busy
        self.guidance_zh, self.guidance_en = snap.guidance_zh, snap.guidance_en
        if snap.busy:
            self.guidance_zh, self.guidance_en = "正在扫描，请稍候…", "Scanning, please wait…"
        message = snap.message
        self.message_zh, self.message_en = (message.zh, message.en) if message else ("", "")
        if snap.preview is not None:
            self.ids.preview.texture = to_texture(snap.preview)
        if snap.pages != self.pages or len(self.ids.thumbs.children) != snap.pages:
            self.pages = snap.pages
            self.ids.thumbs.clear_widgets()
            for thumb in snap.thumbnails:
                self.ids.thumbs.add_widget(
                    Image(texture=to_texture(thumb), size_hint_y=None, height=self.height * 0.22)
                )

    def retake_last(self) -> None:
        if self.session is not None and self.pages:
            self.session.retake(self.pages - 1)

    def scan_more(self) -> None:
        if self.session is not None:
            self.session.scan_more()

    def cancel(self) -> None:
        from kivy.app import App

        App.get_running_app().end_session("cancel")

    def delete_last(self) -> None:
        if self.session is not None and self.pages:
            self.session.delete(self.pages - 1)
