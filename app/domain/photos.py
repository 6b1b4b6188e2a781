"""A car photo as uploaded, checked by its content and re-encoded without any metadata.

Only JPEG, PNG and WebP are opened (by their bytes, never by the file name), and only
after the header's pixel count is within the limit: a decompression bomb is refused before
a single pixel is decoded. What is stored is new pixels only (EXIF with the lot's GPS
position, camera serials, ICC profiles and comments stay behind), in two JPEG variants.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from app.domain import DomainError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
# Longest edge of each stored variant, in pixels.
VARIANTS = {"large": 1600, "thumb": 320}
JPEG_QUALITY = {"large": 85, "thumb": 80}


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class EncodedVariant:
    name: str
    data: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def encode_photo(data: bytes, limits: PhotoLimits, filename: str = "") -> dict[str, EncodedVariant]:
    """The stored variants (``large``, ``thumb``) of an uploaded file, or a ``DomainError``
    naming the file and what is wrong with it."""
    name = filename or "?"
    if not data:
        raise DomainError(_l("%(file)s is empty.", file=name), "file")
    if len(data) > limits.max_bytes:
        raise DomainError(
            _l("%(file)s is larger than %(limit)s MB.", file=name, limit=_megabytes(limits.max_bytes)),
            "file",
        )
    image = _open(data, limits, name)
    return {variant: _variant(image, variant) for variant in VARIANTS}


def _open(data: bytes, limits: PhotoLimits, name: str) -> Image.Image:
    not_an_image = DomainError(_l("%(file)s is not a JPEG, PNG or WebP image.", file=name), "file")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            width, height = image.size
            if width * height > limits.max_pixels:
                raise DomainError(
                    _l(
                        "%(file)s has %(pixels)s megapixels; at most %(limit)s are accepted.",
                        file=name,
                        pixels=_megapixels(width * height),
                        limit=_megapixels(limits.max_pixels),
                    ),
                    "file",
                )
            image.seek(0)  # an animated WebP or PNG: its first frame
            image.load()
            image = ImageOps.exif_transpose(image)  # the camera's orientation, then the EXIF is gone
        except DomainError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise DomainError(
                _l(
                    "%(file)s has too many pixels; at most %(limit)s megapixels are accepted.",
                    file=name,
                    limit=_megapixels(limits.max_pixels),
                ),
                "file",
            ) from error
        except UnidentifiedImageError as error:
            raise not_an_image from error
        except (OSError, SyntaxError, ValueError, EOFError) as error:  # truncated or corrupt
            raise not_an_image from error
    return _flattened(image)


def _flattened(image: Image.Image) -> Image.Image:
    """RGB pixels only; transparency on white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _variant(image: Image.Image, variant: str) -> EncodedVariant:
    edge = VARIANTS[variant]
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", copy.size)  # pixels only: no info, EXIF, ICC or comment
    clean.paste(copy)
    buffer = io.BytesIO()
    clean.save(buffer, "JPEG", quality=JPEG_QUALITY[variant], optimize=True, progressive=True)
    return EncodedVariant(variant, buffer.getvalue(), clean.width, clean.height)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g}"


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.0f}"
