"""Everything promptreel asks of Resolve, behind one interface with two transports.

- `DirectGateway(resolve)`: in-process on a `resolve` object (Studio external scripting through
  DaVinciResolveScript, or the test double).
- `BridgeGateway(host, port, token)`: over the loopback bridge that the Scripts-menu entry runs
  inside Resolve (the free edition up to 21.0.x, and Studio).

Both run the same allowlisted operations (`bridge.ops`), where every Resolve workaround lives next
to a comment naming its quirk; this module turns their JSON answers into typed values and their
refusals into `UserError`s. The rest of the plugin only sees `Gateway`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .bridge import ops
from .bridge.client import BridgeClient, BridgeError
from .errors import NoProject, NoTimeline, ResolveRefused, ResolveUnavailable


class ClipImport(BaseModel):
    """One file for `import_clips`: the bin it goes to (names under the root) and the tags to write."""

    path: str
    bin: list[str]
    metadata: dict[str, str] = {}
    third_party: dict[str, str] = {}
    color: str | None = None
    name: str | None = None


class Marker(BaseModel):
    model_config = ConfigDict(extra="ignore")
    frame: int  # offset from the item's (or timeline's) first frame
    color: str = ""
    name: str = ""
    note: str = ""
    duration: int = 1
    custom_data: str = ""


class Clip(BaseModel):
    """A media pool item."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    id: str
    name: str = ""
    path: str = Field("", alias="File Path")
    fps: str = Field("", alias="FPS")
    resolution: str = Field("", alias="Resolution")
    frames: str = Field("", alias="Frames")
    third_party: dict[str, str] = {}
    metadata: dict[str, str] = {}
    color: str = ""
    failed: list[str] = []


class Replacement(Clip):
    """A `replace_clip`: the clip after (tags read back), as it was before, and the uses asked about, read back."""

    before: Clip | None = None
    uses: list[Item] = []


class Item(BaseModel):
    """A timeline item: record frames are absolute, `end` exclusive."""

    model_config = ConfigDict(extra="ignore")
    id: str
    name: str = ""
    kind: str = "clip"  # clip, generator (also titles), transition
    start: int
    end: int
    duration: int
    left_offset: int = 0
    enabled: bool = True
    color: str = ""
    clip_id: str = ""
    markers: list[Marker] = []
    track: int = 0

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


class Placement(BaseModel):
    """One `place`: the ids AppendToTimeline echoed (no proof, quirk 4), whether each item asked to be
    disabled now is, and the items read back on the track over the slot."""

    returned: list[str] = []
    disabled: dict[str, bool] = {}
    range: list[Item] = []


class Track(BaseModel):
    index: int
    name: str = ""
    locked: bool = False
    items: list[Item] = []


class TimelineState(BaseModel):
    id: str
    name: str = ""
    start_frame: int
    end_frame: int
    tracks: list[Track]
    clips: dict[str, Clip] = {}

    def item(self, item_id: str) -> Item | None:
        return next((it for t in self.tracks for it in t.items if it.id == item_id), None)

    def track(self, index: int) -> Track | None:
        return next((t for t in self.tracks if t.index == index), None)


class TimelineRef(BaseModel):
    id: str
    name: str = ""
    start_frame: int
    custom_settings: bool = False


class ProjectInfo(BaseModel):
    name: str
    id: str = ""
    settings: dict[str, str]
    timeline: TimelineRef | None = None


class TakeInfo(BaseModel):
    """One take of a take selector: 1-based index, its pool item, its source extent (end exclusive)."""

    index: int
    clip_id: str = ""
    start_frame: int = 0
    end_frame: int = 0


class Shown(BaseModel):
    """What a timeline item shows: its record extent, pool item, selected take (0: not a take selector)."""

    model_config = ConfigDict(extra="ignore")
    id: str = ""
    start: int
    duration: int
    left_offset: int = 0
    clip_id: str = ""
    selected: int = 0
    takes: list[TakeInfo] = []
    left: list[str] = []  # remove_takes: the clips Resolve would not drop


class TakeAdded(BaseModel):
    """One AddTake, proven by reading back: `ok` only if it fills the slot exactly."""

    model_config = ConfigDict(extra="ignore")
    clip_id: str
    ok: bool
    index: int = 0
    duration: int = 0
    removed: bool = True  # a refused take was deleted from the selector again
    reason: str = ""


class TakesAdded(BaseModel):
    available: bool  # False: this Resolve has no AddTake
    takes: list[TakeAdded] = []
    shown: Shown


class Hello(BaseModel):
    product: str
    version: list[Any] = []
    page: str = ""

    @property
    def studio(self) -> bool:
        return "Studio" in self.product


class Gateway:
    """The interface. Subclasses provide `_call`; each method is one round trip."""

    def _call(self, op: str, **args: Any) -> Any:
        raise NotImplementedError

    def call(self, op: str, **args: Any) -> Any:
        try:
            return self._call(op, **args)
        except (ops.OpError, BridgeError) as e:
            raise _user_error(op, e.code, e.message) from None

    def hello(self) -> Hello:
        return Hello(**self.call("hello"))

    def project(self) -> ProjectInfo:
        return ProjectInfo(**self.call("project"))

    def timeline(self) -> TimelineState:
        data = self.call("timeline")
        for track in data["tracks"]:
            for item in track["items"]:
                item["track"] = track["index"]
        return TimelineState(**data)

    def clip(self, clip_id: str) -> Clip:
        return Clip(**self.call("clip", clip_id=clip_id))

    def import_clips(self, clips: list[ClipImport]) -> list[Clip | str]:
        """Import and tag files into their bins in one round trip (one ImportMedia per bin), each tag read
        back. Per file, in order: its clip (`failed` naming what did not stick), or why it was not imported."""
        answers = self.call("import_clips", clips=[c.model_dump() for c in clips])
        return [Clip(**a["clip"]) if "clip" in a else str(a["error"]) for a in answers]

    def place(
        self,
        clip_id: str,
        start_frame: int,
        end_frame: int,
        track: int,
        record_frame: int,
        timeline_id: str = "",
        disable: list[str] | None = None,
        hint: int | None = None,
    ) -> Placement:
        """Append a clip, disable `disable` (the placeholder), and read the track back over the slot: one
        round trip whose cost does not grow with the timeline. `hint`: how many items of the track end
        at or before `record_frame`, as last read (the read-back starts there while it still holds)."""
        answer = self.call(
            "place",
            clip_id=clip_id,
            start_frame=start_frame,
            end_frame=end_frame,
            track=track,
            record_frame=record_frame,
            timeline_id=timeline_id,
            disable=list(disable or []),
            hint=hint,
        )
        return Placement(**answer)

    def add_track(self, name: str = "") -> int:
        """A new video track on top (named `name` if given); its index."""
        return int(self.call("add_track", name=name)["index"])

    def delete_track(self, index: int, name: str) -> bool:
        """Delete video track `index` if it is still named `name` and empty. True if it is gone."""
        return bool(self.call("delete_track", index=index, name=name)["deleted"])

    def set_enabled(self, item_ids: list[str], enabled: bool) -> dict[str, bool]:
        return self.call("set_enabled", item_ids=list(item_ids), enabled=enabled)

    def delete_items(self, item_ids: list[str]) -> list[str]:
        """Ids actually gone after reading the timeline back."""
        return self.call("delete_items", item_ids=list(item_ids))["deleted"]

    def replace_clip(
        self,
        clip_id: str,
        path: Path,
        metadata: dict[str, str] | None = None,
        third_party: dict[str, str] | None = None,
        uses: list[str] | None = None,
    ) -> Replacement:
        """Swap a pool item's media and write its tags again (quirk 7); with `uses` (timeline item ids),
        each read back after the swap."""
        return Replacement(
            **self.call(
                "replace_clip",
                clip_id=clip_id,
                path=str(path),
                metadata=metadata or {},
                third_party=third_party or {},
                uses=list(uses or []),
            )
        )

    def add_takes(self, item_id: str, takes: list[tuple[str, int, int]], frames: int) -> TakesAdded:
        """Add `(clip_id, start_frame, end_frame)` as takes of a placed item; each must last `frames`.
        The take showing before stays selected; refused takes are removed again."""
        specs = [dict(clip_id=c, start_frame=s, end_frame=e) for c, s, e in takes]
        return TakesAdded(**self.call("add_takes", item_id=item_id, takes=specs, frames=frames))

    def remove_takes(self, item_id: str, clip_ids: list[str], keep_clip_id: str = "") -> Shown:
        """Delete the takes of `clip_ids` from an item, `keep_clip_id` showing; one take left is finalized."""
        return Shown(**self.call("remove_takes", item_id=item_id, clip_ids=list(clip_ids), keep_clip_id=keep_clip_id))

    def export_still(self, frame: int, path: Path) -> Path:
        self.call("export_still", frame=frame, path=str(path))
        return Path(path)

    def export_timeline(self, path: Path) -> Path:
        self.call("export_timeline", path=str(path))
        return Path(path)

    def close(self) -> None:
        pass


class DirectGateway(Gateway):
    """In-process on a `resolve` object. Answers pass through JSON so both transports return the same shapes."""

    def __init__(self, resolve: Any):
        if resolve is None:
            raise ResolveUnavailable(
                "Resolve did not answer external scripting.",
                "Use Resolve Studio with Preferences > System > General > External scripting set to Local, "
                "or start promptreel from Workspace > Scripts.",
            )
        self.session = ops.Session(resolve)
        self.round_trips = 0

    def _call(self, op: str, **args: Any) -> Any:
        self.round_trips += 1
        return json.loads(json.dumps(ops.dispatch(self.session, op, json.loads(json.dumps(args)))))


class BridgeGateway(Gateway):
    """Over the loopback bridge running inside Resolve."""

    def __init__(self, host: str, port: int, token: str, timeout: float = 130.0):
        self.client = BridgeClient(host, port, token, timeout=timeout)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BridgeGateway:
        """The bridge the Scripts-menu entry started this worker for (PROMPTREEL_BRIDGE, PROMPTREEL_BRIDGE_TOKEN)."""
        env = os.environ if env is None else env
        addr, token = env.get("PROMPTREEL_BRIDGE", ""), env.get("PROMPTREEL_BRIDGE_TOKEN", "")
        host, _, port = addr.rpartition(":")
        if not (host and port.isdigit() and token):
            raise ResolveUnavailable(
                "No Resolve bridge is running for this process.",
                "Start promptreel from Workspace > Scripts > promptreel in Resolve.",
            )
        return cls(host, int(port), token)

    @property
    def round_trips(self) -> int:
        return self.client.round_trips

    def _call(self, op: str, **args: Any) -> Any:
        return self.client.call(op, **args)

    def shutdown(self) -> None:
        with contextlib.suppress(BridgeError):
            self.client.call("shutdown")
        self.client.close()

    def close(self) -> None:
        self.client.close()


def _user_error(op: str, code: str, message: str):
    if code == "no_project":
        return NoProject(message, "Open a project in Resolve and try again.")
    if code == "no_timeline":
        return NoTimeline(message, "Open the timeline to work on in Resolve's Edit page and try again.")
    if code == "timeline_changed":
        return NoTimeline(message, "Switch back to the timeline you were filling and try again.")
    if code in ("unreachable", "auth"):
        return ResolveUnavailable(
            f"{message}", "Start promptreel again from Workspace > Scripts > promptreel in Resolve."
        )
    if code == "internal":
        return RuntimeError(f"bridge operation '{op}' failed: {message}")
    return ResolveRefused(message, "Check Resolve for an open dialog, then try again.")


# -- Studio external scripting ------------------------------------------------------------------

# Blackmagic's documented locations (docs/resolve-quirks.md #26); RESOLVE_SCRIPT_API/LIB override them.
_SCRIPT_API = {
    "darwin": "/Library/Application Support/Blackmagic Design/DaVinci Resolve/Developer/Scripting",
    "win32": r"%PROGRAMDATA%\Blackmagic Design\DaVinci Resolve\Support\Developer\Scripting",
    "linux": "/opt/resolve/Developer/Scripting",
}


def external_resolve() -> Any | None:
    """`resolve` through external scripting (Studio only), or None when it does not answer."""
    default = os.path.expandvars(_SCRIPT_API.get(sys.platform, _SCRIPT_API["linux"]))
    api = os.environ.get("RESOLVE_SCRIPT_API") or default
    modules = os.path.join(api, "Modules")
    if os.path.isdir(modules) and modules not in sys.path:
        sys.path.append(modules)
    try:
        import DaVinciResolveScript  # type: ignore[import-not-found]
    except Exception:  # not installed, or fusionscript does not load into this Python
        return None
    try:
        # Free edition, scripting off, Resolve starting or closing: None, never an exception.
        return DaVinciResolveScript.scriptapp("Resolve")
    except Exception:
        return None
