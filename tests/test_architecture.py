"""The architecture, checked, not hoped (as napari does): import-linter's contracts in
pyproject.toml (layers: the command line, then training and the app, then the core; Qt only
in the app; the session model and the numpy side without torch), indirect imports followed.
import-linter reads the package from disk, so it runs on a copy of the tree laid out as it
installs (gui/ and training/ inside colouru/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _installed_layout(tmp: Path) -> Path:
    pkg = tmp / "colouru"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "colouru", pkg, ignore=ignore)
    shutil.copytree(ROOT / "gui", pkg / "gui", ignore=ignore)
    shutil.copytree(ROOT / "training", pkg / "training", ignore=ignore)
    (pkg / "assets").mkdir()
    shutil.copy(ROOT / "assets" / "__init__.py", pkg / "assets")
    return tmp


def test_import_contracts(tmp_path):
    tree = _installed_layout(tmp_path)
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache", str(ROOT / "pyproject.toml")], cwd=tree,
                       env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout and "7 kept" in r.stdout


def test_a_broken_contract_is_caught(tmp_path):
    """The check can fail: the session model importing torch (through the colorizer)."""
    tree = _installed_layout(tmp_path)
    session = tree / "colouru" / "gui" / "session.py"
    session.write_text("from colouru.colorizer import Colorizer\n" + session.read_text())
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache", str(ROOT / "pyproject.toml")], cwd=tree,
                       env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                       capture_output=True, text=True)
    assert r.returncode == 1 and "colouru.gui.session is not allowed to import torch" in r.stdout


def test_the_app_reaches_the_colorizer_only_through_its_service(tmp_path):
    """The window importing the colorizer itself breaks the service contract; so does a
    climb back up inside the core (the colorizer importing the batch pipeline)."""
    tree = _installed_layout(tmp_path)
    window = tree / "colouru" / "gui" / "main_window.py"
    window.write_text("from colouru.finish import Cancelled\n" + window.read_text())
    colorizer = tree / "colouru" / "colorizer.py"
    colorizer.write_text("import colouru.batch\n" + colorizer.read_text())
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache", str(ROOT / "pyproject.toml")], cwd=tree,
                       env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "colouru.gui.main_window -> colouru.finish" in r.stdout
    assert "colouru.colorizer is not allowed to import colouru.batch" in r.stdout


def test_numpy_side_never_loads_torch():
    """Colour conversion, hints, the working size, image files and the Levin baseline (whose
    worker processes start often) load without torch, even indirectly."""
    code = ("import sys\n"
            "import colouru.colour, colouru.hints, colouru.rasterize, colouru.geometry\n"
            "import colouru.imageio\n"
            "import colouru.atomic, colouru.shard, colouru.report, colouru.training.levin\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
