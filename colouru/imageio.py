"""Reading photos and writing results: the only place that touches image files.

``read_image`` turns any file Pillow reads into an sRGB float array with EXIF orientation
applied; ``save_image`` writes PNG / JPEG / TIFF / WebP atomically (temporary file, then
rename) and refuses to replace an input.
"""

from __future__ import annotations

import os
import struct
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from colouru import __version__
from colouru.parallel import map_bands, workers

DEFAULT_MAX_PIXELS = 200_000_000  # about 14,000 x 14,000; raise with max_pixels=...
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF",
                ".tiff": "TIFF", ".webp": "WEBP"}
READ_EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif",
                   ".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".jp2", ".j2k"}
SOFTWARE_TAG = f"ColourU {__version__} (colorized)"
DESCRIPTION_TAG = "Colorized by ColourU"
# zlib level of PNG output. On 12-megapixel photos level 2 is within 1-5% of level 3's size in
# 60-85% of its time, and level 6 (Pillow's default) is 10-15% smaller but 3-6 times slower.
PNG_LEVEL = 2


class ImageReadError(Exception):
    """A photo that cannot be read; the message is one line naming the file."""


class ImageWriteError(Exception):
    """A result that cannot be written; the message is one line naming the file."""


def read_image(path: str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read a photo as sRGB float32 ``(H, W, 3)`` in 0..1, EXIF orientation applied.

    16-bit, palette, CMYK, greyscale and alpha images are handled (alpha is composited on
    white). ``max_pixels`` guards against decompression bombs (None: no limit); the size is
    checked from the header before any pixel is decoded.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            old = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None  # our own guard below gives the clearer message
            try:
                with Image.open(path) as im:
                    w, h = im.size
                    if max_pixels is not None and w * h > max_pixels:
                        raise ImageReadError(
                            f"{path}: image is {w} x {h} pixels, over the limit of "
                            f"{max_pixels:,} (a decompression bomb?); raise the limit with "
                            f"--max-pixels if the file is genuine"
                        )
                    im.load()
                    im = ImageOps.exif_transpose(im)
                    return _to_float_rgb(im)
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
        what = "empty file" if size == 0 else "not an image Pillow can read"
        raise ImageReadError(f"{path}: {what}") from None
    except (OSError, ValueError, SyntaxError, MemoryError) as e:
        msg = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        raise ImageReadError(f"{path}: damaged or truncated image ({msg})") from None
    except Exception as e:  # Pillow's decoders raise many kinds (struct.error, EOFError, ...)
        msg = str(e).splitlines()[0] if str(e).strip() else ""
        raise ImageReadError(f"{path}: cannot decode image ({e.__class__.__name__}"
                             f"{': ' + msg if msg else ''})") from None


def _to_float_rgb(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(im, dtype=np.float32)
        peak = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        g = np.clip(a / peak, 0, 1)
        return np.repeat(g[..., None], 3, axis=2)
    if mode == "F":
        g = np.asarray(im, dtype=np.float32)
        g = np.clip(g / (g.max() if g.max() > 1 else 1.0), 0, 1)
        return np.repeat(g[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        a = np.asarray(rgba, dtype=np.float32) / 255.0
        alpha = a[..., 3:4]
        return a[..., :3] * alpha + (1.0 - alpha)  # composite on white
    if mode == "L":
        g = np.asarray(im, dtype=np.float32) / 255.0
        return np.repeat(g[..., None], 3, axis=2)
    if mode in ("RGB;16", "RGB;16B"):  # rare 48-bit modes
        return np.asarray(im, dtype=np.float32) / 65535.0
    # CMYK (with Pillow's conversion), YCbCr, LAB, P, 1, HSV ...
    return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float sRGB 0..1 -> uint8, rounded."""
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp: str | os.PathLike, path: Path) -> None:
    """Give a finished temporary file normal permissions and rename it onto ``path``."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename,
    so a reader never sees a half-written file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_image(path: str | os.PathLike, rgb: np.ndarray, *, protect: tuple = (),
               overwrite: bool = True, quality: int = 95) -> Path:
    """Save sRGB ``rgb`` (uint8 ``(H, W, 3)``, or float 0..1) by the path's extension.

    Written to a temporary file beside the target and renamed, so no partial file is left.
    ``protect``: paths (the inputs) that must never be replaced; ``overwrite=False`` refuses an
    existing target. Adds a note that ColourU colorized the image (PNG text / EXIF Software).
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
    im = Image.fromarray(rgb, "RGB")
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
    fd, tmp = None, None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            if fmt == "PNG":
                encode_png(rgb, f, {"Software": SOFTWARE_TAG, "Description": DESCRIPTION_TAG})
            else:
                im.save(f, format=fmt, **kwargs)
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, path)
    except ImageWriteError:
        raise
    except OSError as e:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        reason = e.strerror or str(e)
        raise ImageWriteError(f"{path}: cannot write ({reason})") from None
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --- PNG ---------------------------------------------------------------------------------------
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF))


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

    bands = [None] * n_bands

    def deflate(i: int) -> bytes:
        bands[i] = filtered(i)
        prime = {} if i == 0 else {"zdict": filtered_tail(i - 1)}
        c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, **prime)
        last = i == n_bands - 1
        return c.compress(bands[i]) + c.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)

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

    parts = map_bands(deflate, range(n_bands))
    adler = 1
    for band in bands:
        adler = zlib.adler32(band, adler)
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

