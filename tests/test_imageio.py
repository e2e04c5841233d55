"""Reading every kind of photo file, refusing broken ones clearly, and saving atomically."""

from __future__ import annotations

import os
import struct
import zlib

import cv2
import numpy as np
import pytest
from conftest import gradient_photo
from PIL import Image

from colouru.imageio import (
    ImageReadError,
    ImageWriteError,
    encode_png,
    read_image,
    save_image,
    to_uint8,
)


def _png_header_only(path, width: int, height: int) -> None:
    """A PNG whose IHDR claims ``width`` x ``height`` RGB pixels (with valid CRCs) but whose
    data is a few bytes: what a decompression bomb looks like from its header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _idat(png: bytes) -> bytes:
    """The zlib stream of a PNG: its IDAT chunks' data, joined."""
    pos, out = 8, []
    while pos < len(png):
        (n,), kind = struct.unpack(">I", png[pos:pos + 4]), png[pos + 4:pos + 8]
        if kind == b"IDAT":
            out.append(png[pos + 8:pos + 8 + n])
        pos += 12 + n
    return b"".join(out)


def test_adler32_combine():
    from colouru.imageio import _adler32_combine

    rng = np.random.default_rng(0)
    for a_len, b_len in [(0, 5), (1, 0), (3, 65521), (100_000, 70_000), (65520, 1)]:
        a = rng.integers(0, 256, a_len, dtype=np.uint8).tobytes()
        b = (b"\xff" * b_len) if b_len % 2 else rng.integers(0, 256, b_len, np.uint8).tobytes()
        assert _adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


def _one_line_naming(e: pytest.ExceptionInfo, path) -> str:
    msg = str(e.value)
    assert msg.startswith(str(path)) and "\n" not in msg
    return msg


# --- reading -------------------------------------------------------------------------------
def test_png_reads_exactly(tmp_path):
    img = gradient_photo(30, 41)
    Image.fromarray(img).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert out.dtype == np.float32 and out.shape == (30, 41, 3)
    np.testing.assert_array_equal(to_uint8(out), img)


@pytest.mark.parametrize("ext", ["jpg", "tif", "webp", "bmp", "gif", "ppm"])
def test_other_formats_read(tmp_path, ext):
    img = gradient_photo(20, 30)
    Image.fromarray(img).save(tmp_path / f"a.{ext}")
    out = read_image(tmp_path / f"a.{ext}")
    assert out.shape == (20, 30, 3) and 0 <= out.min() and out.max() <= 1


def test_greyscale_and_one_bit(tmp_path):
    g = gradient_photo(20, 30)[..., 0]
    Image.fromarray(g, "L").save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    assert out.shape == (20, 30, 3) and (out[..., 0] == out[..., 2]).all()
    np.testing.assert_array_equal(to_uint8(out[..., 0]), g)
    Image.fromarray(g > 128).save(tmp_path / "bw.png")
    assert set(np.unique(read_image(tmp_path / "bw.png"))) <= {0.0, 1.0}


def test_sixteen_bit_grey_keeps_its_precision(tmp_path):
    g = (np.arange(20 * 30).reshape(20, 30) * 97 % 65536).astype(np.uint16)
    Image.fromarray(g).save(tmp_path / "g16.png")
    with Image.open(tmp_path / "g16.png") as im:
        assert im.mode.startswith("I")
    out = read_image(tmp_path / "g16.png")
    np.testing.assert_allclose(out[..., 1], g / 65535.0, atol=1e-6)


def test_sixteen_bit_colour(tmp_path):
    rgb16 = (gradient_photo(20, 30).astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / "c16.png"), rgb16[..., ::-1])  # OpenCV writes BGR
    out = read_image(tmp_path / "c16.png")
    np.testing.assert_allclose(out, rgb16 / 65535.0, atol=1 / 255)


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., :3] = 40
    rgba[0, 0, 3], rgba[0, 1, 3], rgba[0, 2, 3] = 0, 255, 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert out[0, 0].tolist() == [1.0, 1.0, 1.0]  # transparent -> white
    np.testing.assert_allclose(out[0, 1], 40 / 255, atol=1e-6)  # opaque -> itself
    np.testing.assert_allclose(out[0, 2], (40 / 255) * (128 / 255) + 127 / 255, atol=1e-6)


def test_palette_with_transparency(tmp_path):
    im = Image.fromarray(gradient_photo(10, 12)).convert("P")
    im.info["transparency"] = 0
    im.save(tmp_path / "p.png", transparency=0)
    assert read_image(tmp_path / "p.png").shape == (10, 12, 3)


def test_cmyk_jpeg(tmp_path):
    img = gradient_photo(20, 30)
    Image.fromarray(img).convert("CMYK").save(tmp_path / "c.jpg", quality=95)
    with Image.open(tmp_path / "c.jpg") as im:
        assert im.mode == "CMYK"
    out = read_image(tmp_path / "c.jpg")
    assert out.shape == (20, 30, 3)
    assert np.abs(to_uint8(out).astype(int) - img).mean() < 6  # the colours survive


def _grey_files(folder) -> dict:
    """The same greyscale photo in each way a file holds one -> {name: dtype held}."""
    g = gradient_photo(21, 34)[..., 0]
    files = {"l.png": (Image.fromarray(g), np.uint8),
             "l.jpg": (Image.fromarray(g), np.uint8),
             "scan.jpg": (Image.fromarray(np.dstack([g, g, g])), np.uint8),  # stored as RGB
             "one_bit.png": (Image.fromarray(g > 128), np.uint8),
             "palette.gif": (Image.fromarray(g).convert("P"), np.uint8),
             "sixteen.png": (Image.fromarray(g.astype(np.uint16) * 256 + 3), np.float32),
             "float.tif": (Image.fromarray(g.astype(np.float32) / 300), np.float32),
             "alpha.png": (Image.fromarray(np.dstack([g, g[::-1]])), np.float32)}
    for name, (im, _) in files.items():
        im.save(folder / name)
    return {name: dtype for name, (_, dtype) in files.items()}


def test_a_grey_photo_can_be_held_in_one_channel(tmp_path):
    """``keep_grey``: a grey photo comes as ``(H, W)``, the values of read_image's three equal
    channels (uint8 v for v / 255), in a twelfth (8-bit) or a third of the memory."""
    for name, dtype in _grey_files(tmp_path).items():
        rgb = read_image(tmp_path / name)
        assert (rgb == rgb[..., :1]).all(), name
        grey = read_image(tmp_path / name, keep_grey=True)
        assert grey.shape == rgb.shape[:2] and grey.dtype == dtype, name
        values = grey / np.float32(255.0) if dtype == np.uint8 else grey
        np.testing.assert_array_equal(values, rgb[..., 0], err_msg=name)


def test_a_colour_photo_is_read_as_before_with_keep_grey(tmp_path):
    img = gradient_photo(20, 30)
    img[0, 0] = (10, 10, 11)  # one pixel off grey is enough
    for name in ("c.png", "c.jpg"):
        Image.fromarray(img).save(tmp_path / name)
        rgb = read_image(tmp_path / name, keep_grey=True)
        assert rgb.dtype == np.float32 and rgb.shape == (20, 30, 3)
        np.testing.assert_array_equal(rgb, read_image(tmp_path / name))
    near_grey = np.dstack([img[..., 0]] * 3)
    near_grey[19, 29, 2] ^= 1
    Image.fromarray(near_grey).save(tmp_path / "n.png")
    assert read_image(tmp_path / "n.png", keep_grey=True).shape == (20, 30, 3)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_float_tiff_with_a_non_finite_pixel_is_refused(tmp_path, bad):
    """One NaN (or infinity) made the whole photo NaN, as it is scaled by its maximum: an
    all-black result and exit 0. Such a photo is refused, saying where; it is not repaired."""
    g = np.linspace(0, 2, 20 * 30, dtype=np.float32).reshape(20, 30)
    g[7, 11] = g[9, 2] = bad
    Image.fromarray(g).save(tmp_path / "f.tif")
    for keep_grey in (False, True):
        with pytest.raises(ImageReadError) as e:
            read_image(tmp_path / "f.tif", keep_grey=keep_grey)
        msg = _one_line_naming(e, tmp_path / "f.tif")
        assert "2 pixels are not finite numbers (NaN or infinity; the first at x=11, y=7)" in msg
        assert "refused, not repaired" in msg


def _exif_rotated_jpeg(path, orientation: int = 6) -> np.ndarray:
    """A 40 x 60 JPEG stored sideways, with a white block in its stored top-left corner."""
    stored = np.full((40, 60, 3), 60, dtype=np.uint8)
    stored[:10, :10] = 255
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(path, exif=exif.tobytes(), quality=95)
    return stored


def test_exif_orientation_is_applied(tmp_path):
    _exif_rotated_jpeg(tmp_path / "r.jpg", orientation=6)  # 6: rotate 90 degrees clockwise
    out = read_image(tmp_path / "r.jpg")
    assert out.shape == (60, 40, 3)
    # The stored top-left corner is now the top-right corner.
    assert out[:10, -10:].mean() > 0.9 and out[:10, :10].mean() < 0.5


def test_non_ascii_path(tmp_path):
    p = tmp_path / "фото ünïcödé 照片.png"
    Image.fromarray(gradient_photo(8, 9)).save(p)
    assert read_image(p).shape == (8, 9, 3)


# --- refusing broken files ----------------------------------------------------------------
def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    with pytest.raises(ImageReadError) as e:
        read_image(p)
    assert "the file is empty" in _one_line_naming(e, p)


def test_text_file_named_jpg(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("shopping list: milk, eggs\n")
    with pytest.raises(ImageReadError) as e:
        read_image(p)
    assert "not a photo in a format ColourU reads" in _one_line_naming(e, p)


POSTSCRIPT = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 8 8
(MARKER) (w) file closefile
0 0 moveto 8 8 lineto stroke showpage
"""


@pytest.mark.parametrize("name", ["photo.png", "photo.jpg", "photo.eps"])
def test_postscript_is_never_decoded(tmp_path, name):
    """Pillow knows EPS and renders it with Ghostscript, which runs the file as a program (this
    one would create a file). Only raster formats are decoded, whatever the name."""
    marker = tmp_path / "written-by-postscript"
    p = tmp_path / name
    p.write_bytes(POSTSCRIPT.replace(b"MARKER", str(marker).encode()))
    with pytest.raises(ImageReadError) as e:
        read_image(p)
    assert "not a photo in a format ColourU reads" in _one_line_naming(e, p)
    assert not marker.exists()


def test_every_allowed_format_is_read(tmp_path):
    """Each format of the allow-list opens (a check that the list names Pillow's formats)."""
    from PIL import features

    from colouru.imageio import READ_FORMATS

    img = gradient_photo(16, 24)
    saved = {"JPEG": "a.jpg", "PNG": "a.png", "TIFF": "a.tif", "WEBP": "a.webp", "BMP": "a.bmp",
             "GIF": "a.gif", "JPEG2000": "a.jp2", "PPM": "a.ppm", "TGA": "a.tga",
             "AVIF": "a.avif"}
    assert set(saved) == set(READ_FORMATS)
    for fmt, name in saved.items():
        if fmt == "AVIF" and not features.check("avif"):
            continue
        Image.fromarray(img).save(tmp_path / name, fmt)
        assert read_image(tmp_path / name).shape == (16, 24, 3), fmt


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files(tmp_path, fmt):
    full = tmp_path / f"full.{fmt.lower()}"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(full, fmt)
    data = full.read_bytes()
    cut = tmp_path / f"cut.{fmt.lower()}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError) as e:
        read_image(cut)
    text = _one_line_naming(e, cut)
    assert "truncated" in text and "not processed" not in text  # plain words, not Pillow's


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError, match="folder"):
        read_image(tmp_path)


def test_decompression_bomb_header_is_refused_before_decoding(tmp_path):
    p = tmp_path / "bomb.png"
    _png_header_only(p, 100_000, 100_000)
    with pytest.raises(ImageReadError) as e:
        read_image(p)
    msg = _one_line_naming(e, p)
    assert "100000 x 100000" in msg and "limit" in msg and "--max-pixels" in msg


def test_size_guard_has_an_override(tmp_path):
    p = tmp_path / "a.png"
    Image.fromarray(gradient_photo(20, 30)).save(p)
    with pytest.raises(ImageReadError, match="over the limit of 500"):
        read_image(p, max_pixels=500)
    assert read_image(p, max_pixels=None).shape == (20, 30, 3)
    assert read_image(p, max_pixels=600).shape == (20, 30, 3)


# --- saving --------------------------------------------------------------------------------
@pytest.mark.parametrize("ext,fmt", [(".png", "PNG"), (".jpg", "JPEG"), (".jpeg", "JPEG"),
                                     (".tif", "TIFF"), (".webp", "WEBP")])
def test_save_by_extension_with_colouru_metadata(tmp_path, ext, fmt):
    img = gradient_photo(20, 30)
    p = save_image(tmp_path / f"out{ext.upper()}", img)  # the extension's case does not matter
    with Image.open(p) as im:
        assert im.format == fmt and im.size == (30, 20)
        im.load()
        if fmt == "PNG":
            assert "ColourU" in im.text["Software"]
            np.testing.assert_array_equal(np.asarray(im), img)
        else:
            assert "ColourU" in im.getexif().get(0x0131, "")
    assert sorted(os.listdir(tmp_path)) == [p.name]  # no temporary file left


def test_saved_file_has_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        p = save_image(tmp_path / "out.png", gradient_photo(4, 4))
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o644


def test_float_input_is_rounded(tmp_path):
    p = save_image(tmp_path / "f.png", np.full((2, 2, 3), 0.5, dtype=np.float32))
    assert np.asarray(Image.open(p)).max() == 128


def test_unknown_extension(tmp_path):
    with pytest.raises(ImageWriteError, match=r"unknown output format '\.gif'"):
        save_image(tmp_path / "out.gif", gradient_photo(4, 4))


def test_never_over_the_input(tmp_path):
    src = tmp_path / "photo.png"
    Image.fromarray(gradient_photo(8, 8)).save(src)
    before = src.read_bytes()
    with pytest.raises(ImageWriteError, match="refusing to overwrite the input"):
        save_image(tmp_path / "." / "photo.png", np.zeros((8, 8, 3), np.uint8), protect=(src,))
    assert src.read_bytes() == before


def test_overwrite_false_refuses_an_existing_file(tmp_path):
    p = save_image(tmp_path / "a.png", gradient_photo(4, 4))
    with pytest.raises(ImageWriteError, match="exists"):
        save_image(p, np.zeros((4, 4, 3), np.uint8), overwrite=False)


@pytest.mark.parametrize("ext", ["png", "jpg"])
def test_failed_save_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, monkeypatch, ext):
    target = save_image(tmp_path / f"a.{ext}", gradient_photo(16, 16))
    before = target.read_bytes()

    def disk_full(fd):  # the data went to the temporary file; making it durable fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(ImageWriteError) as e:
        save_image(target, np.zeros((16, 16, 3), np.uint8))
    assert "No space left on device" in _one_line_naming(e, target)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [f"a.{ext}"]


@pytest.mark.parametrize("hw", [(1, 1), (1, 9), (9, 1), (3, 5), (700, 1500), (1500, 700)])
def test_png_encoder_round_trips_through_pillow_and_opencv(hw):
    import io

    rng = np.random.default_rng(hw[0])
    img = (rng.random((*hw, 3)) * 255).astype(np.uint8)
    img[: hw[0] // 2] //= 16  # some compressible rows as well as noise
    for threads in (1, 3):  # one band, and several bands deflated in parallel
        buf = io.BytesIO()
        encode_png(img, buf, {"Software": "test"}, threads=threads)
        data = buf.getvalue()
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            assert im.mode == "RGB" and im.text == {"Software": "test"}
            np.testing.assert_array_equal(np.asarray(im), img)
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        np.testing.assert_array_equal(decoded[..., ::-1], img)
        assert zlib.decompress(_idat(data))  # the stream's Adler-32 checks out
    with pytest.raises(ValueError, match="uint8"):
        encode_png(img.astype(np.uint16), io.BytesIO())


def test_unwritable_destinations(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a regular file, not a folder")
    for target in [tmp_path / "missing" / "a.png", blocker / "a.png"]:
        with pytest.raises(ImageWriteError, match="cannot write") as e:
            save_image(target, gradient_photo(4, 4))
        _one_line_naming(e, target)
    target = tmp_path / "dir.png"
    target.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(ImageWriteError, match="cannot write"):
        save_image(target, gradient_photo(4, 4))
    assert sorted(os.listdir(tmp_path)) == ["dir.png", "file"]


# --- files that are not photos, odd EXIF, memory (issue 14) ---------------------------------
def test_a_device_is_not_read_forever():
    with pytest.raises(ImageReadError) as e:
        read_image("/dev/urandom")
    assert "/dev/urandom: not a regular file" in str(e.value)


def test_corrupt_exif_reads_without_warnings(tmp_path):
    """An EXIF block whose tag points past the end: Pillow warns; the photo reads quietly."""
    import io
    import struct
    import warnings

    ifd = (struct.pack("<H", 1) + struct.pack("<HHII", 0x010E, 2, 4000, 26)
           + struct.pack("<I", 0))
    exif = b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd + b"short"
    buf = io.BytesIO()
    Image.fromarray(gradient_photo(8, 8)).save(buf, "JPEG", exif=exif)
    p = tmp_path / "scan.jpg"
    p.write_bytes(buf.getvalue())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_image(p).shape == (8, 8, 3)


def test_out_of_memory_is_said_so(tmp_path, monkeypatch):
    p = tmp_path / "big.png"
    Image.fromarray(gradient_photo(8, 8)).save(p)

    def no_memory(self, *a, **k):
        raise MemoryError
    monkeypatch.setattr(Image.Image, "load", no_memory)
    with pytest.raises(ImageReadError) as e:
        read_image(p)
    assert str(e.value) == f"{p}: not enough memory to decode this image"


def test_an_8bit_colour_photo_can_be_kept_as_its_codes(tmp_path):
    """``keep_8bit``: the uint8 codes, a quarter of float32's memory, whose lightness is the
    one every reader of it uses (the command line and the app read alike)."""
    from colouru.colour import srgb_image_lightness

    img = gradient_photo(40, 60)
    Image.fromarray(img).save(tmp_path / "c.png")
    Image.fromarray(img).convert("CMYK").save(tmp_path / "c.jpg")
    codes = read_image(tmp_path / "c.png", keep_grey=True, keep_8bit=True)
    assert codes.dtype == np.uint8 and np.array_equal(codes, img)
    floats = read_image(tmp_path / "c.png")
    assert np.array_equal(codes.astype(np.float32) / 255, floats)
    np.testing.assert_allclose(srgb_image_lightness(codes), srgb_image_lightness(floats),
                               atol=1e-3)
    assert read_image(tmp_path / "c.jpg", keep_8bit=True).dtype == np.uint8  # converted
    grey = read_image(tmp_path / "c.png", keep_8bit=True)
    assert grey.shape == (40, 60, 3)
