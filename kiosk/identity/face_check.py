"""The face check (人证比对) as a state machine fed with camera frames, and the runner that
feeds it from the camera and calls the verifiers.

ALIGN (quality gates until a few good frames in a row) → CHALLENGE (a random liveness
challenge, with a time limit) → VERIFYING (every configured verifier must match) → PASSED, or
FAILED with a reason; FAILED may be retried until the attempts run out (GAVE_UP: ask staff).
Each attempt leaves an evidence record in the audit chain. ``wipe`` zeroes every frame the
check holds; the session calls it when the visit ends.
"""

from __future__ import annotations

import hashlib
import logging
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import cv2
import numpy as np

from drivers.base import Role
from drivers.idcard.identity import IdentityDocument
from kiosk.audit import AuditLog
from kiosk.identity.evidence import Evidence, card_hash
from kiosk.identity.faces import Face, FaceDetector
from kiosk.identity.liveness import (
    CHALLENGE_TEXT,
    TURN_THRESHOLD,
    Challenge,
    EyeFinder,
    LivenessCheck,
    choose_challenge,
    pose,
)
from kiosk.identity.quality import GUIDANCE_TEXT, Guidance, QualitySettings, assess
from kiosk.identity.verifier import (
    Decision,
    LivenessSummary,
    Verifier,
    VerifierResult,
    face_jpeg,
    wipe,
)

log = logging.getLogger(__name__)
Frame = np.ndarray[Any, Any]


SPARES = 2  # frames kept besides the best one


class Phase(StrEnum):
    ALIGN = "align"
    CHALLENGE = "challenge"
    VERIFYING = "verifying"
    PASSED = "passed"
    FAILED = "failed"
    GAVE_UP = "gave_up"


FAILURE_TEXT: dict[str, tuple[str, str]] = {
    "liveness_failed": ("未检测到指定动作，请重试", "The movement was not seen: please try again"),
    "no_match": ("人脸与证件不一致", "The face does not match the card"),
    "retry": ("照片不够清晰，请重试", "The picture was not clear enough: please try again"),
    "unavailable": (
        "核验服务暂时无法连接，请到人工窗口办理",
        "The check service cannot be reached: please go to a counter",
    ),
    "gave_up": (
        "多次核验未通过，请到人工窗口由工作人员协助办理",
        "The check did not succeed: please ask the staff at a counter",
    ),
}


@dataclass(frozen=True)
class FaceCheckSettings:
    challenges: tuple[Challenge, ...] = tuple(Challenge)
    # The person has this long to answer, counted in what the camera showed them: the time
    # must be up *and* this many seconds of frames seen at ``fps``. A loaded machine that
    # handles fewer frames a second does not cut a person short (nor the emulator's visitor,
    # whose every move is a fixed run of frames).
    challenge_timeout_s: float = 10.0
    fps: float = 15.0
    align_frames: int = 5
    max_attempts: int = 3
    quality: QualitySettings = field(default_factory=QualitySettings)


@dataclass(frozen=True)
class FaceView:
    """What the face screen shows now (copied out under the lock)."""

    phase: Phase
    guidance: Guidance
    face: Face | None
    frame_size: tuple[int, int]
    challenge: Challenge | None
    progress: float
    attempt: int
    attempts_left: int
    failure: str = ""

    @property
    def prompt(self) -> tuple[str, str]:
        if self.phase is Phase.CHALLENGE and self.challenge is not None:
            return CHALLENGE_TEXT[self.challenge]
        if self.phase is Phase.VERIFYING:
            return ("正在核验，请稍候", "Checking, one moment")
        if self.phase is Phase.PASSED:
            return ("核验通过", "Identity confirmed")
        if self.phase in (Phase.FAILED, Phase.GAVE_UP):
            return FAILURE_TEXT[self.failure or "gave_up"]
        return GUIDANCE_TEXT[self.guidance]


class FaceCheck:
    def __init__(
        self,
        document: IdentityDocument,
        detector: FaceDetector,
        verifiers: list[Verifier],
        audit: AuditLog,
        *,
        kiosk_id: str,
        key: bytes,
        settings: FaceCheckSettings | None = None,
        session: str = "",
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or FaceCheckSettings()
        self.document: IdentityDocument | None = document
        self.detector = detector
        self.verifiers = verifiers
        self.audit = audit
        self.kiosk_id = kiosk_id
        self.session = session
        self._card_hash = card_hash(key, document.number)
        self._rng = rng
        self._clock = clock
        self._lock = threading.Lock()
        self.phase = Phase.ALIGN
        self.guidance = Guidance.NO_FACE
        self.face: Face | None = None
        self.frame_size = (0, 0)
        self.attempt = 1
        self.failure = ""
        self.result: VerifierResult | None = None
        self.challenge: Challenge | None = None
        self.liveness: LivenessCheck | None = None
        # the best good frame of this attempt, facing the camera with the eyes open when one
        # was seen (a turned or blinking face is not compared with the card's photo)
        self.best: Frame | None = None
        self.best_face: Face | None = None
        self._best_score = -1e9
        self._best_frontal = False
        # the runners-up, in case the best one's crop shows no face the verifier can find (a
        # frame mid-blink can pass as open-eyed on a compressed picture)
        self._spares: list[tuple[tuple[bool, float], Frame, Face]] = []
        self._pending: tuple[Frame, Face, bool, float] | None = None  # waits for the next frame
        self._open_before = False
        self._eyes = EyeFinder()
        self._yaws: list[float] = []  # the pose over the current run of good frames
        self._unmeasured = 0  # good frames in a row whose pose could not be measured
        self._frontal: float | None = None  # the pose held still while aligning
        self._good = 0
        self._challenge_until = 0.0
        self._challenge_frames = 0

    # -- frames ---------------------------------------------------------------------------

    def feed(self, frame: Frame) -> Phase:
        """One camera frame (camera thread). Returns the phase after it."""
        faces = self.detector.detect(frame)
        quality = assess(frame, faces, self.settings.quality)
        with self._lock:
            self.frame_size = (int(frame.shape[1]), int(frame.shape[0]))
            self.guidance = quality.guidance
            self.face = (
                quality.face
                if quality.face is not None
                else (faces[0] if len(faces) == 1 else None)
            )
            if self.phase is Phase.ALIGN:
                self._align(frame, quality)
            elif self.phase is Phase.CHALLENGE:
                self._challenge(frame, quality, len(faces))
            return self.phase

    def _keep_best(self, frame: Frame, quality: Any, facing: bool, eyes: int) -> None:
        """A frame becomes a candidate only once the next one shows both eyes open too: a
        frame beside a blink may be mid-blink (eyelids half shut pass for eyes on a
        compressed picture) and a shut-eyed face is no face to a verifier."""
        open_now = quality.ok and quality.face is not None and eyes >= 2
        pending, self._pending = self._pending, None
        if pending is not None and open_now:
            self._candidate(*pending)
        elif pending is not None:
            pending[0][:] = 0
        if open_now and self._open_before:
            self._pending = (frame.copy(), quality.face, facing, float(quality.score))
        self._open_before = open_now

    def _candidate(self, frame: Frame, face: Face, facing: bool, score: float) -> None:
        rank = (facing, score)
        entries = [(rank, frame, face)]
        if self.best is not None and self.best_face is not None:
            entries.append(((self._best_frontal, self._best_score), self.best, self.best_face))
        entries += self._spares
        entries.sort(key=lambda e: e[0], reverse=True)
        for _, dropped, _face in entries[SPARES + 1 :]:
            dropped[:] = 0
        (best_rank, self.best, self.best_face), *rest = entries[: SPARES + 1]
        self._best_frontal, self._best_score = best_rank
        self._spares = rest

    def _align(self, frame: Frame, quality: Any) -> None:
        """Good frames in a row, the head held still: that pose is the person's frontal one
        (the challenge's turn is measured from it, and the frame compared is one of them)."""
        eyes, value = pose(frame, quality.face, self._eyes) if quality.ok else (0, None)
        steady = TURN_THRESHOLD / 2
        if not quality.ok:
            self._good, self._yaws, self._unmeasured = 0, [], 0
        elif value is not None and eyes >= 2:
            self._unmeasured = 0
            self._yaws = [*self._yaws, value][-self.settings.align_frames :]
            if max(self._yaws) - min(self._yaws) > steady:  # moving: a new run starts here
                self._good, self._yaws = 1, [value]
            else:
                self._good += 1
        else:  # a blink, or a pose that cannot be measured: the run starts again, unless it
            # never can be measured (glasses, say): then good frames alone decide
            self._unmeasured += 1
            if self._unmeasured > 2 * self.settings.align_frames:
                self._good, self._yaws = self._good + 1, []
            else:
                self._good, self._yaws = 0, []
        self._keep_best(frame, quality, value is not None and eyes >= 2, eyes)
        if self._good >= self.settings.align_frames:
            self._frontal = statistics.median(self._yaws) if self._yaws else None
            self.challenge = choose_challenge(self.settings.challenges, self._rng)
            self.liveness = LivenessCheck(self.challenge, frontal=self._frontal)
            self._challenge_until = self._clock() + self.settings.challenge_timeout_s
            self._challenge_frames = 0
            self.phase = Phase.CHALLENGE

    def _challenge(self, frame: Frame, quality: Any, faces: int) -> None:
        assert self.liveness is not None
        self._challenge_frames += 1
        if faces > 1:  # someone else stepped in: start the attempt again
            self._reset_attempt()
            return
        if quality.face is not None and quality.guidance not in (
            Guidance.NO_FACE,
            Guidance.MANY_FACES,
        ):
            if quality.ok:  # only as frontal as when aligned
                eyes, value = pose(frame, quality.face, self._eyes)
                facing = (
                    eyes >= 2
                    and value is not None
                    and self._frontal is not None
                    and abs(value - self._frontal) <= TURN_THRESHOLD / 2
                )
                self._keep_best(frame, quality, facing, eyes)
            if self.liveness.feed(frame, quality.face):
                self.phase = Phase.VERIFYING
                return
        settings = self.settings
        seen = self._challenge_frames >= settings.challenge_timeout_s * settings.fps
        if seen and self._clock() > self._challenge_until:
            self._end_attempt("liveness_failed", None)

    def _reset_attempt(self) -> None:
        self.phase, self._good, self.liveness, self.challenge = Phase.ALIGN, 0, None, None
        self._yaws, self._frontal, self._unmeasured = [], None, 0

    # -- verifying ------------------------------------------------------------------------

    def verify(self) -> Phase:
        """Ask every verifier (network: not on the UI thread). All must match."""
        with self._lock:
            if self.phase is not Phase.VERIFYING or self.best is None or self.best_face is None:
                return self.phase
            candidates = [(self.best, self.best_face)] + [(f, c) for _, f, c in self._spares]
            frame, face = self._sendable(candidates)
            document = self.document
            liveness = self.liveness
        assert document is not None and liveness is not None
        summary = LivenessSummary(liveness.challenge.value, True, 1.0)
        results: list[VerifierResult] = []
        for verifier in self.verifiers:
            try:
                result = verifier.verify(document, frame, face, summary)
            except Exception as err:  # a fault of ours must not leave the person waiting
                log.exception("face verifier failed", extra={"verifier": verifier.name})
                reason = f"{type(err).__name__}"
                result = VerifierResult(Decision.UNAVAILABLE, 0.0, verifier.name, reason=reason)
            results.append(result)
            if result.decision is not Decision.MATCH:
                break
        jpeg = face_jpeg(frame, face)
        frame_hash = hashlib.sha256(jpeg).hexdigest()
        wipe(jpeg)
        final = results[-1] if results else VerifierResult(Decision.UNAVAILABLE, 0.0, "none")
        with self._lock:
            self.result = final
            scores = ",".join(f"{r.verifier}:{r.score:.3f}" for r in results)
            if final.decision is Decision.MATCH:
                self._evidence("match", frame_hash, scores, final.verification_id)
                self.phase = Phase.PASSED
            else:
                self._end_attempt(final.decision.value, (frame_hash, scores))
            return self.phase

    def _sendable(self, candidates: list[tuple[Frame, Face]]) -> tuple[Frame, Face]:
        """The best frame whose crop (what is sent) still shows a face to the detector."""
        for frame, face in candidates:
            jpeg = face_jpeg(frame, face)
            crop = cv2.imdecode(np.frombuffer(bytes(jpeg), np.uint8), cv2.IMREAD_COLOR)
            wipe(jpeg)
            found = crop is not None and len(self.detector.detect(crop)) > 0
            if crop is not None:
                crop[:] = 0
            if found:
                return frame, face
        return candidates[0]

    def _end_attempt(self, decision: str, verified: tuple[str, str] | None) -> None:
        frame_hash, scores = verified or ("", "")
        self._evidence(decision, frame_hash, scores, "")
        self.failure = decision
        # no service, or no attempts left: the person is sent to the counter, not round again
        last = decision == "unavailable" or self.attempt >= self.settings.max_attempts
        self.phase = Phase.GAVE_UP if last else Phase.FAILED
        self._forget_frames()

    def _forget_frames(self) -> None:
        pending, self._pending, self._open_before = self._pending, None, False
        for frame in [
            self.best,
            pending[0] if pending else None,
            *(f for _, f, _c in self._spares),
        ]:
            if frame is not None:
                frame[:] = 0
        self.best, self.best_face, self._best_score = None, None, -1e9
        self._best_frontal, self._spares = False, []

    def _evidence(self, decision: str, frame_hash: str, scores: str, verification_id: str) -> None:
        liveness = self.liveness
        Evidence(
            kiosk=self.kiosk_id,
            attempt=self.attempt,
            card_hash=self._card_hash,
            frame_sha256=frame_hash,
            challenge=self.challenge.value if self.challenge else "",
            liveness_passed=bool(liveness and liveness.passed),
            verifiers=scores,
            decision=decision,
            verification_id=verification_id,
            at=time.time(),
        ).record(self.audit, self.session)

    # -- the person's choices -------------------------------------------------------------

    def retry(self) -> bool:
        with self._lock:
            if self.phase is not Phase.FAILED:
                return False
            self.attempt += 1
            self.failure, self.result = "", None
            self._reset_attempt()
            return True

    def view(self) -> FaceView:
        with self._lock:
            return FaceView(
                self.phase,
                self.guidance,
                self.face,
                self.frame_size,
                self.challenge,
                self.liveness.progress if self.liveness is not None else 0.0,
                self.attempt,
                max(0, self.settings.max_attempts - self.attempt),
                self.failure
                if self.phase is not Phase.GAVE_UP or self.failure == "unavailable"
                else "gave_up",
            )

    def wipe(self) -> None:
        """Zero every frame held and forget the card (the visit ended)."""
        with self._lock:
            self._forget_frames()
            self.face = None
            self.document = None
            self.liveness = None


class FaceCheckRunner:
    """Feeds a FaceCheck from the camera (on the camera's worker thread) and runs the
    verification on a thread of its own; keeps the latest frame for the preview."""

    def __init__(self, check: FaceCheck, devices: Any) -> None:
        self.check = check
        self.devices = devices
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.preview: Frame | None = None
        self.error: str = ""
        self._stream: Any = None

    def start(self) -> None:
        self._stop.clear()
        self._stream = self.devices.submit(Role.CAMERA, self._stream_job)
        self._stream.add_done_callback(self._stream_done)

    def _stream_job(self, camera: Any) -> int:
        return int(camera.stream(self._on_frame, self._stop))

    def _stream_done(self, future: Any) -> None:
        error = future.exception()
        if error is not None and not self._stop.is_set():
            self.error = str(error)
            log.warning("face camera stopped", extra={"error": str(error)})

    def _on_frame(self, frame: Frame) -> None:
        small = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2))
        with self._lock:
            if self.preview is not None:
                self.preview[:] = 0
            self.preview = small
        phase = self.check.feed(frame)
        if phase is Phase.VERIFYING:
            self._stop.set()  # frames are not needed while the verifiers decide
            threading.Thread(target=self.check.verify, name="face-verify", daemon=True).start()

    def latest(self) -> Frame | None:
        with self._lock:
            return None if self.preview is None else self.preview.copy()

    def retry(self) -> None:
        if self.check.retry():
            self.start()

    def stop(self) -> None:
        self._stop.set()
        if self._stream is not None:
            try:
                self._stream.result(5)
            except Exception:  # the camera's failure was reported already
                pass

    def wipe(self) -> None:
        self.stop()
        with self._lock:
            if self.preview is not None:
                self.preview[:] = 0
            self.preview = None
        self.check.wipe()
