"""The generator: a U-Net that predicts ab from the four-channel input.

Down: strided 4x4 convolutions with batch norm and LeakyReLU. Up: 4x4 transposed convolutions
with batch norm and LeakyReLU, each concatenated with the matching encoder features (skip
connections). A last 3x3 convolution sees the decoder output beside the input itself (so a
hint reaches the output at full working resolution) and ends in tanh: ab in -1..1.

Optional parameter-free hint features are computed from the input inside ``forward`` and fed
to the first and last layers beside it: ``hint_features`` (mean hint colour in coarse cells)
and ``edge_aware_hints`` (the hints spread along regions of similar L, a fast relative of
Levin et al.'s propagation). With edge-aware hints the network predicts a correction of the
first spread: ``tanh(head + atanh(spread))``, so training starts from a sensible colouring.

Architectures live in the ``ARCHITECTURES`` registry; ``build_generator(config)`` builds one.

``follow_hints`` reuses the edge-aware filter after the network, outside it: the ``Colorizer``
spreads what the network missed at each hint square onto its output. It is not in the
training loss; training's validation applies it, as the ``Colorizer`` does.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, fields, replace

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

from colouru.encoders import EfficientNetLite, encoder_spec, grey_input, load_imagenet
from colouru.inputs import INPUT_CHANNELS

# Bounds of a config's whole numbers, checked before a layer is built (a model file's config is
# untrusted: width 4096 or depth 5000 would exhaust memory just to be refused). Generous: the
# models made so far use width 16 or 32, depth 5, max_width 256.
LIMITS = {
    "width": (1, 1024),
    "depth": (1, 10),  # the input is padded to a multiple of 2**depth
    "max_width": (1, 1024),
    "hint_scales": (0, 4),
    "fine_width": (0, 1024),
}


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything needed to rebuild a generator (saved with its weights)."""

    arch: str = "unet"  # key in ARCHITECTURES
    width: int = 32  # channels after the first down step; doubles per level
    depth: int = 5  # down steps; the input is padded to a multiple of 2**depth
    max_width: int = 256  # cap on channels per level
    dropout: float = 0.0  # dropout in the innermost decoder steps (pix2pix uses 0.5)
    # Hint propagation features: for each of this many scales (cells of 8, 32, 128 ... px) the
    # mean hint colour near each pixel and its confidence, fed to the first and last layers,
    # so a few hints reach the whole image at once (0: the plain U-Net of the design).
    hint_scales: int = 0
    # Edge-aware hint propagation (``edge_hints``): for each of the first this many widths in
    # ``EDGE_SIGMAS``, the hints spread along the photo's regions (colour and confidence), fed
    # to the first and last layers; the first one is also the base the output corrects.
    edge_hints: int = 0
    # The ImageNet-pretrained down path of ``unet-pretrained`` (a key in
    # ``colouru.encoders.ENCODERS``); empty for the plain U-Net.
    encoder: str = ""
    # ``unet-pretrained`` only: channels of a block that reads the input and its hint features
    # straight to half resolution, as the plain U-Net's first level does, and joins the
    # decoder's last up step: the hints skip the ImageNet stem (0: none).
    fine_width: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> GeneratorConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown generator config keys {sorted(unknown)}")
        for f in fields(cls):  # JSON gives any type: check before a layer is built
            if f.name not in d:
                continue
            v, kind = d[f.name], {"str": str, "int": int, "float": (int, float)}[f.type]
            if isinstance(v, bool) or not isinstance(v, kind):
                raise ValueError(f"generator config {f.name} must be {f.type}, got {v!r}")
        cfg = cls(**d)
        for name, (lo, hi) in {**LIMITS, "edge_hints": (0, len(EDGE_SIGMAS))}.items():
            if not lo <= getattr(cfg, name) <= hi:
                raise ValueError(
                    f"generator config {name} {getattr(cfg, name)} out of range ({lo}..{hi})"
                )
        if not 0 <= cfg.dropout < 1:
            raise ValueError(f"generator config dropout {cfg.dropout} out of range (0..<1)")
        if cfg.encoder:
            encoder_spec(cfg.encoder)  # unknown names list the valid ones
        if cfg.fine_width and cfg.arch != "unet-pretrained":
            raise ValueError("generator config fine_width is for unet-pretrained only")
        return cfg

    def to_dict(self) -> dict:
        return asdict(self)


def _down(cin: int, cout: int, norm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def _up(cin: int, cout: int, dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def hint_mask(ab: torch.Tensor) -> torch.Tensor:
    """1 where the hint channels ``(..., 2, H, W)`` hold a hint (non-zero ab), else 0:
    ``(..., 1, H, W)`` in ``ab``'s dtype. The four-channel input has no mask of its own."""
    return ((ab.narrow(-3, 0, 1).abs() + ab.narrow(-3, 1, 1).abs()) > 0).to(ab.dtype)


def hint_features(x: torch.Tensor, scales: int) -> torch.Tensor:
    """Multi-scale normalised convolution of the hint channels of an input ``(B, 4, H, W)``.

    For cells of 8 * 4**i pixels (i < ``scales``): the mean hint ab in each cell, divided by the
    share of hinted pixels, upsampled bilinearly (a smooth "colour of the hints nearby"), and a
    confidence (hinted pixels in the cell, saturating at a 3 x 3 square). Parameter-free.
    Returns ``(B, 3 * scales, H, W)``.
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
        out += [num / (den + 1e-6), (den * (k[0] * k[1] / 9.0)).clamp(max=1.0)]
    return torch.cat(out, dim=1)


# Widths of the edge test of ``edge_aware_hints`` in normalised L (-1..1: 0.35 is 17.5 L units,
# 0.12 is 6): loose first (spreads a few hints far), then strict (keeps dense hints apart).
# Chosen on 20 val photos with the spread alone as the result (docs/model/edge-hints.md).
EDGE_SIGMAS = (0.35, 0.12)
CONFIDENCE_FLOOR = 1e-12  # hint mass below this is "no hint reached here"


def _edge_pass(dl2: torch.Tensor, st: torch.Tensor, step: int, inv: torch.Tensor, dim: int):
    """One edge-aware [1/4, 1/2, 1/4] filter pass of ``st`` ``(B, S, C, H, W)`` along ``dim``
    with taps ``step`` apart; ``dl2`` ``(B, 1, 1, H', W')``: the squared L difference of each
    pair of taps. Weight exp(-dL^2 * inv) with one ``inv`` per S, ``(1, S, 1, 1, 1)``."""
    n = st.shape[dim]
    w = torch.exp(dl2 * -inv).mul_(0.25)
    out = st * 0.5
    out.narrow(dim, 0, n - step).addcmul_(w, st.narrow(dim, step, n - step))
    out.narrow(dim, step, n - step).addcmul_(w, st.narrow(dim, 0, n - step))
    return out


def _edge_spread(lightness: torch.Tensor, st: torch.Tensor, inv: torch.Tensor) -> torch.Tensor:
    """The passes of the edge-avoiding a-trous filter: ``st`` ``(B, S, C, H, W)`` filtered
    along ``lightness`` ``(B, 1, 1, H, W)`` (normalised L), taps 2**i apart from the largest
    step down to 1, one edge test per S (``inv`` ``(1, S, 1, 1, 1)``: 1 / sigma^2)."""
    steps = max(1, math.ceil(math.log2(max(st.shape[-2:]))))
    for i in reversed(range(steps)):
        step = 2**i
        for dim in (-1, -2):
            n = st.shape[dim]
            if step >= n:
                continue
            near, far = lightness.narrow(dim, 0, n - step), lightness.narrow(dim, step, n - step)
            st = _edge_pass((far - near).square_(), st, step, inv, dim)
    return st


def edge_aware_hints(
    x: torch.Tensor, sigmas: tuple[float, ...]
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
    arrived).
    """
    lightness, ab = x[:, None, :1], x[:, None, 1:3]  # (B, 1, C, H, W)
    mask = hint_mask(ab)
    st = torch.cat([ab * mask, mask], dim=2).expand(-1, len(sigmas), -1, -1, -1)
    inv = torch.tensor([1.0 / (s * s) for s in sigmas], dtype=x.dtype, device=x.device)
    st = _edge_spread(lightness, st, inv.view(1, -1, 1, 1, 1))
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
) -> torch.Tensor:
    """Bend a predicted ab towards the hints around each hint, along regions of similar L.

    ``ab`` and ``hint_ab`` ``(B, 2, H, W)`` on one scale (CIE units or normalised),
    ``lightness`` ``(B, 1, H, W)`` normalised L (-1..1, as in the network input), ``mask``
    ``(B, 1, H, W)``: 1 on hint squares. The residual ``hint_ab - ab`` on the hint squares
    is spread by ``edge_aware_hints``'s filter with the strict edge test and added, weighted
    by the hint mass that arrived, ``mass / (mass + fade_mass)``: in a hint's region the
    network's colour is shifted by what it missed at the hint (its own variation kept);
    far from every hint, or across an edge of L, it stays as it was. Returns
    ``(B, 2, H, W)``.
    """
    if not fade_mass > 0:  # 0 would divide by the zero mass far from every hint
        raise ValueError(f"fade_mass must be positive, got {fade_mass}")
    mask = mask.to(ab.dtype)
    st = torch.cat([(hint_ab - ab) * mask, mask], dim=1)[:, None]  # (B, 1, 3, H, W)
    inv = torch.full((1, 1, 1, 1, 1), 1.0 / FOLLOW_SIGMA**2, dtype=ab.dtype, device=ab.device)
    st = _edge_spread(lightness[:, None], st, inv)[:, 0]
    num, den = st[:, :2], st[:, 2:]
    return ab + num / (den + fade_mass)


class UNet(nn.Module):
    """U-Net generator: ``(B, 4, H, W)`` input -> ``(B, 2, H, W)`` ab in -1..1, any H, W.

    ``joined`` (for subclasses): extra channels that ``_joins`` adds, last, to the input of the
    up step at each level (level i: stride ``2 ** (i + 1)``)."""

    def __init__(self, config: GeneratorConfig, joined: dict[int, int] | None = None):
        super().__init__()
        joined = joined or {}
        if config.depth < 1 or config.width < 1:
            raise ValueError(f"depth and width must be positive, got {config}")
        self.config = config
        self.extra = extra_channels(config)
        self.layout = unet_layout(config, joined)
        self.downs, self.ups = nn.ModuleList(), nn.ModuleList()
        for i in range(config.depth):
            parts, cout = self.layout[f"downs.{i}.0"]
            self.downs.append(_down(sum(parts), cout, norm=i > 0))
        for n in range(config.depth):
            level = config.depth - 1 - n
            parts, cout = self.layout[f"ups.{n}.0"]
            drop = config.dropout if level >= config.depth - 2 and level > 0 else 0.0
            self.ups.append(_up(sum(parts), cout, drop))
        parts, cout = self.layout["head"]
        self.head = nn.Conv2d(sum(parts), cout, 3, padding=1)

    @property
    def multiple(self) -> int:
        return 2**self.config.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, 4, H, W)`` normalised input -> ab ``(B, 2, H, W)`` in -1..1."""
        xp, base = with_hint_features(x, self.config, self.multiple)
        joins = self._joins(xp)
        skips = []
        y = xp
        for down in self.downs:
            y = down(y)
            skips.append(y)
        skips.pop()  # the innermost output is y itself
        for i, up in enumerate(self.ups):
            if i > 0:
                y = torch.cat([y, skips.pop()], dim=1)
            level = self.config.depth - 1 - i
            if level in joins:
                y = torch.cat([y, joins[level].to(y.dtype)], dim=1)
            y = up(y)
        return finish_head(self.head(torch.cat([y, xp], dim=1)), base, x.shape[-2:])

    def _joins(self, xp: torch.Tensor) -> dict[int, torch.Tensor]:
        """Features to join to the up steps, by level (see ``joined``): none here."""
        return {}


def unet_layout(
    config: GeneratorConfig, joined: dict[int, int] | None = None
) -> dict[str, tuple[tuple[int, ...], int]]:
    """The channels of ``UNet``'s convolutions, by module name (``downs.0.0`` ... ``ups.0.0``
    ... ``head``): the sizes of the parts its input joins, in order, and its output channels.

    Down level i makes ``min(width * 2**i, max_width)`` channels; the up steps run from the
    innermost level out, each reading the step before, the skip at its level (not the
    innermost) and ``joined[level]`` channels (a subclass's); the head reads the last up step
    and the input with its hint features. ``grow_state`` maps a narrower model's channels
    into a wider one's part by part."""
    joined = joined or {}
    depth, width = config.depth, config.width
    widths = [min(width * 2**i, config.max_width) for i in range(depth)]
    first = INPUT_CHANNELS + extra_channels(config)
    layout = {}
    for i, w in enumerate(widths):
        layout[f"downs.{i}.0"] = ((first,) if i == 0 else (widths[i - 1],), w)
    for n, level in enumerate(reversed(range(depth))):
        parts = (widths[level],) if n == 0 else (widths[level], widths[level])  # step, skip
        if level in joined:
            parts += (joined[level],)
        layout[f"ups.{n}.0"] = (parts, widths[level - 1] if level > 0 else width)
    layout["head"] = ((width, first), 2)
    return layout


def extra_channels(config: GeneratorConfig) -> int:
    """Channels of the parameter-free hint features fed beside the input."""
    return 3 * config.hint_scales + 3 * config.edge_hints


def with_hint_features(
    x: torch.Tensor, config: GeneratorConfig, multiple: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The input ``(B, 4, H, W)`` padded (replicated) to a multiple of ``multiple`` with its
    hint features beside it: ``(B, 4 + extra_channels, H', W')``, and the first edge-aware
    spread ``(B, 2, H', W')`` that the output corrects (None without edge-aware hints)."""
    if x.dim() != 4 or x.shape[1] != INPUT_CHANNELS:
        raise ValueError(
            f"input must have shape (B, {INPUT_CHANNELS}, H, W), got {tuple(x.shape)}"
        )
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    xp = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
    base = None
    if extra_channels(config):
        feats = [xp]
        xp = xp.contiguous()  # the features run faster on it than on channels-last
        if config.hint_scales:
            feats.append(hint_features(xp, config.hint_scales))
        if config.edge_hints:
            spread = edge_aware_hints(xp, EDGE_SIGMAS[: config.edge_hints])
            base = spread[0][0]
            feats += [t for pair in spread for t in pair]
        xp = torch.cat(feats, dim=1)
        if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
            # Back to the caller's layout once, so every later concatenation with the features
            # (the encoder's input, the head's) stays channels-last: a copy each time otherwise.
            xp = xp.contiguous(memory_format=torch.channels_last)
    return xp, base


def finish_head(y: torch.Tensor, base: torch.Tensor | None, hw) -> torch.Tensor:
    """The head's output ``(B, 2, H', W')`` -> ab in -1..1 cropped to ``hw``: with edge-aware
    hints the head corrects the propagated hints (in tanh's domain)."""
    if base is not None:
        y = y + torch.atanh(base.float().clamp(-0.99, 0.99)).to(y.dtype)
    return torch.tanh(y[..., : hw[0], : hw[1]])


# Decoder channels of ``PretrainedUNet`` at strides 16, 8, 4, 2 and 1, in units of ``width``.
DECODER_UNITS = (4.0, 3.0, 2.0, 1.0, 0.5)


class PretrainedUNet(nn.Module):
    """U-Net whose down path is an ImageNet-pretrained EfficientNet-Lite (``config.encoder``).

    The encoder's features at strides 2 to 32 are the skip connections; the up path is 4 x 4
    transposed convolutions with batch norm and LeakyReLU (``DECODER_UNITS`` x ``width``
    channels), each joined to the skip at its stride; at full resolution the head sees the
    input and the hint features, as in ``UNet``. With ``fine_width`` a block reads those
    straight to half resolution (``fine``, the plain U-Net's first level) and joins the last
    up step's input; its channels come last there, so a model without it grows into one with
    it (``grow_state``). The
    encoder's stem takes L (as the grey image ImageNet weights expect), the hint and
    high-pass channels and the hint features; all but L start at zero weights
    (``colouru.encoders``).
    ``pretrained=True`` loads the ImageNet weights (needs the weights package); a model file
    brings its own.
    """

    multiple = 32

    def __init__(self, config: GeneratorConfig, pretrained: bool = False):
        super().__init__()
        if not config.encoder:
            raise ValueError("architecture unet-pretrained needs an encoder, e.g. "
                             "efficientnet-lite0")
        self.config = config
        self.extra = extra_channels(config)
        self.encoder = EfficientNetLite(config.encoder, in_channels=INPUT_CHANNELS + self.extra)
        if pretrained:
            load_imagenet(self.encoder)
        skips = self.encoder.out_channels  # strides 2, 4, 8, 16, 32
        widths = [max(1, round(u * config.width)) for u in DECODER_UNITS]
        self.ups = nn.ModuleList()
        cin = skips[-1]
        fw = config.fine_width
        # the half-resolution input block: the plain U-Net's first level
        self.fine = _down(INPUT_CHANNELS + self.extra, fw) if fw else None
        for i, w in enumerate(widths):
            self.ups.append(_up(cin + (fw if i == len(widths) - 1 else 0), w))
            cin = w + (skips[-2 - i] if i < len(skips) - 1 else 0)
        self.head = nn.Conv2d(cin + INPUT_CHANNELS + self.extra, 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, 4, H, W)`` normalised input -> ab ``(B, 2, H, W)`` in -1..1."""
        xp, base = with_hint_features(x, self.config, self.multiple)
        grey = grey_input(xp[:, :1], self.encoder.spec)
        feats = self.encoder(torch.cat([grey, xp[:, 1:]], dim=1))
        y = feats.pop()
        for up in self.ups:
            if up is self.ups[-1] and self.fine is not None:
                y = torch.cat([y, self.fine(xp)], dim=1)
            y = up(y)
            if feats:
                y = torch.cat([y, feats.pop()], dim=1)
        return finish_head(self.head(torch.cat([y, xp], dim=1)), base, x.shape[-2:])


# The levels of ``SemanticUNet``'s encoder that its decoder hears: strides 8, 16 and 32; and
# the stages of EfficientNet-Lite it builds: six of seven (the seventh, one block to 320
# channels, is 0.6 M parameters that would take the model file past 20 MB).
SEMANTIC_LEVELS = (2, 3, 4)
SEMANTIC_STAGES = 6


class SemanticUNet(UNet):
    """The plain U-Net whose decoder also hears what an ImageNet classifier sees in the photo.

    A frozen EfficientNet-Lite (``config.encoder``, its first six stages) reads the grey photo
    (L alone: its features do not depend on the hints) and its features at strides 8, 16 and 32
    (``SEMANTIC_LEVELS``) are joined, last, to the inputs of the U-Net's up steps at those
    strides. The U-Net keeps its own full-resolution path for the hints, which the pretrained
    down path of ``PretrainedUNet`` served less well; the encoder brings what a network trained
    on a few thousand photos cannot learn (what skin, leaves and sky look like). A plain
    ``UNet`` grows into one (``grow_state``: zero weights where the features join), so training
    starts from its function exactly.

    The encoder is not trained (``requires_grad`` off, batch norms kept in eval mode): its
    ImageNet knowledge cannot be worn down by a small data set, and training skips its
    backward pass. Because its features depend on L alone, inference keeps the last photo's
    features and reuses them while only the hints change (the app's drag; compared by value,
    so the output is the same function).
    """

    def __init__(self, config: GeneratorConfig, pretrained: bool = False):
        if not config.encoder:
            raise ValueError("architecture unet-semantic needs an encoder, e.g. "
                             "efficientnet-lite0")
        if config.depth < max(SEMANTIC_LEVELS) + 1:
            raise ValueError(f"architecture unet-semantic needs depth "
                             f"{max(SEMANTIC_LEVELS) + 1} or more, got {config.depth}")
        encoder = EfficientNetLite(config.encoder, in_channels=1, n_stages=SEMANTIC_STAGES)
        super().__init__(config, joined={k: encoder.out_channels[k] for k in SEMANTIC_LEVELS})
        if pretrained:
            load_imagenet(encoder)
        self.semantic = encoder.requires_grad_(False).eval()
        # (L, autocast state, the features by level) of the last photo seen without gradients
        self._memo: tuple[torch.Tensor, tuple, dict[int, torch.Tensor]] | None = None
        # new weights (also loaded through a parent module, as a checkpoint does) drop it
        self.register_load_state_dict_post_hook(lambda module, _keys: module.forget())

    def train(self, mode: bool = True) -> SemanticUNet:
        super().train(mode)
        self.semantic.eval()  # its batch norms keep the ImageNet statistics
        return self

    def forget(self) -> None:
        """Drop the kept features: the next call runs the encoder."""
        self._memo = None

    def _joins(self, xp: torch.Tensor) -> dict[int, torch.Tensor]:
        light = xp[:, :1]
        kind = light.device.type
        cast = (torch.is_autocast_enabled(kind), torch.get_autocast_dtype(kind))
        memo = self._memo  # one read: another thread may replace it
        if (memo is not None and not torch.is_grad_enabled() and memo[1] == cast
                and memo[0].shape == light.shape and memo[0].dtype == light.dtype
                and memo[0].device == light.device and torch.equal(memo[0], light)):
            return memo[2]
        with torch.no_grad():
            feats = self.semantic(grey_input(light, self.semantic.spec))
        joins = {k: feats[k] for k in SEMANTIC_LEVELS}
        if not torch.is_grad_enabled():
            self._memo = (light.clone(), cast, joins)
        return joins


ARCHITECTURES = {"unet": UNet, "unet-pretrained": PretrainedUNet, "unet-semantic": SemanticUNet}


def build_generator(config: GeneratorConfig, pretrained: bool = False) -> nn.Module:
    """Build the generator named by ``config.arch``; unknown names list the valid ones.
    ``pretrained``: start its encoder from ImageNet (architectures with one)."""
    try:
        cls = ARCHITECTURES[config.arch]
    except KeyError:
        raise ValueError(
            f"unknown generator architecture {config.arch!r}; valid: {sorted(ARCHITECTURES)}"
        ) from None
    return cls(config, pretrained=True) if pretrained and config.encoder else cls(config)


def grows_into(old: GeneratorConfig, new: GeneratorConfig) -> bool:
    """Whether a model of config ``old`` grows into one of ``new`` as the same function
    (``grow_state``): ``unet-pretrained`` gaining or widening its half-resolution block, the
    plain U-Net gaining the semantic encoder (``unet-semantic``), or either U-Net made wider
    (``width``; its levels keep their ``max_width``)."""
    if new.fine_width > old.fine_width and replace(new, fine_width=old.fine_width) == old:
        return True
    if (old.arch in ("unet", "unet-semantic") and new.width > old.width
            and replace(new, width=old.width) == old):
        return True
    return (old.arch, new.arch) == ("unet", "unet-semantic") and replace(
        new, arch="unet", encoder="") == old


def grow_state(
    model: nn.Module, state: dict[str, torch.Tensor], old: GeneratorConfig | None = None
) -> list[str]:
    """Load ``state`` (a smaller model's weights, of config ``old``) into ``model`` where it
    fits, so ``model`` starts as the same function. Every tensor of equal shape is copied.
    Where ``model`` has more channels:

    - a U-Net's convolution (``unet_layout`` of ``old`` and of ``model``): each old input
      channel goes to its place in the wider input, part by part (the step before, the skip,
      a join); the old output channels hear nothing of the new inputs (zeros), and the new
      output channels keep their fresh weights (the next layer does not hear them at first);
    - another convolution's weight with more input channels gets the old ones first and zeros
      after them (the last up step of a grown ``PretrainedUNet``: the new block is not heard);
    - a longer vector (a batch norm's, a bias) gets the old values first, fresh ones after.

    Tensors ``state`` lacks keep their fresh initialisation. Returns the names of those new
    tensors; anything else that does not fit raises ``ValueError``."""
    own = model.state_dict()
    unknown = sorted(set(state) - set(own))
    if unknown:
        raise ValueError(f"the weights do not fit: {unknown[:3]} not in the new model")
    layouts = (None, None)
    if old is not None and hasattr(model, "layout"):
        with torch.device("meta"):
            layouts = (getattr(build_generator(old), "layout", None), model.layout)
    grown = {}
    for k, v in state.items():
        target = own[k]
        name = k.rpartition(".")[0]
        owner = model.get_submodule(name)
        # the (output, input)-channel dimensions of a convolution's weight, else None
        dims = None
        if k.endswith(".weight") and isinstance(owner, nn.ConvTranspose2d):
            dims = (1, 0)
        elif k.endswith(".weight") and isinstance(owner, nn.Conv2d):
            dims = (0, 1)
        if v.shape == target.shape:
            grown[k] = v
        elif dims and layouts[0] and name in layouts[0] and name in layouts[1]:
            grown[k] = _widened(v, target, dims, layouts[0][name], layouts[1][name])
        elif (dims and v.dim() == target.dim() and v.shape[dims[0]] == target.shape[dims[0]]
              and v.shape[2:] == target.shape[2:] and v.shape[dims[1]] < target.shape[dims[1]]):
            w = torch.zeros_like(target)
            w.narrow(dims[1], 0, v.shape[dims[1]]).copy_(v)
            grown[k] = w
        elif not dims and v.dim() == target.dim() == 1 and len(v) < len(target):
            grown[k] = torch.cat([v, target[len(v):]])
        else:
            raise ValueError(f"the weights do not fit: {k} is {tuple(v.shape)}, the new model's "
                             f"{tuple(target.shape)}")
    new = sorted(set(own) - set(state))
    model.load_state_dict({**own, **grown})
    return new


def _widened(v: torch.Tensor, fresh: torch.Tensor, dims: tuple[int, int],
             old: tuple[tuple[int, ...], int], new: tuple[tuple[int, ...], int]) -> torch.Tensor:
    """A convolution's weight ``v`` placed in a wider one (``fresh``, its initial weights):
    ``old`` and ``new`` are its ``unet_layout`` entries, ``dims`` its (output, input) dims."""
    (old_parts, old_out), (new_parts, new_out) = old, new
    if (len(old_parts) > len(new_parts) or old_out > new_out
            or any(o > n for o, n in zip(old_parts, new_parts, strict=False))
            or v.shape[dims[0]] != old_out or v.shape[dims[1]] != sum(old_parts)):
        raise ValueError(f"the weights do not fit: a layer of {tuple(v.shape)} does not widen "
                         f"into {tuple(fresh.shape)}")
    starts = [sum(new_parts[:i]) for i in range(len(old_parts))]
    places = torch.cat([torch.arange(s, s + n) for s, n in zip(starts, old_parts, strict=True)])
    w = fresh.clone()
    rows = w.narrow(dims[0], 0, old_out)
    rows.zero_()
    rows.index_copy_(dims[1], places, v)
    return w


def inference_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode for inference alone, with each batch norm folded into
    the convolution before it (the same function, about 13% faster on the CPU for the
    pretrained U-Net). Pairs are found in ``nn.Sequential`` blocks and in a module's ``FOLD``
    list of (convolution, batch norm) attribute names. The original keeps its own weights
    (model files are written from it)."""
    net = copy.deepcopy(model).eval()
    for mod in net.modules():
        pairs = []
        if isinstance(mod, nn.Sequential):
            pairs = [(str(i), str(i + 1)) for i in range(len(mod) - 1)]
        pairs += list(getattr(mod, "FOLD", ()))
        for conv_name, bn_name in pairs:
            conv, bn = getattr(mod, conv_name, None), getattr(mod, bn_name, None)
            if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(
                bn, nn.BatchNorm2d
            ):
                fused = fuse_conv_bn_eval(conv, bn, transpose=isinstance(conv, nn.ConvTranspose2d))
                setattr(mod, conv_name, fused)
                setattr(mod, bn_name, nn.Identity())
    return net


def count_flops(model: nn.Module, height: int, width: int, trainable_only: bool = False) -> int:
    """Multiply-adds x 2 of one forward pass on a ``(1, 4, height, width)`` input (conv layers;
    ``trainable_only``: only those whose weights train, not a frozen encoder's). Every layer
    runs: kept features (``SemanticUNet``) are dropped first."""
    total = 0
    for m in model.modules():
        if isinstance(m, SemanticUNet):
            m.forget()

    def hook(mod, inp, out):
        nonlocal total
        if trainable_only and not mod.weight.requires_grad:
            return
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            total += 2 * k * out.numel()
        elif isinstance(mod, nn.ConvTranspose2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.out_channels // mod.groups
            total += 2 * k * inp[0].numel()

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))
    ]
    was_training = model.training
    model.eval()
    try:
        p = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros(1, INPUT_CHANNELS, height, width, dtype=p.dtype, device=p.device))
    finally:
        for hd in handles:
            hd.remove()
        model.train(was_training)
    return total
