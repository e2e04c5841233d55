"""Import contracts that keep the architecture visible (napari-style, checked, not hoped):
the library and training never import Qt; the app never imports torch (it talks to the
Colorizer service)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _top_imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("folder", ["colouru", "training"])
def test_library_and_training_never_import_qt(folder):
    offenders = [
        p.name
        for p in (ROOT / folder).rglob("*.py")
        if {"PySide6", "PyQt5", "PyQt6"} & _top_imports(p)
    ]
    assert not offenders, f"Qt imported in {folder}/: {offenders}"


def test_app_never_imports_torch():
    offenders = [p.name for p in (ROOT / "gui").rglob("*.py") if "torch" in _top_imports(p)]
    assert not offenders, f"torch imported in gui/: {offenders}"


def test_contract_checker_sees_imports(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("import os\nfrom PySide6.QtCore import Qt\nfrom . import x\n")
    assert _top_imports(p) == {"os", "PySide6"}
