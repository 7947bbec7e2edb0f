"""Previews, made safely. Images are decoded by Pillow within a pixel limit and re-encoded as a PNG
thumbnail; a PDF's first page is rendered by `pdftoppm` (poppler-utils) when the machine has it, in a
subprocess with a time limit and one page only, and re-encoded the same way. Without a renderer a PDF is
shown as itself, served inline under a sandboxing Content-Security-Policy (see serving.py). Anything else
has no preview: no preview beats an unsafe one."""

import io
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from coopfunds.documents.filetypes import IMAGE_TYPES, TYPES, FileType

MAX_PIXELS = 40_000_000
THUMBNAIL = (800, 800)
RENDER_TIMEOUT_SECONDS = 20
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard: DecompressionBombError beyond twice this

PILLOW_FORMATS: dict[str, str] = {
    FileType.PNG: "PNG",
    FileType.JPEG: "JPEG",
    FileType.GIF: "GIF",
    FileType.WEBP: "WEBP",
    FileType.TIFF: "TIFF",
}
_DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


def _open(file: IO[bytes], *, warn: str = "error") -> Image.Image:
    """Open (headers only). Beyond MAX_PIXELS Pillow warns (an error here unless `warn="ignore"`, for callers
    that check the size themselves); beyond twice that it refuses."""
    with warnings.catch_warnings():
        warnings.simplefilter(warn, Image.DecompressionBombWarning)  # type: ignore[arg-type]
        return Image.open(file)


def check_image(file: IO[bytes], name: str, key: str) -> None:
    """Refuse an image Pillow can't read as its type, or one so large that decoding it is a bomb."""
    file.seek(0)
    try:
        with _open(file, warn="ignore") as image:
            width, height = image.size
            if image.format != PILLOW_FORMATS[key]:
                raise UnidentifiedImageError
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    _("“%(name)s” is %(width)s × %(height)s pixels; images may have at most %(n)s million pixels.")
                    % {
                        "name": name,
                        "width": number_format(width, force_grouping=True),
                        "height": number_format(height, force_grouping=True),
                        "n": MAX_PIXELS // 1_000_000,
                    },
                    code="pixels",
                )
            image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("“%(name)s” is too large an image to open safely (a decompression bomb); it is not accepted.")
            % {"name": name},
            code="pixels",
        ) from None
    except _DECODE_ERRORS:
        raise ValidationError(
            _("“%(name)s” is damaged: it can't be read as %(type)s.") % {"name": name, "type": TYPES[key].label},
            code="damaged",
        ) from None
    finally:
        file.seek(0)


def thumbnail_png(file: IO[bytes]) -> bytes:
    """The first frame, turned upright, shrunk to fit THUMBNAIL, as PNG. Raises ValueError if undecodable."""
    try:
        with _open(file) as image:
            image.seek(0)
            frame = ImageOps.exif_transpose(image) or image
            frame.thumbnail(THUMBNAIL)
            if frame.mode not in ("RGB", "RGBA", "L", "LA"):
                frame = frame.convert("RGBA" if "A" in frame.getbands() or "transparency" in frame.info else "RGB")
            out = io.BytesIO()
            frame.save(out, format="PNG", optimize=True)
            return out.getvalue()
    except (*_DECODE_ERRORS, Image.DecompressionBombWarning) as e:
        raise ValueError(f"cannot decode: {type(e).__name__}") from None


def pdf_renderer() -> str | None:
    """The pdftoppm to use: settings.DOCUMENTS_PDFTOPPM ('' turns rendering off), else the one on PATH."""
    configured = getattr(settings, "DOCUMENTS_PDFTOPPM", None)
    if configured is not None:
        return configured or None
    return shutil.which("pdftoppm")


def render_pdf_first_page(file: IO[bytes]) -> bytes | None:
    """The first page as a PNG thumbnail, or None when there is no renderer or it fails or takes too long."""
    renderer = pdf_renderer()
    if renderer is None:
        return None
    with tempfile.TemporaryDirectory(prefix="coopfunds-preview-") as tmp:
        source = Path(tmp) / "in.pdf"
        with open(source, "wb") as out:
            shutil.copyfileobj(file, out, 1024 * 1024)
        try:
            subprocess.run(  # noqa: S603 (fixed arguments, no shell, our own file names)
                [
                    renderer,
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-png",
                    "-singlefile",
                    "-scale-to",
                    "1200",
                    str(source),
                    f"{tmp}/page",
                ],
                check=True,
                timeout=RENDER_TIMEOUT_SECONDS,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                env={"PATH": "/usr/bin:/bin"},
            )
            with open(Path(tmp) / "page.png", "rb") as page:
                return thumbnail_png(page)
        except (subprocess.SubprocessError, OSError, ValueError):
            return None


def make_preview(file: IO[bytes], key: str) -> bytes | None:
    """A PNG preview of a stored file of type `key`, or None when it has none."""
    if key in IMAGE_TYPES:
        try:
            return thumbnail_png(file)
        except ValueError:
            return None
    if key == FileType.PDF:
        return render_pdf_first_page(file)
    return None
