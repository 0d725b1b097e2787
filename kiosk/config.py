"""The site configuration: which kiosk this is, where it is, and how it behaves.

TOML, strict (an unknown key stops the kiosk with the file, the key and a hint), typed, and
with defaults that make ``kiosk run`` work with no file at all: the ``sim`` profile, the
embedded sandbox registry, hall mode, Chinese then English — a training kiosk, with a banner
saying so.

A site file is a real kiosk's: it must name its registry (``[backend] url``) and its device
profile (``[kiosk] profile``), so a file that forgets one never runs the sandbox or the
emulators in front of the public by default. The sandbox (``embedded``) or the ``sim``
profile in a site file needs ``[kiosk] training = true`` (and the screen says so).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from kiosk.services import REGISTRATIONS
from kiosk.strict import StrictConfigError, build, read_toml

CONFIG_ENV = "DENGJI_KIOSK_CONFIG"
DEFAULTS = "<defaults>"
REQUIRED_IN_A_SITE_FILE = (("backend", "url"), ("kiosk", "profile"))
SUPPORTED_LANGUAGES = ("zh_CN", "en")


class SiteMode(StrEnum):
    HALL = "hall"  # citizens in a registration hall
    BANK = "bank"  # bank staff filing as the applicant's agent


@dataclass(frozen=True)
class KioskSection:
    id: str = "KIOSK-SIM-0001"
    site: str = "sandbox"  # the hall or branch it stands in (a label on the fleet's metrics)
    site_mode: SiteMode = SiteMode.HALL
    profile: str = "sim"
    # Extra folders searched for device profiles before the shipped ones.
    profile_dirs: tuple[str, ...] = ()
    # Durable data (outbox, audit, machine-written calibration). "" = the user's state folder.
    data_dir: str = ""
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    # The audit chain's key, kept apart from the data it protects (e.g. the unit's credentials
    # folder). "" = audit.key in the data folder.
    audit_key: str = ""
    # a training kiosk: the embedded sandbox or the sim profile allowed, a banner on screen
    training: bool = False


@dataclass(frozen=True)
class BackendSection:
    url: str = "embedded"  # "embedded" starts the sandbox registry on loopback
    timeout_s: float = 10.0
    enrolment_code: str = ""  # given by the centre to register this kiosk (sandbox: built in)
    client_cert: str = ""  # mutual TLS: this kiosk's certificate and key files
    client_key: str = ""
    ca_bundle: str = ""  # the centre's CA, when it is not in the system store
    heartbeat_s: float = 30.0


@dataclass(frozen=True)
class SessionSection:
    idle_timeout_s: float = 90.0  # no touch for this long: the warning countdown starts
    warning_s: float = 20.0  # the countdown shown before the session ends
    elder_age: int = 65  # card holders this old are offered the elder mode
    elder_timeout_factor: float = 2.0


@dataclass(frozen=True)
class UiSection:
    fullscreen: bool = False
    width: int = 1920
    height: int = 1080
    screen_diagonal_inch: float = 21.5  # the touch screen's size, to size targets in mm
    min_touch_mm: float = 15.0
    large_text_scale: float = 1.35
    font: str = ""  # a CJK font file; "" finds WenQuanYi Micro Hei
    voice: bool = False  # Mandarin voice prompts for everyone (always on in the senior mode)


@dataclass(frozen=True)
class DevicesSection:
    poll_interval_s: float = 2.0
    reopen_backoff_min_s: float = 0.5
    reopen_backoff_max_s: float = 30.0


@dataclass(frozen=True)
class MaintenanceSection:
    # technicians' ids and scrypt-hashed PINs (`kiosk technician add`); "" turns PIN entry off
    technicians_file: str = ""
    idle_s: float = 120.0  # maintenance ends by itself after this long untouched
    # where staff plug the USB stick for a log export (mounted by the system's automounter)
    export_dir: str = "/media/dengji-usb"
    long_press_s: float = 3.0  # the hidden entry: hold the top-left corner this long


@dataclass(frozen=True)
class IdentitySection:
    """The face check (人证比对). A device profile may choose the detector for its camera."""

    detector: str = "auto"  # auto (YuNet when its model is installed, else Haar) | haar | yunet
    yunet_model: str = ""  # path of OpenCV's face_detection_yunet_*.onnx
    # a local comparison before the registry's (refuses a wrong face without the network):
    sface_model: str = ""  # path of OpenCV's face_recognition_sface_*.onnx (needs YuNet too)
    sface_threshold: float = 0.363  # cosine similarity; OpenCV's published operating point
    challenges: tuple[str, ...] = ("blink", "turn_left", "turn_right")
    challenge_timeout_s: float = 10.0
    max_attempts: int = 3  # then the person is sent to the counter
    min_face_ratio: float = 0.18  # the face's width as a share of the frame ("come closer")
    min_brightness: float = 70.0  # mean grey level of the face ("too dark")
    min_sharpness: float = 25.0  # Laplacian variance at 128 px ("hold still")


@dataclass(frozen=True)
class MetricsSection:
    port: int = 9464  # Prometheus text at http://127.0.0.1:<port>/metrics; 0 turns it off
    host: str = "127.0.0.1"


DEFAULT_SERVICES = (
    "query_certificate",
    "property_proof",
    "authorized_query",
    "my_cases",
    "check_proof",
    "service_guides",
    "issue_authorization",
    "pay_fee",
    *REGISTRATIONS,
    "print_certificate",
    "queue_ticket",
    "book_appointment",
    "appointment_check_in",
)


@dataclass(frozen=True)
class ServicesSection:
    enabled: tuple[str, ...] = DEFAULT_SERVICES  # shown on the home screen, in this order


BANK_SERVICES = (
    "bank_mortgage_first",
    "bank_mortgage_change",
    "bank_mortgage_cancellation",
    "bank_advance_mortgage",
    "bank_advance_to_mortgage",
)


@dataclass(frozen=True)
class BankSection:
    """A bank service point (site_mode = "bank"): its bank, and how its operators work."""

    bank_code: str = "BOC-JN"  # the bank the registration centre created the accounts for
    # applications a second operator of the bank approves before they are filed
    maker_checker: tuple[str, ...] = ("mortgage_first",)
    operator_idle_s: float = 300.0  # untouched this long: the operator is logged out
    services: tuple[str, ...] = BANK_SERVICES  # the workbench's applications, in this order


@dataclass(frozen=True)
class SiteConfig:
    kiosk: KioskSection = field(default_factory=KioskSection)
    backend: BackendSection = field(default_factory=BackendSection)
    session: SessionSection = field(default_factory=SessionSection)
    ui: UiSection = field(default_factory=UiSection)
    devices: DevicesSection = field(default_factory=DevicesSection)
    services: ServicesSection = field(default_factory=ServicesSection)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    maintenance: MaintenanceSection = field(default_factory=MaintenanceSection)
    identity: IdentitySection = field(default_factory=IdentitySection)
    bank: BankSection = field(default_factory=BankSection)
    source: str = DEFAULTS  # or the site file's path

    @property
    def training(self) -> bool:
        """Whether this is a training kiosk (the defaults with no site file are one)."""
        return self.kiosk.training or self.source == DEFAULTS

    @property
    def audit_key_file(self) -> Path:
        return Path(self.kiosk.audit_key) if self.kiosk.audit_key else self.data_dir / "audit.key"

    @property
    def data_dir(self) -> Path:
        if self.kiosk.data_dir:
            return Path(self.kiosk.data_dir)
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(state) / "dengji-kiosk"


def load_config(path: Path | None = None) -> SiteConfig:
    """Load the site configuration from ``path``, ``$DENGJI_KIOSK_CONFIG``, or the defaults."""
    if path is None and os.environ.get(CONFIG_ENV):
        path = Path(os.environ[CONFIG_ENV])
    if path is None:
        config = SiteConfig()
    else:
        data = read_toml(path)
        if "source" in data:  # a field of ours, not a key of the file
            raise StrictConfigError(str(path), "source", "unknown key")
        config = dataclasses.replace(build(SiteConfig, data, str(path)), source=str(path))
        _check(config)
        _check_site_file(config, data)
        return config
    _check(config)
    return config


def _check_site_file(config: SiteConfig, data: dict[str, object]) -> None:
    """A real kiosk names its registry and its devices; the sandbox and the emulators are
    for training only, and only when the file says so."""
    for section, key in REQUIRED_IN_A_SITE_FILE:
        table = data.get(section)
        if not isinstance(table, dict) or key not in table:
            raise StrictConfigError(
                config.source,
                f"{section}.{key}",
                "required in a site file",
                "name the centre's registry and this kiosk's device profile; without a site "
                "file the kiosk runs as a training kiosk on the sandbox and the sim profile",
            )
    for key, value, training_value in (
        ("backend.url", config.backend.url, "embedded"),
        ("kiosk.profile", config.kiosk.profile, "sim"),
    ):
        if value == training_value and not config.kiosk.training:
            raise StrictConfigError(
                config.source,
                key,
                f"{training_value!r} is for training only",
                "set [kiosk] training = true for a training kiosk (the screen says so)",
            )


def _check(config: SiteConfig) -> None:
    source = config.source
    for i, language in enumerate(config.kiosk.languages):
        if language not in SUPPORTED_LANGUAGES:
            raise StrictConfigError(
                source,
                f"kiosk.languages[{i}]",
                f"unsupported language {language!r}",
                f"supported: {', '.join(SUPPORTED_LANGUAGES)}",
            )
    if not config.kiosk.languages:
        raise StrictConfigError(source, "kiosk.languages", "at least one language is needed")
    if not 0 < config.session.warning_s < config.session.idle_timeout_s:
        raise StrictConfigError(
            source,
            "session.warning_s",
            "must be positive and shorter than session.idle_timeout_s",
        )
    if config.devices.reopen_backoff_min_s <= 0 or (
        config.devices.reopen_backoff_max_s < config.devices.reopen_backoff_min_s
    ):
        raise StrictConfigError(
            source, "devices.reopen_backoff_max_s", "backoff must be positive, max >= min"
        )
    if config.backend.url != "embedded":
        from kiosk.backend.client import transport_problem

        problem = transport_problem(config.backend.url)
        if problem is not None:
            raise StrictConfigError(source, "backend.url", problem)
    from kiosk.services import SERVICES

    for i, name in enumerate(config.services.enabled):
        if name not in SERVICES:
            raise StrictConfigError(
                source,
                f"services.enabled[{i}]",
                f"unknown service {name!r}",
                f"known: {', '.join(SERVICES)}",
            )
