"""Film benchmark (not a test): how steady the colour is, how true, and how fast.

    .venv/bin/python benchmarks/bench_video.py [--frames 48] [--size 320x240]
        [--photo assets/examples/fruit_stand.png] [--model PATH] [--speed-size 640x480]
        [--steadiness S] [--crf 18] [--chroma 420|444] [--speed-frames 48] [--speed-only]
        [--keep DIR]

The test clip: a camera panning over a colour photo (3 px right and 1 px down a frame at
320 x 240: whole pixels, so each scene point's place in the previous frame is exact), made grey
(the photo's own CIE L), then given an old film's faults: each frame's exposure scaled by a
random factor in 0.9..1.1 (in linear light) and film grain (Gaussian, 4 levels of 255,
slightly soft). The grey clip is written as lossless H.264 (full range: every grey level
kept) in an MP4 and colorized by ``colorize_video`` steady (the default steadiness) and frame
by frame (steadiness 0). Each is measured twice: on the frames as the colorizer made them
(kept as they go to the encoder) and on the film written (CRF 18, colour at half resolution:
4:2:0, which moves a colour edge by half a chroma sample each time the camera pans an odd
number of pixels, and rounds to 8-bit YCbCr; the same for both), decoded as its colour tags
say. Against the true colour frames:

* flicker: the mean CIE ab distance between each pixel of a frame and the same scene point in
  the previous frame (the known camera motion), over the pixels seen in both, averaged over the
  frame pairs (the true colours' own figure is 0);
* PSNR (dB, sRGB) of each output frame against the true colour frame, averaged over frames;
* L error: the mean CIE L distance between each output frame and the grey frame it was made
  from (the lightness kept, up to rounding and the film's chroma resolution).

Speed: ``colorize_video`` of a clip of ``--speed-frames`` at ``--speed-size`` (the same clip
maker), frames per second of wall time and the process's CPU seconds a frame (all threads;
other work on the machine changes it less than the wall time), steady and frame by frame,
with the process's peak memory. Prints a markdown table and a JSON document.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from colouru.colour import lab_to_rgb, rgb_to_lab, srgb_image_lightness  # noqa: E402
from colouru.temporal import mean_ab_change  # noqa: E402

PAN = (3, 1)  # camera motion, whole pixels a frame at 320 x 240 (scaled with the width)


def make_clip(photo: np.ndarray, frames: int = 48, size: tuple[int, int] = (320, 240),
              flicker: float = 0.10, grain: float = 4.0, seed: int = 0):
    """The panning test clip: ``(truth, grey, step)``: true colour frames uint8 ``(n, h, w, 3)``,
    the grey film frames uint8 ``(n, h, w)`` (exposure flicker of +-``flicker`` and grain of
    ``grain`` levels), and the camera's step ``(dx, dy)`` in output pixels a frame, so the
    scene point at pixel (x, y) of frame t is at (x + dx, y + dy) in frame t - 1."""
    w, h = size
    scale = w / 320
    dx, dy = PAN[0] * scale, PAN[1] * scale
    need_w, need_h = w + dx * (frames - 1) + 4, h + dy * (frames - 1) + 4
    f = max(need_w / photo.shape[1], need_h / photo.shape[0])
    src = cv2.resize(photo, (int(np.ceil(photo.shape[1] * f)), int(np.ceil(photo.shape[0] * f))),
                     interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    rng = np.random.default_rng(seed)
    truth = np.empty((frames, h, w, 3), np.uint8)
    grey = np.empty((frames, h, w), np.uint8)
    for t in range(frames):
        m = np.float32([[1, 0, -(2 + dx * t)], [0, 1, -(2 + dy * t)]])
        rgb = cv2.warpAffine(src, m, (w, h), flags=cv2.INTER_CUBIC,
                             borderMode=cv2.BORDER_REFLECT)
        truth[t] = rgb
        lab = rgb_to_lab(rgb.astype(np.float32) / 255)
        lab[..., 1:] = 0
        g = lab_to_rgb(lab)[..., 0]  # the grey photo: its own L, no colour
        lin = np.where(g <= 0.04045, g / 12.92, ((g + 0.055) / 1.055) ** 2.4)
        lin = lin * (1 + rng.uniform(-flicker, flicker))
        g = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
        noise = cv2.GaussianBlur(rng.normal(0, grain, (h, w)).astype(np.float32), (0, 0), 0.5)
        noise *= grain / max(float(noise.std()), 1e-6)
        grey[t] = np.clip(g * 255 + noise + 0.5, 0, 255).astype(np.uint8)
    return truth, grey, (dx, dy)


def write_grey_clip(path: Path, grey: np.ndarray, rate: int = 24) -> None:
    """The grey frames as lossless H.264 (qp 0, full range: each grey level kept) in an MP4."""
    import av

    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=rate, options={"qp": "0", "preset": "veryfast"})
        s.height, s.width = grey.shape[1:]
        s.pix_fmt = "yuvj420p"
        for i, g in enumerate(grey):
            frame = av.VideoFrame.from_ndarray(g, format="gray").reformat(format="yuvj420p")
            frame.pts = i
            out.mux(s.encode(frame))
        out.mux(s.encode())


class Capture:
    """A colorizer that keeps a copy of each frame it finishes: the frames as the colorizer
    made them, before the encoder (everything else is the colorizer's own)."""

    def __init__(self, colorizer):
        self.colorizer, self.frames = colorizer, []

    def __getattr__(self, name):
        return getattr(self.colorizer, name)

    def finish_ab(self, *args, **kwargs):
        rgb = self.colorizer.finish_ab(*args, **kwargs)
        self.frames.append(rgb.copy())
        return rgb


def read_rgb_frames(path: Path) -> np.ndarray:
    """A film's frames as sRGB uint8, converted as its tags say (matrix and range)."""
    import av

    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            space = "ITU709" if f.colorspace == 1 else None
            rng = {1: "MPEG", 2: "JPEG"}.get(f.color_range)
            out.append(f.to_ndarray(format="rgb24", src_colorspace=space, src_color_range=rng,
                                    dst_color_range="JPEG"))
    return np.stack(out)


def flicker_of(frames: np.ndarray, step: tuple[float, float]) -> float:
    """Mean ab change between neighbouring frames at the same scene point (see the module)."""
    ab = [rgb_to_lab(f.astype(np.float32) / 255)[..., 1:].transpose(2, 0, 1) for f in frames]
    h, w = frames.shape[1:3]
    back = np.empty((h, w, 2), np.float32)
    back[..., 0], back[..., 1] = step
    return float(np.mean([mean_ab_change(ab[t - 1], ab[t], back) for t in range(1, len(ab))]))


def psnr_of(frames: np.ndarray, truth: np.ndarray) -> float:
    from colouru.metrics import psnr

    return float(np.mean([psnr(a, b) for a, b in zip(frames, truth, strict=True)]))


def cpu_seconds() -> float:
    """This process's CPU time (user and system, every thread): a figure that other work on
    the machine changes less than the wall time."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--size", default="320x240", help="WxH of the quality clip")
    p.add_argument("--photo", default=str(ROOT / "assets/examples/fruit_stand.png"))
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--steadiness", type=float, help="steady run's steadiness (default: the "
                   "library's)")
    p.add_argument("--crf", type=int, default=18, help="the film written's CRF (default 18)")
    p.add_argument("--chroma", default="420", choices=("420", "444"),
                   help="the film written's colour resolution (default 420)")
    p.add_argument("--speed-size", default="640x480", help="WxH of the speed clip ('' : none)")
    p.add_argument("--speed-frames", type=int, default=48)
    p.add_argument("--speed-only", action="store_true", help="only the speed clip (e.g. 1080p "
                   "for the peak memory: --speed-size 1920x1080 --speed-frames 24)")
    p.add_argument("--keep", help="keep the clips in this folder")
    args = p.parse_args(argv)

    from colouru.colorizer import Colorizer
    from colouru.imageio import read_image
    from colouru.temporal import DEFAULT_CARRY
    from colouru.video import colorize_video

    colorizer = Colorizer.load(args.model, device="cpu")
    photo = (read_image(args.photo) * 255 + 0.5).astype(np.uint8)
    steadiness = DEFAULT_CARRY if args.steadiness is None else args.steadiness
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="colouru-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    w, h = map(int, args.size.split("x"))
    truth, grey, step = make_clip(photo, args.frames, (w, h))
    src = folder / "pan_grey.mp4"
    write_grey_clip(src, grey)
    rows, doc = [], {"clip": {"frames": args.frames, "size": [w, h], "photo":
                              Path(args.photo).name, "step_px": step}}
    doc["truth_flicker"] = flicker_of(truth, step)
    grey_l = [srgb_image_lightness(g) for g in grey]
    runs = () if args.speed_only else (("steady", steadiness), ("frame by frame", 0.0))
    for name, s in runs:
        dst = folder / f"pan_{'steady' if s else 'frames'}.mp4"
        dst.unlink(missing_ok=True)
        capture = Capture(colorizer)
        t0 = time.perf_counter()
        colorize_video(src, dst, capture, steadiness=s, overwrite=True, crf=args.crf,
                       chroma=args.chroma)
        dt = time.perf_counter() - t0
        written = f"film written (CRF {args.crf}, {args.chroma[0]}:{args.chroma[1]}:" \
                  f"{args.chroma[2]})"
        for output, frames in (("frames as made", np.stack(capture.frames)),
                               (written, read_rgb_frames(dst))):
            fl, ps = flicker_of(frames, step), psnr_of(frames, truth)
            l_err = float(np.mean([np.abs(srgb_image_lightness(o) - g).mean()
                                   for o, g in zip(frames, grey_l, strict=True)]))
            doc[f"{output}, {name}"] = {"steadiness": s, "flicker": fl, "psnr": ps,
                                        "lightness_error": l_err, "fps": len(frames) / dt}
            rows.append(f"| {output}, {name} ({s:g}) | {fl:.2f} | {ps:.2f} | {l_err:.2f} | "
                        f"{len(frames) / dt:.1f} |")
    if args.speed_size:
        sw, sh = map(int, args.speed_size.split("x"))
        _, grey2, _ = make_clip(photo, args.speed_frames, (sw, sh), seed=1)
        src2 = folder / f"speed_{sw}x{sh}.mp4"
        write_grey_clip(src2, grey2)
        for name, s in (("steady", steadiness), ("frame by frame", 0.0)):
            dst = folder / f"speed_{'steady' if s else 'frames'}.mp4"
            dst.unlink(missing_ok=True)
            t0, c0 = time.perf_counter(), cpu_seconds()
            colorize_video(src2, dst, colorizer, steadiness=s, overwrite=True)
            fps = args.speed_frames / (time.perf_counter() - t0)
            cpu = (cpu_seconds() - c0) / args.speed_frames
            doc[f"speed {sw}x{sh} {name}"] = {"fps": fps, "cpu_s_per_frame": cpu}
            rows.append(f"| speed {sw}x{sh}, {name} ({cpu:.2f} CPU-s a frame) | | | | "
                        f"{fps:.1f} |")
    doc["peak_memory_mb"] = peak_mb()
    print("| run | flicker (mean ab change) | PSNR (dB) | L error | frames/s |")
    print("|---|---|---|---|---|")
    if not args.speed_only:
        print(f"| true colours | {doc['truth_flicker']:.2f} | | | |")
    print("\n".join(rows))
    print(f"peak memory {doc['peak_memory_mb']:.0f} MB; clips in {folder}")
    print(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
