"""Device profiles: hardware as data, one TOML file per kiosk model.

A profile names, for each device role, a driver from :mod:`drivers.registry` and that driver's
settings. Validation is strict: unknown keys are errors (with file, key and hint), values are
type-checked against the driver's own settings dataclass, one level of ``inherits`` is allowed,
and the file name is the profile's id, following ``sim`` or ``<hall|bank>-<vendor>-<model>``.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from drivers.base import Role
from drivers.registry import DRIVERS, EMULATORS
from kiosk.strict import StrictConfigError, build, convert, read_toml, unknown_key_error

NAME_RULE = re.compile(r"^(sim|(hall|bank)-[a-z0-9]+-[a-z0-9][a-z0-9-]*)$")
TOP_KEYS = frozenset({"description", "inherits"} | {r.value for r in Role})
DEVICE_KEYS = frozenset({"driver", "required", "emulator"})


@dataclass(frozen=True)
class DeviceSpec:
    role: Role
    driver: str
    required: bool
    emulator: str  # "" for real hardware
    settings: dict[str, Any]  # validated keys of the driver's settings dataclass

    def settings_with(self, overrides: dict[str, object]) -> Any:
        """The driver's settings object, with an emulator's endpoint overriding the profile."""
        settings_type = DRIVERS[self.driver].settings_type()
        known = {f.name for f in dataclasses.fields(settings_type)}
        merged = {**self.settings, **{k: v for k, v in overrides.items() if k in known}}
        return build(settings_type, merged, f"profile device {self.role}")


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    source: str
    devices: dict[Role, DeviceSpec]


def shipped_dir() -> Path:
    return Path(str(resources.files("kiosk.device_profiles")))


def search_dirs(extra: tuple[str, ...] = ()) -> list[Path]:
    return [Path(d) for d in extra] + [shipped_dir()]


def list_profiles(extra: tuple[str, ...] = ()) -> dict[str, Path]:
    """Profile id → file, the first folder that has an id winning."""
    found: dict[str, Path] = {}
    for folder in search_dirs(extra):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                found.setdefault(path.stem, path)
    return found


def find_profile(name_or_path: str, extra: tuple[str, ...] = ()) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml":
        return candidate
    profiles = list_profiles(extra)
    if name_or_path not in profiles:
        raise StrictConfigError(
            name_or_path,
            "",
            "no such device profile",
            f"known: {', '.join(sorted(profiles))}",
        )
    return profiles[name_or_path]


def load_profile(name_or_path: str, extra: tuple[str, ...] = ()) -> Profile:
    path = find_profile(name_or_path, extra)
    source = str(path)
    name = path.stem
    if not NAME_RULE.match(name):
        raise StrictConfigError(
            source,
            "",
            f"file name {name!r} breaks the naming rule",
            "use sim.toml, hall-<vendor>-<model>.toml or bank-<vendor>-<model>.toml",
        )
    data = read_toml(path)
    _check_top(data, source)
    merged = data
    parent_name = data.get("inherits")
    if parent_name is not None:
        if not isinstance(parent_name, str):
            raise StrictConfigError(source, "inherits", "expected a profile name")
        parent_path = find_profile(parent_name, (*extra, str(path.parent)))
        parent = read_toml(parent_path)
        _check_top(parent, str(parent_path))
        if "inherits" in parent:
            raise StrictConfigError(
                source, "inherits", f"{parent_name!r} inherits too", "one level of inherits only"
            )
        merged = _merge(parent, data)
    devices: dict[Role, DeviceSpec] = {}
    for role in Role:
        table = merged.get(role.value)
        if table is not None:
            devices[role] = _device(role, table, source)
    description = merged.get("description", "")
    if not isinstance(description, str):
        raise StrictConfigError(source, "description", "expected a string")
    return Profile(name, description, source, devices)


def _check_top(data: dict[str, Any], source: str) -> None:
    for key, value in data.items():
        if key not in TOP_KEYS:
            raise unknown_key_error(source, key, TOP_KEYS)
        if key in {r.value for r in Role} and not isinstance(value, dict):
            raise StrictConfigError(source, key, "expected a table")


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """The child's role tables update the parent's key by key; a new driver starts afresh."""
    merged: dict[str, Any] = {k: v for k, v in parent.items() if k != "description"}
    for key, value in child.items():
        if key == "inherits":
            continue
        base = merged.get(key)
        if isinstance(value, dict) and isinstance(base, dict):
            if "driver" in value and value["driver"] != base.get("driver"):
                merged[key] = dict(value)
            else:
                merged[key] = {**base, **value}
        else:
            merged[key] = value
    return merged


def _device(role: Role, table: dict[str, Any], source: str) -> DeviceSpec:
    driver = table.get("driver")
    if not isinstance(driver, str):
        raise StrictConfigError(source, f"{role}.driver", "required: a driver name")
    entry = DRIVERS.get(driver)
    if entry is None:
        raise StrictConfigError(
            source, f"{role}.driver", f"unknown driver {driver!r}", f"known: {', '.join(DRIVERS)}"
        )
    if entry.role is not role:
        raise StrictConfigError(
            source, f"{role}.driver", f"{driver!r} is a {entry.role} driver, not {role}"
        )
    required = table.get("required", False)
    if not isinstance(required, bool):
        raise StrictConfigError(source, f"{role}.required", "expected true or false")
    emulator = table.get("emulator", "")
    if emulator:
        if emulator not in EMULATORS:
            raise StrictConfigError(
                source,
                f"{role}.emulator",
                f"unknown emulator {emulator!r}",
                f"known: {', '.join(EMULATORS)}",
            )
        if driver not in EMULATORS[emulator].drivers:
            raise StrictConfigError(
                source, f"{role}.emulator", f"emulator {emulator!r} cannot stand in for {driver!r}"
            )
    settings_type = entry.settings_type()
    fields = {f.name: f for f in dataclasses.fields(settings_type)}
    hints = typing.get_type_hints(settings_type)
    settings: dict[str, Any] = {}
    for key, value in table.items():
        if key in DEVICE_KEYS:
            continue
        if key not in fields:
            raise unknown_key_error(source, f"{role}.{key}", set(fields) | DEVICE_KEYS)
        settings[key] = convert(hints[key], value, source, f"{role}.{key}")
    if not emulator:  # an emulator supplies its endpoint; real hardware must name it
        for name, field in fields.items():
            missing = (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            )
            if missing and name not in settings:
                raise StrictConfigError(source, f"{role}.{name}", "required key is missing")
    return DeviceSpec(role, driver, required, str(emulator), settings)
