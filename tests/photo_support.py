"""Image files for the photo tests, made with Pillow: a JPEG carrying EXIF GPS and camera
data, PNG/WebP, a 50-megapixel PNG and a program renamed to ``.jpg``."""

from __future__ import annotations

import io

from PIL import Image

CAMERA = "SecretCam 3000"


def jpeg_with_gps(size: tuple[int, int] = (1200, 900), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A JPEG whose EXIF holds the lot's GPS position and the camera's make."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x0131] = CAMERA  # Software
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.5)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 7.25)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=CAMERA.encode())
    return buffer.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (800, 600), mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, (10, 120, 200) if mode == "RGB" else None)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def png_50_megapixels() -> bytes:
    """A real 10000 x 5000 PNG (1 bit per pixel, so the file itself is small)."""
    buffer = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(buffer, "PNG")
    return buffer.getvalue()


def renamed_exe() -> bytes:
    """The start of a Windows program (``MZ`` header), as if renamed to ``car.jpg``."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run in DOS mode." * 20
