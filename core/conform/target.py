"""What a timeline asks a clip to be: rate, exact length, frame size, codec, bit depth, timecode, audio.

The OTIO and Resolve sides build a `Target` from their timelines, the engine from a `Slot`,
the CLI from flags. Codec families are data (core/data/codecs.toml).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from ..conform_choices import DEFAULT_CODEC
from ..errors import UnsupportedRequest
from ..frames import is_drop_frame_rate, parse_timecode, rate_label, timecode
from ..request import FrameSize, Rate, Slot
from ..tomlfile import shipped

# Channel counts ffmpeg has a default layout for, so a source's audio can be mixed into them (0: none).
AUDIO_CHANNELS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16)

# A ratio such as a pixel aspect: "1", "4/3" or a Fraction; serialised as "4/3".
Ratio = Annotated[
    Fraction,
    BeforeValidator(lambda v: Fraction(v) if not isinstance(v, Fraction) else v),
    PlainSerializer(str, return_type=str),
]


class CodecFamily(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    label: str
    encoder: str
    profile: str = Field(description="the profile name a decoder reports; verified after writing")
    args: dict[str, str] = {}
    pix_fmt: dict[int, str]
    alpha_pix_fmt: dict[int, str] = {}
    reads_as: dict[str, str] = {}  # pixel format a decoder reports for what was written
    containers: list[str]
    min_size: tuple[int, int] = (1, 1)
    hdr: bool = Field(False, description="can carry HDR (PQ/HLG) at 10-bit or more")
    mbps: int = Field(description="data rate at 1920x1080 29.97, for the disk-space check")

    @property
    def bit_depths(self) -> list[int]:
        return sorted(self.pix_fmt)

    def pixel_format(self, bit_depth: int, alpha: bool = False) -> str:
        if alpha and bit_depth in self.alpha_pix_fmt:
            return self.alpha_pix_fmt[bit_depth]
        return self.pix_fmt[bit_depth]


@lru_cache(maxsize=1)
def codec_families() -> dict[str, CodecFamily]:
    return {name: CodecFamily(name=name, **spec) for name, spec in shipped("codecs.toml").items()}


def codec_family(name: str) -> CodecFamily:
    families = codec_families()
    if name not in families:
        raise UnsupportedRequest(f"Unknown codec '{name}'.", f"Choose one of: {', '.join(families)}.")
    return families[name]


class Target(BaseModel):
    """One conformed clip: exactly `frames` frames at `rate`, `size`, `codec` at `bit_depth`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    frames: int = Field(ge=1, description="exact frame count N")
    rate: Rate
    size: FrameSize
    drop_frame: bool | None = Field(None, description="drop-frame timecode; None: yes for 29.97 and 59.94")
    pixel_aspect: Ratio = Fraction(1)
    bit_depth: Literal[8, 10, 12] = 10
    codec: str = DEFAULT_CODEC
    start_timecode: str = "00:00:00:00"
    audio_rate: Literal[48000] = 48000
    audio_channels: int = Field(
        2,
        ge=0,
        le=16,
        description="PCM channels: the source's audio, or silence "
        "as long as the clip when it has none; 0 drops the audio",
    )
    metadata: dict[str, str] = Field({}, description="container tags written to the file (provenance)")

    @field_validator("frames", mode="before")
    @classmethod
    def _frames(cls, v: object) -> object:
        if isinstance(v, int) and v < 1:
            raise UnsupportedRequest(f"A clip of {v} frames cannot be made.", "Give a length of at least 1 frame.")
        return v

    @field_validator("audio_channels")
    @classmethod
    def _channels(cls, v: int) -> int:
        if v not in AUDIO_CHANNELS:
            below, above = max(c for c in AUDIO_CHANNELS if c < v), min(c for c in AUDIO_CHANNELS if c > v)
            raise UnsupportedRequest(
                f"ffmpeg has no channel layout to mix audio into {v} channels.", f"Use {below} or {above} channels."
            )
        return v

    @model_validator(mode="after")
    def _check(self) -> Target:
        family = codec_family(self.codec)
        if self.bit_depth not in family.bit_depths:
            others = [n for n, f in codec_families().items() if self.bit_depth in f.bit_depths]
            raise UnsupportedRequest(
                f"{family.label} is written at {'/'.join(map(str, family.bit_depths))}-bit, not {self.bit_depth}-bit.",
                f"Use --bit-depth {family.bit_depths[-1]}"
                + (
                    f", or a codec that carries {self.bit_depth}-bit: {', '.join(others)}."
                    if others
                    else f"; no codec family here writes {self.bit_depth}-bit."
                ),
            )
        if self.drop_frame and not is_drop_frame_rate(self.rate):
            raise UnsupportedRequest(
                f"{rate_label(self.rate)} fps has no drop-frame timecode.",
                "Drop-frame exists only at 29.97 and 59.94; turn it off.",
            )
        if self.pixel_aspect <= 0:
            raise UnsupportedRequest(f"Pixel aspect {self.pixel_aspect} is not positive.", "Use 1 for square pixels.")
        parse_timecode(self.start_timecode, self.rate, self.is_drop_frame)
        min_w, min_h = family.min_size
        if self.size.width < min_w or self.size.height < min_h:
            raise UnsupportedRequest(
                f"{family.label} cannot be {self.size}: it needs at least {min_w}x{min_h}.",
                "Use a larger frame size, or ProRes.",
            )
        pix_fmt = self.pix_fmt()
        odd_w, odd_h = self.size.width % 2, self.size.height % 2
        if ("420" in pix_fmt and (odd_w or odd_h)) or ("422" in pix_fmt and odd_w):
            raise UnsupportedRequest(
                f"{family.label} ({pix_fmt}) cannot be {self.size}: its chroma needs an even "
                f"{'width and height' if '420' in pix_fmt else 'width'}.",
                "Use an even frame size, or another codec.",
            )
        return self

    @property
    def is_drop_frame(self) -> bool:
        return is_drop_frame_rate(self.rate) if self.drop_frame is None else self.drop_frame

    @property
    def start_frame(self) -> int:
        return parse_timecode(self.start_timecode, self.rate, self.is_drop_frame)

    @property
    def timecode(self) -> str:
        """The start timecode as written to the file (';' before the frames when drop-frame)."""
        return timecode(self.start_frame, self.rate, self.is_drop_frame)

    @property
    def seconds(self) -> Fraction:
        return Fraction(self.frames) / self.rate

    @property
    def family(self) -> CodecFamily:
        return codec_family(self.codec)

    def pix_fmt(self, alpha: bool = False) -> str:
        return self.family.pixel_format(self.bit_depth, alpha)

    def estimated_bytes(self) -> int:
        """Output size, from the family's data rate scaled by pixels × rate (audio PCM added)."""
        pixels = Fraction(self.size.width * self.size.height, 1920 * 1080)
        video = Fraction(self.family.mbps * 1_000_000, 8) * pixels * self.rate / Fraction(30000, 1001)
        audio = self.audio_rate * 3 * self.audio_channels
        return int((video + audio) * self.seconds) + 1_000_000

    @classmethod
    def from_slot(cls, slot: Slot, codec: str = DEFAULT_CODEC, **extra: Any) -> Target:
        """The target a slot asks for. The slot's bit depth is carried at the nearest depth the codec writes."""
        depths = codec_family(codec).bit_depths
        depth = extra.pop("bit_depth", None) or min(depths, key=lambda d: (abs(d - slot.bit_depth), -d))
        return cls(frames=slot.frames, rate=slot.rate, size=slot.size, bit_depth=depth, codec=codec, **extra)
