"""``colouru colorize`` and ``colouru info`` end to end, on a corpus of good and bad files made
here: each bad file gets one clear line on stderr, the batch goes on, no partial output is
left, the inputs stay byte-for-byte the same, and the exit code says what happened."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import gradient_photo
from PIL import Image

from colouru import colorizer as colorizer_module
from colouru.cli import main
from colouru.colour import rgb_to_lab
from colouru.hints import Hint, hint_box, save_hints

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
BAD = {"zero.jpg": "empty file", "truncated.jpg": "truncated", "text.jpg": "not an image",
       "bomb.png": "100000 x 100000"}


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
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(folder / "full.jpg")
    data = (folder / "full.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "full.jpg").unlink()
    (folder / "text.jpg").write_text("not a photo, just text\n")
    _png_header_only(folder / "bomb.png", 100_000, 100_000)
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
        mine = [ln for ln in lines if name in ln]
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
    assert made == sorted(["good.png", "grey16.png", "rgba.png", "фото ñ.png"])
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
