"""PSNR, SSIM and the normalised loss against plain grey."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import gradient_photo

from colouru.metrics import grey_of, mse, normalized_loss, psnr, ssim


def test_identical_images():
    img = gradient_photo(40, 50)
    assert psnr(img, img) == float("inf") and mse(img, img) == 0
    assert ssim(img, img) == pytest.approx(1.0)
    assert normalized_loss(img, img) == 0.0


def test_grey_scores_one_and_known_psnr():
    img = gradient_photo(40, 50)
    assert normalized_loss(grey_of(img), img) == pytest.approx(1.0)
    off = np.clip(img.astype(np.float64) / 255 + 0.1, 0, 1)
    assert psnr(off, img / 255.0) == pytest.approx(-10 * np.log10(mse(off, img / 255.0)))
    assert ssim(off, img) < 1.0


def test_uint8_and_float_agree_and_small_images():
    img = gradient_photo(5, 6)
    assert psnr(img, img // 2) == pytest.approx(psnr(img / 255.0, (img // 2) / 255.0))
    assert 0 < ssim(img, img // 2) < 1  # smaller than the 7 x 7 window: the window shrinks
    with pytest.raises(ValueError, match="differ in shape"):
        mse(img, img[:4])


def test_grey_photo_has_undefined_normalised_loss():
    grey = np.full((8, 8, 3), 128, dtype=np.uint8)
    assert np.isnan(normalized_loss(grey, grey))
