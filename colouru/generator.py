"""The generator: a U-Net that predicts ab from the four-channel input.

Down: strided 4x4 convolutions with batch norm and LeakyReLU. Up: 4x4 transposed convolutions
with batch norm and LeakyReLU, each concatenated with the matching encoder features (skip
connections). A last 3x3 convolution sees the decoder output beside the input itself (so a
hint reaches the output at full working resolution) and ends in tanh: ab in -1..1.

Optional parameter-free hint features (``colouru/propagation.py``) are computed from the input
inside ``forward`` and fed to the first and last layers beside it: ``hint_features`` (mean
hint colour in coarse cells) and ``edge_aware_hints`` (the hints spread along regions of
similar L, a fast relative of Levin et al.'s propagation). With edge-aware hints the network
predicts a correction of the first spread: ``tanh(head + atanh(spread))``, so training starts
from a sensible colouring.

Architectures live in the ``ARCHITECTURES`` registry; ``build_generator(config)`` builds one.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

from colouru.encoders import EfficientNetLite, encoder_spec, grey_input, load_imagenet
from colouru.inputs import INPUT_CHANNELS
from colouru.propagation import EDGE_SIGMAS, edge_aware_hints, hint_features

# Bounds of a config's whole numbers, checked before a layer is built (a model file's config is
# untrusted: width 4096 or depth 5000 would exhaust memory just to be refused). Generous: the
# models made so far use width 16 or 32, depth 5, max_width 256.
LIMITS = {
    "width": (1, 1024),
    "depth": (1, 10),  # the input is padded to a multiple of 2**depth
    "max_width": (1, 1024),
    "hint_scales": (0, 4),
    "hint_fade": (0, 1),
}

# Architectures measured and removed (docs/experiments.md has their runs, figures and the commit
# that still has their code): a model file or run config naming one is refused in one line.
REMOVED_ARCHITECTURES = {
    "unet-pretrained": "an ImageNet encoder as the U-Net's down path, behind the plain U-Net "
                       "with hints in runs 14 to 19",
}
# Generator options removed with them: saved configs carry them at their neutral value.
REMOVED_OPTIONS = {"fine_width": 0}  # unet-pretrained's half-resolution input block


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
    # 1: those features' colours faded by their confidence, so a hint leaves no sharp-edged box
    # of its colour (``hint_features``' ``fade``); 1 in the shipped model, 0 (the default, so
    # older model files load as they were trained) in every one before it.
    hint_fade: int = 0
    # Edge-aware hint propagation (``edge_hints``): for each of the first this many widths in
    # ``EDGE_SIGMAS``, the hints spread along the photo's regions (colour and confidence), fed
    # to the first and last layers; the first one is also the base the output corrects.
    edge_hints: int = 0
    # The frozen ImageNet encoder ``unet-semantic`` hears (a key in
    # ``colouru.encoders.ENCODERS``); empty for the plain U-Net.
    encoder: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> GeneratorConfig:
        """The config saved in a model file or a run's config, checked before a layer is
        built; an architecture or option no longer made is refused by name
        (``REMOVED_ARCHITECTURES``, ``REMOVED_OPTIONS``)."""
        removed = REMOVED_ARCHITECTURES.get(d.get("arch"))
        if removed is not None:
            raise ValueError(f"generator architecture {d['arch']!r} was removed ({removed}); "
                             f"see docs/experiments.md")
        d = dict(d)
        for name, neutral in REMOVED_OPTIONS.items():
            if name in d and d.pop(name) != neutral:
                raise ValueError(f"generator config {name} was removed with unet-pretrained "
                                 f"(only {neutral} loads); see docs/experiments.md")
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

    def forward(self, x: torch.Tensor, joins: dict[int, torch.Tensor] | None = None,
                edges: list[torch.Tensor] | None = None) -> torch.Tensor:
        """``x``: ``(B, 4, H, W)`` normalised input -> ab ``(B, 2, H, W)`` in -1..1.
        ``joins``: the features to join by level when the caller has them (``colouru.runtime``
        exports the encoder as a graph of its own); None: ``_joins``. ``edges``: the
        edge-aware spread's weights of the padded input (``with_hint_features``), likewise."""
        xp, base = with_hint_features(x, self.config, self.multiple, edges)
        joins = self._joins(xp) if joins is None else joins
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
    x: torch.Tensor, config: GeneratorConfig, multiple: int,
    edges: list[torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The input ``(B, 4, H, W)`` padded (replicated) to a multiple of ``multiple`` with its
    hint features beside it: ``(B, 4 + extra_channels, H', W')``, and the first edge-aware
    spread ``(B, 2, H', W')`` that the output corrects (None without edge-aware hints).
    ``edges``: ``edge_weights`` of the padded L for ``EDGE_SIGMAS[:config.edge_hints]``,
    where the caller has them (``colouru.runtime``); None: computed here."""
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
            feats.append(hint_features(xp, config.hint_scales, fade=bool(config.hint_fade)))
        if config.edge_hints:
            spread = edge_aware_hints(xp, EDGE_SIGMAS[: config.edge_hints], edges)
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
    strides. The U-Net keeps its own full-resolution path for the hints (an ImageNet encoder as
    the down path served them less well: runs 14 to 19 of docs/experiments.md); the encoder
    brings what a network trained on a few thousand photos cannot learn (what skin, leaves and
    sky look like). A plain
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


ARCHITECTURES = {"unet": UNet, "unet-semantic": SemanticUNet}


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


def inference_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode for inference alone, with each batch norm folded into
    the convolution before it (the same function, faster on the CPU). Pairs are found in
    ``nn.Sequential`` blocks and in a module's ``FOLD`` list of (convolution, batch norm)
    attribute names. The original keeps its own weights
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
