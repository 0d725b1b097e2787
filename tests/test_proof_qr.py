"""证明核验 by the proof's QR: a real proof from the registry, rendered as paper and scanned by
SANE's pnm backend (the driver the kiosk runs), its code read and checked; a page without a
QR, a QR that is not a proof's; the scanner down leaves the typed code."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from drivers.base import Role, State
from drivers.scanner.sane import SaneScanner, SaneSettings
from drivers.scanner.sane_emulator import SaneEmulator
from kiosk.backend import models as m
from kiosk.documents.proof_qr import proof_code, read_qr
from kiosk.documents.scan import ScanBatch
from kiosk.flows.runner import Phase
from kiosk.flows.spec import StepKind
from kiosk.redact import mask_name
from tests.backend_fixtures import DEMO, Registry
from tests.runner_harness import FLOWS, Kit, Visit, play, start_kit
from tests.synthetic_pages import page_image


@pytest.fixture
def kit(registry: Registry, tmp_path: Path) -> Iterator[Kit]:
    yield from start_kit(registry, tmp_path)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("https://sandbox.invalid/verify?code=AB12CD34EF56", "AB12CD34EF56"),
        ("https://registry.example.cn/bdc/verify/?code=ab12cd34ef56", "AB12CD34EF56"),
        ("AB12CD34EF56", "AB12CD34EF56"),  # a bare code
        ("https://sandbox.invalid/proof/YW20261101000002", ""),  # a registration proof's page
        ("https://phish.example/login?code=AB12CD34EF56", ""),  # not a check address
        ("javascript:alert(1)//verify?code=AB12CD34EF56", ""),
        ("https://sandbox.invalid/verify?code=AB12CD34EF56&code=ZZ99ZZ99ZZ99", ""),
        ("https://sandbox.invalid/verify?code=<script>", ""),
    ],
)
def test_only_a_check_address_or_a_bare_code_gives_a_code(payload: str, code: str) -> None:
    assert proof_code(payload) == code


def proof_page(registry: Registry, folder: Path) -> tuple[np.ndarray, str]:
    """A 有无房产证明 the registry issued to the demo holder, as paper: its PDF at 150 dpi."""
    verification = registry.verify().verification_id
    query = registry.client.create_query(
        m.CreateQuery(verification, m.QueryKind.OWNERSHIP, "子女入学")
    )
    pdf = folder / "proof.pdf"
    pdf.write_bytes(registry.client.query_certificate(query.query_id))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(folder / "proof")],
        check=True,
    )
    page = cv2.imread(str(folder / "proof.png"))
    assert page is not None
    return page, query.verification_code


def scanned_by_sane(page: np.ndarray, folder: Path) -> ScanBatch:
    """The page on the flatbed: SANE's pnm backend scans the picture of it."""
    SaneEmulator(folder / "sane").start()
    source = folder / "proof.ppm"
    Image.fromarray(cv2.cvtColor(page, cv2.COLOR_BGR2RGB)).save(source)
    device = SaneScanner(
        SaneSettings(device="pnm:0", config_dir=str(folder / "sane"), mode="Color")
    )
    device.open()
    try:
        device._device.filename = str(source)
        batch = ScanBatch()
        batch.add(device.scan_page())
    finally:
        device.close()
    return batch


def to_the_scan(kit: Kit) -> Visit:
    visit = kit.visit("check_proof")
    chooser = play(visit, until=StepKind.CHOOSE)
    assert [c.key for c in chooser.choices] == ["type", "scan"]
    visit.runner.choose("scan")
    assert visit.screens.last.kind is StepKind.SCAN
    return visit


def test_a_scanned_proofs_qr_is_read_and_checked_without_typing(kit: Kit, tmp_path: Path) -> None:
    page, code = proof_page(kit.registry, tmp_path)
    batch = scanned_by_sane(page, tmp_path)
    assert read_qr(batch.pages[0]).endswith(f"code={code}")
    visit = to_the_scan(kit)
    visit.runner.scanned(batch)
    done = visit.screens.last
    assert done.kind is StepKind.DONE, (done.phase, done.message)
    check = visit.journey.ctx.check
    assert check is not None and check.valid and check.id_number == DEMO.number
    assert visit.journey.ctx.form["verification_code"] == code
    assert not any(v.kind is StepKind.FORM for v in visit.screens.views)  # nothing typed
    assert batch.pages == []  # the page of someone's proof is not kept
    text = " ".join(done.outputs)
    assert mask_name(DEMO.name) in text and DEMO.name not in text  # masked on the screen
    assert ("proof.qr", "read") in visit.actions()


def test_a_page_without_a_qr_says_so_and_retry_scans_again(kit: Kit, tmp_path: Path) -> None:
    visit = to_the_scan(kit)
    batch = ScanBatch()
    batch.add(page_image(600))
    visit.runner.scanned(batch)
    failed = visit.screens.last
    assert failed.phase is Phase.FAILED and failed.message is not None
    assert failed.message.code == "qr_unreadable" and failed.can_retry
    visit.runner.retry(failed.message)
    rescan = visit.screens.last
    assert rescan.kind is StepKind.SCAN
    page, code = proof_page(kit.registry, tmp_path)
    again = ScanBatch()
    again.add(page)
    visit.runner.scanned(again)
    assert visit.screens.last.kind is StepKind.DONE
    assert visit.journey.ctx.check is not None and visit.journey.ctx.check.valid
    assert visit.journey.ctx.form["verification_code"] == code


def test_a_qr_that_is_not_a_proofs_is_refused_and_never_followed(kit: Kit) -> None:
    import qrcode

    image = qrcode.make("https://phish.example/login?code=AB12CD34EF56", border=4)
    page = np.full((1400, 1000), 255, np.uint8)
    qr = np.asarray(image.convert("L").resize((300, 300)))
    page[900:1200, 600:900] = qr
    batch = ScanBatch()
    batch.add(page)
    visit = to_the_scan(kit)
    visit.runner.scanned(batch)
    failed = visit.screens.last
    assert failed.message is not None and failed.message.code == "not_a_proof_qr"
    assert visit.journey.ctx.check is None  # the registry was not asked


def test_with_the_scanner_down_the_code_is_still_typed(kit: Kit) -> None:
    assert Role.SCANNER not in FLOWS["check_proof"].needs  # the service stays offered
    kit.devices.states[Role.SCANNER] = State.OFFLINE
    visit = kit.visit("check_proof")
    chooser = play(visit, until=StepKind.CHOOSE)
    scan = next(c for c in chooser.choices if c.key == "scan")
    assert not scan.available and "扫描仪暂不可用" in scan.note
    assert play(visit).kind is StepKind.DONE  # typed (the play picks the first available)
