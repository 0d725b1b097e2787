"""The ``kiosk`` command: run, diag, profiles."""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
import threading
from pathlib import Path
from typing import Any

from kiosk.config import SiteConfig, load_config
from kiosk.logs import setup_logging
from kiosk.strict import StrictConfigError

log = logging.getLogger("kiosk.cli")


def _config(args: argparse.Namespace) -> SiteConfig:
    return load_config(Path(args.config) if args.config else None)


def cmd_run(args: argparse.Namespace) -> int:
    from kiosk.core import Kiosk
    from kiosk.ui import run_ui

    config = _config(args)
    setup_logging(args.log_level, None, config.data_dir / "logs" / "kiosk.log")
    kiosk = Kiosk.from_config(config, args.profile)
    kiosk.start()
    kiosk.wait_started(timeout=10.0)
    try:
        return run_ui(kiosk, exit_after=args.exit_after, screenshot=args.screenshot)
    finally:
        kiosk.stop()


JOURNEYS = (
    "queue-ticket",
    "query-certificate",
    "property-proof",
    "authorized-query",
    "my-cases",
    "check-proof",
    "service-guides",
    "issue-authorization",
    "pay-fee",
    "mortgage-cancellation",
    "address-change",
    "name-change",
    "private-mortgage",
    "advance-notice",
    "advance-notice-cancellation",
    "new-home-transfer",
    "advance-to-ownership",
    "new-home-transfer-mortgage",
    "objection",
    "objection-cancellation",
    "print-certificate",
    "book-appointment",
    "check-in",
)


def cmd_demo(args: argparse.Namespace) -> int:
    """A scripted journey on the sim profile and the embedded sandbox, headless."""
    import dataclasses
    import shutil
    import tempfile

    from kiosk.config import MetricsSection
    from kiosk.core import Kiosk
    from kiosk.ui import run_demo

    if args.list or not args.journey:
        print("\n".join(JOURNEYS))
        return 0 if args.list else 2
    config = _config(args)
    data = Path(tempfile.mkdtemp(prefix="dengji-demo-"))  # a fresh kiosk, a fresh registry
    config = dataclasses.replace(
        config,
        kiosk=dataclasses.replace(config.kiosk, data_dir=str(data), profile="sim"),
        backend=dataclasses.replace(config.backend, url="embedded"),
        metrics=MetricsSection(port=0),
    )
    kiosk = Kiosk.from_config(config)
    try:
        kiosk.start()
        kiosk.wait_started(timeout=15.0)
        summary = run_demo(kiosk, args.journey, args.out, args.large_text)
    finally:
        kiosk.stop()
        # the demo's registry (synthetic people) and data go with it: nothing left in /tmp
        shutil.rmtree(data, ignore_errors=True)
    screens = len(summary["screens"])  # type: ignore[arg-type]
    print(
        f"{summary['journey']}: {'ok' if summary['ok'] else 'FAILED'}, {summary['taps']} taps, "
        f"{screens} screens, outputs: {', '.join(summary['outputs']) or 'none'}"  # type: ignore[arg-type]
        + (f" ({summary['error']})" if "error" in summary else "")
        + (f"; text cut off on {len(summary['cut_off'])} screen(s)" if summary["cut_off"] else "")  # type: ignore[arg-type]
    )
    return 0 if summary["ok"] else 1


def cmd_diag(args: argparse.Namespace) -> int:
    from kiosk.core import Kiosk
    from kiosk.diagnostics import diagnose

    config = _config(args)
    kiosk = Kiosk.from_config(config, args.profile)
    with kiosk:
        diagnosis = diagnose(kiosk, settle_s=args.settle)
    if args.json:
        print(json.dumps(diagnosis.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(diagnosis.as_text())
    return 0 if diagnosis.ok else 1


def cmd_technician_add(args: argparse.Namespace) -> int:
    """Store a technician's PIN as a scrypt hash, in a file only its owner can read."""
    import getpass

    from kiosk import technicians

    target = args.file or _config(args).maintenance.technicians_file
    if not target:
        print("no technicians file: give --file or set [maintenance] technicians_file")
        return 2
    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("PIN (6-12 digits): ")
        if getpass.getpass("PIN again: ") != pin:
            print("the two PINs differ: nothing changed")
            return 1
    try:
        technicians.add(Path(target), args.id, pin)
    except ValueError as err:
        print(f"not added: {err}")
        return 1
    print(f"technician {args.id} added to {target} (readable by its owner only)")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from kiosk.backend.api import OPENAPI_FILE, SANDBOX_HEADER, openapi_text

    if args.write_openapi:
        OPENAPI_FILE.write_text(openapi_text())
        print(f"wrote {OPENAPI_FILE}")
        return 0
    from kiosk.sandbox.server import Sandbox

    token = secrets.token_urlsafe(24) if args.test_mode else None
    sandbox = Sandbox(Path(args.db), host=args.host, port=args.port, test_token=token).start()
    print(f"sandbox registry on {sandbox.url} (OpenAPI at {sandbox.url}/openapi.json)", flush=True)
    if token:
        print(f"test mode: the sandbox's own routes take {SANDBOX_HEADER}: {token}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


def cmd_profiles_list(args: argparse.Namespace) -> int:
    from kiosk.profiles import list_profiles, load_profile

    config = _config(args)
    for name, path in list_profiles(config.kiosk.profile_dirs).items():
        try:
            description = load_profile(str(path)).description
        except StrictConfigError as err:
            description = f"INVALID: {err}"
        print(f"{name:<28}{description}")
    return 0


def cmd_profiles_check(args: argparse.Namespace) -> int:
    from kiosk.profile_fit import problems as fit_problems
    from kiosk.profiles import list_profiles, load_profile

    config = _config(args)
    names = args.names or list(list_profiles(config.kiosk.profile_dirs))
    failed = 0
    for name in names:
        try:
            profile = load_profile(name, config.kiosk.profile_dirs)
        except StrictConfigError as err:
            print(f"FAIL {err}", file=sys.stderr)
            failed += 1
            continue
        unfit = fit_problems(profile)
        if unfit:
            for problem in unfit:
                print(f"FAIL {profile.name}: {problem}", file=sys.stderr)
            failed += 1
            continue
        roles = ", ".join(f"{r.value}={s.driver}" for r, s in profile.devices.items())
        print(f"ok   {profile.name}: {roles}")
    return 1 if failed else 0


def cmd_idcard(args: argparse.Namespace) -> int:
    from kiosk.idcard_cli import cmd_idcard_read

    if bool(args.driver) != bool(args.port):
        print("kiosk: --driver and --port go together", file=sys.stderr)
        return 2
    return cmd_idcard_read(args, _config(args))


def cmd_bench(args: argparse.Namespace) -> int:
    from kiosk.bench import BENCHMARKS

    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:  # (argparse's choices refuse an empty list: checked here instead)
        print(f"kiosk bench: unknown {', '.join(unknown)}; one of {', '.join(BENCHMARKS)}")
        return 2
    names = args.names or list(BENCHMARKS)
    results = []
    for name in names:
        options: dict[str, Any] = {"runs": args.runs} if args.runs else {}
        if name == "face":  # YuNet is measured when the site configures its model file
            options["yunet_model"] = _config(args).identity.yunet_model
        results.append(BENCHMARKS[name](**options))
    for result in results:
        print(json.dumps(result, ensure_ascii=False))
    return 0 if all(r["ok"] for r in results) else 1


def cmd_print(args: argparse.Namespace) -> int:
    from kiosk.print_cli import cmd_print_test

    return cmd_print_test(args, _config(args))


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Reads the log, its head and its key; writes nothing (not even SQLite's side files)."""
    from kiosk.audit import default_key_path, verify_file

    if args.db:  # a copied log: its key beside it, unless given
        path = Path(args.db)
        key = Path(args.key) if args.key else default_key_path(path)
    else:
        config = _config(args)
        path = config.data_dir / "audit.db"
        key = Path(args.key) if args.key else config.audit_key_file
    if not path.is_file():
        print(f"kiosk: no audit log at {path}", file=sys.stderr)
        return 2
    verdict = verify_file(path, key)
    if verdict.problem:
        print(f"audit log BROKEN at {verdict.problem}")
        return 1
    print(f"audit log intact: {verdict.records} records, chain verified")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="不动产登记自助终端 Dengji Kiosk")
    parser.add_argument("--config", help="site configuration TOML (default: built-in defaults)")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the kiosk UI")
    run.add_argument("--profile", help="device profile (default: the site config's)")
    run.add_argument("--exit-after", type=float, help="stop after this many seconds")
    run.add_argument("--screenshot", help="write a screenshot of the first screen here")
    run.set_defaults(func=cmd_run)

    diag = sub.add_parser("diag", help="device status, capabilities and self-tests")
    diag.add_argument("--profile")
    diag.add_argument("--json", action="store_true")
    diag.add_argument("--settle", type=float, default=10.0, help="seconds to wait for devices")
    diag.set_defaults(func=cmd_diag)

    sandbox = sub.add_parser("sandbox", help="run the sandbox registry standalone")
    sandbox.add_argument("--port", type=int, default=8480)
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--db", default="sandbox.db", help="SQLite file (seeded when new)")
    sandbox.add_argument(
        "--write-openapi",
        action="store_true",
        help="regenerate kiosk/backend/openapi.json from the route table",
    )
    sandbox.add_argument(
        "--test-mode",
        action="store_true",
        help="add the test routes (faults, payer, review), behind a token printed at start",
    )
    sandbox.set_defaults(func=cmd_sandbox)

    idcard = sub.add_parser("idcard", help="ID card reader maintenance")
    idcard_sub = idcard.add_subparsers(dest="idcard_command", required=True)
    read = idcard_sub.add_parser("read", help="read one card and print its fields")
    read.add_argument("--profile", help="use the profile's reader (default: the site's)")
    read.add_argument("--driver", choices=["sam_serial"], help="name the reader directly")
    read.add_argument("--port", help="serial port, with --driver")
    read.add_argument("--baud", type=int, default=0)
    read.add_argument("--wait", type=float, default=10.0, help="seconds to wait for a card")
    read.add_argument("--mrz", help="passport readers: NUMBER:BIRTH(YYMMDD):EXPIRY(YYMMDD)")
    read.add_argument("--json", action="store_true")
    read.add_argument(
        "--unmasked",
        action="store_true",
        help="show names and numbers in full (maintenance staff only)",
    )
    read.set_defaults(func=cmd_idcard)

    printing = sub.add_parser("print", help="printer maintenance")
    printing_sub = printing.add_subparsers(dest="print_command", required=True)
    test = printing_sub.add_parser("test", help="print a test page")
    test.add_argument("--role", choices=["receipt", "certificate"], default="receipt")
    test.add_argument("--profile")
    test.add_argument("--driver", choices=["escpos", "cups"], help="name the printer directly")
    test.add_argument("--url", help="escpos: tcp://HOST:PORT")
    test.add_argument("--queue", help="cups: the queue name")
    test.set_defaults(func=cmd_print)

    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the hash chain, say where it breaks")
    verify.add_argument("--db", help="audit database (default: the data folder's)")
    verify.add_argument("--key", help="the kiosk's audit key (default: audit.key beside it)")
    verify.set_defaults(func=cmd_audit_verify)

    technician = sub.add_parser("technician", help="maintenance technicians and their PINs")
    technician_sub = technician.add_subparsers(dest="technician_command", required=True)
    tech_add = technician_sub.add_parser(
        "add", help="add a technician (or a new PIN for one); asks for the PIN twice"
    )
    tech_add.add_argument("id", help="the technician's id, as the audit will name them")
    tech_add.add_argument(
        "--file", help="the technicians file (default: [maintenance] technicians_file)"
    )
    tech_add.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from stdin (for provisioning)"
    )
    tech_add.set_defaults(func=cmd_technician_add)

    demo = sub.add_parser("demo", help="walk a citizen journey headless, with screenshots")
    demo.add_argument("--journey", choices=JOURNEYS, help="the journey to walk")
    demo.add_argument("--out", default="demo-out", help="folder for screenshots and outputs")
    demo.add_argument("--list", action="store_true", help="list the journeys")
    demo.add_argument("--large-text", action="store_true", help="walk it in the large-text mode")
    demo.set_defaults(func=cmd_demo)
    bench = sub.add_parser("bench", help="measure the speed targets")
    bench.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="benchmarks: idcard receipt pdf scan face liveness (default: all)",
    )
    bench.add_argument("--runs", type=int, default=0, help="repetitions (default: each its own)")
    bench.set_defaults(func=cmd_bench)

    profiles = sub.add_parser("profiles", help="device profiles")
    profiles_sub = profiles.add_subparsers(dest="profiles_command", required=True)
    plist = profiles_sub.add_parser("list", help="list the known profiles")
    plist.set_defaults(func=cmd_profiles_list)
    pcheck = profiles_sub.add_parser("check", help="validate profiles (all when none named)")
    pcheck.add_argument("names", nargs="*", help="profile ids or .toml files")
    pcheck.set_defaults(func=cmd_profiles_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level, sys.stderr if args.command != "run" else None)
    try:
        result: int = args.func(args)
    except StrictConfigError as err:
        print(f"kiosk: {err}", file=sys.stderr)
        return 2
    return result
