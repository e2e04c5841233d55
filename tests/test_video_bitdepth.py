"""Films written at 10 bits a sample (``colouru colorize --bit-depth 10``): real tiny videos
made here, colorized through the command line. The film is H.264 High 10 (4:2:0) or High
4:4:4 (``--chroma 444``) with the frame count, size, rate and audio of the source, as the
8-bit film; a lossless 10-bit master (``--crf 0 --chroma 444``) holds the frames exactly as
the colorizer made them, the 8-bit one does not; a 10-bit film is read back (the command
line and the app's frame reader); WebM (VP9: 8 bits in PyAV's FFmpeg) is refused in one
line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

from av.video.reformatter import Interpolation  # noqa: E402

from colouru.cli import main  # noqa: E402
from colouru.colorizer import Colorizer  # noqa: E402
from colouru.colour import rgb_to_lab  # noqa: E402

# Colour samples interpolated to every pixel, as players show 4:2:0 (bilinear).
SMOOTH = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT


def make_film(path: Path, frames: int = 6, size=(64, 48), pix_fmt: str = "yuv420p",
              audio: bool = True) -> None:
    """A tiny grey H.264 film: a textured picture panning 2 px right and 1 down a frame, each
    frame's exposure flickering by a few percent (an old film's), with a sine tone."""
    w, h = size
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h + frames + 8, 0:w + 2 * frames + 8].astype(np.float32)
    big = 0.5 + 0.25 * np.sin(xx / 5) * np.cos(yy / 7) + 0.1 * rng.random(xx.shape)
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = w, h, pix_fmt
        a = out.add_stream("aac", rate=48000, layout="mono") if audio else None
        for t in range(frames):
            g = big[4 + t:4 + t + h, 4 + 2 * t:4 + 2 * t + w] * (1 + 0.05 * (-1) ** t)
            g8 = (np.clip(g, 0, 1) * 255 + 0.5).astype(np.uint8)
            f = av.VideoFrame.from_ndarray(np.repeat(g8[..., None], 3, 2), format="rgb24")
            f.pts = t
            out.mux(v.encode(f))
        out.mux(v.encode())
        if a is not None:
            n, step = 48000 * frames // 24, a.codec_context.frame_size or 1024
            tone = (0.2 * np.sin(np.arange(n) * 2 * np.pi * 440 / 48000)).astype(np.float32)
            for i0 in range(0, n, step):
                fr = av.AudioFrame.from_ndarray(tone[None, i0:i0 + step].copy(), format="fltp",
                                                layout="mono")
                fr.sample_rate, fr.pts = 48000, i0
                out.mux(a.encode(fr))
            out.mux(a.encode())


def film_facts(path: Path) -> dict:
    """A film's video stream (pix_fmt, profile, size, rate), its frames as an 8-bit screen
    shows them (sRGB uint8, converted as tagged), and its audio packets."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        facts = {"pix_fmt": v.codec_context.pix_fmt, "profile": v.codec_context.profile,
                 "size": (v.codec_context.width, v.codec_context.height),
                 "rate": v.average_rate}
        frames = []
        for f in c.decode(v):
            frames.append(f.to_ndarray(format="rgb24", src_colorspace="ITU709",
                                       src_color_range="MPEG", dst_color_range="JPEG",
                                       interpolation=SMOOTH))
        facts["frames"] = frames
    with av.open(str(path)) as c:
        facts["audio"] = [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size] \
            if c.streams.audio else []
    return facts


def ab_error(films: list[np.ndarray], made: list[np.ndarray]) -> float:
    """Mean CIE ab distance between a film's frames and the frames as made."""
    d = [np.hypot(*(rgb_to_lab(a / 255.0)[..., 1:] - rgb_to_lab(b / 255.0)[..., 1:])
                  .transpose(2, 0, 1)) for a, b in zip(films, made, strict=True)]
    return float(np.mean(d))


@pytest.fixture
def run(tiny_model_path, capsys, monkeypatch):
    """``colouru colorize ... --model tiny -q`` -> (exit status, stderr lines, the frames as
    the colorizer made them, before the encoder)."""
    finish_ab = Colorizer.finish_ab

    def go(*args):
        made = []

        def keep(self, *a, **k):
            rgb = finish_ab(self, *a, **k)
            made.append(rgb.copy())
            return rgb

        monkeypatch.setattr(Colorizer, "finish_ab", keep)
        code = main(["colorize", *map(str, args), "--model", str(tiny_model_path), "-q",
                     "--device", "cpu"])
        monkeypatch.setattr(Colorizer, "finish_ab", finish_ab)
        return code, [ln for ln in capsys.readouterr().err.splitlines() if ln], made
    return go


@pytest.mark.parametrize("chroma,pix_fmt,profile", [("420", "yuv420p10le", "High 10"),
                                                    ("444", "yuv444p10le", "High 4:4:4")])
def test_bit_depth_10_writes_a_10_bit_film_of_the_same_frames_and_audio(tmp_path, run, chroma,
                                                                        pix_fmt, profile):
    src = tmp_path / "film.mp4"
    make_film(src)
    source = film_facts(src)
    for depth in (8, 10):
        out = tmp_path / f"out{depth}"
        code, err, made = run(src, "-o", out, "--bit-depth", depth, "--chroma", chroma)
        assert code == 0, err
        facts = film_facts(out / "film.mp4")
        assert facts["pix_fmt"] == (pix_fmt if depth == 10 else pix_fmt[:7])
        if depth == 10:
            assert facts["profile"].startswith(profile)
        assert len(facts["frames"]) == len(made) == len(source["frames"]) == 6
        assert facts["size"] == (64, 48) and facts["rate"] == source["rate"]
        assert facts["audio"] == source["audio"]  # copied packet for packet


def test_a_10_bit_lossless_master_holds_the_frames_as_made_and_an_8_bit_one_does_not(
        tmp_path, run):
    src = tmp_path / "film.mp4"
    make_film(src, audio=False)
    error = {}
    for depth in (8, 10):
        out = tmp_path / f"out{depth}"
        code, err, made = run(src, "-o", out, "--bit-depth", depth, "--chroma", "444",
                              "--crf", "0")
        assert code == 0, err
        films = film_facts(out / "film.mp4")["frames"]
        error[depth] = (ab_error(films, made), np.abs(np.stack(films).astype(int)
                                                      - np.stack(made)).max())
    assert error[10] == (0, 0)  # YCbCr of 10 bits holds every 8-bit sRGB colour
    assert error[8][0] > 0.1


def test_a_10_bit_film_is_read_by_the_command_line_and_the_app(tmp_path, run):
    src = tmp_path / "deep.mkv"
    make_film(src, frames=4, pix_fmt="yuv420p10le", audio=False)
    code, err, made = run(src, "-o", tmp_path / "out")
    assert code == 0, err
    facts = film_facts(tmp_path / "out/deep.mkv")
    assert len(facts["frames"]) == len(made) == 4 and facts["pix_fmt"] == "yuv420p"
    pytest.importorskip("PySide6")
    from gui.film_frames import FrameReader

    reader = FrameReader(src)
    try:
        grey = reader.grey(3)
    finally:
        reader.close()
    assert grey.dtype == np.uint16 and grey.shape == (48, 64)


def test_bit_depth_10_for_webm_is_refused_in_one_line(tmp_path, run):
    src = tmp_path / "film.webm"
    with av.open(str(src), "w") as out:
        v = out.add_stream("libvpx-vp9", rate=24)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        for t in range(2):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 60 * t + 40, np.uint8),
                                           format="rgb24")
            f.pts = t
            out.mux(v.encode(f))
        out.mux(v.encode())
    code, err, _ = run(src, "-o", tmp_path / "out", "--bit-depth", "10")
    assert code == 1
    lines = [ln for ln in err if "film.webm" in ln]
    assert len(lines) == 1 and "yuv420p10le" in lines[0], err
    assert not (tmp_path / "out/film.webm").exists()
