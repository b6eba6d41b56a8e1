"""Where promptreel keeps its data, and the user's settings file.

The data folder is `PROMPTREEL_HOME` if set, else the platform's user data folder
(platformdirs). Settings live in `settings.toml` there; every field has a default.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import BadInput
from .tomlfile import read_user_file


class RouteLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    concurrency: int | None = Field(None, ge=1)
    rpm: int | None = Field(None, ge=0)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    catalog_file: Path | None = None
    output_dir: Path | None = None
    daily_cap_usd: float | None = Field(None, ge=0, description="refuse runs that would take today's spend past this")
    user_daily_cap_usd: float | None = Field(None, ge=0, description="the same, for each user's own spend today")
    project_caps_usd: dict[str, float] = Field({}, description="project tag -> the most it may ever spend")
    poll_cap_seconds: int = Field(1800, ge=1, description="stop polling a job after this long; it stays resumable")
    allow_long_draft: bool = Field(False, description="render drafts past an hour, or bigger than the free disk")
    route_limits: dict[str, RouteLimits] = {}  # key: "protocol:model_id" or "protocol"
    base_urls: dict[str, str] = {}  # route name -> base URL (proxies, regional hosts, the sandbox)
    comfyui_workflow: Path | None = Field(None, description="your ComfyUI workflow (API format) for the comfyui route")
    vertex_project: str | None = Field(
        None, description="Google Cloud project for the vertex route (else GOOGLE_CLOUD_PROJECT)"
    )
    vertex_location: str | None = Field(
        None, description="Vertex AI region for the vertex route (else GOOGLE_CLOUD_LOCATION)"
    )
    vertex_output_gcs_uri: str | None = Field(
        None, description="gs://bucket/prefix for Vertex outputs; unset = returned inline"
    )
    signing_cert: Path | None = Field(None, description="C2PA certificate chain (PEM) to sign conformed clips with")
    signing_key: Path | None = Field(None, description="the private key (PEM) of signing_cert")
    c2pa_trust_anchors: Path | None = Field(None, description="root certificates (PEM) of C2PA signers to trust")
    catalog_update_url: str | None = Field(
        None,
        description="where `models update` fetches the signed catalog "
        "(URL or file; FILE.sig beside it); unset = the project's published one",
    )
    catalog_keys: list[Path] = Field(
        [], description="public keys (PEM) whose signed catalogs are trusted, besides the project's"
    )
    database_url: str | None = Field(
        None,
        description="postgresql://... : a studio's shared database (else this "
        "machine's SQLite journal); PROMPTREEL_DATABASE_URL wins over it",
    )
    media_root: Path | None = Field(
        None,
        description="the studio's shared media folder (a NAS) as this seat mounts "
        "it: takes go there, and the journal names them relative to it, so seats that "
        "mount it at different paths find them; PROMPTREEL_MEDIA_ROOT wins over it",
    )


def home() -> Path:
    """The data folder; created on first use, readable by its owner only (it holds prompts and costs)."""
    env = os.environ.get("PROMPTREEL_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("promptreel", appauthor=False))
    if path not in _made:
        _make_private(path)
    return path


_made: set[Path] = set()


def _make_private(path: Path) -> None:
    # Only a folder we create is made 0700: an existing one may be shared on purpose (two seats
    # on one database). Folders above it get the umask's mode, as any other mkdir's parents.
    try:
        path.mkdir(parents=True, mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return  # unwritable: whoever uses the folder says so, with a fix (`doctor`, the journal)
    _made.add(path)


def settings_path() -> Path:
    return home() / "settings.toml"


def load_settings() -> Settings:
    path = settings_path()
    if not path.exists():
        return Settings()
    try:
        return Settings(**read_user_file(path, "Settings file"))
    except ValidationError as e:
        raise BadInput(f"Settings file {path} has a bad value: {e}", "Fix the field named above.") from None


def media_root(settings: Settings | None = None) -> Path | None:
    """Where this seat mounts the studio's shared media folder: `PROMPTREEL_MEDIA_ROOT`, then settings; None = none."""
    env = os.environ.get("PROMPTREEL_MEDIA_ROOT")
    if env:
        return Path(env).expanduser()
    root = (settings or load_settings()).media_root
    return root.expanduser() if root else None


def output_dir(settings: Settings | None = None) -> Path:
    """Where takes are written: output_dir, else the shared media_root, else the data folder's media folder."""
    settings = settings or load_settings()
    return settings.output_dir or media_root(settings) or (home() / "media")


def base_url_for(route: str, settings: Settings | None = None) -> str | None:
    """A route's base URL override: `PROMPTREEL_<ROUTE>_BASE_URL`, then settings.base_urls; None = vendor default."""
    env = os.environ.get(f"PROMPTREEL_{route.upper()}_BASE_URL")
    if env:
        return env
    return (settings or load_settings()).base_urls.get(route)
