"""Films: real tiny videos made here (a few frames of a grey picture panning, with a tone),
colorized through the command line and the Python API: the same frames, times, size, audio
and metadata come out, in colour; bad films fail in one line with nothing published; a killed
run resumes to the same film; and the steady colour's pure parts (``colouru.temporal``) and
the keyframe hints format (``colouru.video_hints``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

av = pytest.importorskip("av")

from colouru import temporal  # noqa: E402
from colouru.cli import main  # noqa: E402
from colouru.colour import rgb_to_lab, srgb_image_lightness  # noqa: E402
from colouru.hints import Hint, HintsFileError, Stroke, save_hints  # noqa: E402
from colouru.video import VideoReadError, colorize_video, parts_folder  # noqa: E402
from colouru.video_hints import (  # noqa: E402
    VideoHints,
    load_video_hints,
    read_video_hints,
    save_video_hints,
)

TITLE = "Newsreel 1931"
CREATED = "2001-05-04T10:00:00.000000Z"


# --- making films ---------------------------------------------------------------------------
def scene(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A grey picture with texture and edges, larger than the frames (for panning)."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.random((h // 6 + 2, w // 6 + 2)).astype(np.float32), (w, h),
                      interpolation=cv2.INTER_CUBIC)
    base[h // 3: h // 2, w // 4: w // 2] = 0.9
    return (np.clip(base, 0, 1) * 200 + 30).astype(np.uint8)


def grey_frames(n: int, size=(64, 48), step=(2, 1), seed: int = 0) -> list[np.ndarray]:
    w, h = size
    big = scene(h + step[1] * n + 8, w + step[0] * n + 8, seed)
    return [big[4 + step[1] * t: 4 + step[1] * t + h, 4 + step[0] * t: 4 + step[0] * t + w]
            for t in range(n)]


def make_film(path: Path, frames: int = 6, size=(64, 48), vcodec: str = "libx264",
              acodec: str | None = "aac", rotation: int = 0, rate: int = 24, seed: int = 0,
              fmt: str | None = None, options: dict | None = None,
              container_options: dict | None = None,
              gains: list[float] | None = None) -> list[np.ndarray]:
    """A tiny grey film: ``frames`` frames of a picture panning 2 px right and 1 down a frame,
    with a sine tone, a title and a creation time; ``gains``: each frame's exposure factor (an
    old film's flicker). Returns the grey frames."""
    grey = grey_frames(frames, size, seed=seed)
    if gains is not None:
        grey = [np.clip(g * k, 0, 255).astype(np.uint8) for g, k in zip(grey, gains, strict=True)]
    pix = {"mjpeg": "yuvj420p", "prores": "yuv422p10le", "ffv1": "yuv420p"}.get(vcodec,
                                                                                "yuv420p")
    with av.open(str(path), "w", format=fmt, options=container_options or {}) as out:
        out.metadata["title"] = TITLE
        out.metadata["creation_time"] = CREATED
        v = out.add_stream(vcodec, rate=rate, options=options or {})
        v.width, v.height = size
        v.pix_fmt = pix
        if rotation:
            v.set_display_rotation(rotation)
        a = out.add_stream(acodec, rate=48000, layout="mono") if acodec else None
        for i, g in enumerate(grey):
            f = av.VideoFrame.from_ndarray(np.repeat(g[..., None], 3, 2), format="rgb24")
            f.pts = i
            out.mux(v.encode(f))
        out.mux(v.encode())
        if a is not None:
            samples = int(48000 * frames / rate)
            tone = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 48000))
            fmt_a = a.codec_context.format.name
            step = a.codec_context.frame_size or 1024
            for i0 in range(0, samples, step):
                chunk = tone[i0:i0 + step]
                kind = {"s16": np.int16, "s32": np.int32}.get(fmt_a.rstrip("p"), np.float32)
                scale = np.iinfo(kind).max if kind is not np.float32 else 1
                data = (chunk * scale).astype(kind)
                fr = av.AudioFrame.from_ndarray(data[None].copy(), format=fmt_a, layout="mono")
                fr.sample_rate, fr.pts = 48000, i0
                out.mux(a.encode(fr))
            out.mux(a.encode())
    return grey


def decoded(path: Path) -> tuple[list[np.ndarray], list[int], list[np.ndarray], dict]:
    """``(rgb frames, their pts, grey frames, facts)`` of a film."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        facts = {"rate": v.average_rate, "size": (v.codec_context.width,
                                                  v.codec_context.height),
                 "metadata": {k.lower(): val for k, val in c.metadata.items()},
                 "codec": v.codec_context.name}
        rgb, pts, grey = [], [], []
        for f in c.decode(v):
            facts.setdefault("rotation", f.rotation)
            rgb.append(f.to_ndarray(format="rgb24"))
            grey.append(f.to_ndarray(format="gray", dst_color_range="JPEG"))
            pts.append(f.pts)
    return rgb, pts, grey, facts


def packets(path: Path, kind: str) -> list[tuple]:
    """``(dts, bytes)`` of each packet of the film's first stream of ``kind``."""
    with av.open(str(path)) as c:
        streams = getattr(c.streams, kind)
        if not streams:
            return []
        return [(p.dts, bytes(p)) for p in c.demux(streams[0]) if p.size]


def chroma(rgb: np.ndarray) -> float:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    return float(np.hypot(lab[..., 1] - 128, lab[..., 2] - 128).mean())


def nothing_left(folder: Path, keep: set[str]) -> None:
    """Only ``keep`` in ``folder``: no temporary file, no parts folder, no partial film."""
    assert {p.name for p in folder.iterdir()} == keep


@pytest.fixture
def run(tiny_model_path, capsys):
    """``colouru colorize ... --model tiny -q`` -> (exit status, stderr lines)."""
    def go(*args):
        code = main(["colorize", *map(str, args), "--model", str(tiny_model_path), "-q",
                     "--device", "cpu"])
        return code, [line for line in capsys.readouterr().err.splitlines() if line]
    return go


# --- the command line, every container ------------------------------------------------------
FILMS = [("mp4", "libx264", "aac"), ("mov", "prores", "aac"), ("mov", "mjpeg", None),
         ("mkv", "libx265", "aac"), ("webm", "libvpx-vp9", "libopus"),
         ("avi", "mpeg4", "libmp3lame")]


@pytest.mark.parametrize("ext,vcodec,acodec", FILMS,
                         ids=[f"{e}-{v}" for e, v, _ in FILMS])
def test_a_film_in_every_container_comes_out_the_same_but_in_colour(tmp_path, run, ext, vcodec,
                                                                   acodec):
    src = tmp_path / f"film.{ext}"
    grey = make_film(src, frames=5, vcodec=vcodec, acodec=acodec,
                     options={"x265-params": "log-level=none"} if vcodec == "libx265" else None)
    out = tmp_path / "out"
    code, err = run(src, "-o", out)
    assert code == 0, err
    dst = out / f"film.{ext}"
    nothing_left(out, {dst.name})
    rgb, pts, _, facts = decoded(dst)
    _, src_pts, src_grey, src_facts = decoded(src)
    assert len(rgb) == len(grey) == 5
    assert facts["size"] == (64, 48) and facts["rate"] == src_facts["rate"]
    if ext == "avi":  # an AVI stores decode times (frame slots); its show times are guessed
        assert [d for d, _ in packets(dst, "video")] == [d for d, _ in packets(src, "video")]
    else:
        assert pts == src_pts
    assert facts["codec"] == ("vp9" if ext == "webm" else "h264")
    # The audio is copied packet for packet; the metadata kept, the film marked as colorized.
    assert packets(dst, "audio") == packets(src, "audio")
    assert facts["metadata"]["title"] == TITLE
    assert "colorized by colouru" in facts["metadata"]["comment"].lower()
    # In colour, each frame keeps its own lightness (CIE L, to the rounding of the encoder and
    # of its half-resolution chroma, which moves L where the colour changes fast).
    assert min(chroma(f) for f in rgb) > 2
    for a, b in zip(rgb, src_grey, strict=True):
        assert np.abs(srgb_image_lightness(a) - srgb_image_lightness(b)).mean() < 2.5


def test_rotation_and_creation_time_are_kept(tmp_path, run):
    src = tmp_path / "turned.mp4"
    make_film(src, frames=3, rotation=90)
    code, err = run(src, "-o", tmp_path / "out")
    assert code == 0, err
    facts = decoded(tmp_path / "out" / "turned.mp4")[3]
    assert facts["rotation"] == 90
    assert facts["metadata"]["creation_time"] == CREATED


def test_a_folder_of_films_and_photos_shards_and_reports(tmp_path, run, photo_file):
    films = tmp_path / "films"
    films.mkdir()
    for name in ("a.mp4", "b.mkv", "c.webm"):
        make_film(films / name, frames=3, acodec=None,
                  vcodec="libvpx-vp9" if name.endswith("webm") else "libx264")
    os.replace(photo_file, films / "d.png")
    out, report = tmp_path / "out", tmp_path / "report.jsonl"
    for k in range(2):
        code, err = run(films, "-o", out, "--shard", f"{k}/2", "--report", report)
        assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4", "b.mkv", "c.webm", "d.png"]
    lines = [json.loads(x) for x in report.read_text().splitlines()]
    assert sorted(Path(x["output"]).name for x in lines) == ["a.mp4", "b.mkv", "c.webm", "d.png"]
    assert {x["status"] for x in lines} == {"ok"}
    # A rerun skips them all; without --skip-existing each existing film is refused by name.
    code, err = run(films, "-o", out, "--skip-existing")
    assert code == 0 and "0 colorized, 4 skipped" in err[-1]
    before = (out / "a.mp4").read_bytes()
    code, err = run(films / "a.mp4", "-o", out)
    assert code == 1 and any("a.mp4: exists" in line for line in err)
    assert (out / "a.mp4").read_bytes() == before


def _mux_silence(o) -> None:
    """An AAC stream of 1,024 silent samples in the open container ``o``."""
    a = o.add_stream("aac", rate=48000, layout="mono")
    fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                    layout="mono")
    fr.sample_rate, fr.pts = 48000, 0
    o.mux(a.encode(fr))
    o.mux(a.encode())


# --- bad films ------------------------------------------------------------------------------
def test_bad_films_fail_in_one_line_with_nothing_published(tmp_path, run):
    bad = tmp_path / "bad"
    bad.mkdir()
    make_film(bad / "good.mp4", frames=3, acodec=None)
    (bad / "text.mp4").write_text("not a film at all\n")
    (bad / "empty.mkv").write_bytes(b"")
    make_film(bad / "whole.mkv", frames=24, size=(96, 64), acodec=None)
    data = (bad / "whole.mkv").read_bytes()
    (bad / "cut.mkv").write_bytes(data[: len(data) * 6 // 10])
    (bad / "whole.mkv").unlink()
    for name, options in (("cut.mp4", None), ("cut_fast.mp4", {"movflags": "faststart"})):
        make_film(bad / "whole.mp4", frames=24, size=(96, 64), acodec=None,
                  container_options=options)  # the index (moov) last, or first
        data = (bad / "whole.mp4").read_bytes()
        (bad / name).write_bytes(data[: len(data) * 6 // 10])
        (bad / "whole.mp4").unlink()
    make_film(bad / "ffv1.mkv", frames=2, vcodec="ffv1", acodec=None)
    make_film(bad / "stream.mp4", frames=2, fmt="mpegts", acodec=None)  # MPEG-TS named .mp4
    with av.open(str(bad / "silent.mkv"), "w") as o:  # audio only
        _mux_silence(o)
    with av.open(str(bad / "noframes.mkv"), "w") as o:  # a video stream without a frame
        v = o.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        _mux_silence(o)
    out = tmp_path / "out"
    code, err = run(bad, "-o", out)
    assert code == 1
    expect = {"text.mp4": "not a film ColourU reads", "empty.mkv": "empty",
              "cut.mkv": "truncated", "cut.mp4": "truncated", "cut_fast.mp4": "truncated",
              "ffv1.mkv": "codec 'ffv1'",
              "stream.mp4": "ColourU reads films in", "silent.mkv": "no video stream",
              "noframes.mkv": "no frames"}
    for name, words in expect.items():
        lines = [line for line in err if name in line]
        assert len(lines) == 1 and words in lines[0], (name, err)
    assert "1 colorized, 0 skipped (exist), 9 failed" in err[-1]
    nothing_left(out, {"good.mp4"})
    # Absurd sizes are refused before decoding.
    code, err = run(bad / "good.mp4", "-o", tmp_path / "out2", "--max-pixels", "1000")
    assert code == 1 and "over the limit" in err[0] and not (tmp_path / "out2/good.mp4").exists()


# --- resuming -------------------------------------------------------------------------------
class Killed(BaseException):
    pass


def test_a_killed_run_resumes_to_the_same_film(tmp_path, tiny_colorizer, run):
    src = tmp_path / "long.mkv"
    make_film(src, frames=9, acodec="aac")
    whole = tmp_path / "whole" / "long.mkv"
    colorize_video(src, whole, tiny_colorizer, segment_frames=2, batch_size=2)

    def kill_at_5(done, total):
        if done == 5:
            raise Killed

    dst = tmp_path / "out" / "long.mkv"
    with pytest.raises(Killed):
        colorize_video(src, dst, tiny_colorizer, segment_frames=2, batch_size=2,
                       progress=kill_at_5)
    parts = parts_folder(dst)
    assert not dst.exists() and sorted(p.name for p in parts.glob("0*.mkv")) == [
        "000000.mkv", "000001.mkv"]
    assert not list(parts.glob(".colouru-*"))  # the killed segment's temporary is gone
    result = colorize_video(src, dst, tiny_colorizer, segment_frames=2, batch_size=2,
                            resume=True)
    assert result.resumed_frames == 4 and result.frames == 9
    assert not parts.exists()
    a, b = decoded(whole), decoded(dst)
    assert a[1] == b[1] and all(np.array_equal(x, y) for x, y in zip(a[0], b[0], strict=True))
    assert packets(dst, "audio") == packets(src, "audio")


def test_skip_existing_resumes_and_a_plain_rerun_starts_over(tmp_path, run, monkeypatch,
                                                             tiny_model_path):
    from colouru import video
    from colouru.colorizer import Colorizer

    monkeypatch.setattr(video, "DEFAULT_SEGMENT_FRAMES", 2)
    src = tmp_path / "film.mp4"
    make_film(src, frames=5)
    dst = tmp_path / "out" / "film.mp4"
    as_the_cli = Colorizer.load(tiny_model_path, device="cpu")

    def kill_at_3(done, total):
        if done == 3:
            raise Killed

    for resume, words in ((True, "resumed after the 2 frames"), (False, "removed 1 segment")):
        with pytest.raises(Killed):
            colorize_video(src, dst, as_the_cli, progress=kill_at_3)
        code, err = run(src, "-o", dst.parent, *(["--skip-existing"] if resume else []))
        assert code == 0 and any(words in line for line in err), err
        assert dst.exists() and not parts_folder(dst).exists()
        dst.unlink()


def test_another_run_writing_the_same_film_is_refused(tmp_path, tiny_colorizer):
    from colouru.atomic import TMP_PREFIX, TMP_SUFFIX, _host_tag

    src = tmp_path / "film.mp4"
    make_film(src, frames=2, acodec=None)
    dst = tmp_path / "out" / "film.mp4"
    parts = parts_folder(dst)
    parts.mkdir(parents=True)
    (parts / f"{TMP_PREFIX}{_host_tag()}-{os.getppid()}-lock{TMP_SUFFIX}").touch()
    with pytest.raises(Exception, match="another run"):
        colorize_video(src, dst, tiny_colorizer)
    assert not dst.exists()


# --- hints on keyframes ---------------------------------------------------------------------
def test_keyframe_hints_colour_the_film_and_a_photo_refuses_a_films_file(tmp_path, run,
                                                                         photo_file):
    src = tmp_path / "film.mp4"
    make_film(src, frames=4, acodec=None)
    hints = tmp_path / "film.json"
    green = Hint(20, 20, 6, ab=(-20.0, 10.0))  # in gamut at the picture's light greys
    save_video_hints(hints, {0: [green], 2: [green.moved(26, 22), Stroke([(5, 40), (30, 40)], 3,
                                                                     rgb="#2040d0")]})
    code, err = run(src, "-o", tmp_path / "plain")
    code2, err2 = run(src, "-o", tmp_path / "hinted", "--hints", hints)
    assert code == code2 == 0, err + err2
    plain = decoded(tmp_path / "plain" / "film.mp4")[0]
    hinted = decoded(tmp_path / "hinted" / "film.mp4")[0]
    # The hint's green is there at its keyframe, follows the pan (2 px left and 1 up a frame) to
    # frame 1, and is where frame 2's keyframe puts it.
    def off(frames, t, x, y):  # ab distance of the pixel from the hint's colour
        lab = rgb_to_lab(frames[t][y:y + 1, x:x + 1].astype(np.float32) / 255)[0, 0]
        return float(np.hypot(lab[1] - green.ab[0], lab[2] - green.ab[1]))

    for t, x, y in ((0, 20, 20), (1, 18, 19), (2, 26, 22)):
        assert off(hinted, t, x, y) < 0.5 * off(plain, t, x, y), t
    # One hints file for photos and films: a film's file fails for the photo alone.
    code, err = run(src, photo_file, "-o", tmp_path / "both", "--hints", hints)
    assert code == 1 and len(err) == 2 and "a film's hints file" in err[0]
    assert (tmp_path / "both" / "film.mp4").exists()


def test_film_hints_format(tmp_path):
    hints = {0: [Hint(10, 12, 5, ab=(20.5, -3))],
             240: [Stroke([(1, 2), (30, 40.5)], 4, rgb="#30a040")], 241: []}
    path = tmp_path / "h.json"
    save_video_hints(path, hints, image_size=(640, 480), saturation=1.5)
    doc = json.loads(path.read_text())
    assert doc["version"] == 2 and sorted(doc["frames"]) == ["0", "240", "241"]
    got = load_video_hints(path)
    assert got.saturation == 1.5 and got.image_size == (640, 480)
    assert got.keyframe(0) == hints[0] and got.keyframe(241) == [] and got.keyframe(1) is None
    assert got.keyframe(240)[0].points == ((1, 2), (30, 40.5))
    with pytest.raises(HintsFileError, match="a film's hints file"):
        _ = got.hints
    # A photo's file is frame 0's hints (and still serves a photo).
    save_hints(tmp_path / "p.json", hints[0])
    photo = load_video_hints(tmp_path / "p.json")
    assert photo.keyframe(0) == hints[0] and photo.hints == hints[0]
    bad = {'{"version": 1, "frames": {"x": {"hints": []}}}': "not a frame number",
           '{"version": 1, "frames": {"3": []}}': "must be {",
           '{"version": 1, "frames": {}, "hints": []}': "not both",
           '{"version": 1, "frames": {"0": {"hints": [{"stroke": [[1, 2]], "width": 2, '
           '"ab": [0, 0]}]}}}': "needs version 2",
           '{"version": 9, "frames": {}}': "unsupported",
           '{"version": 1, "frames": {"0": {"hints": [{"x": 1}]}}}': "frame 0"}
    for text, words in bad.items():
        with pytest.raises(HintsFileError, match=words):
            read_video_hints(text, "h.json")
    assert read_video_hints('{"version": 1, "frames": {}}') == VideoHints(source="<hints>")


# --- steady colour, pure --------------------------------------------------------------------
def _lightness(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) * np.float32(100 / 255)


def test_motion_is_found_trusted_through_flicker_and_a_cut_is_seen():
    frames = grey_frames(3, size=(96, 72), step=(3, 1))
    a, b = _lightness(frames[0]), _lightness(frames[1]) * np.float32(1.1)  # 10% brighter
    dis = temporal.new_flow()
    m = temporal.estimate_motion(a, b, dis)
    inner = m.backward[8:-8, 8:-8]
    assert np.allclose(np.median(inner.reshape(-1, 2), axis=0), (3, 1), atol=0.3)
    assert m.trusted > 0.8 and not m.cut
    other = _lightness(grey_frames(1, size=(96, 72), seed=5)[0])
    assert temporal.estimate_motion(a, other, dis).cut


def test_steady_colour_carries_along_the_motion_and_calms_flicker():
    rng = np.random.default_rng(0)
    frames = grey_frames(12, size=(96, 72), step=(2, 1))
    truth = np.stack([cv2.resize(rng.normal(0, 20, (9, 12)).astype(np.float32), (96 + 40, 72 + 20))
                      for _ in range(2)])  # a smooth colour field over the scene
    dis = temporal.new_flow()
    prev = prev_ab = None
    outs, preds = [], []
    for t, f in enumerate(frames):
        lt = _lightness(f)
        field = truth[:, 4 + t: 4 + t + 72, 4 + 2 * t: 4 + 2 * t + 96]
        pred = field + rng.normal(0, 4, (1, 1, 1)).astype(np.float32) + rng.normal(
            0, 2, field.shape).astype(np.float32)  # each frame's guess: a shift and noise
        m = None if prev is None else temporal.estimate_motion(prev, lt, dis)
        prev_ab = temporal.steady(pred, prev_ab, m)
        outs.append(prev_ab)
        preds.append(pred)
        prev = lt
    back = np.zeros((72, 96, 2), np.float32)
    back[..., 0], back[..., 1] = 2, 1

    def flicker(seq):
        return np.mean([temporal.mean_ab_change(seq[t - 1], seq[t], back)
                        for t in range(1, len(seq))])

    assert flicker(outs) < 0.5 * flicker(preds)
    # Carry 0 is each frame's own prediction, bit for bit.
    m = temporal.estimate_motion(_lightness(frames[0]), _lightness(frames[1]), dis)
    assert np.array_equal(temporal.steady(preds[1], outs[0], m, carry=0.0), preds[1])


def test_a_steadier_colours_a_film_played_frame_by_frame_as_the_export_does(tmp_path,
                                                                           tiny_colorizer):
    """``temporal.Steadier`` (the app's Play) given a film's frames one at a time makes the
    export's frames (a lossless master of ``colorize_video``'s), not each frame's own colour
    (it differs on a flickering film); a frame given again is steadied from the one before
    it, not blended with itself; a jump to another picture starts afresh (a cut)."""
    from colouru.video_read import grey_frame

    src, dst = tmp_path / "film.mp4", tmp_path / "out.mp4"
    make_film(src, frames=8, acodec=None, gains=[1.0, 1.2] * 4)
    colorize_video(src, dst, tiny_colorizer, chroma="444", crf=0)
    with av.open(str(src)) as c:
        prepared = [tiny_colorizer.prepare(grey_frame(f)) for f in c.decode(video=0)]
    exported, steadier, own_off = decoded(dst)[0], temporal.Steadier(), []
    for i, (p, out) in enumerate(zip(prepared, exported, strict=True)):
        pred = tiny_colorizer.predict_ab(p)
        got = tiny_colorizer.finish_ab(p, steadier.step(pred, p.work_lightness, key=i))
        assert np.abs(got.astype(int) - out).max() <= 2  # the master's YUV rounding
        own_off.append(np.abs(tiny_colorizer.finish_ab(p, pred).astype(int) - out).mean())
    assert own_off[0] < 1 and min(own_off[1:]) > 1.5  # afresh at the first frame only
    again = steadier.step(tiny_colorizer.predict_ab(p), p.work_lightness, key=i)
    assert np.array_equal(tiny_colorizer.finish_ab(p, again), got)
    other = tiny_colorizer.prepare(grey_frames(1, seed=5)[0])
    pred = tiny_colorizer.predict_ab(other)
    assert np.array_equal(steadier.step(pred, other.work_lightness), pred)


def test_a_steadier_moves_on_only_with_a_frame_committed():
    """``Steadier.propose`` gives ``step``'s colour without moving on, ``commit`` moves on
    (the app's Play: a frame coloured and never shown steadies nothing after it)."""
    frames = [_lightness(f) for f in grey_frames(3)]
    rng = np.random.default_rng(0)
    preds = [rng.normal(0, 20, (2, *frames[0].shape)).astype(np.float32) for _ in frames]
    straight, tried, stepped = temporal.Steadier(), temporal.Steadier(), temporal.Steadier()
    for s in (straight, tried, stepped):
        s.step(preds[0], frames[0], key=0)
    stepped.step(preds[1], frames[1], key=1)
    ab, _state = tried.propose(preds[1], frames[1], key=1)  # coloured, never shown
    assert tried.last_key == 0 and np.array_equal(ab, stepped.step(preds[1], frames[1], key=1))
    ab, state = tried.propose(preds[2], frames[2], key=2)
    tried.commit(state)
    assert tried.last_key == 2
    assert np.array_equal(ab, straight.step(preds[2], frames[2], key=2))  # from frame 0
    assert not np.array_equal(ab, stepped.step(preds[2], frames[2], key=2))  # not through 1


def test_hints_follow_the_motion_and_leave_with_it():
    frames = grey_frames(2, size=(96, 72), step=(3, 1))
    m = temporal.estimate_motion(_lightness(frames[0]), _lightness(frames[1]),
                                 temporal.new_flow())
    image_hw = (144, 192)  # the film's frames are twice the working size here
    moved = temporal.move_hints([Hint(80, 60, 8, ab=(30, 0)),
                                 Stroke([(60, 100), (120, 100)], 6, ab=(0, 30)),
                                 Hint(2, 70, 4, ab=(1, 1))], m, image_hw)
    assert len(moved) == 2  # the hint at the left edge left the frame
    hint, stroke = moved
    assert abs(hint.x - (80 - 6)) < 1.5 and abs(hint.y - (60 - 2)) < 1.5
    assert hint.size == 8 and hint.ab == (30, 0)
    assert abs(stroke.points[0][0] - 54) < 1.5 and stroke.width == 6
    m.cut = True
    assert temporal.move_hints([hint], m, image_hw) == []


def test_steadiness_is_checked(tmp_path):
    with pytest.raises(ValueError, match="steadiness"):
        temporal.SteadyConfig(carry=1.5)
    with pytest.raises(VideoReadError, match="no such file"):
        colorize_video(tmp_path / "none.mp4", tmp_path / "out.mp4", object())


def test_film_options_are_checked(tmp_path, run, capsys):
    src = tmp_path / "film.mp4"
    make_film(src, frames=2, acodec=None)
    for bad, words in ((["--steadiness", "2"], "--steadiness must lie in 0..0.95"),
                       (["--crf", "70"], "--crf must be")):
        with pytest.raises(SystemExit) as e:
            run(src, "-o", tmp_path / "out", *bad)
        assert e.value.code == 2 and words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- a range of frames ----------------------------------------------------------------------
def test_a_range_is_the_whole_films_frames_with_their_hints_and_its_audio(tmp_path, run,
                                                                          tiny_colorizer):
    src = tmp_path / "film.mp4"
    make_film(src, frames=12)
    hints = tmp_path / "film.json"
    save_video_hints(hints, {0: [Hint(20, 20, 6, ab=(-20.0, 10.0))],
                             9: [Hint(30, 20, 6, ab=(20.0, 10.0))]})
    exact = ("--steadiness", "0", "--crf", "0", "--chroma", "444")  # each frame alone, lossless
    code, err = run(src, "-o", tmp_path / "whole", "--hints", hints, *exact)
    code2, err2 = run(src, "-o", tmp_path / "part", "--hints", hints, "--start", "4",
                      "--end", "0:00.42", *exact)  # frame 10 is on screen at 0.42 s
    assert code == code2 == 0, err + err2
    whole, part = decoded(tmp_path / "whole/film.mp4"), decoded(tmp_path / "part/film.mp4")
    # Frames 4 to 9, the hint of keyframe 0 carried to frame 4 as in the whole film, pixel for
    # pixel; their times moved back to start at the film's start.
    assert len(part[0]) == 6 and all(np.array_equal(a, b)
                                     for a, b in zip(whole[0][4:10], part[0], strict=True))
    assert part[1] == [p - whole[1][4] for p in whole[1][4:10]]
    # The audio packets within the range, copied as they are, moved back as the frames were.
    src_audio, audio = packets(src, "audio"), packets(tmp_path / "part/film.mp4", "audio")
    inside = [(dts - 8000, data) for dts, data in src_audio if 8000 <= dts < 20000]  # 48 kHz
    assert [d for _, d in audio] == [d for _, d in inside] and len(audio) == 12
    assert all(abs(a - b) <= 1 for (a, _), (b, _) in zip(audio, inside, strict=True))  # MP4's
    # edit list is counted in the video's time base: a sample's rounding
    # The API with times, and a killed range resumed: the same film.
    dst = tmp_path / "api" / "film.mp4"

    def kill_at_3(done, total):
        assert total == 6
        if done == 3:
            raise Killed

    with pytest.raises(Killed):
        colorize_video(src, dst, tiny_colorizer, hints, start="0.17s", end=10, steadiness=0,
                       crf=0, chroma="444", segment_frames=2, batch_size=2, progress=kill_at_3)
    colorize_video(src, dst, tiny_colorizer, hints, start="0.17s", end=10, steadiness=0, crf=0,
                   chroma="444", segment_frames=2, batch_size=2, resume=True)
    assert not parts_folder(dst).exists()
    assert all(np.array_equal(a, b) for a, b in zip(decoded(dst)[0], part[0], strict=True))


def test_a_bad_range_is_one_line(tmp_path, run, capsys):
    src = tmp_path / "film.mp4"
    make_film(src, frames=4, acodec=None)
    code, err = run(src, "-o", tmp_path / "late", "--start", "7")
    assert code == 1 and len(err) == 2 and "past the film's last frame (3)" in err[0], err
    assert not any((tmp_path / "late").iterdir())
    for bad, words in ((["--start", "soon"], "--start: 'soon' is no frame or time"),
                       (["--start", "3", "--end", "2"], "--end (frame 2) must come after"),
                       (["--end", "1:75"], "--end: '1:75' is no frame or time")):
        with pytest.raises(SystemExit) as e:
            run(src, "-o", tmp_path / "out", *bad)
        assert e.value.code == 2 and words in capsys.readouterr().err, bad
    assert not (tmp_path / "out").exists()
