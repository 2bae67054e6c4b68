"""Injection-site photos: check that an upload is a real photo and make clean copies of it.

Pure functions, no models: the photo service calls ``process_photo`` and stores what it returns.
Every copy is re-encoded from the pixels alone, so nothing of the original file's metadata
(EXIF with GPS position and camera, XMP, comments, ICC profiles, PNG text chunks) rides along.
Colours in a non-sRGB profile (iPhones shoot Display P3) are converted to sRGB first, so the
untagged copies look the same in a browser.
"""

import contextlib
import hashlib
import io
import logging
import math
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pillow_heif
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from clinic.errors import ApplicationError

logger = logging.getLogger(__name__)

# Registered once, at import. The HEIF thumbnails, depth maps and auxiliary images of an
# iPhone photo are not needed, so libheif is told not to read them.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000

# Pillow's format name -> the format recorded for the photo. MPO is how Pillow names a JPEG
# that carries a multi-picture index (many Android and some iPhone exports).
ACCEPTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "HEIF": "HEIF"}

FULL_QUALITY = 88
PREVIEW_SIZE, PREVIEW_QUALITY = 1600, 85
THUMBNAIL_SIZE, THUMBNAIL_QUALITY = 400, 80

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME_ORIGINAL = 0x9011


@dataclass(frozen=True)
class ProcessedPhoto:
    full: bytes  # JPEG, full size, upright, no metadata
    preview: bytes  # JPEG, longest side at most PREVIEW_SIZE
    thumbnail: bytes  # JPEG, longest side at most THUMBNAIL_SIZE
    width: int  # of ``full``, after orientation
    height: int
    original_format: str  # "JPEG", "PNG" or "HEIF"
    sha256: str  # hex digest of the uploaded bytes
    taken_at: datetime | None  # EXIF DateTimeOriginal; aware only if the camera gave an offset


def process_photo(uploaded_file, *, max_bytes=None, max_pixels=None) -> ProcessedPhoto:
    """Check an uploaded photo and return clean JPEG copies of it; store nothing.

    ``uploaded_file`` is a Django ``UploadedFile``, any binary file object, or bytes. Raises
    ``ApplicationError(field="file")`` with a message for the user when the file is empty, too
    big, not an image, of a format other than JPEG, PNG or HEIC/HEIF, declares more pixels than
    allowed (checked on the header, before any pixel is decoded) or is damaged.
    """
    if max_bytes is None:
        max_bytes = getattr(settings, "PHOTO_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES)
    if max_pixels is None:
        max_pixels = getattr(settings, "PHOTO_MAX_PIXELS", DEFAULT_MAX_PIXELS)

    data = _read_within_limit(uploaded_file, max_bytes)
    image, original_format = _open_checked(data, max_pixels)
    _decode(image)
    taken_at = _taken_at(image)
    ImageOps.exif_transpose(image, in_place=True)
    full = _to_srgb(image)

    preview = _fit(full, PREVIEW_SIZE)
    thumbnail = _fit(preview, THUMBNAIL_SIZE)
    return ProcessedPhoto(
        full=_jpeg(full, FULL_QUALITY),
        preview=_jpeg(preview, PREVIEW_QUALITY),
        thumbnail=_jpeg(thumbnail, THUMBNAIL_QUALITY),
        width=full.width,
        height=full.height,
        original_format=original_format,
        sha256=hashlib.sha256(data).hexdigest(),
        taken_at=taken_at,
    )


def _refuse(message):
    raise ApplicationError(message, field="file")


def _read_within_limit(uploaded_file, max_bytes):
    too_big = _("The file is {size}; a photo may be at most {limit}.")
    if isinstance(uploaded_file, bytes | bytearray):
        data = bytes(uploaded_file)
    else:
        # An upload knows its size: refuse a huge one without reading it.
        size = getattr(uploaded_file, "size", None)
        if size is not None and size > max_bytes:
            _refuse(too_big.format(size=_human_size(size, up=True), limit=_human_size(max_bytes)))
        with contextlib.suppress(AttributeError, OSError):
            uploaded_file.seek(0)
        data = uploaded_file.read(max_bytes + 1)
    if len(data) > max_bytes:
        _refuse(too_big.format(size=_more_than(max_bytes), limit=_human_size(max_bytes)))
    if not data:
        _refuse(_("The file is empty. Choose a photo in JPEG, PNG or HEIC format."))
    return data


def _open_checked(data, max_pixels):
    """Read the header only: what the file is and how many pixels it declares."""
    too_many_pixels = _(
        "The image is too large to process: {width} × {height} pixels. "
        "The limit is {limit} megapixels."
    )
    try:
        # Pillow warns between its own limit and twice that, and raises above; a warning here
        # is a refusal too. (catch_warnings swaps a process-wide list; if two threads overlap,
        # the worst left behind is this same "error" filter, which is what we want anyway.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(
            _("The image is too large to process. The limit is {limit} megapixels.").format(
                limit=_megapixels(max_pixels)
            )
        )
    except UnidentifiedImageError:
        _refuse(_("This file is not an image. Upload a photo in JPEG, PNG or HEIC format."))
    except Exception as exc:  # untrusted bytes: any failure of a parser means a bad file
        logger.info("photo header could not be read: %r", exc)
        _refuse(_damaged_message())

    original_format = ACCEPTED_FORMATS.get(image.format)
    if original_format is None:
        _refuse(
            _(
                "{format} images are not accepted. Upload a photo in JPEG, PNG or HEIC format."
            ).format(format=image.format)
        )
    width, height = image.size
    if width * height > max_pixels:
        _refuse(too_many_pixels.format(width=width, height=height, limit=_megapixels(max_pixels)))
    return image, original_format


def _decode(image):
    """Decode every pixel: the real check that the file is a whole, readable image."""
    try:
        image.load()
    except Exception as exc:  # untrusted bytes: truncated data, bad CRC, broken HEVC stream...
        logger.info("photo could not be decoded: %r", exc)
        _refuse(_damaged_message())


def _damaged_message():
    return _(
        "The image is damaged or incomplete (for example cut off during copying or upload). "
        "Export or take the photo again."
    )


def _taken_at(image):
    """When the camera says the photo was taken; None when it does not say or says nonsense."""
    try:
        exif_ifd = image.getexif().get_ifd(ExifTags.IFD.Exif)
        value = exif_ifd.get(_TAG_DATETIME_ORIGINAL)
        if not isinstance(value, str):
            return None
        taken_at = datetime.strptime(value.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        offset = exif_ifd.get(_TAG_OFFSET_TIME_ORIGINAL)
        if isinstance(offset, str) and len(offset.strip("\x00 ")) == 6:
            sign = -1 if offset[0] == "-" else 1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
            taken_at = taken_at.replace(tzinfo=zone)
        return taken_at
    except Exception as exc:  # a malformed EXIF block must not cost the photo
        logger.info("photo EXIF date could not be read: %r", exc)
        return None


def _to_srgb(image):
    """An RGB (or greyscale) image in sRGB with no info attached."""
    icc_profile = image.info.get("icc_profile")
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if icc_profile:
        image = _convert_profile(image, icc_profile)
    image.info = {}
    return image


def _convert_profile(image, icc_profile):
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if "srgb" in ImageCms.getProfileDescription(source).lower():
            return image
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
    except Exception as exc:  # a broken or mismatched profile: keep the pixels as they are
        logger.info("photo colour profile could not be applied: %r", exc)
        return image


def _fit(image, longest_side):
    """A copy whose longest side is at most ``longest_side``; never enlarged."""
    scale = longest_side / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reducing_gap=1.0: a cheap box step shrinks by the whole factor first, LANCZOS does the rest
    # (a 12 MP photo to 1600 px in about a third of the time of LANCZOS alone, looks the same).
    resized = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=1.0)
    resized.info = {}
    return resized


def _jpeg(image, quality):
    # Only what is passed here is written: no exif, icc_profile, xmp or comment.
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, comment=b"")
    return buffer.getvalue()


def _human_size(num_bytes, *, up=False):
    """Like "25 MB"; ``up`` rounds up, so a file just over a limit never reads as equal to it."""
    for unit, label in ((1024 * 1024, _("{size} MB")), (1024, _("{size} KB"))):
        if num_bytes >= unit:
            value = num_bytes / unit
            value = math.ceil(value * 10) / 10 if up else round(value, 1)
            return label.format(size=f"{value:g}")
    return _("{size} bytes").format(size=num_bytes)


def _more_than(num_bytes):
    return _("more than {size}").format(size=_human_size(num_bytes))


def _megapixels(pixels):
    return f"{pixels / 1_000_000:g}"
