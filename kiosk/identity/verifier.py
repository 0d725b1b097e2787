"""1:1 comparison of the live face with the person on the card, behind one interface.

* ``BackendVerifier`` (default): the registry's identity service (人证比对) compares the live
  face with the photo on record and returns a verification id the later calls need.
* ``SFaceVerifier``: OpenCV's SFace model compares with the card's own (decoded) photo on the
  kiosk, when a model file is configured — for sites whose centre has no face service. The
  registry still needs a verification, so it is sent the local result to countersign.

Thresholds are configuration. The live JPEG exists only in memory, in a ``bytearray`` that is
zeroed once sent.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from drivers.idcard.identity import IdentityDocument
from kiosk.backend import models as m
from kiosk.backend.client import RegistryClient
from kiosk.identity.faces import Face

Frame = np.ndarray[Any, Any]


class Decision(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    RETRY = "retry"  # the image was not good enough to decide
    UNAVAILABLE = "unavailable"  # the service could not be reached


@dataclass(frozen=True)
class VerifierResult:
    decision: Decision
    score: float
    verifier: str
    verification_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class LivenessSummary:
    challenge: str
    passed: bool
    score: float


class Verifier(Protocol):
    name: str

    def verify(
        self,
        document: IdentityDocument,
        frame: Frame,
        face: Face,
        liveness: LivenessSummary,
    ) -> VerifierResult: ...


def face_jpeg(frame: Frame, face: Face, margin: float = 0.35) -> bytearray:
    """The face with some margin, as a JPEG in a wipeable buffer (the only thing sent)."""
    h, w = frame.shape[:2]
    dx, dy = int(face.w * margin), int(face.h * margin)
    crop = frame[
        max(0, face.y - dy) : min(h, face.y + face.h + dy),
        max(0, face.x - dx) : min(w, face.x + face.w + dx),
    ]
    ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError("the face could not be encoded")
    buffer = bytearray(np.asarray(data).tobytes())
    data[:] = 0
    return buffer


def wipe(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))


class BackendVerifier:
    name = "registry"

    def __init__(self, client: RegistryClient | None) -> None:
        self._client = client

    def verify(
        self,
        document: IdentityDocument,
        frame: Frame,
        face: Face,
        liveness: LivenessSummary,
    ) -> VerifierResult:
        from kiosk.backend.errors import BackendError

        if self._client is None:
            return VerifierResult(Decision.UNAVAILABLE, 0.0, self.name, reason="no registry")
        jpeg = face_jpeg(frame, face)
        try:
            answer = self._client.verify_identity(
                m.VerifyIdentity(
                    document.number,
                    document.name,
                    m.card_type_of(document.card_type.value),
                    base64.b64encode(jpeg).decode(),
                    m.Liveness(liveness.challenge, liveness.passed, liveness.score),
                )
            )
        except BackendError as err:
            retry = getattr(err, "retryable", True)
            decision = Decision.UNAVAILABLE if retry else Decision.RETRY
            return VerifierResult(decision, 0.0, self.name, reason=str(err))
        finally:
            wipe(jpeg)
        decision = {
            m.VerifyResult.VERIFIED: Decision.MATCH,
            m.VerifyResult.NOT_VERIFIED: Decision.NO_MATCH,
            m.VerifyResult.RETRY: Decision.RETRY,
        }[answer.result]
        return VerifierResult(
            decision, answer.score, self.name, answer.verification_id, answer.reason
        )


class SFaceVerifier:
    """OpenCV's SFace embedding (cosine similarity) against the card's decoded photo."""

    name = "sface"

    def __init__(self, model: Path, detector_model: Path, threshold: float = 0.363) -> None:
        self._recognizer = cv2.FaceRecognizerSF.create(str(model), "")
        self._detector = cv2.FaceDetectorYN.create(str(detector_model), "", (320, 320))
        self.threshold = threshold

    def _feature(self, image: Frame, row: Any) -> Any:
        aligned = self._recognizer.alignCrop(image, row)
        return self._recognizer.feature(aligned)

    def _detect(self, image: Frame) -> Any:
        self._detector.setInputSize((image.shape[1], image.shape[0]))
        _, rows = self._detector.detect(image)
        return None if rows is None or len(rows) != 1 else rows[0]

    def verify(
        self,
        document: IdentityDocument,
        frame: Frame,
        face: Face,
        liveness: LivenessSummary,
    ) -> VerifierResult:
        card = cv2.imdecode(np.frombuffer(document.photo, np.uint8), cv2.IMREAD_COLOR)
        if card is None:
            return VerifierResult(Decision.UNAVAILABLE, 0.0, self.name, reason="no card photo")
        live_row, card_row = self._detect(frame), self._detect(card)
        if live_row is None or card_row is None:
            return VerifierResult(Decision.RETRY, 0.0, self.name, reason="face not found")
        score = float(
            self._recognizer.match(
                self._feature(frame, live_row),
                self._feature(card, card_row),
                cv2.FaceRecognizerSF_FR_COSINE,
            )
        )
        card[:] = 0
        decision = Decision.MATCH if score >= self.threshold else Decision.NO_MATCH
        return VerifierResult(decision, score, self.name)
