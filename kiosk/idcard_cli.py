"""``kiosk idcard read``: one card read for maintenance, fields masked unless asked otherwise."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from drivers.base import Role
from drivers.errors import ConfigurationError, DeviceError, MediaError
from drivers.idcard.identity import IdentityDocument
from drivers.idcard.pcsc import MrzKey, PcscReader
from drivers.registry import DRIVERS, EMULATORS, Emulator
from kiosk.config import SiteConfig
from kiosk.identity.documents import document_problem
from kiosk.profiles import load_profile
from kiosk.redact import mask_id_number, mask_name


def document_fields(document: IdentityDocument, unmasked: bool) -> dict[str, Any]:
    def hide(value: str, how: str) -> str:
        if unmasked or not value:
            return value
        return {"name": mask_name, "number": mask_id_number}.get(how, lambda v: v[:6] + "…")(value)

    return {
        "card_type": document.card_type.value,
        "name": hide(document.name, "name"),
        "english_name": hide(document.english_name, "name"),
        "sex": document.sex,
        "nation": document.nation_name,
        "birth_date": document.birth_date.isoformat() if document.birth_date else "",
        "number": hide(document.number, "number"),
        "address": hide(document.address, "address"),
        "issuer": document.issuer,
        "valid_from": document.valid_from.isoformat() if document.valid_from else "",
        "valid_to": "长期"
        if document.long_term
        else (document.valid_to.isoformat() if document.valid_to else ""),
        "nationality": document.nationality,
        "photo": document.photo_state.value,
    }


def read_once(args: argparse.Namespace, config: SiteConfig) -> tuple[int, dict[str, Any]]:
    emulator: Emulator | None = None
    runtime = Path(tempfile.mkdtemp(prefix="dengji-idcard-"))
    if args.driver:
        entry = DRIVERS[args.driver]
        settings_type = entry.settings_type()
        values: dict[str, Any] = {"port": args.port}
        if args.baud:
            values["baud"] = args.baud
        settings = settings_type(**values)
    else:
        profile = load_profile(args.profile or config.kiosk.profile, config.kiosk.profile_dirs)
        spec = profile.devices[Role.IDCARD]
        entry = DRIVERS[spec.driver]
        endpoint: dict[str, object] = {}
        if spec.emulator:
            emulator = EMULATORS[spec.emulator].create(runtime)
            endpoint = emulator.start()
        settings = spec.settings_with(endpoint)
    reader = entry.create(settings)
    document: IdentityDocument
    try:
        reader.open()
        deadline = time.monotonic() + args.wait
        while not reader.card_present():  # type: ignore[attr-defined]
            if time.monotonic() > deadline:
                raise MediaError("no card was placed on the reader", code="no_card")
            time.sleep(0.2)
        if isinstance(reader, PcscReader):
            if not args.mrz or args.mrz.count(":") != 2:
                raise ConfigurationError("a passport reader needs --mrz NUMBER:YYMMDD:YYMMDD")
            number, birth, expiry = args.mrz.split(":")
            document = reader.read_passport(MrzKey(number, birth, expiry))
        else:
            document = reader.read_identity()  # type: ignore[attr-defined]
    except DeviceError as err:
        return 1, {"ok": False, "error": err.code, "reason": str(err)}
    finally:
        reader.close()
        if emulator is not None:
            emulator.stop()
    fields = document_fields(document, args.unmasked)
    problem = document_problem(document, dt.date.today())
    if problem is not None:
        return 1, {
            "ok": False,
            "error": problem.code,
            "reason": problem.en,
            "reason_zh": problem.zh,
            "document": fields,
        }
    return 0, {"ok": True, "document": fields}


def cmd_idcard_read(args: argparse.Namespace, config: SiteConfig) -> int:
    code, result = read_once(args, config)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    elif result["ok"]:
        for key, value in result["document"].items():
            if value:
                print(f"{key:<14}{value}")
    else:
        print(f"read failed: {result['error']}: {result['reason']}")
        if "reason_zh" in result:
            print(result["reason_zh"])
    return code
