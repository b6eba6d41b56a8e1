"""The panel's own settings (model, fit, codec, bit depth, budget, file-mode folder and frame size),
kept in `<promptreel home>/panel.json` and written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from promptreel.core import settings
from promptreel.core.catalog import Size
from promptreel.core.errors import BadInput

from .bins import DEFAULT_BIN, bin_path


def default_export_dir() -> Path:
    """Where the editor exports timelines in file mode: a visible folder, not the hidden data folder."""
    import platformdirs

    return Path(platformdirs.user_documents_dir()) / "promptreel"


class PanelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = "draft"
    # "project": Resolve's own mismatched-resolution choice (connected); Resolve's default, fit, in file mode.
    fit: Literal["project", "fit", "fill", "crop", "stretch"] = "project"
    codec: str = "prores-hq"  # a conform codec family (core/data/codecs.toml)
    bit_depth: Literal[8, 10, 12] | None = None  # None: the project's video bit depth (connected), 10 in file mode
    budget_usd: float | None = Field(None, ge=0, description="refuse a fill or generate estimated above this")
    bin: str = DEFAULT_BIN
    export_dir: Path | None = None  # file mode: the folder watched for exported timelines
    frame_size: str = "1920x1080"  # file mode: Resolve's OTIO export does not carry the resolution
    project: str = ""  # file mode: the project spend is listed under (the export does not name it)

    @field_validator("codec")
    @classmethod
    def _codec(cls, value: str) -> str:
        from promptreel.core.conform.target import codec_family

        codec_family(value)  # an unknown name is refused when saved, naming the choices
        return value

    @field_validator("frame_size")
    @classmethod
    def _size(cls, value: str) -> str:
        return str(Size.parse(value))

    @field_validator("bin")
    @classmethod
    def _bin(cls, value: str) -> str:
        bin_path(value, "draft")  # refused when saved, not after a paid generation
        return value

    @property
    def size(self) -> Size:
        return Size.parse(self.frame_size)

    @property
    def watch_dir(self) -> Path:
        return Path(self.export_dir).expanduser() if self.export_dir else default_export_dir()


def settings_file() -> Path:
    return settings.home() / "panel.json"


def load() -> PanelSettings:
    path = settings_file()
    if not path.is_file():
        return PanelSettings()
    try:
        return PanelSettings.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as e:
        raise BadInput(
            f"The panel settings file {path} has a bad value: {_first(e)}.",
            "Fix it in the panel's settings, or delete the file to start from the defaults.",
        ) from None


def update(changes: dict) -> PanelSettings:
    """Merge `changes` into the saved settings, validate, save. A bad value changes nothing."""
    current = load().model_dump(mode="json")
    try:
        new = PanelSettings.model_validate({**current, **changes})
    except ValidationError as e:
        raise BadInput(f"Setting not saved: {_first(e)}.", "Correct the value and save again.") from None
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(new.model_dump(mode="json"), indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return new


def _first(e: ValidationError) -> str:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "value"
    return f"{where}: {err['msg']}"


# -- the panel's API for these settings (`Panel.routes` adds them)
def routes(_panel: object) -> dict:
    return {
        ("GET", "/api/settings"): lambda _: load().model_dump(mode="json"),
        ("POST", "/api/settings"): lambda body: update(body).model_dump(mode="json"),
        ("GET", "/api/choices"): choices,
    }


def choices(_: dict) -> dict:
    """What the settings offer, from the data files the conform reads (so the page and CLI cannot drift)."""
    from typing import get_args

    from promptreel.core.conform.target import codec_families

    return {
        "codecs": [{"id": name, "label": f.label} for name, f in codec_families().items()],
        "fits": list(get_args(PanelSettings.model_fields["fit"].annotation)),
    }
