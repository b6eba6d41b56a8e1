"""Input images and videos as vendors want them: bytes with a MIME type, at a required size."""

from __future__ import annotations

from pathlib import Path

from ..catalog import Size
from ..errors import BadInput

# Leading bytes -> MIME type, for the formats every video API here accepts.
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def image_mime(data: bytes) -> str | None:
    for magic, mime in _SIGNATURES:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def read_image(path: Path) -> tuple[bytes, str]:
    """The file's bytes and MIME type; PNG, JPEG or WebP only."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise BadInput(f"Input image {path} is missing or unreadable.", "Check the path.") from None
    mime = image_mime(data)
    if mime is None:
        raise BadInput(f"Input image {path} is not a PNG, JPEG or WebP file.", "Export the frame as PNG or JPEG.")
    return data, mime


def read_video(path: Path) -> tuple[bytes, str]:
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise BadInput(f"Input video {path} is missing or unreadable.", "Check the path.") from None
    return data, "video/quicktime" if Path(path).suffix.lower() == ".mov" else "video/mp4"


def image_size(path: Path) -> Size:
    import av

    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            return Size(width=frame.width, height=frame.height)
    except (av.error.FFmpegError, StopIteration, IndexError):
        raise BadInput(f"Input image {path} cannot be decoded.", "Export the frame again as PNG or JPEG.") from None


def fitted_image(path: Path, size: Size) -> tuple[bytes, str]:
    """The image at exactly `size`: unchanged if it already is, else scaled to cover and centre-cropped
    (a first frame must keep its proportions; the planner chose `size` nearest the slot's aspect)."""
    data, mime = read_image(path)
    if image_size(path) == size:
        return data, mime
    import ffmpeg

    from ..ffmpeg import ffmpeg_exe

    w, h = size.width, size.height
    try:
        out, _ = (ffmpeg.input(str(path))
                  .filter("scale", w, h, force_original_aspect_ratio="increase")
                  .filter("crop", w, h)
                  .output("pipe:", vframes=1, format="image2", vcodec="png")
                  .run(cmd=ffmpeg_exe(), capture_stdout=True, capture_stderr=True))
    except ffmpeg.Error:
        raise BadInput(f"Input image {path} could not be resized to {size}.",
                       "Export the frame at that size.") from None
    return out, "image/png"
