"""Model growth (``colouru train --init MODEL`` with generator options): a trained generator
becomes a larger one that starts as the same function, then trains on. ``grows_into`` says
which changes can grow (the plain U-Net gaining the semantic encoder, a U-Net made wider);
``grow_state`` loads the small model's weights into the large one, channel by channel
(``unet_layout``)."""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn as nn

from colouru.generator import GeneratorConfig, build_generator

# Generator options that change what the layers hear, not a weight's shape: with ``--init`` they
# may change, every weight kept (the run learns the new inputs).
INPUT_OPTIONS = ("hint_fade",)


def same_layers(old: GeneratorConfig, new: GeneratorConfig) -> GeneratorConfig:
    """``new`` with ``old``'s ``INPUT_OPTIONS``: equal to ``old`` when the two have the same
    layers, weight for weight; what ``grows_into`` compares for a model that also grows."""
    return replace(new, **{k: getattr(old, k) for k in INPUT_OPTIONS})


def grows_into(old: GeneratorConfig, new: GeneratorConfig) -> bool:
    """Whether a model of config ``old`` grows into one of ``new`` as the same function
    (``grow_state``): the plain U-Net gaining the semantic encoder (``unet-semantic``), or
    either U-Net made wider (``width``; its levels keep their ``max_width``)."""
    if new.width > old.width and replace(new, width=old.width) == old:
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
    - without ``old``, a convolution's weight with more input channels gets the old ones first
      and zeros after them (a plain U-Net's up steps grown into ``unet-semantic``: the
      encoder's features join last and are not heard);
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
