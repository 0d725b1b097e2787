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


def every_import(path: Path) -> list[tuple[int, str]]:
    """Every import in the module, wherever it is: top level, functions, TYPE_CHECKING."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


SCREENS_MAY_NOT = ("drivers", "kiosk.backend", "kiosk.sandbox")


def screens_violations(folder: Path) -> list[str]:
    out = []
    for path in sorted(folder.rglob("*.py")):
        for line, name in every_import(path):
            if any(name == f or name.startswith(f + ".") for f in SCREENS_MAY_NOT):
                out.append(f"{path.name}:{line} imports {name}")
    return out


def test_screens_import_no_driver_registry_model_or_sandbox() -> None:
    """Screens are views: they talk to ``kiosk`` (the runner, the shell, the desk), never to
    a device, the registry's wire models or the sandbox — not even inside a function."""
    assert screens_violations(REPO / "screens") == []


def test_the_screens_checker_sees_a_hidden_import(tmp_path: Path) -> None:
    (tmp_path / "sneaky.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import drivers.base\n"
        "def f():\n    from kiosk.backend import models\n    import kiosk.sandbox.seed\n"
        "import kiosk.backendish\n"
    )
    assert screens_violations(tmp_path) == [
        "sneaky.py:3 imports drivers.base",
        "sneaky.py:5 imports kiosk.backend",
        "sneaky.py:6 imports kiosk.sandbox.seed",
    ]
