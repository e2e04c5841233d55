"""Hint propagation: the parameter-free spread of the hint channels over the photo (pure
torch, no weights), used inside the generators (their hint features) and after them
(``finish.py``'s ``follow_hints``).

``hint_features``: the mean hint colour in coarse cells. ``edge_aware_hints``: the hints spread
along regions of similar L (an edge-avoiding a-trous filter, a fast relative of Levin et
al.'s propagation). ``follow_hints``: the same filter spreading what the network missed at
each hint onto its output; it is not in the training loss, and training's validation applies
it as the ``Colorizer`` does.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def hint_mask(ab: torch.Tensor) -> torch.Tensor:
    """1 where the hint channels ``(..., 2, H, W)`` hold a hint (non-zero ab), else 0:
    ``(..., 1, H, W)`` in ``ab``'s dtype. The four-channel input has no mask of its own."""
    return ((ab.narrow(-3, 0, 1).abs() + ab.narrow(-3, 1, 1).abs()) > 0).to(ab.dtype)


def hint_features(x: torch.Tensor, scales: int, fade: bool = False) -> torch.Tensor:
    """Multi-scale normalised convolution of the hint channels of an input ``(B, 4, H, W)``.

    For cells of 8 * 4**i pixels (i < ``scales``): the mean hint ab in each cell, divided by the
    share of hinted pixels, upsampled bilinearly (a smooth "colour of the hints nearby"), and a
    confidence (hinted pixels in the cell, saturating at a 3 x 3 square). Parameter-free.
    Returns ``(B, 3 * scales, H, W)``.

    The colour alone is the hints' colour wherever any hint mass reached and 0 beyond: a box two
    cells wide with sharp edges, which a model passes on as a visible rectangle around a hint
    in a flat sky. ``fade`` multiplies it by its confidence, so it falls to 0 smoothly
    (``GeneratorConfig.hint_fade``; the shipped model has it, the ones before did not:
    docs/experiments.md rows 38 to 40).
    """
    ab = x[:, 1:3]
    mask = hint_mask(ab)
    st = torch.cat([ab * mask, mask], dim=1)  # pooled together: one call per scale
    size = x.shape[-2:]
    out = []
    for i in range(scales):
        cell = 8 * 4**i
        k = (min(cell, size[0]), min(cell, size[1]))
        pooled = F.interpolate(
            F.avg_pool2d(st, k, k, ceil_mode=True), size=size, mode="bilinear", align_corners=False
        )
        num, den = pooled[:, :2], pooled[:, 2:]
        confidence = (den * (k[0] * k[1] / 9.0)).clamp(max=1.0)
        colour = num / (den + 1e-6)
        out += [colour * confidence if fade else colour, confidence]
    return torch.cat(out, dim=1)


# Widths of the edge test of ``edge_aware_hints`` in normalised L (-1..1: 0.35 is 17.5 L units,
# 0.12 is 6): loose first (spreads a few hints far), then strict (keeps dense hints apart).
# Chosen on 20 val photos with the spread alone as the result (docs/model/edge-hints.md).
EDGE_SIGMAS = (0.35, 0.12)
CONFIDENCE_FLOOR = 1e-12  # hint mass below this is "no hint reached here"


def edge_passes(hw: tuple[int, int]) -> list[tuple[int, int]]:
    """The passes of the edge-avoiding a-trous filter on a ``(H, W)`` image, in order:
    ``(step, dim)``, taps ``step`` apart along ``dim`` (-1: rows, -2: columns), from the
    largest power of two below the long side down to 1; a step a side is too short for skips
    that side."""
    steps = max(1, math.ceil(math.log2(max(hw))))
    return [(2**i, dim) for i in reversed(range(steps)) for dim in (-1, -2) if 2**i < hw[dim]]


def _edge_weight(lightness: torch.Tensor, step: int, dim: int, inv: torch.Tensor):
    """The weight of each pair of taps ``step`` apart along ``dim`` of ``lightness``
    ``(B, 1, 1, H, W)``: ``exp(-dL^2 * inv) / 4``, ``(B, S, 1, H', W')`` (the side along
    ``dim`` shorter by ``step``), one ``inv`` per S, ``(1, S, 1, 1, 1)``."""
    n = lightness.shape[dim]
    near, far = lightness.narrow(dim, 0, n - step), lightness.narrow(dim, step, n - step)
    return torch.exp((far - near).square_() * -inv).mul_(0.25)


def edge_weights(lightness: torch.Tensor, inv: torch.Tensor) -> list[torch.Tensor]:
    """Every pass's weights (``_edge_weight``) for ``lightness`` ``(B, 1, 1, H, W)``, in the
    order of ``edge_passes``: they depend on L alone, so a caller that spreads several hint
    sets over one photo can compute them once (``colouru.runtime``)."""
    return [_edge_weight(lightness, step, dim, inv)
            for step, dim in edge_passes(lightness.shape[-2:])]


def _edge_pass(w: torch.Tensor, st: torch.Tensor, step: int, dim: int):
    """One edge-aware [1/4, 1/2, 1/4] filter pass of ``st`` ``(B, S, C, H, W)`` along ``dim``
    with taps ``step`` apart, the pairs weighted by ``w`` (``_edge_weight``)."""
    n = st.shape[dim]
    out = st * 0.5
    out.narrow(dim, 0, n - step).addcmul_(w, st.narrow(dim, step, n - step))
    out.narrow(dim, step, n - step).addcmul_(w, st.narrow(dim, 0, n - step))
    return out


def _edge_spread(lightness: torch.Tensor, st: torch.Tensor, inv: torch.Tensor,
                 weights: list[torch.Tensor] | None = None) -> torch.Tensor:
    """The passes of the edge-avoiding a-trous filter (``edge_passes``): ``st``
    ``(B, S, C, H, W)`` filtered along ``lightness`` ``(B, 1, 1, H, W)`` (normalised L), one
    edge test per S (``inv`` ``(1, S, 1, 1, 1)``: 1 / sigma^2). ``weights``: ``edge_weights``
    of the same L and ``inv`` where the caller has them; else each pass computes its own."""
    for k, (step, dim) in enumerate(edge_passes(st.shape[-2:])):
        st = _edge_pass(_edge_weight(lightness, step, dim, inv) if weights is None
                        else weights[k], st, step, dim)
    return st


def edge_inv(sigmas: tuple[float, ...], like: torch.Tensor) -> torch.Tensor:
    """The edge tests of ``sigmas`` as ``_edge_spread`` takes them: 1 / sigma^2,
    ``(1, S, 1, 1, 1)`` in ``like``'s dtype and device."""
    inv = torch.tensor([1.0 / (s * s) for s in sigmas], dtype=like.dtype, device=like.device)
    return inv.view(1, -1, 1, 1, 1)


def edge_aware_hints(
    x: torch.Tensor, sigmas: tuple[float, ...], weights: list[torch.Tensor] | None = None
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Spread the hints of an input ``(B, 4, H, W)`` along its regions of similar lightness.

    Normalised convolution with an edge-avoiding a-trous filter (Dammertz et al. 2010, made
    separable): the hint colours times their mask and the mask itself are filtered alike,
    with taps 2**i apart from the largest step down to 1, so colour crosses the image in
    log2(size) passes but hardly crosses an edge of L (a neighbour's weight is
    exp(-dL^2 / sigma^2), L normalised to -1..1); their ratio is a weighted mean of the hint
    colours, a fast stand-in for Levin et al.'s propagation. Parameter-free.
    Returns, for each sigma, ``(ab, confidence)``: ab ``(B, 2, H, W)`` on the input's scale (0
    where no hint reached) and ``(B, 1, H, W)`` confidence in 0..1 (log of the hint mass that
    arrived). ``weights``: ``edge_weights(x[:, None, :1], edge_inv(sigmas, x))`` where the
    caller has them (they depend on L alone).
    """
    lightness, ab = x[:, None, :1], x[:, None, 1:3]  # (B, 1, C, H, W)
    mask = hint_mask(ab)
    st = torch.cat([ab * mask, mask], dim=2).expand(-1, len(sigmas), -1, -1, -1)
    st = _edge_spread(lightness, st, edge_inv(sigmas, x), weights)
    num, den = st[:, :, :2], st[:, :, 2:]
    mass = den.clamp_min(CONFIDENCE_FLOOR)
    colour = torch.where(den > CONFIDENCE_FLOOR, num / mass, torch.zeros_like(num))
    floor = math.log(CONFIDENCE_FLOOR)
    confidence = ((mass.log() - floor) / -floor).clamp(0.0, 1.0)
    return [(colour[:, j], confidence[:, j]) for j in range(len(sigmas))]


# ``follow_hints``: the strict edge test, and the hint mass at which a pixel takes half of the
# spread correction (below it the correction fades, so far from every hint the network's
# colour stays). Chosen on 100 training photos (bsds), checked on val (the model card).
FOLLOW_SIGMA = EDGE_SIGMAS[1]
FOLLOW_MASS = 1e-5


def follow_hints(
    ab: torch.Tensor,
    lightness: torch.Tensor,
    hint_ab: torch.Tensor,
    mask: torch.Tensor,
    fade_mass: float = FOLLOW_MASS,
    weights: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """Bend a predicted ab towards the hints around each hint, along regions of similar L.

    ``ab`` and ``hint_ab`` ``(B, 2, H, W)`` on one scale (CIE units or normalised),
    ``lightness`` ``(B, 1, H, W)`` normalised L (-1..1, as in the network input), ``mask``
    ``(B, 1, H, W)``: 1 on hint squares. The residual ``hint_ab - ab`` on the hint squares
    is spread by ``edge_aware_hints``'s filter with the strict edge test and added, weighted
    by the hint mass that arrived, ``mass / (mass + fade_mass)``: in a hint's region the
    network's colour is shifted by what it missed at the hint (its own variation kept);
    far from every hint, or across an edge of L, it stays as it was. Returns
    ``(B, 2, H, W)``. ``weights``: ``follow_weights(lightness)`` where the caller keeps them
    (they depend on L alone: the app bends every preview of a photo along the same ones).
    """
    if not fade_mass > 0:  # 0 would divide by the zero mass far from every hint
        raise ValueError(f"fade_mass must be positive, got {fade_mass}")
    mask = mask.to(ab.dtype)
    st = torch.cat([(hint_ab - ab) * mask, mask], dim=1)[:, None]  # (B, 1, 3, H, W)
    st = _edge_spread(lightness[:, None], st, edge_inv((FOLLOW_SIGMA,), ab), weights)[:, 0]
    num, den = st[:, :2], st[:, 2:]
    return ab + num / (den + fade_mass)


def follow_weights(lightness: torch.Tensor) -> list[torch.Tensor]:
    """``follow_hints``' edge weights for normalised L ``(B, 1, H, W)``: computed once, they
    make each later call on the same L about half as long."""
    return edge_weights(lightness[:, None], edge_inv((FOLLOW_SIGMA,), lightness))
