"""Reading photos and writing results: the only place that touches image files.

``read_image`` turns a photo of one of the raster formats in ``READ_FORMATS`` into an sRGB float
array with EXIF orientation applied (nothing else is decoded: Pillow would hand PostScript to
Ghostscript, whatever the file's name); ``save_image`` writes PNG / JPEG / TIFF / WebP
atomically (``colouru.atomic``) and refuses to replace an input.
"""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from colouru import __version__
from colouru.atomic import atomic_file
from colouru.parallel import map_bands, workers

DEFAULT_MAX_PIXELS = 200_000_000  # about 14,000 x 14,000; raise with max_pixels=...
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF",
                ".tiff": "TIFF", ".webp": "WEBP"}
READ_EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif",
                   ".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".jp2", ".j2k", ".avif"}
# The only formats Pillow may decode, whatever a file's name says: raster photo formats. The
# others it knows include EPS (rendered by Ghostscript, which runs the file as a program) and
# scientific formats nobody brings as a photo.
READ_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "GIF", "JPEG2000", "PPM", "TGA", "AVIF")
READ_FORMATS_TEXT = "JPEG, PNG, TIFF, WebP, BMP, GIF, JPEG 2000, PNM, TGA or AVIF"
SOFTWARE_TAG = f"ColourU {__version__} (colorized)"
DESCRIPTION_TAG = "Colorized by ColourU"
# zlib level of PNG output. On 12-megapixel photos level 2 is within 1-5% of level 3's size in
# 60-85% of its time, and level 6 (Pillow's default) is 10-15% smaller but 3-6 times slower.
PNG_LEVEL = 2


class ImageReadError(Exception):
    """A photo that cannot be read; the message is one line naming the file."""


class ImageWriteError(Exception):
    """A result that cannot be written; the message is one line naming the file."""


def read_image(path: str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS, *,
               keep_grey: bool = False, keep_8bit: bool = False) -> np.ndarray:
    """Read a photo as sRGB float32 ``(H, W, 3)`` in 0..1, EXIF orientation applied.

    Only ``READ_FORMATS`` are decoded, recognised by content, never by name; any other file
    gets an ``ImageReadError``.
    16-bit, palette, CMYK, greyscale and alpha images are handled (alpha is composited on
    white). ``max_pixels`` guards against decompression bombs (None: no limit); the size is
    checked from the header before any pixel is decoded. A float photo with a NaN or infinite
    pixel is refused (scaled by its maximum, it would be all NaN: a black result).

    ``keep_grey``: a grey photo (all three channels equal, whatever the file's mode) comes as
    one channel ``(H, W)`` instead: uint8 ``v`` for an 8-bit photo (the float channels would
    hold ``v / 255``), else float32 0..1 with the float channels' exact values. A twelfth (a
    third) of the memory, and the colorizer gives it the same result bit for bit.

    ``keep_8bit``: an 8-bit colour photo comes as its uint8 codes ``(H, W, 3)`` instead of
    float32: a quarter of the memory (a 100-megapixel photo: 300 MB, not 1.2 GB) while its
    lightness is computed (``colour.srgb_image_lightness`` takes either; the command line and
    the app both read so, and get the same L).
    """
    path = Path(path)
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            # A FIFO would block the batch forever, a device (/dev/urandom) never ends.
            raise ImageReadError(f"{path}: not a regular file (a pipe or a device?)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Pillow warns of every odd EXIF block ("Corrupt EXIF data"); the photo still reads.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            old = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None  # our own guard below gives the clearer message
            try:
                with Image.open(path, formats=READ_FORMATS) as im:
                    w, h = im.size
                    if max_pixels is not None and w * h > max_pixels:
                        raise ImageReadError(
                            f"{path}: image is {w} x {h} pixels, over the limit of "
                            f"{max_pixels:,} (a decompression bomb?); raise the limit with "
                            f"--max-pixels if the file is genuine"
                        )
                    im.load()
                    ImageOps.exif_transpose(im, in_place=True)  # not a copy: a copy is 4 B/px
                    return _pixels(im, path, keep_grey, keep_8bit)
            finally:
                Image.MAX_IMAGE_PIXELS = old
    except ImageReadError:
        raise
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path}: is a folder, not an image") from None
    except PermissionError:
        raise ImageReadError(f"{path}: permission denied") from None
    except Image.UnidentifiedImageError:
        size = path.stat().st_size if path.exists() else 0
        what = ("the file is empty" if size == 0
                else f"not a photo in a format ColourU reads ({READ_FORMATS_TEXT})")
        raise ImageReadError(f"{path}: {what}") from None
    except MemoryError:
        raise ImageReadError(f"{path}: not enough memory to decode this image") from None
    except (OSError, ValueError, SyntaxError) as e:
        msg = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        if "truncated" in msg:  # Pillow says "image file is truncated (N bytes not processed)"
            raise ImageReadError(f"{path}: the file is truncated: it ends before the image "
                                 f"does (cut short while copying or downloading?)") from None
        raise ImageReadError(f"{path}: damaged image, cannot be read ({msg})") from None
    except Exception as e:  # Pillow's decoders raise many kinds (struct.error, EOFError, ...)
        msg = str(e).splitlines()[0] if str(e).strip() else ""
        raise ImageReadError(f"{path}: cannot decode image ({e.__class__.__name__}"
                             f"{': ' + msg if msg else ''})") from None


def _pixels(im: Image.Image, path: Path, keep_grey: bool, keep_8bit: bool = False
            ) -> np.ndarray:
    """A decoded image -> float32 sRGB ``(H, W, 3)`` (see ``read_image``; with ``keep_grey``,
    a grey one as ``(H, W)``). Arithmetic in place where it can be: no full-size temporaries
    beyond the result."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        g = np.asarray(im, dtype=np.float32)
        g /= 65535.0 if mode.startswith("I;16") or g.max() > 255 else 255.0
        np.clip(g, 0, 1, out=g)
        return g if keep_grey else _three(g)
    if mode == "F":
        g = np.asarray(im, dtype=np.float32)
        _refuse_non_finite(g, path)
        g = g / (g.max() if g.max() > 1 else 1.0)
        np.clip(g, 0, 1, out=g)
        return g if keep_grey else _three(g)
    if keep_grey and mode == "LA":
        la = np.asarray(im, dtype=np.float32) / 255.0
        return la[..., 0] * la[..., 1] + (1.0 - la[..., 1])  # as below, one channel
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        a = np.asarray(rgba, dtype=np.float32) / 255.0
        alpha = a[..., 3:4]
        return a[..., :3] * alpha + (1.0 - alpha)  # composite on white
    if mode == "L":
        if keep_grey:
            return np.array(im)
        return _three(np.asarray(im, dtype=np.float32) / 255.0)
    if mode in ("RGB;16", "RGB;16B"):  # rare 48-bit modes
        return np.asarray(im, dtype=np.float32) / 65535.0
    # RGB, and CMYK (with Pillow's conversion), YCbCr, LAB, P, 1, HSV ...
    rgb8 = np.asarray(im if mode == "RGB" else im.convert("RGB"))
    if keep_grey and _is_grey(rgb8):
        return rgb8[..., 0].copy()
    if keep_8bit:
        return rgb8
    rgb = rgb8.astype(np.float32)
    rgb /= 255.0
    return rgb


def _three(grey: np.ndarray) -> np.ndarray:
    """``(H, W)`` -> ``(H, W, 3)``, three equal channels."""
    return np.repeat(grey[..., None], 3, axis=2)


def _is_grey(rgb8: np.ndarray) -> bool:
    """All three channels of uint8 ``(H, W, 3)`` are equal (checked in bands: no full-size
    temporary; a colour photo usually answers in its first band)."""
    rows = max(1, (1 << 20) // max(1, rgb8.shape[1]))
    for r0 in range(0, rgb8.shape[0], rows):
        band = rgb8[r0:r0 + rows]
        if not (np.array_equal(band[..., 0], band[..., 1])
                and np.array_equal(band[..., 0], band[..., 2])):
            return False
    return True


def _refuse_non_finite(pixels: np.ndarray, path: Path) -> None:
    """Refuse a float photo with NaN or infinite pixels, saying how many and where the first
    is. Refused, not repaired: any value put in their place would be a guess."""
    bad = ~np.isfinite(pixels)
    n = int(np.count_nonzero(bad))
    if n:
        y, x = np.unravel_index(int(np.argmax(bad)), bad.shape)[:2]
        what = ("1 pixel is not a finite number" if n == 1
                else f"{n:,} pixels are not finite numbers")
        raise ImageReadError(f"{path}: {what} (NaN or infinity; the first at x={x}, y={y}); "
                             f"refused, not repaired")


def is_colouru_result(path: str | os.PathLike) -> bool:
    """Whether the image at ``path`` carries the note ``save_image`` writes into every result
    (ColourU colorized it): read from the file's header, no pixel decoded. False for anything
    that is not a regular image file in ``READ_FORMATS`` or cannot be read."""
    path = Path(path)
    try:
        if not path.is_file():  # a pipe would block
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path, formats=READ_FORMATS) as im:
                if im.info.get("Description") == DESCRIPTION_TAG:  # PNG text
                    return True
                exif = im.getexif()
                return (exif.get(0x010E) == DESCRIPTION_TAG
                        or str(exif.get(0x0131, "")).startswith("ColourU "))
    except Exception:  # unreadable or not an image: not ours, whatever it is
        return False


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float sRGB 0..1 -> uint8, rounded."""
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def save_image(path: str | os.PathLike, rgb: np.ndarray, *, protect: tuple = (),
               overwrite: bool = True, quality: int = 95) -> Path:
    """Save sRGB ``rgb`` (uint8 ``(H, W, 3)``, or float 0..1) by the path's extension.

    Written to a temporary file beside the target and published (``colouru.atomic``), so no
    partial file is left. ``protect``: paths (the inputs) that must never be replaced;
    ``overwrite=False`` refuses an existing target, also one that another process creates while
    this one is writing. Adds a note that ColourU colorized the image (PNG text / EXIF Software).
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageWriteError(
            f"{path}: unknown output format {path.suffix!r} (use one of "
            f"{', '.join(sorted(set(SAVE_FORMATS)))})"
        )
    for p in protect:
        try:
            if path.exists() and os.path.samefile(path, p):
                raise ImageWriteError(f"{path}: refusing to overwrite the input photo")
        except FileNotFoundError:
            pass
    if path.exists() and not overwrite:
        raise ImageWriteError(f"{path}: exists (use --overwrite or --skip-existing)")
    if rgb.dtype != np.uint8:
        rgb = to_uint8(rgb)
    rgb = np.ascontiguousarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"image to save must be (H, W, 3), got {rgb.shape}")
    kwargs: dict = {}
    exif = Image.Exif()
    exif[0x0131] = SOFTWARE_TAG  # Software
    exif[0x010E] = DESCRIPTION_TAG  # ImageDescription
    if fmt == "PNG":
        pass  # our own parallel encoder, below
    elif fmt == "JPEG":
        kwargs.update(quality=quality, subsampling=0, exif=exif.tobytes())
    elif fmt == "WEBP":
        kwargs.update(quality=quality, exif=exif.tobytes())
    elif fmt == "TIFF":
        kwargs.update(compression="tiff_lzw", exif=exif.tobytes())
    try:
        with atomic_file(path, replace=overwrite) as f:
            if fmt == "PNG":
                encode_png(rgb, f, {"Software": SOFTWARE_TAG, "Description": DESCRIPTION_TAG})
            else:  # Pillow's copy (4 B/px) is made only here, never for PNG
                Image.fromarray(rgb, "RGB").save(f, format=fmt, **kwargs)
    except FileExistsError:
        raise ImageWriteError(f"{path}: appeared while it was being written (another run "
                              f"writing the same name?); not replaced") from None
    except OSError as e:
        reason = e.strerror or str(e)
        raise ImageWriteError(f"{path}: cannot write ({reason})") from None
    return path


# --- PNG ---------------------------------------------------------------------------------------
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF))


def _adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """The Adler-32 of A + B from A's, B's (started at 1) and B's length (zlib's
    ``adler32_combine``, which Python's zlib does not offer)."""
    base = 65521
    rem = len2 % base
    sum1 = adler1 & 0xFFFF
    sum2 = rem * sum1 % base
    sum1 = (sum1 + (adler2 & 0xFFFF) + base - 1) % base
    sum2 = (sum2 + (adler1 >> 16) + (adler2 >> 16) + base - rem) % base
    return sum1 | (sum2 << 16)


def encode_png(rgb: np.ndarray, out, text: dict[str, str] | None = None,
               level: int = PNG_LEVEL, threads: int | None = None) -> None:
    """Write ``rgb`` (uint8 ``(H, W, 3)``) as an 8-bit RGB PNG to the binary file ``out``.

    A 12-megapixel photo takes Pillow's encoder several seconds on one core; here rows get
    PNG's Sub filter (numpy) and bands of rows are deflated in parallel threads (zlib releases
    the GIL), each band primed with the previous band's last 32 KiB and ended with a full flush,
    then joined into one zlib stream, as pigz does. ``text``: tEXt entries (Latin-1).
    """
    h, w = rgb.shape[:2]
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or h == 0 or w == 0:
        raise ValueError(f"PNG needs uint8 (H, W, 3) pixels, got {rgb.dtype} {rgb.shape}")
    flat = np.ascontiguousarray(rgb).reshape(h, 3 * w)
    threads = threads or workers()
    # Bands of at least 1 MB, two per thread for balance.
    n_bands = max(1, min(2 * threads, h, flat.nbytes // (1 << 20)))
    edges = np.linspace(0, h, n_bands + 1).astype(int)

    def filtered(i: int) -> np.ndarray:
        """Rows edges[i]:edges[i + 1], each as filter type 1 (Sub) then the differences."""
        src = flat[edges[i]:edges[i + 1]]
        band = np.empty((len(src), 3 * w + 1), dtype=np.uint8)
        band[:, 0] = 1
        band[:, 1:4] = src[:, :3]
        np.subtract(src[:, 3:], src[:, :-3], out=band[:, 4:])  # uint8 wraps modulo 256
        return band

    def deflate(i: int) -> tuple[bytes, int, int]:
        """Band i deflated, with its own Adler-32 and length (no band is kept: at 100
        megapixels they would be 300 MB)."""
        band = filtered(i)
        prime = {} if i == 0 else {"zdict": filtered_tail(i - 1)}
        c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, **prime)
        last = i == n_bands - 1
        data = c.compress(band) + c.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)
        return data, zlib.adler32(band), band.nbytes

    def filtered_tail(i: int) -> bytes:
        # The end of band i as filtered bytes, recomputed from the pixels (the band itself may
        # still be in the making in another thread).
        rows = max(1, -(-32768 // (3 * w + 1)))
        src = flat[max(edges[i], edges[i + 1] - rows):edges[i + 1]]
        band = np.empty((len(src), 3 * w + 1), dtype=np.uint8)
        band[:, 0] = 1
        band[:, 1:4] = src[:, :3]
        np.subtract(src[:, 3:], src[:, :-3], out=band[:, 4:])
        return band.tobytes()[-32768:]

    parts, adler = [], 1
    for data, band_adler, size in map_bands(deflate, range(n_bands)):
        parts.append(data)
        adler = _adler32_combine(adler, band_adler, size)
    out.write(b"\x89PNG\r\n\x1a\n")
    out.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
    for key, value in (text or {}).items():
        out.write(_png_chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1")))
    # The zlib stream: header (deflate, 32 KiB window, default level), data, Adler-32.
    stream = [b"\x78\x9c", *parts, struct.pack(">I", adler & 0xFFFFFFFF)]
    chunk, size = [], 0
    for piece in stream:  # IDAT chunks of about 1 MB
        chunk.append(piece)
        size += len(piece)
        if size >= 1 << 20:
            out.write(_png_chunk(b"IDAT", b"".join(chunk)))
            chunk, size = [], 0
    if chunk:
        out.write(_png_chunk(b"IDAT", b"".join(chunk)))
    out.write(_png_chunk(b"IEND", b""))

