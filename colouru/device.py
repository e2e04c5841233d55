"""Devices and numeric precision: which device runs the network, and in which precision.

``resolve_device`` picks CUDA, then Apple MPS, then the CPU. ``resolve_precision`` picks fp32
or bf16 autocast for a device: asked for by name, or ``auto``. bf16 is never assumed: it is
used only where the hardware has it (``bf16_supported``: a CUDA GPU that reports it, a CPU with
avx512_bf16 or AMX as oneDNN sees it), and ``auto`` takes it only where it was measured to be
faster (CUDA). On the CPU ``auto`` keeps fp32: on this project's machine (a Xeon reporting
avx512_bf16, torch 2.13), bf16 autocast made the generator's training step 1.5x slower and
its inference 1.2x slower (benchmarks/bench_core.py and bench_train.py print both rows), so
``--precision bf16`` is there for CPUs where it pays, not the default.

Autocast runs the convolutions in bf16 while parameters, batch-norm statistics and losses stay
fp32; callers compute losses on ``output.float()``.
"""

from __future__ import annotations

import contextlib

import torch

PRECISIONS = ("auto", "fp32", "bf16")
DEFAULT_CPU_THREADS = torch.get_num_threads()  # torch's own choice at start (all cores)


def set_cpu_threads(threads: int | None = None) -> None:
    """Set the CPU threads of the parallel work (OpenMP) that the *calling* thread starts;
    None: ``DEFAULT_CPU_THREADS``.

    OpenMP keeps a team of threads per thread that starts parallel work. Once the main thread
    has one, work started by another thread (the app's inference thread) runs much slower on
    a 2-core CPU: a preview took 72 to 118 ms instead of 31 to 37 here. So the app keeps its
    GUI thread to one thread (``set_cpu_threads(1)`` before the model loads) and gives its
    inference thread all cores (``gui.service.DRAG_THREADS`` may leave the GUI thread a core
    during a drag: faster when other processes load the cores, slower on an idle machine).
    """
    torch.set_num_threads(int(threads or DEFAULT_CPU_THREADS))


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then the CPU; other names are checked."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but no CUDA GPU is available to PyTorch")
    mps = getattr(torch.backends, "mps", None)
    if device == "mps" and not (mps is not None and mps.is_available()):
        raise ValueError("device 'mps' asked for, but Apple MPS is not available")
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise ValueError(f"unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps")
    return torch.device(device)


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` computes in bf16 natively (detected, not assumed)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
        return bool(check is not None and check())
    return False


def resolve_precision(device: torch.device, precision: str = "auto") -> str:
    """``"fp32"`` or ``"bf16"`` for ``device``: ``auto`` takes bf16 on a CUDA GPU that has it,
    fp32 elsewhere (see the module docstring); ``bf16`` is refused where the hardware lacks it."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    if precision == "bf16" and not bf16_supported(device):
        raise ValueError(f"precision bf16 asked for, but {device} has no native bf16")
    if precision == "auto":
        return "bf16" if device.type == "cuda" and bf16_supported(device) else "fp32"
    return precision


def autocast(device: torch.device, precision: str):
    """The context the network runs in: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def describe_precision(device: torch.device, precision: str) -> str:
    """One line for ``colouru info``: what runs and what the hardware offers."""
    has = "has" if bf16_supported(device) else "has no"
    return f"precision: {precision} ({device} {has} native bf16)"
