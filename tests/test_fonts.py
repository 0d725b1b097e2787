"""PDF fonts: the quick common-character subset, and the full font for anything rarer."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kiosk.backend import models as m
from kiosk.documents.fonts import common_font, font_for, full_font
from kiosk.documents.query_certificate import query_certificate_pdf


def records_of(holder: str) -> m.Records:
    return m.Records(
        m.QueryKind.OWN,
        True,
        [
            m.PropertyRecord(
                "320102001001GB00001F00010001",
                "江苏省南京市玄武区中山路18号",
                "苏(2020)南京市不动产权第0001234号",
                89.5,
                "住宅",
                "国有建设用地使用权/房屋所有权",
                [holder],
            )
        ],
    )


def text_of(pdf: bytes, folder: Path) -> str:
    path = folder / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_common_text_uses_the_subset_and_rare_characters_the_full_font(tmp_path: Path) -> None:
    subset, covered = common_font()
    assert "张" in covered and "堃" not in covered and len(covered) > 3000
    assert font_for("张建国 江苏省南京市") == subset
    assert font_for("王堃") == full_font()


DEMO_ID = "11010519491231002X"


def test_a_rare_name_prints_as_itself(tmp_path: Path) -> None:
    common = text_of(
        query_certificate_pdf(records_of("张建国"), "张建国", DEMO_ID, "C1", "2026-11-22"), tmp_path
    )
    rare = text_of(
        query_certificate_pdf(records_of("王堃"), "王堃", DEMO_ID, "C2", "2026-11-22"), tmp_path
    )
    assert "张建国" in common
    assert "王堃" in rare and "\ufffd" not in rare
