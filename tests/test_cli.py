"""``colouru colorize`` and ``colouru info`` end to end, on a corpus of good and bad files made
here: each bad file gets one clear line on stderr, the batch goes on, no partial output is
left, the inputs stay byte-for-byte the same, and the exit code says what happened."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import gradient_photo
from PIL import Image

from colouru import colorizer as colorizer_module
from colouru.cli import main
from colouru.colour import rgb_to_lab
from colouru.errors import one_line
from colouru.hints import Hint, Stroke, hint_box, save_hints
from colouru.rasterize import rasterize_hints

REPO = Path(__file__).resolve().parents[1]


# --- the corpus ----------------------------------------------------------------------------------
def _png_header_only(path: Path, width: int, height: int) -> None:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


GOOD = ["good.png", "good_jpeg.jpg", "grey16.png", "cmyk.jpg", "rgba.png", "rotated.jpg",
        "фото ñ.png"]
BAD = {"zero.jpg": "the file is empty", "truncated.jpg": "truncated", "text.jpg": "not a photo",
       "bomb.png": "100000 x 100000", "postscript.png": "not a photo",
       "nan.tif": "not a finite number", "corrupt_exif.jpg": None}
GOOD.append("corrupt_exif.jpg")  # Pillow warns of its EXIF; it reads, quietly
del BAD["corrupt_exif.jpg"]
# Names of any bytes but '/' and NUL (issue 27, item 11), where the file system takes them.
ODD_NAMES = sys.platform.startswith("linux")
LATIN1_NAME = os.fsdecode(b"caf\xe9 latin-1.png")  # not UTF-8: colorized, reported as UTF-8
NEWLINE_NAME = "two\nlines.jpg"  # a newline in the name: its message still one line
if ODD_NAMES:
    GOOD.append(LATIN1_NAME)
    BAD[NEWLINE_NAME] = "the file is empty"


def _corrupt_exif_jpeg(path: Path, img: np.ndarray) -> None:
    """A JPEG whose EXIF tag points past the end of its block (Pillow warns, twice a file)."""
    import struct

    ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0x010E, 2, 4000, 26) + struct.pack("<I", 0)
    exif = b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd + b"short"
    Image.fromarray(img).save(path, "JPEG", exif=exif)


def make_corpus(folder: Path) -> Path:
    """Good photos of every awkward kind, and bad files, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    img = gradient_photo(40, 60)
    Image.fromarray(img).save(folder / "good.png")
    Image.fromarray(img).save(folder / "good_jpeg.jpg", quality=90)
    Image.fromarray(img[..., 0].astype(np.uint16) * 257).save(folder / "grey16.png")
    Image.fromarray(img).convert("CMYK").save(folder / "cmyk.jpg")
    rgba = np.dstack([img, np.full(img.shape[:2], 200, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(folder / "rgba.png")
    stored = np.full((40, 60, 3), 60, dtype=np.uint8)
    stored[:10, :10] = 255  # a white block in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    Image.fromarray(stored).save(folder / "rotated.jpg", exif=exif.tobytes(), quality=95)
    Image.fromarray(img).save(folder / "фото ñ.png")
    (folder / "zero.jpg").write_bytes(b"")
    if ODD_NAMES:
        Image.fromarray(img).save(folder / LATIN1_NAME, "PNG")
        (folder / NEWLINE_NAME).write_bytes(b"")
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(folder / "full.jpg")
    data = (folder / "full.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "full.jpg").unlink()
    (folder / "text.jpg").write_text("not a photo, just text\n")
    _png_header_only(folder / "bomb.png", 100_000, 100_000)
    nan = (gradient_photo(40, 60)[..., 0] / 255).astype(np.float32)
    nan[5, 7] = np.nan
    Image.fromarray(nan, "F").save(folder / "nan.tif")
    _corrupt_exif_jpeg(folder / "corrupt_exif.jpg", img)
    (folder / "postscript.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n"
                                            b"0 0 moveto 8 8 lineto stroke showpage\n")
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` -> sha256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Temporary or hidden files: what a partial write would leave behind."""
    return [str(p) for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


@pytest.fixture
def corpus(tmp_path):
    return make_corpus(tmp_path / "in")


@pytest.fixture
def run(tiny_model_path, capsys):
    """``run(*args)`` -> (exit code, stdout, stderr) of ``colouru`` in this process, with the
    tiny model for ``colorize``."""
    def _run(*args, model=True):
        args = [str(a) for a in args]
        if model and args and args[0] == "colorize":
            args += ["--model", str(tiny_model_path)]
        try:
            code = main(args)
        except SystemExit as e:  # argparse's usage errors
            code = e.code
        out, err = capsys.readouterr()
        return code, out, err
    return _run


# --- the corpus, end to end -----------------------------------------------------------------
def test_corpus_each_bad_file_one_line_batch_goes_on(corpus, tmp_path, run):
    before = snapshot(corpus)
    out = tmp_path / "out"
    code, _, err = run("colorize", corpus, "-o", out)
    assert code == 1
    lines = err.strip().splitlines()
    for name, reason in BAD.items():
        mine = [ln for ln in lines if one_line(name) in ln]
        assert len(mine) == 1, (name, err)
        assert mine[0].startswith("colouru: skipped ") and reason in mine[0]
    assert f"{len(GOOD)} colorized, 0 skipped (exist), {len(BAD)} failed" in lines[-1]
    made = sorted(p.name for p in out.iterdir())
    expected = sorted(GOOD)
    assert made == expected
    for name in GOOD:
        with Image.open(out / name) as im:
            assert im.mode == "RGB"
            assert im.size == ((40, 60) if name == "rotated.jpg" else (60, 40))
    assert leftovers(out) == []
    assert snapshot(corpus) == before  # inputs byte-for-byte unchanged, none added or removed


def test_exif_rotated_output_is_upright(corpus, tmp_path, run):
    code, _, _ = run("colorize", corpus / "rotated.jpg", "-o", tmp_path / "out", "--format", "png")
    assert code == 0
    out = np.asarray(Image.open(tmp_path / "out" / "rotated.png"))
    assert out.shape == (60, 40, 3)
    lightness = rgb_to_lab(out / 255.0)[..., 0]
    # The stored top-left corner is shown at the top right.
    assert lightness[:8, -8:].mean() > 90 and lightness[:8, :8].mean() < 40


def test_outputs_say_colouru(corpus, tmp_path, run):
    run("colorize", corpus / "good.png", corpus / "good_jpeg.jpg", "-o", tmp_path / "out")
    with Image.open(tmp_path / "out" / "good.png") as im:
        assert "ColourU" in im.text["Software"]
    with Image.open(tmp_path / "out" / "good_jpeg.jpg") as im:
        assert "ColourU" in im.getexif()[0x0131]


def test_all_good_exits_zero(corpus, tmp_path, run):
    code, _, err = run("colorize", *[corpus / g for g in GOOD], "-o", tmp_path / "out")
    assert code == 0 and f"{len(GOOD)} colorized" in err and "0 failed" in err


# --- selecting inputs ---------------------------------------------------------------------------
def test_globs(corpus, tmp_path, run):
    code, _, _ = run("colorize", str(corpus / "*.png"), "-o", tmp_path / "out")
    made = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert made == sorted(["good.png", "grey16.png", "rgba.png", "фото ñ.png"]
                          + [LATIN1_NAME] * ODD_NAMES)
    assert code == 1  # bomb.png matches the glob too, and fails
    code, _, err = run("colorize", str(corpus / "*.gif"), corpus / "good.png",
                       "-o", tmp_path / "out2")
    assert code == 1 and "*.gif: no files match" in err and "1 colorized" in err


def test_folders_and_recursive(tmp_path, run):
    src = tmp_path / "photos"
    (src / "sub" / "deeper").mkdir(parents=True)
    for rel in ["a.png", "sub/b.png", "sub/deeper/c.jpg"]:
        Image.fromarray(gradient_photo(20, 30)).save(src / rel)
    (src / "notes.txt").write_text("not an image, not picked up from a folder")
    code, _, _ = run("colorize", src, "-o", tmp_path / "flat")
    assert code == 0 and sorted(os.listdir(tmp_path / "flat")) == ["a.png"]
    code, _, _ = run("colorize", src, "-o", tmp_path / "tree", "--recursive")
    assert code == 0
    made = sorted(str(p.relative_to(tmp_path / "tree")) for p in (tmp_path / "tree").rglob("*.*"))
    assert made == ["a.png", "sub/b.png", "sub/deeper/c.jpg"]  # the tree is mirrored
    code, _, err = run("colorize", str(src / "**" / "*.jpg"), "-o", tmp_path / "g", "-r")
    assert code == 0 and os.listdir(tmp_path / "g") == ["c.jpg"]


def test_missing_inputs(tmp_path, run):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run("colorize", tmp_path / "nope.png", empty, "-o", tmp_path / "out")
    assert code == 1
    assert "nope.png: no such file or folder" in err and "folder has no images" in err
    assert "nothing to colorize" in err


def test_same_name_different_extension_keeps_both(tmp_path, run):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(gradient_photo(20, 30)).save(src / "photo.png")
    Image.fromarray(gradient_photo(20, 30, seed=1)).save(src / "photo.jpg")
    code, _, _ = run("colorize", src, "-o", tmp_path / "out", "--format", "png")
    assert code == 0 and sorted(os.listdir(tmp_path / "out")) == ["photo.png", "photo_png.png"]


# --- existing outputs, formats --------------------------------------------------------------------
def test_skip_existing_and_overwrite(corpus, tmp_path, run):
    out = tmp_path / "out"
    src = corpus / "good.png"
    assert run("colorize", src, "-o", out)[0] == 0
    target = out / "good.png"
    target.write_bytes(b"an older result")
    code, _, err = run("colorize", src, "-o", out)
    assert code == 1 and "exists (use --overwrite or --skip-existing)" in err
    code, _, err = run("colorize", src, "-o", out, "--skip-existing")
    assert code == 0 and "1 skipped (exist)" in err
    assert target.read_bytes() == b"an older result"
    code, _, err = run("colorize", src, "-o", out, "--overwrite")
    assert code == 0 and Image.open(target).size == (60, 40)
    assert leftovers(out) == []


@pytest.mark.parametrize("fmt,pil", [("png", "PNG"), ("jpg", "JPEG"), ("tif", "TIFF"),
                                     ("webp", "WEBP")])
def test_format(corpus, tmp_path, run, fmt, pil):
    code, _, _ = run("colorize", corpus / "good.png", "-o", tmp_path, "--format", fmt)
    assert code == 0
    with Image.open(tmp_path / f"good.{fmt}") as im:
        assert im.format == pil and im.size == (60, 40)


# --- hints ---------------------------------------------------------------------------------------
def _ab_in(path: Path, hint: Hint) -> np.ndarray:
    """The ab at the centre of the hint's square (where it reaches its own colour)."""
    out = np.asarray(Image.open(path))
    x0, y0, x1, y1 = hint_box(hint, out.shape[:2], out.shape[:2])
    centre = out[(y0 + y1) // 2, (x0 + x1) // 2] / 255.0
    return rgb_to_lab(centre[None].astype(np.float32))[..., 1:].reshape(-1, 2)


def test_hints_file_applies_to_every_photo(corpus, tmp_path, run):
    hint = Hint(30, 20, 7, ab=(-40, 45))
    save_hints(tmp_path / "h.json", [hint])
    code, _, _ = run("colorize", corpus / "good.png", corpus / "фото ñ.png", "-o", tmp_path / "out",
                     "--hints", tmp_path / "h.json")
    assert code == 0
    for name in ["good.png", "фото ñ.png"]:
        assert np.abs(_ab_in(tmp_path / "out" / name, hint) - hint.ab).max() < 1.5


def test_hints_folder_one_file_per_photo(tmp_path, run):
    src = tmp_path / "in"
    src.mkdir()
    for name in ["a.png", "b.png", "c.png"]:
        Image.fromarray(gradient_photo(40, 60)).save(src / name)
    hints = tmp_path / "hints"
    hints.mkdir()
    hint = Hint(10, 10, 5, ab=(50, 20))
    save_hints(hints / "a.json", [hint])
    (hints / "c.json").write_text('{"version": 7, "hints": []}')  # b has no hints file
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--hints", hints)
    assert code == 1
    assert sorted(os.listdir(tmp_path / "out")) == ["a.png", "b.png"]
    assert np.abs(_ab_in(tmp_path / "out" / "a.png", hint) - hint.ab).max() < 1.5
    bad = [ln for ln in err.splitlines() if "c.json" in ln]
    assert len(bad) == 1 and "unsupported hints format version 7" in bad[0]


def test_bad_or_missing_hints_file_is_a_usage_error(corpus, tmp_path, run):
    (tmp_path / "h.json").write_text("{")
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "out",
                       "--hints", tmp_path / "h.json")
    assert code == 2 and "h.json: not valid JSON" in err
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "out",
                       "--hints", tmp_path / "none.json")
    assert code == 2 and "none.json: no such file or folder" in err
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


@pytest.mark.parametrize("text,reason", [
    ("[" * 100_000, "brackets nested too deeply"),  # json's RecursionError
    ('{"version": 1, "hints": [{"x": ' + "7" * 5000 + ', "y": 1, "size": 1, "ab": [0, 0]}]}',
     "a number with too many digits"),  # int()'s digit limit, a ValueError
])
def test_a_hints_file_the_parser_chokes_on_is_one_line_and_exit_2(corpus, tmp_path, run, text,
                                                                   reason):
    hints = tmp_path / "h.json"
    hints.write_text(text)
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "out", "--hints", hints)
    assert code == 2
    assert err.strip().splitlines() == [f"colouru: {hints}: not a hints file ({reason})"]


def test_a_device_as_hints_is_refused_unread_exit_2(corpus, tmp_path, run):
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "out",
                       "--hints", "/dev/zero")
    assert code == 2
    assert err.strip().splitlines() == ["colouru: /dev/zero: not a regular file (a device?)"]


def test_a_bad_file_in_a_hints_folder_is_named_and_the_batch_goes_on(tmp_path, run):
    src, hints = tmp_path / "in", tmp_path / "hints"
    src.mkdir()
    hints.mkdir()
    for name in ["a.png", "b.png"]:
        Image.fromarray(gradient_photo(40, 60)).save(src / name)
    (hints / "a.json").write_text("[" * 100_000)
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--hints", hints)
    assert code == 1
    assert os.listdir(tmp_path / "out") == ["b.png"]
    (line,) = [ln for ln in err.splitlines() if ln.startswith("colouru: skipped ")]
    assert line == (f"colouru: skipped {hints / 'a.json'}: not a hints file "
                    f"(brackets nested too deeply)")


def test_a_float_tiff_with_a_nan_is_refused_in_one_line(tmp_path, run):
    grey = np.linspace(0, 1, 40 * 60, dtype=np.float32).reshape(40, 60)
    grey[3, 5] = np.nan
    Image.fromarray(grey, "F").save(tmp_path / "nan.tif")
    Image.fromarray(gradient_photo(40, 60)).save(tmp_path / "good.png")
    code, _, err = run("colorize", tmp_path / "nan.tif", tmp_path / "good.png",
                       "-o", tmp_path / "out")
    assert code == 1 and os.listdir(tmp_path / "out") == ["good.png"]
    (line,) = [ln for ln in err.splitlines() if ln.startswith("colouru: skipped ")]
    assert line.startswith(f"colouru: skipped {tmp_path / 'nan.tif'}: ") and "NaN" in line


def test_a_grey_photo_is_held_as_one_channel(tmp_path, run, monkeypatch):
    """A greyscale photo reaches the colorizer as uint8 (H, W), a twelfth of float RGB; an
    8-bit colour photo as its uint8 codes (H, W, 3), a quarter (issue 27, item 10: a 100 MP
    colour PNG took 2.18 GB against 1.5 GB grey)."""
    seen = []
    real = colorizer_module.Colorizer.prepare

    def spy(self, image, *args, **kwargs):
        seen.append((image.shape, image.dtype))
        return real(self, image, *args, **kwargs)

    monkeypatch.setattr(colorizer_module.Colorizer, "prepare", spy)
    Image.fromarray(gradient_photo(40, 60)[..., 1]).save(tmp_path / "grey.jpg")
    Image.fromarray(gradient_photo(40, 60)).save(tmp_path / "colour.png")
    code, _, _ = run("colorize", tmp_path / "grey.jpg", tmp_path / "colour.png",
                     "-o", tmp_path / "out")
    assert code == 0
    assert seen == [((40, 60), np.uint8), ((40, 60, 3), np.uint8)]


# --- never over an input; unwritable outputs ---------------------------------------------------
def test_output_equal_to_input_is_refused(corpus, run):
    before = snapshot(corpus)
    code, _, err = run("colorize", corpus / "good.png", corpus / "good_jpeg.jpg", "-o", corpus)
    assert code == 1
    assert err.count("refusing to overwrite an input photo") == 2
    assert snapshot(corpus) == before


def test_output_folder_under_a_regular_file(corpus, tmp_path, run):
    blocker = tmp_path / "a-file"
    blocker.write_text("I am a file")
    code, _, err = run("colorize", corpus / "good.png", "-o", blocker / "out")
    assert code == 1 and "cannot create output folder" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: folder permissions do not stop root from writing "
                           "(the regular-file and folder-in-the-way cases cover it)")
def test_read_only_output_folder(corpus, tmp_path, run):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        code, _, err = run("colorize", corpus / "good.png", "-o", out)
    finally:
        out.chmod(0o700)
    assert code == 1 and "not writable" in err and os.listdir(out) == []


def test_one_unwritable_output_does_not_stop_the_batch(corpus, tmp_path, run):
    out = tmp_path / "out"
    (out / "good.png").mkdir(parents=True)  # a folder stands where one result should go
    code, _, err = run("colorize", corpus / "good.png", corpus / "rgba.png", "-o", out,
                       "--overwrite")
    assert code == 1
    mine = [ln for ln in err.splitlines() if "good.png" in ln]
    assert len(mine) == 1 and "cannot write" in mine[0]
    assert (out / "rgba.png").is_file() and (out / "good.png").is_dir()
    assert leftovers(out) == []


# --- limits, models, usage --------------------------------------------------------------------
def test_max_pixels(corpus, tmp_path, run):
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "a", "--max-pixels", 100)
    assert code == 1 and "over the limit of 100" in err
    code, _, _ = run("colorize", corpus / "good.png", "-o", tmp_path / "b", "--max-pixels", 0)
    assert code == 0


@pytest.mark.parametrize("argv", [
    [],
    ["colorize"],
    ["colorize", "x.png"],  # no -o
    ["colorize", "x.png", "-o", "out", "--work-size", "5"],
    ["colorize", "x.png", "-o", "out", "--device", "tpu"],
    ["colorize", "x.png", "-o", "out", "--format", "bmp"],
    ["colorize", "x.png", "-o", "out", "--skip-existing", "--overwrite"],
    ["colorize", "x.png", "-o", "out", "--max-pixels", "-1"],
    ["colorize", "x.png", "-o", "out", "--bogus"],
    ["colorize", "x.png", "-o", "out", "--batch-size", "0"],
    ["colorize", "x.png", "-o", "out", "--shard", "2/2"],
    ["colorize", "x.png", "-o", "out", "--shard", "half"],
    ["colorize", "x.png", "-o", "out", "--saturation", "3.5"],
    ["colorize", "x.png", "-o", "out", "--saturation", "-0.5"],
    ["colorize", "x.png", "-o", "out", "--saturation", "nan"],
    ["colorize", "x.png", "-o", "out", "--saturation", "vivid"],
    ["paint", "x.png"],
])
def test_usage_errors_exit_2(argv, tmp_path, run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.fromarray(gradient_photo(8, 8)).save(tmp_path / "x.png")
    code, _, err = run(*argv, model=False)
    assert code == 2 and "usage:" in err
    assert not (tmp_path / "out").exists()


def test_model_problems_exit_1(corpus, tmp_path, run, monkeypatch):
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "o",
                       "--model", tmp_path / "missing.safetensors", model=False)
    assert code == 1 and "no such model file" in err
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 100)
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "o",
                       "--model", tmp_path / "bad.safetensors", model=False)
    assert code == 1 and "not a valid safetensors model file" in err
    monkeypatch.setattr(colorizer_module, "bundled_model_path",
                        lambda: tmp_path / "assets" / "none.safetensors")
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "o", model=False)
    assert code == 1 and "colouru train" in err


def test_info(run, tiny_model_path, monkeypatch, tmp_path):
    code, out, _ = run("info", "--model", tiny_model_path, "--device", "cpu")
    assert code == 0
    assert "ColourU 0.1.0" in out and "unet (depth 3, width 4, " in out and "device: cpu" in out
    assert "precision: fp32" in out
    monkeypatch.setattr(colorizer_module, "bundled_model_path",
                        lambda: tmp_path / "none.safetensors")
    code, out, _ = run("info")
    assert code == 1 and "model: none" in out and "colouru train" in out


# --- as a real process ----------------------------------------------------------------------------
@pytest.mark.slow  # three fresh interpreters that each load torch: several seconds
def test_exit_codes_in_a_real_process(corpus, tmp_path, tiny_model_path):
    def colouru(*args):
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        return subprocess.run([sys.executable, "-m", "colouru.cli", *map(str, args)], cwd=REPO,
                              capture_output=True, text=True, env=env, timeout=120)

    before = snapshot(corpus)
    r = colouru("colorize", corpus, "-o", tmp_path / "out", "--model", tiny_model_path)
    assert r.returncode == 1, r.stderr
    assert sum("colouru: skipped" in ln for ln in r.stderr.splitlines()) == len(BAD)
    assert len(os.listdir(tmp_path / "out")) == len(GOOD) and leftovers(tmp_path / "out") == []
    r = colouru("colorize", corpus / "good.png", "-o", tmp_path / "out2", "--model",
                tiny_model_path, "--format", "jpg")
    assert r.returncode == 0 and (tmp_path / "out2" / "good.jpg").is_file()
    r = colouru("colorize", corpus / "good.png")
    assert r.returncode == 2 and "-o/--output" in r.stderr
    assert snapshot(corpus) == before


def test_precision_flag(run, tiny_model_path, corpus, tmp_path):
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path, "--precision", "fp16")
    assert code == 2 and "--precision" in err and "auto, fp32, bf16" in err
    code, out, _ = run("info", "--model", tiny_model_path, "--precision", "fp32")
    assert code == 0 and "precision: fp32" in out


# --- names that clash, writers that race, leftovers (issue 14) ---------------------------------
def test_same_name_in_several_folders_gets_distinct_outputs(tmp_path, run):
    """001.png in each of three folders, into one output folder: three results, none replaced,
    and a rerun with --skip-existing skips all three (it never mistakes its own output for an
    old one)."""
    folders = []
    for i in range(3):
        d = tmp_path / f"roll{i}"
        d.mkdir()
        Image.fromarray(gradient_photo(20, 30, seed=i)).save(d / "001.png")
        folders.append(d)
    out = tmp_path / "out"
    code, _, err = run("colorize", *folders, "-o", out, "--overwrite")
    assert code == 0 and "3 colorized" in err
    assert sorted(os.listdir(out)) == ["001-2.png", "001.png", "001_png.png"]
    code, _, err = run("colorize", *folders, "-o", out, "--skip-existing")
    assert code == 0 and "0 colorized, 3 skipped" in err


def _another_writer(monkeypatch, out: Path, content: bytes):
    """Make a file appear at each output just before it is published, as a second run writing
    the same names into the same folder would."""
    real = colorizer_module.Colorizer.finish_ab
    names = iter(["a.png", "b.png", "a.png", "b.png"])  # the photos, in the order they run

    def finish_ab(self, *a, **k):
        result = real(self, *a, **k)
        (out / next(names)).write_bytes(content)
        return result
    monkeypatch.setattr(colorizer_module.Colorizer, "finish_ab", finish_ab)


def test_a_result_that_appears_meanwhile_is_never_replaced(tmp_path, run, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(gradient_photo(20, 30)).save(src / name)
    out = tmp_path / "out"
    out.mkdir()
    _another_writer(monkeypatch, out, b"the other run's result")
    code, _, err = run("colorize", src, "-o", out)
    assert code == 1 and "0 colorized" in err and "appeared while it was being written" in err
    assert {p.read_bytes() for p in out.iterdir()} == {b"the other run's result"}
    assert leftovers(out) == []
    for p in out.iterdir():
        p.unlink()
    code, _, err = run("colorize", src, "-o", out, "--skip-existing")
    assert code == 0 and "0 colorized, 2 skipped" in err and "same name?); kept it" in err
    assert {p.read_bytes() for p in out.iterdir()} == {b"the other run's result"}


@pytest.mark.slow  # two fresh interpreters that each load torch
def test_two_runs_at_once_lose_nothing(tmp_path, tiny_model_path):
    """Two real processes colorize different photos of the same names into one folder: every
    output on disk is one run's result, and the runs' reports add up to what is on disk."""
    out = tmp_path / "out"
    procs = []
    for r in range(2):
        src = tmp_path / f"in{r}"
        src.mkdir()
        for i in range(12):
            Image.fromarray(gradient_photo(24, 32, seed=10 * r + i)).save(src / f"{i:03d}.png")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "colouru.cli", "colorize", str(src), "-o", str(out), "-q",
             "--model", str(tiny_model_path)], stderr=subprocess.PIPE, text=True))
    reports = [p.communicate(timeout=300)[1] for p in procs]
    done = 0
    for err in reports:
        line = [s for s in err.splitlines() if " colorized, " in s][-1]
        done += int(line.split("colouru: ")[1].split(" colorized")[0])
    assert done == len(os.listdir(out)) == 12
    assert leftovers(out) == []


def test_long_output_names(tmp_path, run):
    """A name near the file system's 255-byte limit: the temporary file's name is short."""
    src = tmp_path / "in"
    src.mkdir()
    name = "n" * 247 + ".png"
    Image.fromarray(gradient_photo(20, 30)).save(src / name)
    code, _, err = run("colorize", src / name, "-o", tmp_path / "out")
    assert code == 0, err
    assert os.listdir(tmp_path / "out") == [name]


def test_output_folder_inside_a_recursive_input(tmp_path, run):
    """-r with the output folder inside the input folder: earlier results are not inputs."""
    src = tmp_path / "scans"
    src.mkdir()
    Image.fromarray(gradient_photo(20, 30)).save(src / "a.png")
    out = src / "colour"
    assert run("colorize", src, "-r", "-o", out)[0] == 0
    code, _, err = run("colorize", src, "-r", "-o", out, "--skip-existing")
    assert code == 0 and "0 colorized, 1 skipped" in err
    assert sorted(str(p.relative_to(src)) for p in src.rglob("*")) == [
        "a.png", "colour", "colour/a.png"]


def test_leftovers_of_a_killed_run_are_removed(tmp_path, run):
    from colouru.atomic import temporary_beside

    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    fd, ours = temporary_beside(out / "x.png")  # this process: still writing, kept
    os.close(fd)
    left = Path(ours.replace(f"-{os.getpid()}-", f"-{dead.pid}-"))
    Path(ours).rename(left)
    fd, ours = temporary_beside(out / "y.png")
    os.close(fd)
    (out / ".notes.tmp").write_text("not ours")
    code, _, err = run("colorize", tmp_path / "missing.png", REPO / "assets/examples/1910Bike.jpg",
                       "-o", out, "--work-size", "64")
    assert "removed 1 temporary file(s)" in err
    assert not left.exists() and Path(ours).exists() and (out / ".notes.tmp").exists()


def test_a_pipe_or_a_device_is_refused_not_waited_on(tmp_path, tiny_model_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    good = tmp_path / "good.png"
    Image.fromarray(gradient_photo(20, 30)).save(good)
    p = subprocess.run([sys.executable, "-m", "colouru.cli", "colorize", str(fifo), "/dev/urandom",
                        str(good), "-o", str(tmp_path / "out"), "-q",
                        "--model", str(tiny_model_path)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1
    assert "pipe.png: not a regular file" in p.stderr and "urandom: not a regular file" in p.stderr
    assert "1 colorized" in p.stderr


# --- batches (issue 16) ------------------------------------------------------------------------
def test_batches_give_the_photos_their_own_results(tmp_path, run):
    """--batch-size 4 over photos of two working sizes and a bad file: the same results as one
    photo at a time (to rounding), the bad file alone fails."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(7):
        h, w = (40, 60) if i % 2 else (50, 50)
        Image.fromarray(gradient_photo(h, w, seed=i)).save(src / f"{i}.png")
    (src / "3.png").write_bytes(b"")
    one, four = tmp_path / "one", tmp_path / "four"
    code1, _, err1 = run("colorize", src, "-o", one, "--batch-size", "1")
    code4, _, err4 = run("colorize", src, "-o", four, "--batch-size", "4")
    assert code1 == code4 == 1
    assert "6 colorized, 0 skipped (exist), 1 failed" in err4 and "3.png: the file is empty" in err4
    assert sorted(os.listdir(one)) == sorted(os.listdir(four)) and len(os.listdir(four)) == 6
    for name in os.listdir(one):
        a, b = (np.asarray(Image.open(d / name), dtype=int) for d in (one, four))
        assert np.abs(a - b).max() <= 1, name


def test_a_photo_the_network_fails_on_fails_alone(tmp_path, run, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(4):
        Image.fromarray(gradient_photo(40, 60, seed=i)).save(src / f"{i}.png")
    Image.fromarray(gradient_photo(41, 60)).save(src / "odd.png")
    real = colorizer_module.Colorizer.predict_ab_batch

    def picky(self, items):
        if any(p.image_hw == (41, 60) for p, *_ in items):
            raise RuntimeError("the network choked")
        return real(self, items)
    monkeypatch.setattr(colorizer_module.Colorizer, "predict_ab_batch", picky)
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--batch-size", "8")
    assert code == 1 and "4 colorized, 0 skipped (exist), 1 failed" in err
    assert "odd.png: the network choked" in err
    assert sorted(os.listdir(tmp_path / "out")) == ["0.png", "1.png", "2.png", "3.png"]


def test_read_ahead_holds_few_photos(tmp_path, run, monkeypatch):
    """Reading ahead stops at the pixel budget: with a budget of one photo, no more than two
    are held between reading and saving."""
    from colouru import batch

    monkeypatch.setattr(batch, "READ_AHEAD_PIXELS", 40 * 60)
    held, peak = set(), [0]
    real_prepare, real_finish = (colorizer_module.Colorizer.prepare,
                                 colorizer_module.Colorizer.finish_ab)

    def prepare(self, image, *a, **k):
        p = real_prepare(self, image, *a, **k)
        held.add(id(p))
        peak[0] = max(peak[0], len(held))
        return p

    def finish_ab(self, p, *a, **k):
        out = real_finish(self, p, *a, **k)
        held.discard(id(p))
        return out
    monkeypatch.setattr(colorizer_module.Colorizer, "prepare", prepare)
    monkeypatch.setattr(colorizer_module.Colorizer, "finish_ab", finish_ab)
    src = tmp_path / "in"
    src.mkdir()
    for i in range(6):
        Image.fromarray(gradient_photo(40, 60, seed=i)).save(src / f"{i}.png")
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--batch-size", "4")
    assert code == 0 and "6 colorized" in err
    assert 1 <= peak[0] <= 2


# --- strokes and the saturation (issue 17) -------------------------------------------------------
def _lab(path: Path) -> np.ndarray:
    return rgb_to_lab(np.asarray(Image.open(path), dtype=np.float32) / 255.0)


def _chroma(path: Path) -> np.ndarray:
    lab = _lab(path)
    return np.hypot(lab[..., 1], lab[..., 2])


def test_saturation_option(corpus, tmp_path, run):
    hint = Hint(30, 20, 7, ab=(-40, 45))
    save_hints(tmp_path / "h.json", [hint])
    outs = {}
    for name, extra in [("default", []), ("one", ["--saturation", "1"]),
                        ("more", ["--saturation", "1.5"]), ("grey", ["--saturation", "0"])]:
        outs[name] = tmp_path / name
        code, _, err = run("colorize", corpus / "good.png", "-o", outs[name], "--hints",
                           tmp_path / "h.json", *extra)
        assert code == 0, err
    one, default = (outs[k] / "good.png" for k in ("one", "default"))
    assert one.read_bytes() == default.read_bytes()  # 1 is the default, byte for byte
    more, grey = outs["more"] / "good.png", outs["grey"] / "good.png"
    # more colourful on the whole (where a colour reaches the edge of the sRGB gamut its
    # chroma is lowered to fit, so not 1.5 times everywhere), and nowhere much less
    assert _chroma(more).mean() > 1.2 * _chroma(default).mean()
    assert np.percentile(_chroma(more) - _chroma(default), 1) > -1.5
    assert np.median(_chroma(grey)) < 1.5 < np.median(_chroma(default))
    for path in (default, more, grey):  # the hint keeps its own colour
        assert np.abs(_ab_in(path, hint) - hint.ab).max() < 1.5
    # L is the photo's own whatever the saturation (to uint8 rounding and gamut mapping)
    assert np.abs(_lab(more)[..., 0] - _lab(default)[..., 0]).mean() < 0.5


def test_the_hints_files_saturation_is_the_default_and_the_option_wins(corpus, tmp_path, run):
    hint = Hint(30, 20, 7, ab=(-40, 45))
    save_hints(tmp_path / "plain.json", [hint])
    save_hints(tmp_path / "vivid.json", [hint], saturation=1.5)

    def result(name, hints, *extra):
        code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / name,
                           "--hints", tmp_path / hints, *extra)
        assert code == 0, err
        return (tmp_path / name / "good.png").read_bytes()

    assert result("a", "vivid.json") == result("b", "plain.json", "--saturation", "1.5")
    assert result("c", "vivid.json", "--saturation", "1") == result("d", "plain.json")
    assert result("a2", "vivid.json") != result("d2", "plain.json")


def test_each_file_of_a_hints_folder_brings_its_own_saturation(tmp_path, run):
    src, hints = tmp_path / "in", tmp_path / "hints"
    src.mkdir()
    hints.mkdir()
    for name in ["a.png", "b.png", "c.png"]:
        Image.fromarray(gradient_photo(40, 60)).save(src / name)
    hint = Hint(10, 10, 5, ab=(50, 20))
    save_hints(hints / "a.json", [hint], saturation=0.0)
    save_hints(hints / "b.json", [hint])  # c has no hints file: saturation 1
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--hints", hints)
    assert code == 0, err
    a, b, c = (tmp_path / "out" / n for n in ["a.png", "b.png", "c.png"])
    assert np.median(_chroma(a)) < 1.5 < np.median(_chroma(b))
    assert np.abs(_ab_in(a, hint) - hint.ab).max() < 1.5  # grey around its own colour
    assert np.median(_chroma(c)) > 1.5
    code, _, err = run("colorize", src, "-o", tmp_path / "out2", "--hints", hints,
                       "--saturation", "1")  # the option wins over every file
    assert code == 0, err
    assert (tmp_path / "out2" / "a.png").read_bytes() == b.read_bytes()


def test_a_saturation_out_of_range_says_so_in_one_line(corpus, tmp_path, run):
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "out",
                       "--saturation", "4")
    assert code == 2
    assert err.strip().splitlines()[-1].endswith(
        "error: --saturation: saturation must lie in 0..3, got 4.0")
    assert not (tmp_path / "out").exists()
    (tmp_path / "h.json").write_text('{"version": 1, "saturation": 9, "hints": []}')
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "out",
                       "--hints", tmp_path / "h.json")
    assert code == 2
    assert err.strip().splitlines() == [
        f"colouru: {tmp_path / 'h.json'}: saturation must lie in 0..3, got 9.0"]


def test_a_strokes_file_colours_the_strokes_region(tmp_path, run):
    """A version-2 file with a stroke of a strong colour: the result takes it along the
    stroke, where the photo without hints has another colour."""
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.full((60, 80), 140, np.uint8)).save(src / "flat.png")
    stroke = Stroke([(10, 30), (40, 12), (70, 45)], 5, rgb="#20b040")
    save_hints(tmp_path / "strokes.json", [stroke], image_size=(80, 60))
    assert '"version": 2' in (tmp_path / "strokes.json").read_text()
    code, _, err = run("colorize", src, "-o", tmp_path / "plain")
    assert code == 0, err
    code, _, err = run("colorize", src, "-o", tmp_path / "stroked", "--hints",
                       tmp_path / "strokes.json")
    assert code == 0, err
    _, under = rasterize_hints([stroke], (60, 80))  # the stroke's pixels
    want = np.float32(stroke.ab)
    plain = _lab(tmp_path / "plain" / "flat.png")[..., 1:]
    stroked = _lab(tmp_path / "stroked" / "flat.png")[..., 1:]
    assert np.median(np.abs(plain[under] - want)) > 15
    assert np.median(np.abs(stroked[under] - want)) < 4
    # the same file through a hints folder
    (tmp_path / "hints").mkdir()
    (tmp_path / "hints" / "flat.json").write_bytes((tmp_path / "strokes.json").read_bytes())
    code, _, err = run("colorize", src, "-o", tmp_path / "folder", "--hints", tmp_path / "hints")
    assert code == 0, err
    assert ((tmp_path / "folder" / "flat.png").read_bytes()
            == (tmp_path / "stroked" / "flat.png").read_bytes())


def test_a_stroke_in_a_version_1_file_is_refused_in_one_line(corpus, tmp_path, run):
    hints = tmp_path / "h.json"
    hints.write_text('{"version": 1, "hints": [{"x": 1, "y": 1, "size": 3, "ab": [1, 1]}, '
                     '{"stroke": [[1, 2], [5, 6]], "width": 4, "ab": [30, 30]}]}')
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "out", "--hints", hints)
    assert code == 2
    assert err.strip().splitlines() == [
        f"colouru: {hints}: hint 1 is a stroke, which needs version 2 (this file says version 1)"]
    hints.write_text('{"version": 2, "hints": [{"stroke": [], "width": 4, "ab": [30, 30]}]}')
    code, _, err = run("colorize", corpus / "good.png", "-o", tmp_path / "out", "--hints", hints)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "hint 0 (a stroke) 'stroke' must be a list of one or more points" in err


# --- nothing lost, round two (issue 27) ----------------------------------------------------------
OVERFLOWING_STROKE = ('{"version": 2, "hints": [{"stroke": [[1.7e308, 5]], "width": 1.7e308, '
                      '"ab": [1, 2]}]}')


def _photos(folder: Path, names, hw=(30, 40)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        Image.fromarray(gradient_photo(*hw, seed=i)).save(folder / name)
    return folder


@pytest.mark.parametrize("batch", ["1", "8"])
def test_hints_that_overflow_when_drawn_fail_their_photo_alone(tmp_path, run, batch):
    """Item 1: finite numbers whose sum overflows; in a hints folder, the photo they belong to
    fails in one line and the batch and its report go on."""
    from colouru.report import read_report

    src = _photos(tmp_path / "in", ["a.png", "b.png", "c.png"])
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "a.json").write_text(OVERFLOWING_STROKE)
    report = tmp_path / "r.jsonl"
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--hints", tmp_path / "h",
                       "--report", report, "--batch-size", batch)
    assert code == 1 and "2 colorized, 0 skipped (exist), 1 failed" in err
    (line,) = [ln for ln in err.splitlines() if ln.startswith("colouru: skipped ")]
    assert line.startswith(f"colouru: skipped {tmp_path / 'h' / 'a.json'}: hint 0 (a stroke): ")
    assert "must be at most 2147483648 pixels (no photo is larger)" in line
    assert sorted(os.listdir(tmp_path / "out")) == ["b.png", "c.png"]
    lines = read_report(report)
    assert sorted((Path(x["input"]).name, x["status"]) for x in lines) == [
        ("a.png", "failed"), ("b.png", "ok"), ("c.png", "ok")]


@pytest.mark.parametrize("text,reason", [
    (OVERFLOWING_STROKE, "hint 0 (a stroke): stroke width must be at most 2147483648 pixels"),
    ('{"version": 1, "hints": [{"x": 5, "y": 5, "size": 1e300, "ab": [1, 2]}]}',
     "hint 0: hint size must be at most 2147483648 pixels"),
    ('{"version": 2, "hints": [{"stroke": [[-1e308, 5], [1e308, 5]], "width": 3, "ab": [1, 2]}]}',
     "hint 0 (a stroke): stroke point x must lie between"),
])
def test_hints_larger_than_any_photo_are_one_line_at_load_and_exit_2(tmp_path, run, text,
                                                                     reason):
    """Item 5: what would fail later, per photo and unclearly, is refused once, at load."""
    src = _photos(tmp_path / "in", ["a.png", "b.png"])
    hints = tmp_path / "h.json"
    hints.write_text(text)
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--hints", hints)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith(f"colouru: {hints}: {reason}")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_a_photo_the_network_fails_on_in_a_batch_of_one_fails_alone(tmp_path, run, monkeypatch):
    """Item 1: a batch of one photo that the network fails on was re-raised: the run stopped
    with a traceback and the rest of the report was lost."""
    from colouru.report import read_report

    src = _photos(tmp_path / "in", ["a.png", "c.png"])
    Image.fromarray(gradient_photo(31, 40)).save(src / "b.png")
    real = colorizer_module.Colorizer.predict_ab_batch

    def picky(self, items):
        if any(p.image_hw == (31, 40) for p, *_ in items):
            raise OverflowError("cannot convert float infinity to integer")
        return real(self, items)
    monkeypatch.setattr(colorizer_module.Colorizer, "predict_ab_batch", picky)
    report = tmp_path / "r.jsonl"
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--batch-size", "1",
                       "--report", report)
    assert code == 1 and "2 colorized, 0 skipped (exist), 1 failed" in err
    assert f"colouru: skipped {src / 'b.png'}: OverflowError: cannot convert" in err
    assert sorted((Path(x["input"]).name, x["status"]) for x in read_report(report)) == [
        ("a.png", "ok"), ("b.png", "failed"), ("c.png", "ok")]


def test_a_report_never_writes_into_a_photo(tmp_path, run):
    """Item 2: ``--report rp/*.png -o out``, the report's name forgotten: the shell makes the
    first photo the report. Refused in one line before any work, the photo untouched."""
    src = _photos(tmp_path / "rp", ["p0.png", "p1.png"])
    before = snapshot(src)
    code, _, err = run("colorize", "--report", src / "p0.png", src / "p1.png",
                       "-o", tmp_path / "out")
    assert code == 2 and err.strip().splitlines()[-1] == (
        f"colouru: error: --report {src / 'p0.png'}: exists and is not a ColourU report (its "
        f"first line is not a report line); name a new file or an earlier report")
    code, _, err = run("colorize", src / "p0.png", src / "p1.png", "--report", src / "p1.png",
                       "-o", tmp_path / "out")
    assert code == 2 and f"--report {src / 'p1.png'}: is one of the photos to colorize" in err
    code, _, err = run("colorize", src, "--report", src, "-o", tmp_path / "out")
    assert code == 2 and "is a folder" in err
    assert snapshot(src) == before and not (tmp_path / "out").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_report_that_cannot_be_written_does_not_stop_the_batch(tmp_path, run):
    """Item 4: a full disk under the report: every photo is still colorized; one line says
    the report is lost, the summary says how much, and the exit status is 1."""
    src = _photos(tmp_path / "in", ["a.png", "b.png", "c.png"])
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--report", "/dev/full")
    assert code == 1
    assert sorted(os.listdir(tmp_path / "out")) == ["a.png", "b.png", "c.png"]
    lines = err.strip().splitlines()
    assert lines.count("colouru: cannot write the report /dev/full (No space left on device); "
                       "the batch goes on without it") == 1
    assert lines[-1].startswith("colouru: 3 colorized, 0 skipped (exist), 0 failed in ")
    assert lines[-1].endswith("; the report /dev/full lacks 3 line(s) (No space left on device)")


def test_a_report_pipe_is_written_when_read_and_refused_when_not(tmp_path, run):
    """Item 4: a named pipe that no program reads blocked the run before any work, silently;
    it is refused in one line. A pipe a program reads (``--report >(jq ...)``) gets the lines."""
    import threading

    src = _photos(tmp_path / "in", ["a.png", "b.png"])
    fifo = tmp_path / "report.jsonl"
    os.mkfifo(fifo)
    # a safety net only: should the run wait for a reader, one comes, and the test fails
    rescue = threading.Timer(60, lambda: os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)))
    rescue.start()
    try:
        code, _, err = run("colorize", src, "-o", tmp_path / "out", "--report", fifo)
    finally:
        rescue.cancel()
    assert code == 1 and err.strip().splitlines() == [
        f"colouru: {fifo}: cannot write the report (a pipe that no program reads)"]
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a program reading (the lines fit
    try:  # the pipe's buffer, so it reads them afterwards)
        code, _, err = run("colorize", src, "-o", tmp_path / "out", "--report", fifo)
        got = os.read(reader, 1 << 16)
    finally:
        os.close(reader)
    assert code == 0, err
    lines = [json.loads(ln) for ln in got.decode().splitlines() if ln]
    assert sorted(Path(x["input"]).name for x in lines) == ["a.png", "b.png"]


def test_each_result_is_reported_as_it_is_published(tmp_path, run, monkeypatch):
    """Item 9: a report line is written when its result is published, not a batch later (a
    kill then left up to a batch of results with no line). When each result is about to be
    published, every earlier one has its line."""
    from colouru import batch
    from colouru.report import read_report

    src = _photos(tmp_path / "in", [f"{i}.png" for i in range(6)])
    report, out = tmp_path / "r.jsonl", tmp_path / "out"
    real = batch.save_image
    published, checked = [], []

    def save_image(path, *a, **k):
        lines = read_report(report) if report.exists() else []
        checked.append(sorted(x["output"] for x in lines) == sorted(map(str, published)))
        done = real(path, *a, **k)
        published.append(Path(path))
        return done
    monkeypatch.setattr(batch, "save_image", save_image)  # the pipeline's saving step
    code, _, err = run("colorize", src, "-o", out, "--report", report, "--batch-size", "4")
    assert code == 0, err
    assert len(checked) == 6 and all(checked)


def test_a_rerun_reports_the_results_a_killed_run_left_unreported(tmp_path, run):
    """Item 9: results published by a run that was killed before it could write their lines
    are reported ``ok`` by the rerun (with a note: they carry ColourU's mark); a file of
    another origin at an output's name stays ``skipped``; once reported, they are skipped."""
    from colouru.report import read_report

    src = _photos(tmp_path / "in", ["a.png", "b.png", "c.png"])
    out, report = tmp_path / "out", tmp_path / "r.jsonl"
    assert run("colorize", src / "a.png", src / "b.png", "-o", out)[0] == 0  # no report
    (out / "c.png").write_bytes((src / "c.png").read_bytes())  # not ColourU's result
    code, _, err = run("colorize", src, "-o", out, "--report", report, "--skip-existing")
    assert code == 0 and "0 colorized, 3 skipped (exist)" in err
    lines = {Path(x["input"]).name: x for x in read_report(report)}
    assert {k: x["status"] for k, x in lines.items()} == {"a.png": "ok", "b.png": "ok",
                                                         "c.png": "skipped"}
    assert lines["a.png"]["note"].startswith("found: published by an earlier run")
    assert "note" not in lines["c.png"]
    run("colorize", src, "-o", out, "--report", report, "--skip-existing")
    assert [x["status"] for x in read_report(report)[3:]] == ["skipped"] * 3


@pytest.mark.slow  # fresh interpreters, killed part-way
def test_killed_runs_and_a_rerun_leave_every_result_reported(tmp_path, tiny_model_path):
    """Item 9, as reported: kill -9 a run at several points, then rerun: every input has an
    ``ok`` line in the report."""
    import signal

    from colouru.report import read_report

    src = tmp_path / "in"
    src.mkdir()
    for i in range(24):
        Image.fromarray(gradient_photo(160, 200, seed=i)).save(src / f"{i:02d}.png")
    out, report = tmp_path / "out", tmp_path / "r.jsonl"
    args = [sys.executable, "-m", "colouru", "colorize", str(src), "-o", str(out), "--report",
            str(report), "--skip-existing", "-q", "--model", str(tiny_model_path)]
    for target in (3, 9, 15):
        proc = subprocess.Popen(args, stderr=subprocess.DEVNULL)
        while proc.poll() is None and len(list(out.glob("[0-9]*.png"))) < target:
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert subprocess.run(args, capture_output=True, timeout=300).returncode == 0
    ok = {Path(x["input"]).name for x in read_report(report) if x["status"] == "ok"}
    assert ok == {f"{i:02d}.png" for i in range(24)} == set(os.listdir(out))


def test_names_that_are_not_utf8_keep_the_report_utf8(tmp_path, run):
    """Item 11: a file name of Latin-1 bytes made the report invalid UTF-8; its line holds
    JSON escapes that read back to the very name."""
    from colouru.report import read_report

    src = tmp_path / "in"
    src.mkdir()
    name = os.fsdecode(b"caf\xe9.png")
    Image.fromarray(gradient_photo(30, 40)).save(src / name)
    report = tmp_path / "r.jsonl"
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--report", report)
    assert code == 0, err
    text = report.read_bytes().decode("utf-8")  # strict: valid UTF-8
    (line,) = [json.loads(x) for x in text.splitlines()]
    assert os.fsencode(line["input"]).endswith(b"/caf\xe9.png")
    assert Path(line["output"]).exists() and read_report(report) == [line]


def test_a_newline_in_a_file_name_keeps_each_message_one_line(tmp_path, run):
    src = tmp_path / "in"
    src.mkdir()
    (src / "bad\nname.png").write_bytes(b"")
    Image.fromarray(gradient_photo(30, 40)).save(src / "good.png")
    code, _, err = run("colorize", src, "-o", tmp_path / "out")
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0] == f"colouru: skipped {src}/bad\\nname.png: the file is empty"
    assert lines[1].startswith("colouru: 1 colorized, 0 skipped (exist), 1 failed") and len(
        lines) == 2


def test_a_symbolic_link_to_nothing_at_an_outputs_name(tmp_path, run):
    """Item 11: it was reported as a result that 'appeared while it was being written'. It is
    no result: refused by name (also with --skip-existing: nothing is there to keep), and
    --overwrite replaces the link, never what it would point to."""
    src = _photos(tmp_path / "in", ["a.png", "b.png"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").symlink_to(tmp_path / "nowhere.png")
    for extra in ([], ["--skip-existing"]):
        code, _, err = run("colorize", src, "-o", out, *extra)
        assert code == 1
        (line,) = [ln for ln in err.splitlines() if "a.png" in ln]
        assert line == (f"colouru: skipped {out / 'a.png'}: a symbolic link to nothing stands "
                        f"at the output's name; remove it or use --overwrite")
    code, _, err = run("colorize", src, "-o", out, "--overwrite")
    assert code == 0 and not (out / "a.png").is_symlink() and (out / "a.png").is_file()
    assert not (tmp_path / "nowhere.png").exists()


@pytest.mark.parametrize("spec,says", [
    ("", "--shard: shard is empty (an unset variable in a job script?)"),
    ("-1/2", "--shard: shard -1/2: the index must be 0 to 1 (shards count from 0)"),
    (" ", "--shard: shard is empty"),
])
def test_a_shard_that_is_empty_or_negative_says_so(tmp_path, run, spec, says):
    """Item 11: ``--shard ""`` (an unset $K in a job script) ran every photo; ``--shard -1/2``
    got argparse's 'expected one argument'."""
    src = _photos(tmp_path / "in", ["a.png"])
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--shard", spec)
    assert code == 2 and f"colouru: error: {says}" in err
    assert not (tmp_path / "out").exists()


def test_a_glob_into_the_output_folder_never_takes_the_last_runs_results(tmp_path, run):
    """Item 8: ``'g/**/*.png' -r -o g/out --skip-existing`` three times made q.png, then
    q_png.png, then q_png_png.png; ``-o`` the input folder with ``--format jpg`` re-made every
    photo. ColourU's results found in the output folder are not inputs."""
    g = _photos(tmp_path / "g", ["q.png"])
    _photos(g / "sub", ["r.png"])
    for _ in range(3):
        code, _, err = run("colorize", str(g / "**" / "*.png"), "-r", "-o", g / "out",
                           "--skip-existing")
        assert code == 0, err
    assert sorted(os.listdir(g / "out")) == ["q.png", "r.png"]
    assert "0 colorized, 2 skipped (exist), 0 failed" in err
    same = _photos(tmp_path / "same", ["p.png", "s.png"])
    for _ in range(2):
        code, _, err = run("colorize", same, "-o", same, "--format", "jpg", "--skip-existing")
        assert code == 0, err
    assert "0 colorized, 2 skipped (exist), 0 failed" in err
    assert sorted(os.listdir(same)) == ["p.jpg", "p.png", "s.jpg", "s.png"]
    # a photo named one by one is taken, whatever it is
    code, _, err = run("colorize", same / "p.jpg", "-o", tmp_path / "again")
    assert code == 0 and os.listdir(tmp_path / "again") == ["p.jpg"]


def test_a_model_with_broken_weights_writes_no_white_photos(tmp_path, run, monkeypatch):
    """Item 7: refused at load in one line (exit 1), nothing written; a photo the network
    gives no colours for fails alone."""
    from test_colorizer import _broken_model_file

    src = _photos(tmp_path / "in", ["a.png", "b.png"])
    Image.fromarray(gradient_photo(31, 40)).save(src / "odd.png")
    model = _broken_model_file(tmp_path / "broken.safetensors", "negative variances")
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--model", model, model=False)
    assert code == 1 and err.strip().splitlines() == [
        f"colouru: {model}: refused: on a test photo, the model gave 6,144 colour value(s) "
        f"that are not numbers (NaN or infinity): its weights are broken"]
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")
    real = colorizer_module.Colorizer._network

    def nan_for_odd(self, work_lightness, hint_ab, *rest):
        x, ab = real(self, work_lightness, hint_ab, *rest)
        if work_lightness.shape[-2] == 31:
            ab = ab * torch.nan
        return x, ab
    monkeypatch.setattr(colorizer_module.Colorizer, "_network", nan_for_odd)
    code, _, err = run("colorize", src, "-o", tmp_path / "out", "--batch-size", "1")
    assert code == 1 and "2 colorized, 0 skipped (exist), 1 failed" in err
    assert (f"colouru: skipped {src / 'odd.png'}: the model gave 2,480 colour value(s) that "
            f"are not numbers (NaN or infinity): its weights are broken") in err.splitlines()
    assert sorted(os.listdir(tmp_path / "out")) == ["a.png", "b.png"]


def test_info_shows_a_huge_provenance_in_a_few_readable_lines(tmp_path, run):
    """Item 11: ``colouru info`` printed a 5 MB provenance value (and every one of a hundred
    entries) verbatim."""
    from colouru.generator import GeneratorConfig, build_generator
    from colouru.weights import ModelInfo, save_model

    cfg = GeneratorConfig(width=4, depth=3, max_width=16)
    provenance = {"command": "x" * 5_000_000, "note": "two\nlines"}
    provenance.update({f"k{i}": i for i in range(100)})
    model = tmp_path / "chatty.safetensors"
    save_model(model, build_generator(cfg).eval(), ModelInfo(generator=cfg, work_size=64,
                                                               provenance=provenance))
    code, out, _ = run("info", "--model", model, "--device", "cpu")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) < 60 and max(map(len, lines)) < 400
    assert "command: xxx" in out and "(4,999,709 characters more)" in out
    assert "note: two\\nlines" in lines and "... and 62 more provenance entries" in lines
