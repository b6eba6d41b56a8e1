"""Changing a clip with a prompt, keeping its timing (video-to-video), the part every editor shares: which
models edit a video file and how long a one, and the source cut that is sent (the clip's used range plus
handles, exactly, at its own rate). The OTIO side (core/timeline/edit.py) and the Resolve side
(resolve_plugin/edit.py) place the result as a take of the clip.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from pathlib import Path

from .catalog import Catalog, Model, Size
from .errors import BadInput, UnsupportedRequest
from .frames import rate_label


def editors(catalog: Catalog) -> list[str]:
    return [m.id for m in catalog.models.values() if "remix" in m.inputs and m.state() != "retired"]


def editing_model(model_id: str | None, catalog: Catalog) -> Model:
    """The model to edit with: one that edits video (`remix`); refused, naming those that do, otherwise."""
    if not model_id:
        raise BadInput("No model to edit with.", f"Give --model, one that edits video: {', '.join(editors(catalog))}.")
    model = catalog.get(model_id)
    if "remix" not in model.inputs:
        raise UnsupportedRequest(
            f"{model.name} does not edit video.", f"Choose a model that does: {', '.join(editors(catalog))}."
        )
    return model


def longest_edit(model: Model) -> Fraction:
    """The longest source (in seconds) `model` edits."""
    if model.edit_max_seconds is not None:
        return Fraction(model.edit_max_seconds).limit_denominator(1000)
    return Fraction(max(model.allowed_durations(), default=0))


def check_edit(where: str, frames: int, head: int, tail: int, rate: Fraction, model: Model) -> None:
    """Refuse, before anything is spent, a range (plus handles) longer than `model` edits, naming its limit."""
    total = head + frames + tail
    longest = longest_edit(model)
    if Fraction(total) / rate > longest:
        raise UnsupportedRequest(
            f"{where} is {frames} frames{f' with {head + tail} handle frames' if head + tail else ''}, "
            f"{float(Fraction(total) / rate):.2f} s; {model.name} edits at most {float(longest):g} s "
            f"({math.floor(longest * rate)} frames at {rate_label(rate)} fps).",
            "Edit a shorter clip, give fewer --handles, or choose a model that edits longer video.",
        )


def handles_within(start: int, frames: int, media_frames: int, handles: int) -> tuple[int, int]:
    """(head, tail): up to `handles` each side of the used range [start, start + frames), as far as the media goes."""
    if handles < 0:
        raise BadInput(f"{handles} handle frames.", "Give --handles 0 or more.")
    return min(handles, start), max(min(handles, media_frames - start - frames), 0)


def cut_range(media: Path, first: int, frames: int, rate: Fraction, folder: Path) -> Path:
    """Frames [first, first + frames) of `media` as an H.264 MP4 at `rate` and its own size, exactly (the format
    every editing route takes). Named by what it holds, so the same cut is the same request."""
    from .conform.execute import conform
    from .conform.plan import Choices
    from .conform.probe import probe
    from .conform.target import Target

    key = hashlib.sha256(f"{media.resolve()}|{media.stat().st_mtime_ns}|{first}|{frames}|{rate}".encode()).hexdigest()
    out = Path(folder) / f"source-{key[:16]}.mp4"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        info = probe(media)
        size = Size(width=info.width - info.width % 2, height=info.height - info.height % 2)
        conform(
            media, out, Target(frames=frames, rate=rate, size=size, bit_depth=8, codec="h264"), Choices(in_point=first)
        )
    return out


def _limit_frames(model: Model, rate: Fraction) -> int:
    return math.floor(longest_edit(model) * rate)


def split_pieces(
    where: str, frames: int, head: int, tail: int, rate: Fraction, model: Model, cuts: list[int] | None = None
) -> list[tuple[int, int]]:
    """The clip's used range [0, frames) as consecutive pieces (offset, frames), each one edit the model takes
    (the first with the head handles, the last with the tail ones). `cuts`: the frame offsets where the editor
    allows a cut, every one of them used; None: equal pieces, as few as the model's limit allows. Refused,
    naming the piece, when one is still too long."""
    limit = _limit_frames(model, rate)
    longest = f"{model.name} edits at most {float(longest_edit(model)):g} s ({limit} frames at {rate_label(rate)} fps)"
    if cuts is None:
        if head >= limit or tail >= limit:
            raise UnsupportedRequest(
                f"{where}: its handles alone are {max(head, tail)} frames; {longest}.", "Give fewer --handles."
            )
        for n in range(1, frames + 1):
            base, extra = divmod(frames, n)
            sizes = [base + (1 if i < extra else 0) for i in range(n)]
            if sizes[0] + head <= limit and sizes[-1] + tail <= limit and max(sizes) <= limit:
                break
        cuts = [sum(sizes[:i]) for i in range(1, n)]
    bad = [c for c in cuts if not 0 < c < frames]
    if bad:
        raise BadInput(
            f"{where} is {frames} frames; a cut at frame {bad[0]} of it is not inside it.",
            f"Give cuts between 1 and {frames - 1} frames into the clip (or record timecodes within it).",
        )
    edges = [0, *sorted(set(cuts)), frames]
    pieces = [(a, b - a) for a, b in zip(edges, edges[1:])]
    for i, (offset, n) in enumerate(pieces):
        total = n + (head if i == 0 else 0) + (tail if i == len(pieces) - 1 else 0)
        if total > limit:
            raise UnsupportedRequest(
                f"{where}: piece {i + 1} of {len(pieces)} (frames {offset}-{offset + n - 1} of the clip, {total} frames"
                f" with its handles, {float(Fraction(total) / rate):.2f} s) is too long: {longest}.",
                "Allow a cut inside it with --split, or give fewer --handles.",
            )
    return pieces


def parse_cuts(text: str, start_frame: int, rate: Fraction) -> list[int]:
    """`--split AT,AT`: each a frame offset into the clip (`30`) or a record timecode (`01:00:01:06`), as frame
    offsets from the clip's first frame (`start_frame`: its record frame)."""
    from .frames import parse_timecode

    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.isdigit():
            out.append(int(part))
            continue
        try:
            out.append(parse_timecode(part, rate) - start_frame)
        except (BadInput, ValueError):
            raise BadInput(
                f"--split {part!r} is neither a frame offset nor a timecode.",
                "Give frames into the clip (e.g. 30) or record timecodes (e.g. 01:00:01:06), comma-separated.",
            ) from None
    if not out:
        raise BadInput("--split was given no cuts.", "Give --split alone for equal pieces, or --split AT,AT.")
    return out


def join_pieces(pieces: list[Path], out: Path) -> Path:
    """The edited pieces, each conformed frame-exact to the same target, played one after another as one file
    (stream copy: no frame is re-encoded, added or lost). Written to a temporary name and renamed into place."""
    import ffmpeg

    from .ffmpeg import ffmpeg_exe

    if out.exists():
        return out
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{p.resolve().as_posix()}'\n" for p in pieces), "utf-8")
    partial = out.with_name(f".{out.stem}.partial{out.suffix}")
    try:
        ffmpeg.run(
            ffmpeg.input(str(listing), f="concat", safe=0).output(str(partial), c="copy"),
            cmd=ffmpeg_exe(),
            quiet=True,
            overwrite_output=True,
        )
        partial.replace(out)
    finally:
        listing.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return out
