"""Film benchmark (not a test): how steady the colour is, how true, and how fast.

    .venv/bin/python benchmarks/bench_video.py [--frames 48] [--size 320x240]
        [--photo assets/examples/fruit_stand.png] [--model PATH] [--speed-size 640x480]
        [--steadiness S] [--crf 18] [--chroma 420|444] [--bit-depth 8|10] [--decompose]
        [--speed-frames 48] [--speed-only] [--keep DIR]

The test clip: a camera panning over a colour photo (3 px right and 1 px down a frame at
320 x 240: whole pixels, so each scene point's place in the previous frame is exact), made grey
(the photo's own CIE L), then given an old film's faults: each frame's exposure scaled by a
random factor in 0.9..1.1 (in linear light) and film grain (Gaussian, 4 levels of 255,
slightly soft). The grey clip is written as lossless H.264 (full range: every grey level
kept) in an MP4 and colorized by ``colorize_video`` steady (the default steadiness) and frame
by frame (steadiness 0). Each is measured twice: on the frames as the colorizer made them
(kept as they go to the encoder: 8-bit sRGB) and on the film written (``--crf``,
``--chroma``, ``--bit-depth``: by default CRF 18, colour at half resolution (4:2:0), 8-bit
YCbCr), read back as a screen of 8 bits shows it: converted as its tags say, each colour
sample interpolated to the pixels it covers (bilinear, as players do). Against the true
colour frames:

* flicker: the mean CIE ab distance between each pixel of a frame and the same scene point in
  the previous frame (the known camera motion), over the pixels seen in both, averaged over the
  frame pairs (the true colours' own figure is 0);
* PSNR (dB, sRGB) of each output frame against the true colour frame, averaged over frames;
* L error: the mean CIE L distance between each output frame and the grey frame it was made
  from (the lightness kept, up to rounding and the encoder's loss).

``--decompose``: where the film written's flicker comes from: the frames as made taken through
its stages one at a time (``DECOMPOSITION``: before and after the rounding to 8-bit sRGB,
YCbCr of 8 and 10 bits, 4:4:4 and 4:2:0, not encoded, lossless, CRF 10 and 18), each measured
as above.

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
from dataclasses import dataclass
from fractions import Fraction
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
    made them, before the encoder (everything else is the colorizer's own); with ``exact``
    also each frame before its rounding to 8-bit sRGB (float 0..1, ``exact_frames``)."""

    def __init__(self, colorizer, exact: bool = False):
        self.colorizer, self.frames, self.exact, self.exact_frames = colorizer, [], exact, []

    def __getattr__(self, name):
        return getattr(self.colorizer, name)

    def finish_ab(self, prepared, ab_work, hints=(), **kwargs):
        rgb = self.colorizer.finish_ab(prepared, ab_work, hints, **kwargs)
        self.frames.append(rgb.copy())
        if self.exact:
            self.exact_frames.append(unrounded_frame(prepared, ab_work, hints))
        return rgb


def unrounded_frame(prepared, ab_work, hints) -> np.ndarray:
    """The frame ``finish_ab`` makes, before it is rounded to 8-bit sRGB: float32 ``(H, W,
    3)`` in 0..1 (the same upsampling, hint blend and gamut mapping, L kept)."""
    from colouru.colour import lab_to_rgb_preserving_l
    from colouru.finish import ab_rows

    h = prepared.image_hw[0]
    a, b = ab_rows(prepared.lightness, prepared.work_lightness, ab_work, list(hints),
                   prepared.image_hw)(0, h)
    return lab_to_rgb_preserving_l(np.dstack([prepared.lightness, a, b]))


def screen_rgb(frame, fast: bool = False) -> np.ndarray:
    """A decoded YCbCr frame as a screen of 8 bits shows it: sRGB uint8, converted as its tags
    say (matrix and range; limited range when untagged), its colour samples interpolated to
    every pixel (bilinear, as players' GPUs do; ``fast``: FFmpeg's fast converter, which
    repeats each colour sample of 4:2:0 over two pixels of a row)."""
    from av.video.reformatter import Interpolation

    space = "ITU709" if frame.colorspace in (1, 0) else None
    rng = "JPEG" if frame.color_range == 2 else "MPEG"
    how = None if fast else (Interpolation.BILINEAR | Interpolation.ACCURATE_RND
                             | Interpolation.FULL_CHR_H_INT)
    return frame.to_ndarray(format="rgb24", src_colorspace=space, src_color_range=rng,
                            dst_color_range="JPEG", interpolation=how)


def read_rgb_frames(path: Path, fast: bool = False) -> np.ndarray:
    """A film's frames as a screen shows them (``screen_rgb``)."""
    import av

    with av.open(str(path)) as c:
        return np.stack([screen_rgb(f, fast) for f in c.decode(video=0)])


def as_float(frame: np.ndarray) -> np.ndarray:
    """sRGB uint8 (or float) -> float32 0..1."""
    return frame.astype(np.float32) / 255 if frame.dtype == np.uint8 else frame.astype(np.float32)


def flicker_of(frames: np.ndarray, step: tuple[float, float]) -> float:
    """Mean ab change between neighbouring frames at the same scene point (see the module)."""
    ab = [rgb_to_lab(as_float(f))[..., 1:].transpose(2, 0, 1) for f in frames]
    h, w = frames.shape[1:3]
    back = np.empty((h, w, 2), np.float32)
    back[..., 0], back[..., 1] = step
    return float(np.mean([mean_ab_change(ab[t - 1], ab[t], back) for t in range(1, len(ab))]))


def psnr_of(frames: np.ndarray, truth: np.ndarray) -> float:
    from colouru.metrics import psnr

    return float(np.mean([psnr(a, b) for a, b in zip(frames, truth, strict=True)]))


# --- where the written film's flicker comes from (--decompose) ------------------------------
@dataclass(frozen=True)
class Stage:
    """The frames as made taken through the written film's stages up to one: the frames fed
    (``fed``: "8", 8-bit sRGB as ``finish_ab`` hands them to the encoder, or "exact": before
    that rounding, as 16-bit sRGB), their YCbCr (``pix_fmt``, by
    ``video_write.encoder_frame``: BT.709, limited range unless ``full_range``; None: the sRGB
    frames themselves), libx264 with ``options`` (the film's preset, no B-frames; None: not
    encoded, a round trip through FFmpeg's converter), read back as a screen shows them
    (``screen_rgb``; ``fast``: FFmpeg's fast converter)."""

    label: str
    fed: str = "8"
    pix_fmt: str | None = None
    options: dict | None = None
    full_range: bool = False
    fast: bool = False


CRF18, CRF10, LOSSLESS = {"crf": "18"}, {"crf": "10"}, {"qp": "0"}
DECOMPOSITION = (
    Stage("as made, before rounding (float sRGB)", fed="exact"),
    Stage("as made (8-bit sRGB)"),
    Stage("8-bit YCbCr 4:4:4, not encoded", pix_fmt="yuv444p"),
    Stage("8-bit YCbCr 4:2:0, not encoded", pix_fmt="yuv420p"),
    Stage("8-bit YCbCr 4:2:0, not encoded, colour samples repeated (FFmpeg's fast converter)",
          pix_fmt="yuv420p", fast=True),
    Stage("8-bit 4:2:0, lossless (qp 0)", pix_fmt="yuv420p", options=LOSSLESS),
    Stage("8-bit 4:2:0, CRF 10", pix_fmt="yuv420p", options=CRF10),
    Stage("8-bit 4:4:4, CRF 18", pix_fmt="yuv444p", options=CRF18),
    Stage("8-bit 4:2:0, CRF 18 (the default film)", pix_fmt="yuv420p", options=CRF18),
    Stage("8-bit 4:2:0, CRF 18, colour samples repeated (FFmpeg's fast converter)",
          pix_fmt="yuv420p", options=CRF18, fast=True),
    Stage("8-bit 4:2:0, CRF 18, full range", pix_fmt="yuv420p", options=CRF18,
          full_range=True),
    Stage("10-bit YCbCr 4:4:4, not encoded", pix_fmt="yuv444p10le"),
    Stage("10-bit 4:4:4, CRF 18", pix_fmt="yuv444p10le", options=CRF18),
    Stage("10-bit 4:2:0, CRF 18 (--bit-depth 10)", pix_fmt="yuv420p10le", options=CRF18),
    Stage("10-bit 4:2:0, CRF 18, fed float sRGB", fed="exact", pix_fmt="yuv420p10le",
          options=CRF18),
)


def as_sixteen_bits(frames: np.ndarray) -> np.ndarray:
    """Float sRGB 0..1 -> uint16 0..65535 (rounded)."""
    return (np.clip(frames, 0, 1) * 65535 + 0.5).astype(np.uint16)


def staged(frames: np.ndarray, stage: Stage, path: Path) -> np.ndarray:
    """``frames`` (sRGB uint8, or uint16 for more bits) taken through ``stage``'s YCbCr and
    encoder (into ``path``), read back as a screen shows them."""
    import av

    from colouru.film_settings import DEFAULT_PRESET
    from colouru.video_write import add_video_stream, encoder_frame

    size = (frames.shape[2], frames.shape[1])
    ycbcr = (encoder_frame(f, size, stage.pix_fmt, stage.full_range) for f in frames)
    if stage.options is None:
        return np.stack([screen_rgb(f, stage.fast) for f in ycbcr])
    with av.open(str(path), "w") as out:
        s = add_video_stream(out, "libx264", {"preset": DEFAULT_PRESET, "bf": "0",
                                              **stage.options}, stage.pix_fmt, size,
                             Fraction(1, 24), Fraction(24), stage.full_range)
        for i, frame in enumerate(ycbcr):
            frame.pts = i
            out.mux(s.encode(frame))
        out.mux(s.encode())
    return read_rgb_frames(path, stage.fast)


def decompose(made: dict, step: tuple[float, float], truth: np.ndarray,
              folder: Path) -> tuple[list[str], dict]:
    """The DECOMPOSITION's figures for each run of ``made`` (name -> ``{"8": frames as made,
    "exact": before rounding}``): markdown rows (flicker steady, frame by frame, their
    ratio, PSNR) and a JSON part."""
    rows, doc = [], {}
    names = list(made)
    for stage in DECOMPOSITION:
        figures = {}
        for k, name in enumerate(names):
            out = made[name][stage.fed]
            if stage.pix_fmt is not None:
                if stage.fed == "exact":
                    out = as_sixteen_bits(out)
                out = staged(out, stage, folder / f"stage_{k}.mp4")
            figures[name] = {"flicker": flicker_of(out, step), "psnr": psnr_of(out, truth)}
        doc[stage.label] = figures
        fl = [figures[n]["flicker"] for n in names]
        rows.append(f"| {stage.label} | " + " | ".join(f"{f:.2f}" for f in fl)
                    + f" | {fl[0] / fl[-1]:.2f} | "
                    + " / ".join(f"{figures[n]['psnr']:.2f}" for n in names) + " |")
    return rows, doc


def cpu_seconds() -> float:
    """This process's CPU time (user and system, every thread): a figure that other work on
    the machine changes less than the wall time."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quality_runs(colorizer, args, photo: np.ndarray, steadiness: float, folder: Path,
                 rows: list[str], doc: dict) -> None:
    """The test clip colorized steady and frame by frame, measured as made and as written
    (and, with ``--decompose``, stage by stage); adds to ``rows`` and ``doc``."""
    from colouru.video import colorize_video

    w, h = map(int, args.size.split("x"))
    truth, grey, step = make_clip(photo, args.frames, (w, h))
    src = folder / "pan_grey.mp4"
    write_grey_clip(src, grey)
    doc["clip"] = {"frames": args.frames, "size": [w, h], "photo": Path(args.photo).name,
                   "step_px": step}
    doc["truth_flicker"] = flicker_of(truth, step)
    grey_l = [srgb_image_lightness(g) for g in grey]
    made = {}
    for name, s in (("steady", steadiness), ("frame by frame", 0.0)):
        dst = folder / f"pan_{'steady' if s else 'frames'}.mp4"
        dst.unlink(missing_ok=True)
        capture = Capture(colorizer, exact=args.decompose)
        t0 = time.perf_counter()
        colorize_video(src, dst, capture, steadiness=s, overwrite=True, crf=args.crf,
                       chroma=args.chroma, bit_depth=args.bit_depth)
        dt = time.perf_counter() - t0
        made[name] = {"8": np.stack(capture.frames)}
        if args.decompose:
            made[name]["exact"] = np.stack(capture.exact_frames)
        written = (f"film written (CRF {args.crf}, {args.chroma[0]}:{args.chroma[1]}:"
                   f"{args.chroma[2]}, {args.bit_depth}-bit)")
        for output, frames in (("frames as made", made[name]["8"]),
                               (written, read_rgb_frames(dst))):
            fl, ps = flicker_of(frames, step), psnr_of(frames, truth)
            l_err = float(np.mean([np.abs(srgb_image_lightness(o) - g).mean()
                                   for o, g in zip(frames, grey_l, strict=True)]))
            doc[f"{output}, {name}"] = {"steadiness": s, "flicker": fl, "psnr": ps,
                                        "lightness_error": l_err, "fps": len(frames) / dt}
            rows.append(f"| {output}, {name} ({s:g}) | {fl:.2f} | {ps:.2f} | {l_err:.2f} | "
                        f"{len(frames) / dt:.1f} |")
    for output in ("frames as made", written):
        a, b = doc[f"{output}, steady"], doc[f"{output}, frame by frame"]
        doc[f"{output}: steady against frame by frame"] = {
            "flicker_ratio": a["flicker"] / b["flicker"], "psnr_gain": a["psnr"] - b["psnr"]}
    if args.keep:
        np.savez_compressed(folder / "frames_as_made.npz", truth=truth, **{
            f"{name.split()[0]}_{fed}": frames for name, m in made.items()
            for fed, frames in m.items()})
    if args.decompose:
        drows, doc["decomposition"] = decompose(made, step, truth, folder)
        doc["decomposition_rows"] = drows


def speed_runs(colorizer, args, photo: np.ndarray, steadiness: float, folder: Path,
               rows: list[str], doc: dict) -> None:
    """A clip of ``--speed-frames`` at ``--speed-size`` colorized steady and frame by frame:
    frames a second and CPU seconds a frame; adds to ``rows`` and ``doc``."""
    from colouru.video import colorize_video

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
    p.add_argument("--bit-depth", type=int, default=8, choices=(8, 10),
                   help="the film written's bits a sample (default 8)")
    p.add_argument("--decompose", action="store_true", help="also the flicker the written "
                   "film's stages add, one at a time (DECOMPOSITION)")
    p.add_argument("--speed-size", default="640x480", help="WxH of the speed clip ('' : none)")
    p.add_argument("--speed-frames", type=int, default=48)
    p.add_argument("--speed-only", action="store_true", help="only the speed clip (e.g. 1080p "
                   "for the peak memory: --speed-size 1920x1080 --speed-frames 24)")
    p.add_argument("--keep", help="keep the clips (and the frames as made, an .npz) in this "
                   "folder")
    args = p.parse_args(argv)

    from colouru.colorizer import Colorizer
    from colouru.imageio import read_image
    from colouru.temporal import DEFAULT_CARRY

    colorizer = Colorizer.load(args.model, device="cpu")
    photo = (read_image(args.photo) * 255 + 0.5).astype(np.uint8)
    steadiness = DEFAULT_CARRY if args.steadiness is None else args.steadiness
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="colouru-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows, doc = [], {}
    if not args.speed_only:
        quality_runs(colorizer, args, photo, steadiness, folder, rows, doc)
    if args.speed_size:
        speed_runs(colorizer, args, photo, steadiness, folder, rows, doc)
    doc["peak_memory_mb"] = peak_mb()
    print("| run | flicker (mean ab change) | PSNR (dB) | L error | frames/s |")
    print("|---|---|---|---|---|")
    if not args.speed_only:
        print(f"| true colours | {doc['truth_flicker']:.2f} | | | |")
    print("\n".join(rows))
    for key, v in doc.items():
        if key.endswith("steady against frame by frame"):
            print(f"{key}: flicker ratio {v['flicker_ratio']:.3f}, PSNR {v['psnr_gain']:+.2f} dB")
    if "decomposition_rows" in doc:
        print("\n| the frames as made, taken up to | flicker, steady | flicker, frame by "
              "frame | ratio | PSNR (dB), steady / frame by frame |")
        print("|---|---|---|---|---|")
        print("\n".join(doc.pop("decomposition_rows")))
    print(f"peak memory {doc['peak_memory_mb']:.0f} MB; clips in {folder}")
    print(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
