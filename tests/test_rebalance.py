"""Colour rebalancing of the regression loss: the prior, the weights, and the trainer's use."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from colouru.colour import rgb_to_lab
from colouru.training import rebalance as rb


def _photos() -> np.ndarray:
    """Eight 32 x 32 photos: mostly grey-brown, a red patch in each (a rare colour)."""
    u8 = np.zeros((8, 32, 32, 3), np.uint8)
    u8[:] = (120, 110, 100)
    u8[:, :4, :4] = (220, 30, 30)
    return u8


def test_prior_counts_the_true_colours():
    prior = rb.ab_prior(_photos())
    assert prior.shape == (rb.BINS, rb.BINS) and prior.sum() == pytest.approx(1.0)
    lab = rgb_to_lab(np.array([[[120, 110, 100], [220, 30, 30]]], np.float32) / 255)
    common, rare = (tuple(rb._index(lab[0, i, 1:])) for i in range(2))
    assert prior[common] > 10 * prior[rare] > 0  # 1008 pixels against 16 of each photo
    assert prior[0, 0] == 0  # a colour never seen keeps no mass
    with pytest.raises(ValueError):
        rb.ab_prior(np.zeros((0, 4, 4, 3), np.uint8))


def test_weights_favour_rare_colours_and_average_one():
    prior = rb.ab_prior(_photos())
    w = rb.rebalance_weights(prior, 0.5)
    assert float((prior * w).sum()) == pytest.approx(1.0, rel=1e-5)
    lab = rgb_to_lab(np.array([[[120, 110, 100], [220, 30, 30]]], np.float32) / 255)
    common, rare = (tuple(rb._index(lab[0, i, 1:])) for i in range(2))
    assert w[rare] > 2 * w[common]  # bounded by lam / Q: few colours here
    np.testing.assert_allclose(rb.rebalance_weights(prior, 1.0), 1.0, rtol=1e-6)  # 1: none
    for bad in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError):
            rb.rebalance_weights(prior, bad)
    ab = torch.tensor(lab[..., 1:]).permute(2, 0, 1)[None]  # (1, 2, 1, 2)
    per_pixel = rb.weight_of(torch.tensor(w), ab)
    assert per_pixel.shape == (1, 1, 1, 2)
    assert per_pixel[0, 0, 0, 1] == pytest.approx(float(w[rare]))


def test_the_trainer_weighs_rare_colours_more_but_logs_the_plain_mse():
    from colouru.generator import GeneratorConfig, build_generator
    from colouru.simulate import HintSimConfig
    from colouru.training.data import make_batch
    from colouru.training.discriminators import build_discriminator
    from colouru.training.gan import GanConfig, Trainer

    torch.manual_seed(0)
    G = build_generator(GeneratorConfig(width=4, depth=3))
    D = build_discriminator("patch", 8)
    batch = make_batch(_photos()[:2], np.random.default_rng(0), HintSimConfig(no_hint_share=1.0),
                       torch.device("cpu"))
    plain = Trainer(G, D, GanConfig(loss="mse"))
    loss, logged = plain._regression(plain.generate(batch), batch)
    assert logged == {"g_mse": pytest.approx(loss.item())}
    weighted = Trainer(G, D, GanConfig(loss="mse", rebalance=0.5))
    weighted.set_ab_weights(rb.rebalance_weights(rb.ab_prior(_photos()), 0.5))
    wloss, wlogged = weighted._regression(weighted.generate(batch), batch)
    assert wlogged["g_mse"] == pytest.approx(loss.item())  # the logs keep the plain MSE
    assert wlogged["g_rebalanced"] == pytest.approx(wloss.item()) != loss.item()
