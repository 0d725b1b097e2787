"""Builds a face check from the configuration: which detector (the camera's profile may
choose it for its machine), which verifiers, which challenges and limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drivers.base import Role
from drivers.idcard.identity import IdentityDocument
from kiosk.core import Kiosk
from kiosk.identity.evidence import evidence_key
from kiosk.identity.face_check import FaceCheck, FaceCheckSettings
from kiosk.identity.faces import FaceDetector, make_detector
from kiosk.identity.liveness import Challenge
from kiosk.identity.quality import QualitySettings
from kiosk.identity.verifier import BackendVerifier, SFaceVerifier, Verifier


def detector_for(kiosk: Kiosk) -> FaceDetector:
    identity = kiosk.config.identity
    kind, model = identity.detector, identity.yunet_model
    spec = kiosk.profile.devices.get(Role.CAMERA)
    keys: dict[str, Any] = dict(spec.settings) if spec is not None else {}
    if keys.get("face_detector"):  # the profile knows what this machine's CPU can run
        kind = str(keys["face_detector"])
        model = str(keys.get("face_model") or model)
    return make_detector(kind, model)


def verifiers_for(kiosk: Kiosk) -> list[Verifier]:
    identity = kiosk.config.identity
    chain: list[Verifier] = []
    if identity.sface_model and identity.yunet_model:
        chain.append(
            SFaceVerifier(
                Path(identity.sface_model), Path(identity.yunet_model), identity.sface_threshold
            )
        )
    link = kiosk.backend
    chain.append(BackendVerifier(link.client if link is not None else None))
    return chain


def camera_fps(kiosk: Kiosk) -> float:
    """The frame rate the camera's profile asks for (the challenge's time is counted in it)."""
    spec = kiosk.profile.devices.get(Role.CAMERA)
    fps = spec.settings.get("fps") if spec is not None else None
    return float(fps) if isinstance(fps, int | float) and fps > 0 else 15.0


def face_check_for(kiosk: Kiosk, document: IdentityDocument, session: str = "") -> FaceCheck:
    identity = kiosk.config.identity
    return FaceCheck(
        document,
        detector_for(kiosk),
        verifiers_for(kiosk),
        kiosk.audit_log,
        kiosk_id=kiosk.config.kiosk.id,
        key=evidence_key(kiosk.config.data_dir),
        settings=FaceCheckSettings(
            challenges=tuple(Challenge(c) for c in identity.challenges),
            challenge_timeout_s=identity.challenge_timeout_s,
            fps=camera_fps(kiosk),
            max_attempts=identity.max_attempts,
            quality=QualitySettings(
                min_face_ratio=identity.min_face_ratio,
                min_brightness=identity.min_brightness,
                min_sharpness=identity.min_sharpness,
            ),
        ),
        session=session,
    )
