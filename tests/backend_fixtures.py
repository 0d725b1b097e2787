"""A running sandbox and a registered client, for the contract tests."""

from __future__ import annotations

import base64
import functools
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from drivers.camera.emulator import face_scene
from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.client import ClientSettings, RegistryClient
from kiosk.sandbox.control import SandboxControl
from kiosk.sandbox.handlers import ENROLMENT_CODE
from kiosk.sandbox.server import Sandbox

DEMO = DEMO_CARDS[0]
TEST_TOKEN = "test-mode-token-of-the-suite"


class ShiftableClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Registry:
    sandbox: Sandbox
    client: RegistryClient
    clock: ShiftableClock
    control: SandboxControl  # the sandbox's test mode: faults, the payer, the review

    def verify(self, number: str = DEMO.number, name: str = DEMO.name) -> m.Verification:
        return verify(self.client, number, name)


def verify(
    client: RegistryClient, number: str = DEMO.number, name: str = DEMO.name
) -> m.Verification:
    """A face check of the person (the demo card holder by default) at the client's kiosk."""
    return client.verify_identity(
        m.VerifyIdentity(
            number, name, m.CardType.RESIDENT, face_jpeg(), m.Liveness("blink", True, 0.9)
        )
    )


def signature_jpeg(signer: str = "applicant") -> bytes:
    """A handwritten-looking signature: strokes on white, as the signature pad's JPEG."""
    rng = np.random.default_rng(sum(signer.encode()))
    image = np.full((160, 480), 255, np.uint8)
    points = np.cumsum(rng.integers(-18, 19, size=(40, 2)), axis=0) + np.array([240, 80])
    cv2.polylines(image, [points.clip((10, 10), (470, 150)).astype(np.int32)], False, 0, 4)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return np.asarray(data).tobytes()


def signed(client: RegistryClient, signer: str = "applicant") -> tuple[str, m.Signature]:
    """A signature as the kiosk sends it: its image uploaded (the attachment id, for the
    application's attachments) and the signature naming the image's hash."""
    image = signature_jpeg(signer)
    attachment = client.upload_attachment(image, "image/jpeg")
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return attachment.attachment_id, m.Signature(signer, hashlib.sha256(image).hexdigest(), now)


@functools.cache
def face_jpeg() -> str:
    """The camera's live frame as the face check sends it (made once: building the scene
    took a fifth of a second per verification, most of the runner tests' time)."""
    ok, data = cv2.imencode(".jpg", face_scene("live", 1)[0])
    assert ok
    return base64.b64encode(np.asarray(data).tobytes()).decode()


def start_registry(folder: Path) -> Iterator[Registry]:
    clock = ShiftableClock()
    sandbox = Sandbox(folder / "registry.db", clock=clock, test_token=TEST_TOKEN).start()
    client = RegistryClient(ClientSettings(sandbox.url, read_timeout_s=2.0, backoff_s=0.01))
    client.register("KIOSK-TEST-01", ENROLMENT_CODE)
    control = sandbox.control()
    try:
        yield Registry(sandbox, client, clock, control)
    finally:
        control.close()
        client.close()
        sandbox.stop()
