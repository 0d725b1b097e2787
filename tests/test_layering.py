"""Imports point down only: screens → kiosk → drivers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def module_level_imports(path: Path) -> list[tuple[int, str]]:
    """Imports executed when the module is imported: top level, incl. inside if/try blocks."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[int, str]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((node.lineno, node.module))
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, field, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])
            elif isinstance(node, ast.ClassDef):
                visit(node.body)

    visit(tree.body)
    return found


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted((REPO / package).rglob("*.py")):
        for line, name in module_level_imports(path):
            if name.split(".")[0] in forbidden:
                out.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    return out


def test_drivers_import_neither_kiosk_nor_kivy() -> None:
    assert violations("drivers", ("kiosk", "kivy", "screens")) == []


def test_kiosk_does_not_import_kivy_or_screens() -> None:
    assert violations("kiosk", ("kivy", "screens")) == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\ntry:\n    from kivy.app import App\nexcept ImportError:\n    pass\n")
    assert (3, "kivy.app") in module_level_imports(bad)
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def f():\n    import kivy\n")
    assert module_level_imports(lazy) == []


def test_importing_the_whole_core_loads_no_kivy() -> None:
    code = (
        "import sys, pkgutil, importlib, kiosk, drivers\n"
        "for pkg in (kiosk, drivers):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('kivy', 'screens')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
