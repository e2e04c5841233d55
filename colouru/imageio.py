"""Reading photos and writing results: the only place that touches image files.

``read_image`` turns any file Pillow reads into an sRGB float array with EXIF orientation
applied; ``save_image`` writes PNG / JPEG / TIFF / WebP atomically (temporary file, then
rename) and refuses to replace an input.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin

from colouru import __version__

DEFAULT_MAX_PIXELS = 200_000_000  # about 14,000 x 14,000; raise with max_pixels=...
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF",
                ".tiff": "TIFF", ".webp": "WEBP"}
READ_EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif",
                   ".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".jp2", ".j2k"}
SOFTWARE_TAG = f"ColourU {__version__} (colorized)"


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
    im = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    kwargs: dict = {}
    exif = Image.Exif()
    exif[0x0131] = SOFTWARE_TAG  # Software
    exif[0x010E] = "Colorized by ColourU"  # ImageDescription
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", SOFTWARE_TAG)
        info.add_text("Description", "Colorized by ColourU")
        kwargs.update(pnginfo=info, compress_level=6)
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
