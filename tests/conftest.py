"""Shared fixtures: a tiny real model saved to a file, and real photo files made on the fly."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The app runs its network in torch in the tests (no ONNX export per tiny model into the
# user's cache); tests/test_runtime.py asks for ONNX Runtime by name.
os.environ.setdefault("COLOURU_RUNTIME", "torch")


def make_tiny_model(path, seed: int = 0, width: int = 4, depth: int = 3):
    """Save a small randomly initialised U-Net as a real model file (tests only: no training
    is claimed). The head bias is pushed off zero so outputs are visibly coloured."""
    from colouru.generator import GeneratorConfig, build_generator
    from colouru.weights import ModelInfo, save_model

    torch.manual_seed(seed)
    cfg = GeneratorConfig(width=width, depth=depth, max_width=16)
    model = build_generator(cfg)
    with torch.no_grad():
        model.head.bias.copy_(torch.tensor([0.3, 0.2]))
    model.eval()
    save_model(path, model, ModelInfo(generator=cfg, work_size=64,
                                      provenance={"note": "random weights made by a test"}))
    return path


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("model") / "tiny.safetensors")


def gradient_photo(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A colourful sRGB uint8 test photo (smooth gradients plus a block), ``(h, w, 3)``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / max(w - 1, 1), yy / max(h - 1, 1), 0.5 + 0.3 * np.sin(xx / 5)], -1)
    img[h // 4: h // 2, w // 4: w // 2] = rng.random(3)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


@pytest.fixture
def photo_file(tmp_path):
    """A real PNG photo on disk."""
    p = tmp_path / "photo.png"
    Image.fromarray(gradient_photo()).save(p)
    return p


@pytest.fixture
def gui_settings(tmp_path):
    """The app's settings in a temporary folder (INI format), for GUI tests."""
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QSettings

    from colouru.gui.settings import AppSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    return AppSettings()


@pytest.fixture(scope="session")
def tiny_colorizer(tiny_model_path):
    """A ``Colorizer`` on the CPU with the tiny random model (working size 64)."""
    from colouru.colorizer import Colorizer

    return Colorizer.load(tiny_model_path, device="cpu")
