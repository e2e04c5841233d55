"""The three training stages as small named steps (pix2pix's ``backward_D`` / ``backward_G``).

``Trainer`` holds the generator, the discriminator and their Adam optimisers. Each step takes a
``Batch`` and returns its losses as a plain dict of floats for the logger.

* ``pretrain_g_step``: the generator alone, MSE on normalised ab (or a Huber loss,
  ``GanConfig.loss``).
* ``d_step``: the discriminator, BCE on real (label ``real_label``) and generated (0) Lab.
* ``g_step``: the generator, BCE from the discriminator (wanting "real") + lambda x MSE (or
  Huber), with the discriminator's gradients switched off.

The logs always carry the MSE (``g_mse``), so runs with either loss compare; with Huber its
own value is logged too (``g_huber``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from colouru.colour import normalize_ab, normalize_l
from colouru.device import autocast
from colouru.inputs import make_input
from colouru.training.data import Batch
from colouru.training.rebalance import weight_of


@dataclass(frozen=True)
class GanConfig:
    """Loss and optimiser settings (saved with every checkpoint). These defaults are the values
    of runs saved before a setting existed (a saved config lacking a key takes them); a new
    run's values and ranges are ``training/config.py``'s."""

    lr: float = 2e-4  # Adam learning rate for both networks
    beta1: float = 0.5  # Adam beta1 (pix2pix / DCGAN)
    beta2: float = 0.999
    lambda_mse: float = 100.0  # weight of MSE beside the adversarial BCE (gan)
    real_label: float = 0.9  # one-sided label smoothing for real samples (1.0 = off)
    label_flip: float = 0.0  # share of discriminator labels flipped (noisy labels)
    hint_weight: float = 1.0  # extra MSE weight on hinted pixels (1 = none)
    # The generator's regression loss on ab: "mse", or "huber" (quadratic within huber_delta
    # ab units of the truth, linear beyond: less pull towards the average colour where the
    # truth is uncertain; Zhang et al. 2017 used it with delta 1). Runs saved before it
    # existed trained with the MSE.
    loss: str = "mse"
    huber_delta: float = 1.0
    # Colour rebalancing (training/rebalance.py): each pixel's loss weighted by the rarity of
    # its true colour, w ~ 1 / ((1 - rebalance) p + rebalance / Q); 1: none, 0.5: Zhang et al.
    # 2016's. A run saved before it existed lacks the key and takes 1 (none).
    rebalance: float = 1.0


def unwrap(model: nn.Module) -> nn.Module:
    """The bare module inside a DistributedDataParallel wrapper (or the module itself)."""
    return model.module if hasattr(model, "module") else model


def set_requires_grad(model: nn.Module, flag: bool) -> None:
    for p in model.parameters():
        p.requires_grad_(flag)


def lr_at(step: int, total: int, base: float, decay_from: float = 0.7) -> float:
    """Constant ``base`` for the first ``decay_from`` of a stage, then linear decay to 10%."""
    if total <= 0:
        return base
    t = step / total
    if t < decay_from:
        return base
    return base * (1.0 - 0.9 * (t - decay_from) / (1.0 - decay_from))


class Trainer:
    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        cfg: GanConfig,
        precision: str = "fp32",
    ):
        """``precision``: ``fp32`` or ``bf16`` (the generator's forward under autocast; its
        output, the discriminator and every loss in fp32)."""
        self.G, self.D, self.cfg = generator, discriminator, cfg
        self.precision = precision
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr, betas=betas)
        self.ab_weights: torch.Tensor | None = None  # rebalancing table (set_ab_weights)

    def set_ab_weights(self, weights) -> None:
        """The colour rebalancing table ``(BINS, BINS)`` (``rebalance.rebalance_weights``),
        or None: every pixel weighs the same."""
        dev = next(self.G.parameters()).device
        self.ab_weights = None if weights is None else torch.as_tensor(weights, device=dev)

    def set_lr(self, lr: float) -> None:
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr

    # -- pieces ------------------------------------------------------------------------------
    def generate(self, batch: Batch, model: nn.Module | None = None) -> torch.Tensor:
        """Normalised ab ``(B, 2, S, S)`` from the generator, fp32."""
        x = make_input(batch.lightness, batch.hint_ab)
        if x.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(x.device, self.precision):
            return (model or self.G)(x).float()

    def _weighted(self, err: torch.Tensor, batch: Batch, rebalanced: bool = True
                  ) -> torch.Tensor:
        if self.cfg.hint_weight != 1.0:
            err = err * (1.0 + (self.cfg.hint_weight - 1.0) * batch.hint_mask)
        if rebalanced and self.ab_weights is not None:
            err = err * weight_of(self.ab_weights, batch.ab)
        return err.mean()

    def _regression(self, fake_ab: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, dict]:
        """The loss to train on (``cfg.loss``, rebalanced when the trainer has a table) and
        the figures to log: the plain MSE always, so runs compare."""
        truth = normalize_ab(batch.ab)
        sq = (fake_ab - truth) ** 2
        mse = self._weighted(sq, batch, rebalanced=False)
        logged = {"g_mse": mse.item()}
        if self.cfg.loss == "mse":
            if self.ab_weights is None:
                return mse, logged
            loss = self._weighted(sq, batch)
            return loss, {**logged, "g_rebalanced": loss.item()}
        delta = float(normalize_ab(self.cfg.huber_delta))
        # x 2: the MSE itself within delta, then linear with MSE's slope at delta
        err = 2 * F.huber_loss(fake_ab, truth, reduction="none", delta=delta)
        huber = self._weighted(err, batch)
        return huber, {**logged, "g_huber": huber.item()}

    @staticmethod
    def _lab(batch: Batch, ab_norm: torch.Tensor) -> torch.Tensor:
        """Discriminator input: normalised (L, a, b)."""
        return torch.cat([normalize_l(batch.lightness), ab_norm], dim=1)

    def _labels(
        self, logits: torch.Tensor, real: bool, rng: np.random.Generator | None
    ) -> torch.Tensor:
        target = torch.full_like(logits, self.cfg.real_label if real else 0.0)
        if self.cfg.label_flip > 0 and rng is not None:
            flip = torch.from_numpy(rng.random(logits.shape) < self.cfg.label_flip).to(
                logits.device
            )
            target = torch.where(flip, 1.0 - target, target)
        return target

    # -- steps -------------------------------------------------------------------------------
    def pretrain_g_step(self, batch: Batch) -> dict:
        """Stage 1: the generator with MSE alone."""
        self.G.train()
        self.opt_g.zero_grad(set_to_none=True)
        loss, logged = self._regression(self.generate(batch), batch)
        loss.backward()
        self.opt_g.step()
        return logged

    def d_step(
        self,
        batch: Batch,
        rng: np.random.Generator | None = None,
        fake_ab: torch.Tensor | None = None,
    ) -> dict:
        """The discriminator: real Lab -> ``real_label``, generated Lab -> 0."""
        self.D.train()
        if fake_ab is None:
            self.G.eval()
            with torch.no_grad():
                fake_ab = self.generate(batch, unwrap(self.G))
        self.opt_d.zero_grad(set_to_none=True)
        # One forward over real and generated together (one DDP forward per backward).
        both = torch.cat(
            [self._lab(batch, normalize_ab(batch.ab)), self._lab(batch, fake_ab.detach())]
        )
        real_logits, fake_logits = self.D(both).chunk(2)
        loss_real = F.binary_cross_entropy_with_logits(
            real_logits, self._labels(real_logits, True, rng)
        )
        loss_fake = F.binary_cross_entropy_with_logits(
            fake_logits, self._labels(fake_logits, False, rng)
        )
        loss = 0.5 * (loss_real + loss_fake)
        loss.backward()
        self.opt_d.step()
        with torch.no_grad():
            acc = 0.5 * ((real_logits > 0).float().mean() + (fake_logits < 0).float().mean())
        return {
            "d_loss": loss.item(),
            "d_real": loss_real.item(),
            "d_fake": loss_fake.item(),
            "d_acc": acc.item(),
        }

    def g_step(self, batch: Batch, fake_ab: torch.Tensor) -> dict:
        """The generator against the discriminator: BCE(D(fake), real) + lambda x MSE."""
        self.G.train()
        set_requires_grad(self.D, False)
        try:
            self.opt_g.zero_grad(set_to_none=True)
            d = unwrap(self.D)  # no gradient sync for D here: it is not being updated
            logits = d(self._lab(batch, fake_ab))
            adv = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
            reg, logged = self._regression(fake_ab, batch)
            loss = adv + self.cfg.lambda_mse * reg
            loss.backward()
            self.opt_g.step()
        finally:
            set_requires_grad(self.D, True)
        return {"g_adv": adv.item(), **logged, "g_loss": loss.item()}

    def gan_step(self, batch: Batch, rng: np.random.Generator | None = None) -> dict:
        """Stage 3: one generator forward, then ``d_step`` and ``g_step`` on it."""
        self.G.train()
        fake_ab = self.generate(batch)
        losses = self.d_step(batch, rng, fake_ab=fake_ab.detach())
        losses.update(self.g_step(batch, fake_ab))
        return losses
