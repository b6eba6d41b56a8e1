"""A prompt written as fields (a shot description), loadable from a `shot.toml` file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BadInput
from ..tomlfile import read_user_file


class ShotFields(BaseModel):
    """One shot, described the way a director briefs a crew. Every field is optional."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    subject: str = Field("", description="who or what the shot is about: 'a weathered fisherman'")
    action: str = Field("", description="what the subject does, continuing the subject: 'hauls a net onto the deck'")
    location: str = Field("", description="location and environment, time of day, weather")
    lighting: str = Field("", description="light sources, direction and quality")
    camera_angle: str = Field("", description="framing and angle: 'low-angle medium shot'")
    camera_movement: str = Field("", description="one camera move: 'slow dolly in'")
    lens: str = Field("", description="lens and focus: '35mm, shallow depth of field'")
    film_stock: str = Field("", description="film stock or colour grade: 'Kodak Vision3 500T, teal shadows'")
    mood: str = Field("", description="mood and atmosphere, emotional tone")
    performance: str = Field("", description="character and performance notes")
    audio: str = Field("", description="audio cues: dialogue in quotes, sound effects, ambience")
    negative_prompt: str = Field("", description="what to keep out of the shot: 'text, watermark'")

    def present(self) -> dict[str, str]:
        """The fields that were given, in declaration order."""
        return {name: value for name, value in self.model_dump().items() if value}

    @classmethod
    def names(cls) -> list[str]:
        return list(cls.model_fields)


def load_fields(path: Path | str) -> ShotFields:
    """Read a shot file: top-level string keys named as in `ShotFields`."""
    path = Path(path)
    data = read_user_file(path, "Shot file", "Check the path given to --fields.")
    return fields_from_dict(data, where=f"Shot file {path}")


def fields_from_dict(data: dict[str, Any], where: str = "The shot fields") -> ShotFields:
    unknown = sorted(set(data) - set(ShotFields.model_fields))
    if unknown:
        raise BadInput(
            f"{where} has unknown field(s): {', '.join(unknown)}.",
            f"Use only: {', '.join(ShotFields.names())}.",
        )
    try:
        return ShotFields(**data)
    except ValidationError as e:
        bad = ", ".join(str(err["loc"][0]) for err in e.errors() if err["loc"])
        raise BadInput(
            f"{where} has a value that is not text: {bad}.", 'Write each field as a string: key = "…".'
        ) from None
