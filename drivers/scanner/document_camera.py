"""The overhead document camera (高拍仪): OpenCV stills of a page on the desk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.base import Role, ScannerCapabilities, SelfTestResult, Status
from drivers.camera.opencv import OpenCvCamera, OpenCvCameraSettings


@dataclass(frozen=True)
class DocumentCameraSettings:
    """Profile keys of a ``document_camera`` scanner."""

    source: str
    width: int = 3264
    height: int = 2448
    fps: float = 10.0
    loop: bool = False


class DocumentCamera:
    """A scanner whose pages come from a camera. Page detection lives in the kiosk pipeline."""

    role = Role.SCANNER
    settings_type = DocumentCameraSettings

    def __init__(self, settings: DocumentCameraSettings) -> None:
        self.settings = settings
        self._camera = OpenCvCamera(
            OpenCvCameraSettings(
                source=settings.source,
                width=settings.width,
                height=settings.height,
                fps=settings.fps,
                loop=settings.loop,
            )
        )

    @property
    def capabilities(self) -> ScannerCapabilities:
        camera = self._camera.capabilities
        return ScannerCapabilities(
            model=f"document camera {self.settings.source}",
            sources=frozenset({"camera"}),
            resolutions=(camera.width,),
        )

    def open(self) -> None:
        self._camera.open()

    def close(self) -> None:
        self._camera.close()

    def status(self) -> Status:
        return self._camera.status()

    def poll(self) -> Status:
        return self._camera.poll()

    def self_test(self) -> SelfTestResult:
        return self._camera.self_test()

    def scan_page(self) -> Any:
        return self._camera.grab()
